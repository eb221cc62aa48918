"""The nginx_exporter role in check mode with --diff on localhost, with the ansible-core of the Python running these
tests (like test_roles_check_mode.py): every task passes or is skipped as check mode asks, nothing is written,
and its templates render what the role's model asked for, into files systemd accepts.

Without systemd as PID 1 (a container) websocket.nginx.app_service fails at the service's state, after comparing
the files: that failure, of those two tasks only, is accepted, and the play goes on past it (ignore_errors) so
that the rest of the role runs too. The templates are rendered a second time with ansible.builtin.template into a
temporary directory, from the same model, to read them whole and give the units to ``systemd-analyze verify``.
"""

import shutil
import subprocess

import pytest

# This directory's helper (pytest puts the directory on sys.path).
from check_mode_play import REPO, SYSTEMD, result_of, run_check_mode_play

TEMPLATES = REPO / "roles" / "nginx_exporter" / "templates"
EXPORTER_TASK = "Write the exporter's arguments, run it and check that it serves metrics"
COUNTER_TASK = "Install the counter, its service and its timer"
SERVICE_TASKS = (EXPORTER_TASK, COUNTER_TASK)
TIMER_TASK = "Start the counter's timer now and at boot (restarted when its interval changed)"
COUNTER = "websocket-nginx-textfile"


def run_play(tmp_path, variables, post_tasks=()):
    """The role in check and diff mode on localhost (going on past a failed task): [(task name, result)] in order."""
    return run_check_mode_play(tmp_path, {"ignore_errors": True, "roles": [{"role": "websocket.nginx.nginx_exporter"}],
                                          "post_tasks": list(post_tasks)}, variables)


def rendered_copies(tmp_path, copies):
    """ansible.builtin.template tasks (not in check mode) writing the role's templates into ``copies``."""
    names = {"prometheus-nginx-exporter.default.j2": "prometheus-nginx-exporter",
             "websocket-nginx-textfile.service.j2": f"{COUNTER}.service",
             "websocket-nginx-textfile.timer.j2": f"{COUNTER}.timer"}
    return [{"name": f"Render {source}", "check_mode": False, "diff": False,
             "ansible.builtin.template": {"src": str(TEMPLATES / source), "dest": str(copies / dest)}}
            for source, dest in names.items()]


@pytest.fixture(scope="module")
def check_run(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("nginx-exporter-check")
    textfile_directory = tmp_path / "textfile"
    copies = tmp_path / "rendered"
    copies.mkdir()
    variables = {"nginx_exporter_listen": "0.0.0.0:9200", "nginx_exporter_textfile": True,
                 "nginx_exporter_textfile_directory": str(textfile_directory), "nginx_exporter_textfile_interval": 30,
                 "nginx_status_listen": "127.0.0.1:8085", "nginx_websocket_capacity": 2000}
    tasks = run_play(tmp_path, variables, rendered_copies(tmp_path, copies))
    return {"tasks": tasks, "copies": copies, "textfile_directory": textfile_directory,
            "config": result_of(tasks, "Check the variables and build the exporter configuration")["config"]}


def test_every_task_passes_in_check_mode(check_run):
    tasks = check_run["tasks"]
    names = [name for name, _result in tasks]
    assert EXPORTER_TASK in names and COUNTER_TASK in names, names
    for name, result in tasks:
        if name in SERVICE_TASKS and result.get("failed") and not SYSTEMD:
            assert result["msg"].startswith("systemd does not answer"), result
        else:
            assert not result.get("failed"), (name, result)
    # Check mode leaves the arguments file to app_service's diff (and the package to apt's simulation).
    assert result_of(tasks, "Write the exporter's arguments before the package starts it").get("skipped"), tasks
    # The counter is on, so nothing of its removal runs.
    assert result_of(tasks, "Stop the counter's timer and disable it").get("skipped"), tasks


def test_the_files_compared_are_the_ones_the_model_names(check_run):
    tasks, config = check_run["tasks"], check_run["config"]
    exporter = result_of(tasks, EXPORTER_TASK)
    assert list(exporter["files"]) == ["/etc/default/prometheus-nginx-exporter"], exporter
    counter = result_of(tasks, COUNTER_TASK)
    assert sorted(counter["files"]) == sorted([
        f"/etc/systemd/system/{COUNTER}.service", f"/etc/systemd/system/{COUNTER}.timer",
        "/usr/local/lib/websocket-nginx/nginx_status.py", "/usr/local/lib/websocket-nginx/write_textfile.py"]), counter
    assert sorted(counter["directories"]) == sorted(["/usr/local/lib/websocket-nginx",
                                                     config["textfile_directory"]]), counter
    if counter["files"][f"/etc/systemd/system/{COUNTER}.timer"] == "created":
        # systemd does not know the timer yet: check mode cannot ask it.
        assert result_of(tasks, TIMER_TASK).get("skipped"), tasks
    assert not check_run["textfile_directory"].exists()        # check mode wrote nothing


def test_the_arguments_file_holds_the_models_flags(check_run):
    config = check_run["config"]
    text = (check_run["copies"] / "prometheus-nginx-exporter").read_text()
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert lines == ['ARGS="%s"' % " ".join(config["arguments"])], text
    assert config["scrape_uri"] == "http://127.0.0.1:8085/stub_status"
    assert config["arguments"][0].endswith("nginx.scrape-uri=http://127.0.0.1:8085/stub_status")
    assert config["arguments"][1].endswith("web.listen-address=0.0.0.0:9200")
    # The check-mode diff of app_service has the same text where systemd let it go to the end.
    exporter = result_of(check_run["tasks"], EXPORTER_TASK)
    for entry in exporter.get("diff", []):
        assert entry["after"] == text


def test_the_units_run_the_models_command_every_interval(check_run):
    config = check_run["config"]
    service = (check_run["copies"] / f"{COUNTER}.service").read_text()
    timer = (check_run["copies"] / f"{COUNTER}.timer").read_text()
    assert "\nExecStart=%s\n" % " ".join(config["textfile_command"]) in service, service
    assert "--capacity 2000 " in service and "--status-url http://127.0.0.1:8085/stub_status " in service
    assert "\nReadWritePaths=%s\n" % check_run["textfile_directory"] in service, service
    assert "\nOnUnitActiveSec=30s\n" in timer, timer


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_accepts_the_units(check_run, tmp_path):
    """``systemd-analyze verify`` reads the units as systemd would: an unknown key, a bad value or a command that is
    not an absolute executable is reported (an unknown key only on standard error, hence both are read)."""
    units = [str(check_run["copies"] / f"{COUNTER}.service"), str(check_run["copies"] / f"{COUNTER}.timer")]
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60,
                            check=False, cwd=tmp_path)
    assert result.returncode == 0 and result.stderr.strip() == "" and result.stdout.strip() == "", result
