"""The drain_proxy playbook against local inventories: three "proxies" that are all localhost, each with a
keepalived state file and a drain flag of its own in a temporary directory (the inventory variables
drain_proxy_state_file and drain_proxy_flag_file, which only the tests set).

- Each bad -e value stops the first play with its own message, before any proxy is read.
- The refusals (the last proxy that can hold the floating address, no other proxy that would serve) change
  nothing: no drain flag appears; the requests they let through get past them.
- One whole drain against a real nginx (tests/unit/status_proxy.py) with the nginx role's health server in it
  and real WebSockets through it, keepalived played by a thread that rewrites the state files as keepalived
  would: the count is printed as it falls, the health check answers 503 while the flag exists, the floating
  address is reported where it went, and the proxy is back (flag gone, health 200) at the end.

The real run, with three proxies and keepalived, is a Molecule scenario's.
"""

import contextlib
import json
import re
import subprocess
import sys
import threading
import time

import pytest
import yaml

from test_bad_variables import BASE_ENV, REPO, one_line

sys.path.insert(0, str(REPO / ".venv" / "collections"))

# pylint: disable=wrong-import-position
from ansible_collections.websocket.nginx.plugins.plugin_utils import server_models  # noqa: E402
from ansible_collections.websocket.nginx.tests.unit.helpers import (  # noqa: E402
    WebSocketServers, free_closed_port, start_http_server)
from ansible_collections.websocket.nginx.tests.unit.nginx_process import http_get  # noqa: E402
from ansible_collections.websocket.nginx.tests.unit.plugins.render.test_health_endpoint import (  # noqa: E402
    health_server_text)
from ansible_collections.websocket.nginx.tests.unit.status_proxy import (  # noqa: E402
    StatusProxy, cannot_run_live, open_websockets, running)

PLAYBOOK = REPO / "playbooks" / "drain_proxy.yml"
PROXIES = ("proxy-1", "proxy-2", "proxy-3")
FIRST_PROXY_TASK = "TASK [Read the keepalived state of the proxy (none without keepalived)]"
REFUSAL_TASK = "TASK [Refuse to take out the last proxy that can hold the floating address, or the last that serves]"
STATUS_CHECK_TASK = "TASK [Check nginx serves its status on the proxy (the open WebSockets are counted there)]"


def write_inventory(tmp_path, proxies=PROXIES):
    lines = ["[websocket_proxies]"]
    for name in proxies:
        (tmp_path / name).mkdir(exist_ok=True)
        lines.append(f"{name} ansible_connection=local ansible_python_interpreter={sys.executable} "
                     f"drain_proxy_state_file={tmp_path / name / 'state.json'} "
                     f"drain_proxy_flag_file={tmp_path / name / 'draining'}")
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("\n".join(lines) + "\n")
    return inventory


def set_state(tmp_path, name, state, priority=100):
    path = tmp_path / name / "state.json"
    if state is None:
        path.unlink(missing_ok=True)
    else:
        text = json.dumps({"instance": "websocket_nginx", "state": state, "priority": priority, "time": int(time.time())})
        temporary = path.with_suffix(".tmp")
        temporary.write_text(text)
        temporary.replace(path)   # as keepalived's notify script should: never half a file


def run_drain(tmp_path, *extra_vars, proxies=PROXIES, timeout=300, on_line=None):
    """``(returncode, output)`` of the playbook; ``on_line`` is called with each line of output as it comes."""
    inventory = write_inventory(tmp_path, proxies)
    arguments = [argument for value in extra_vars for argument in ("-e", value)]
    process = subprocess.Popen(
        ["ansible-playbook", "-i", str(inventory), str(PLAYBOOK), "-e", "ansible_become=false", *arguments],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(tmp_path),
        env={**BASE_ENV, "ANSIBLE_STDOUT_CALLBACK": "default", "ANSIBLE_CALLBACK_RESULT_FORMAT": "json"},
    )
    watchdog = threading.Timer(timeout, process.kill)  # bounded: a hung run is killed and fails the test
    watchdog.start()
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if on_line is not None:
                on_line(line)
        process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, "".join(lines)


def text_of(output):
    """The output on one line; the JSON-escaped quotes of ansible-core 2.17's messages as 2.19 and later print them."""
    return one_line(output).replace('\\"', '"')


def flags(tmp_path, proxies=PROXIES):
    return [name for name in proxies if (tmp_path / name / "draining").exists()]


def test_syntax_check():
    result = subprocess.run(["ansible-playbook", "--syntax-check", "-i", "localhost,", str(PLAYBOOK)],
                            capture_output=True, text=True, env=BASE_ENV, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_defaults_file_and_the_header_name_the_same_variables():
    defaults = yaml.safe_load((REPO / "playbooks" / "vars" / "drain_proxy_defaults.yml").read_text())
    assert defaults == {"drain_proxy_group": "websocket_proxies", "drain_proxy_timeout": 300,
                        "drain_proxy_poll_interval": 5, "drain_proxy_maintenance": "none",
                        "drain_proxy_maintenance_tasks": "", "drain_proxy_back_timeout": 60,
                        "drain_proxy_address_timeout": 30, "drain_proxy_max_polls": 100}
    header = PLAYBOOK.read_text().split("\n- name:", 1)[0]
    for name in set(defaults) - {"drain_proxy_max_polls"} | {"drain_proxy"}:
        assert re.search(r"^#   %s +\S" % name, header, re.MULTILINE), name


def test_the_flag_is_the_one_the_nginx_model_serves():
    """The playbook's drain flag is where the nginx role's health check looks (server_models.DRAIN_FLAG)."""
    assert PLAYBOOK.read_text().count("drain_proxy_flag_file | default('%s')" % server_models.DRAIN_FLAG) == 2


NOT_INT = "argument '%s' is of type str and we were unable to convert to int"
SECONDS = "%s must be at least %d seconds, got %d"


@pytest.mark.parametrize(("variables", "message"), [
    pytest.param({}, "missing required arguments: drain_proxy", id="no-proxy"),
    pytest.param({"drain_proxy": "proxy-9"}, "value of drain_proxy must be one of: proxy-1, proxy-2, proxy-3, got: proxy-9",
                 id="proxy-not-in-group"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_group": "nowhere"},
                 "drain_proxy_group nowhere is not a group with hosts in this inventory: nothing to drain", id="group"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_timeout": "5m"}, NOT_INT % "drain_proxy_timeout", id="timeout-word"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_timeout": "-1"}, SECONDS % ("drain_proxy_timeout", 0, -1),
                 id="timeout-negative"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_poll_interval": "0"},
                 SECONDS % ("drain_proxy_poll_interval", 1, 0), id="poll-0"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_poll_interval": "often"}, NOT_INT % "drain_proxy_poll_interval",
                 id="poll-word"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_back_timeout": "0"},
                 SECONDS % ("drain_proxy_back_timeout", 1, 0), id="back-0"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_address_timeout": "-5"},
                 SECONDS % ("drain_proxy_address_timeout", 1, -5), id="address-negative"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_address_timeout": "1.5"}, NOT_INT % "drain_proxy_address_timeout",
                 id="address-fraction"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_timeout": "3600"},
                 "drain_proxy_timeout (3600 s) / drain_proxy_poll_interval (5 s) is 720 counts, more than the 100 a drain "
                 "makes: set drain_proxy_poll_interval to at least 36", id="too-many-counts"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_maintenance": "reboot"},
                 "value of drain_proxy_maintenance must be one of: none, restart, tasks, got: reboot", id="maintenance"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_maintenance": "tasks"},
                 'drain_proxy_maintenance_tasks must be a task file on the controller with drain_proxy_maintenance=tasks, '
                 'got "" (no such file from', id="tasks-missing"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_maintenance": "tasks", "drain_proxy_maintenance_tasks": "nope.yml"},
                 'drain_proxy_maintenance_tasks must be a task file on the controller with drain_proxy_maintenance=tasks, '
                 'got "nope.yml" (no such file from', id="tasks-no-file"),
    pytest.param({"drain_proxy": "proxy-1", "drain_proxy_maintenance_tasks": "maintenance.yml"},
                 "drain_proxy_maintenance_tasks is only run with drain_proxy_maintenance=tasks, and drain_proxy_maintenance "
                 "is none: set drain_proxy_maintenance=tasks or leave drain_proxy_maintenance_tasks out", id="tasks-without-tasks"),
])
def test_each_bad_value_stops_the_first_play(tmp_path, variables, message):
    (tmp_path / "maintenance.yml").write_text("- ansible.builtin.ping:\n")
    returncode, output = run_drain(tmp_path, json.dumps(variables))
    assert returncode == 2, output
    assert message in text_of(output), output
    assert FIRST_PROXY_TASK not in output


def test_good_values_given_as_strings_pass_the_first_play(tmp_path):
    (tmp_path / "maintenance.yml").write_text("- ansible.builtin.ping:\n")
    returncode, output = run_drain(tmp_path, "drain_proxy=proxy-2", "drain_proxy_timeout=3600",
                                   "drain_proxy_poll_interval=36", "drain_proxy_maintenance=tasks",
                                   "drain_proxy_maintenance_tasks=maintenance.yml", "nginx_status_enabled=false")
    # Past the first play and the refusals: stopped by the missing status server, before any change.
    assert returncode == 2, output
    assert FIRST_PROXY_TASK in output
    assert "nginx_status_enabled is false on proxy-2" in text_of(output), output
    assert flags(tmp_path) == []


MASTER_REFUSED = ("proxy-1 holds the floating address (keepalived MASTER) and no other proxy of websocket_proxies could "
                  "take it over (BACKUP or MASTER, not draining): %s. Nothing was changed.")
NONE_SERVING = ("No other proxy of websocket_proxies would serve while proxy-1 is drained (%s): finish their drains "
                "first. Nothing was changed.")


@pytest.mark.parametrize(("states", "draining", "message"), [
    pytest.param({"proxy-1": "MASTER", "proxy-2": "FAULT", "proxy-3": "BACKUP"}, ["proxy-3"],
                 MASTER_REFUSED % "proxy-2: FAULT; proxy-3: BACKUP, draining", id="master-others-fault-or-draining"),
    pytest.param({"proxy-1": "MASTER", "proxy-2": "STOP", "proxy-3": None}, [],
                 MASTER_REFUSED % "proxy-2: STOP; proxy-3: no keepalived", id="master-others-stopped-or-without"),
    pytest.param({"proxy-1": "BACKUP", "proxy-2": "MASTER", "proxy-3": "FAULT"}, ["proxy-2", "proxy-3"],
                 NONE_SERVING % "proxy-2: MASTER, draining; proxy-3: FAULT, draining", id="others-draining"),
    pytest.param({"proxy-1": None, "proxy-2": None, "proxy-3": None}, ["proxy-2", "proxy-3"],
                 NONE_SERVING % "proxy-2: no keepalived, draining; proxy-3: no keepalived, draining",
                 id="no-keepalived-others-draining"),
])
def test_refusals_change_nothing(tmp_path, states, draining, message):
    write_inventory(tmp_path)
    for name, state in states.items():
        set_state(tmp_path, name, state)
    for name in draining:
        (tmp_path / name / "draining").write_text("")
    returncode, output = run_drain(tmp_path, "drain_proxy=proxy-1")
    assert returncode == 2, output
    assert message in text_of(output), output
    assert "TASK [Read the proxy's nginx and websocket_proxy models]" not in output
    assert flags(tmp_path) == sorted(draining)
    assert re.search(r"^proxy-1 +: .*changed=0 ", output, re.MULTILINE), output


def test_the_only_proxy_is_not_drained(tmp_path):
    returncode, output = run_drain(tmp_path, "drain_proxy=proxy-1", proxies=["proxy-1"])
    assert returncode == 2, output
    assert ("proxy-1 is the only proxy of websocket_proxies: draining it would leave nothing to serve. Nothing was "
            "changed.") in text_of(output), output
    assert flags(tmp_path, ["proxy-1"]) == []


def test_a_state_file_without_a_state_stops_every_proxy(tmp_path):
    write_inventory(tmp_path)
    (tmp_path / "proxy-3" / "state.json").write_text(json.dumps({"instance": "websocket_nginx", "state": "UNKNOWN"}))
    returncode, output = run_drain(tmp_path, "drain_proxy=proxy-1")
    assert returncode == 2, output
    assert (f'{tmp_path}/proxy-3/state.json on proxy-3 holds no keepalived state ("state": MASTER, BACKUP, FAULT or '
            'STOP), got {"instance": "websocket_nginx", "state": "UNKNOWN"}. Nothing was changed.') in text_of(output)
    assert REFUSAL_TASK not in output      # any_errors_fatal: no proxy goes on
    assert flags(tmp_path) == []


@pytest.mark.parametrize(("states", "draining"), [
    pytest.param({"proxy-1": "MASTER", "proxy-2": "BACKUP", "proxy-3": "FAULT"}, [], id="master-with-a-backup"),
    pytest.param({"proxy-1": "BACKUP", "proxy-2": "MASTER", "proxy-3": None}, ["proxy-2"], id="backup"),
    pytest.param({"proxy-1": None, "proxy-2": None, "proxy-3": None}, ["proxy-3"], id="no-keepalived"),
    pytest.param({"proxy-1": "FAULT", "proxy-2": "MASTER", "proxy-3": "BACKUP"}, ["proxy-1"], id="draining-already"),
])
def test_requests_the_refusals_let_through(tmp_path, states, draining):
    write_inventory(tmp_path)
    for name, state in states.items():
        set_state(tmp_path, name, state)
    for name in draining:
        (tmp_path / name / "draining").write_text("")
    returncode, output = run_drain(tmp_path, "drain_proxy=proxy-1", "nginx_status_enabled=false")
    assert returncode == 2, output
    assert re.search(r"^ok: \[proxy-\d\]", output[output.index(REFUSAL_TASK):], re.MULTILINE), output
    # Stopped by the next check (this host serves no status), before any change.
    assert STATUS_CHECK_TASK in output and "nginx_status_enabled is false on proxy-1" in text_of(output), output
    assert flags(tmp_path) == sorted(draining)


# ---------------------------------------------------------------------------
# A whole drain against a real nginx
# ---------------------------------------------------------------------------

@pytest.fixture
def proxy(tmp_path):
    """The test nginx, with the nginx role's health server (rendered from its model) on a port of its own."""
    ws_servers = WebSocketServers()
    http_server, http_thread = start_http_server()
    (tmp_path / "nginx").mkdir()
    (tmp_path / "proxy-1").mkdir()
    try:
        started = StatusProxy(tmp_path / "nginx", ws_servers, http_server.server_address[1])
        started.health_listen = "%s:%d" % (started.address, free_closed_port(started.address))
        config = server_models.build_nginx({"nginx_health_listen": [started.health_listen], "nginx_status_enabled": False},
                                           None, drain_flag=str(tmp_path / "proxy-1" / "draining"))
        (started.include / "health.conf").write_text(health_server_text(config))
        started.configure()
        with running(started) as live_proxy:
            yield live_proxy
    finally:
        ws_servers.stop()
        http_server.shutdown()
        http_server.server_close()
        http_thread.join(5)


class Keepalived(threading.Thread):
    """keepalived as the test plays it: proxy-1 goes FAULT and proxy-2 MASTER once proxy-1's drain flag exists;
    proxy-1 goes BACKUP once it is gone. Also records what the health check answered while the flag existed."""

    def __init__(self, tmp_path, health_port, host):
        super().__init__(daemon=True)
        self.tmp_path, self.health_port, self.host = tmp_path, health_port, host
        self.stopping = threading.Event()
        self.drained_answers = set()
        self.drained = False

    def run(self):
        flag = self.tmp_path / "proxy-1" / "draining"
        while not self.stopping.wait(0.2):
            if flag.exists():
                self.drained = True
                self.drained_answers.add(http_get(self.health_port, "/health", host=self.host))
                set_state(self.tmp_path, "proxy-1", "FAULT", 150)
                set_state(self.tmp_path, "proxy-2", "MASTER", 100)
            elif self.drained:
                set_state(self.tmp_path, "proxy-1", "BACKUP", 150)


@pytest.mark.skipif(cannot_run_live() is not None, reason=cannot_run_live() or "")
def test_a_whole_drain_prints_the_count_as_it_falls(proxy, tmp_path):
    write_inventory(tmp_path)
    set_state(tmp_path, "proxy-1", "MASTER", 150)
    set_state(tmp_path, "proxy-2", "BACKUP", 100)
    set_state(tmp_path, "proxy-3", None)
    site = {"name": "drain", "listen": [f"{proxy.address}:{proxy.proxy_port}"],
            "upstreams": [{"name": name, "servers": [{"address": address}], "health_check": {"enabled": False}}
                          for name, address in proxy.servers.items()],
            "websocket_locations": [{"path": f"/{name[3:]}/", "upstream": name} for name in proxy.servers
                                    if name.startswith("ws_")],
            "proxy_locations": [{"path": "/plain/", "upstream": "plain"}]}
    variables = {"websocket_proxy_sites": [site], "nginx_status_listen": proxy.status_address,
                 "nginx_health_listen": [proxy.health_listen]}
    health_port = int(proxy.health_listen.rsplit(":", 1)[1])
    assert http_get(health_port, "/health", host=proxy.address) == (200, b"ok\n")
    keepalived = Keepalived(tmp_path, health_port, proxy.address)
    keepalived.start()
    with contextlib.ExitStack() as stack:
        sockets = open_websockets(stack, proxy.url("/a/"), 2)

        def close_one(line):
            # Each count seen makes one client leave: the count falls 2, 1, 0 whatever the speed of the run.
            if sockets and re.search(r'"msg": "proxy-1: %d WebSockets? open' % len(sockets), line):
                sockets.pop().close()

        try:
            returncode, output = run_drain(tmp_path, json.dumps(variables), "drain_proxy=proxy-1",
                                           "drain_proxy_poll_interval=1", "drain_proxy_timeout=60",
                                           "drain_proxy_back_timeout=20", on_line=close_one)
        finally:
            keepalived.stopping.set()
            keepalived.join(5)
    assert returncode == 0, output
    counts = [(int(count), int(seconds)) for count, seconds in re.findall(
        r'"msg": "proxy-1: (\d+) WebSockets? open, (\d+) s into the drain"', output)]
    assert counts[0][0] == 2 and counts[-1][0] == 0 and 1 in [count for count, _seconds in counts], output
    assert [count for count, _seconds in counts] == sorted((count for count, _seconds in counts), reverse=True)
    assert [seconds for _count, seconds in counts] == sorted(seconds for _count, seconds in counts)
    assert "proxy-2 holds the floating address now (proxy-1: FAULT; proxy-2: MASTER)" in text_of(output), output
    assert "still open at the deadline (drain_proxy_timeout" not in output
    assert keepalived.drained_answers == {(503, b"draining\n")}
    assert flags(tmp_path) == []
    assert http_get(health_port, "/health", host=proxy.address) == (200, b"ok\n")
    assert ("proxy-1 is back in service; proxy-2 holds the floating address (proxy-1: BACKUP; proxy-2: MASTER)"
            in text_of(output)), output
    # The flag created and removed; its directory was there.
    assert re.search(r"^proxy-1 +: ok=\d+ +changed=2 ", output, re.MULTILINE), output
    assert '"msg": "proxy-1: 1 WebSocket open, ' in output, output


def site_variables(proxy):
    site = {"name": "drain", "listen": [f"{proxy.address}:{proxy.proxy_port}"],
            "upstreams": [{"name": name, "servers": [{"address": address}], "health_check": {"enabled": False}}
                          for name, address in proxy.servers.items()],
            "websocket_locations": [{"path": f"/{name[3:]}/", "upstream": name} for name in proxy.servers
                                    if name.startswith("ws_")]}
    return json.dumps({"websocket_proxy_sites": [site], "nginx_status_listen": proxy.status_address,
                       "nginx_health_listen": [proxy.health_listen]})


@pytest.mark.skipif(cannot_run_live() is not None, reason=cannot_run_live() or "")
def test_at_the_deadline_the_open_websockets_are_reported_and_left_open(proxy, tmp_path):
    """No keepalived anywhere (load balancers only): no address to wait for; one WebSocket outlives the deadline."""
    write_inventory(tmp_path)
    with contextlib.ExitStack() as stack:
        (websocket,) = open_websockets(stack, proxy.url("/b/"), 1)
        returncode, output = run_drain(tmp_path, site_variables(proxy), "drain_proxy=proxy-1",
                                       "drain_proxy_poll_interval=1", "drain_proxy_timeout=2")
        # Still open: the playbook closed nothing.
        websocket.send("still here")
        assert websocket.recv(timeout=5) == "still here"
    assert returncode == 0, output
    counts = re.findall(r'"msg": "proxy-1: (\d+) WebSockets? open, (\d+) s into the drain"', output)
    assert {count for count, _seconds in counts} == {"1"} and 1 <= len(counts) <= 4, output
    assert ("proxy-1: 1 WebSocket still open at the deadline (drain_proxy_timeout 2 s); this playbook does not close "
            "them: they stay open while the proxy goes back into service") in text_of(output), output
    assert "TASK [Read the keepalived state of the proxies that run it]" not in output
    assert "proxy-1 is back in service (no proxy of websocket_proxies runs keepalived)" in text_of(output), output
    assert flags(tmp_path) == []


@pytest.mark.skipif(cannot_run_live() is not None, reason=cannot_run_live() or "")
def test_a_proxy_that_fails_its_checks_stays_out_of_service(proxy, tmp_path):
    """keepalived stays FAULT after the flag is gone: the flag comes back and the play fails, saying so."""
    write_inventory(tmp_path)
    set_state(tmp_path, "proxy-1", "MASTER", 150)
    set_state(tmp_path, "proxy-2", "BACKUP", 100)

    def keepalived():
        flag = tmp_path / "proxy-1" / "draining"
        deadline = time.monotonic() + 120
        while not flag.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        set_state(tmp_path, "proxy-1", "FAULT", 150)   # and it stays so
        set_state(tmp_path, "proxy-2", "MASTER", 100)

    thread = threading.Thread(target=keepalived, daemon=True)
    thread.start()
    returncode, output = run_drain(tmp_path, site_variables(proxy), "drain_proxy=proxy-1", "drain_proxy_timeout=0",
                                   "drain_proxy_back_timeout=3")
    thread.join(5)
    assert returncode == 2, output
    assert ('proxy-1 did not pass its checks within drain_proxy_back_timeout (3 s) at "Check keepalived is BACKUP or '
            'MASTER again"') in text_of(output), output
    assert "It stays out of service (the drain flag is back); fix it and run the playbook again to put it back." in one_line(
        output), output
    assert flags(tmp_path) == ["proxy-1"]
    health_port = int(proxy.health_listen.rsplit(":", 1)[1])
    assert http_get(health_port, "/health", host=proxy.address) == (503, b"draining\n")
