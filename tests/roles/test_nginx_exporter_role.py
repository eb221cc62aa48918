"""Smoke tests of the nginx_exporter role's wiring, in the style of test_bad_variables.py: a bad variable stops
the play in the role's first task, before any change, with the model's own message; the nginx role's status
variables and ``-e`` strings reach the model; role_config reads the host in one module call.

Every message of the model is unit-tested (tests/unit/plugins/plugin_utils/test_exporter_model.py). The roles
run against localhost in check mode, so even a validation gap could not change this machine.
"""

import json

import pytest

from test_bad_variables import one_line, recap, results, run_role
from test_role_config_host_call import ok_results, run_tasks

ROLE = "nginx_exporter"
# The first task of the role after its variables were checked.
FIRST_TASK_AFTER_VALIDATION = "Write the exporter's arguments before the package starts it"

INVALID = [
    pytest.param({"nginx_exporter_listen": "exporter.example.com:9113"},
                 ['nginx_exporter_listen: "exporter.example.com" is not an IP address (IPv6 goes in brackets, such as '
                  '[::1]:9113; a host name is not taken, the exporter would listen wherever it resolves when it '
                  'starts), got "exporter.example.com:9113"'], id="listen-address"),
    pytest.param({"nginx_exporter_listen": "0.0.0.0:91130"},
                 ['nginx_exporter_listen: the port must be a number from 1 to 65535, got "0.0.0.0:91130"'],
                 id="listen-port"),
    pytest.param({"nginx_exporter_scrape_uri": "http://10.0.0.5:8079/stub_status"},
                 ['nginx_exporter_scrape_uri must name a loopback address, 127.0.0.1 or [::1] (nginx serves its '
                  'status to this host only), got "http://10.0.0.5:8079/stub_status"'], id="scrape-uri-not-loopback"),
    pytest.param({"nginx_exporter_scrape_uri": "https://127.0.0.1:8079/stub_status"},
                 ["nginx_exporter_scrape_uri must be a plain http:// URL of nginx's stub_status, such as "
                  'http://127.0.0.1:8079/stub_status (no https, user, query or fragment), got '
                  '"https://127.0.0.1:8079/stub_status"'], id="scrape-uri-https"),
    # The nginx role's variable, as an -e string: the exporter would have no status to read.
    pytest.param({"nginx_status_enabled": "false"},
                 ["nginx_exporter_scrape_uri is empty and nginx_status_enabled is false: the exporter has no status to "
                  "read. Turn the nginx role's status on, or set nginx_exporter_scrape_uri"], id="nginx-status-off"),
    # Two variables, two problems: both reported, joined by "; ".
    pytest.param({"nginx_exporter_listen": "127.0.0.1:8079", "nginx_exporter_textfile": "sometimes"},
                 ["nginx_exporter_listen \"127.0.0.1:8079\" takes the port of nginx's status server "
                  '(nginx_status_listen "127.0.0.1:8079"); choose another port',
                  'nginx_exporter_textfile must be auto, true or false, got "sometimes"'], id="two-problems"),
]


@pytest.mark.parametrize(("variables", "errors"), INVALID)
def test_invalid_variables_stop_the_play_before_any_change(variables, errors, tmp_path):
    returncode, output = run_role(ROLE, tmp_path, "-e", json.dumps(variables))
    assert returncode == 2, output
    failed = results(output, "fatal")
    assert len(failed) == 1, output
    assert failed[0]["errors"] == errors
    assert failed[0]["msg"] == f"{ROLE}: invalid variables, nothing was changed: " + "; ".join(errors)
    assert recap(output)["changed"] == "0" and recap(output)["failed"] == "1", output
    assert FIRST_TASK_AFTER_VALIDATION not in output


def test_type_errors_are_found_by_ansible_before_the_model(tmp_path):
    returncode, output = run_role(ROLE, tmp_path, "-e", "nginx_exporter_textfile_interval=15s")
    assert returncode == 2, output
    flat = one_line(output)
    assert "argument 'nginx_exporter_textfile_interval' is of type str and we were unable to convert to int" in flat
    assert "invalid variables, nothing was changed" not in output
    assert "Check the variables and build" not in output          # role_config never ran
    assert recap(output)["changed"] == "0" and recap(output)["failed"] == "1", output


def model_of(tmp_path, *extra_vars):
    """The role's first task alone (role_config) against localhost in check mode: its result."""
    arguments = [argument for value in extra_vars for argument in ("-e", value)]
    output, calls = run_tasks(tmp_path, [{"name": "model", "websocket.nginx.role_config": {"role": ROLE}}],
                              *arguments)
    (result,) = [result for result in ok_results(output) if "config" in result]
    return result, calls, output


def test_extra_var_strings_and_the_nginx_roles_status_reach_the_model(tmp_path):
    """``-e name=value`` gives strings: "60" is 60, "false" is false; the nginx role's status variables set in the
    play give the URI the exporter scrapes."""
    result, _calls, output = model_of(
        tmp_path, "nginx_exporter_textfile_interval=60", "nginx_exporter_service_enabled=false",
        "nginx_exporter_textfile=true", "nginx_status_listen=[::1]:9079", "nginx_status_path=/status",
        "nginx_websocket_capacity=500", "nginx_exporter_listen=[::]:9200")
    config = result["config"]
    assert (config["textfile_interval"], config["service_enabled"], config["textfile_enabled"]) == (60, False, True)
    assert config["scrape_uri"] == "http://[::1]:9079/status", output
    assert config["capacity"] == 500
    assert (config["listen"], config["metrics_url"]) == ("[::]:9200", "http://[::1]:9200/metrics")


def test_role_config_reads_the_host_in_one_call(tmp_path):
    """The Debian release and the installed packages come from one role_host_info call; the flags follow them."""
    result, calls, output = model_of(tmp_path)
    assert calls == {"model": ["role_host_info"]}, output
    host = result["host"]
    assert set(host["packages"]) == {"prometheus-nginx-exporter", "prometheus-node-exporter"}
    with open("/etc/os-release", encoding="utf-8") as handle:
        version_id = next((line.split("=", 1)[1].strip().strip('"') for line in handle
                           if line.startswith("VERSION_ID=")), None)
    assert host["os_version_id"] == version_id
    config = result["config"]
    installed = host["packages"]["prometheus-nginx-exporter"]
    if installed:
        assert config["exporter_version_from"] == "installed package"
    elif version_id in ("12", "13"):
        assert config["exporter_version_from"] == f"Debian {version_id}"
        assert config["exporter_version"] == {"12": "0.11.0", "13": "1.4.1"}[version_id]
    dashes = "-" if (config["exporter_version"] or "1").startswith("0.") else "--"
    assert config["arguments"][0] == dashes + "nginx.scrape-uri=http://127.0.0.1:8079/stub_status"
    assert config["textfile_enabled"] is bool(host["packages"]["prometheus-node-exporter"])


def test_valid_variables_pass_validation(tmp_path):
    """Control: the same harness as the invalid cases, good variables, gets past validation (check mode)."""
    _returncode, output = run_role(ROLE, tmp_path, "-e", json.dumps({"nginx_exporter_listen": "0.0.0.0:9113"}))
    assert "invalid variables" not in output and "must be" not in output, output
    assert FIRST_TASK_AFTER_VALIDATION in output, output
