# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nginx_exporter role's per-backend counter, as its systemd unit runs it: write_textfile.py (the role's
file) running the collection's nginx_status.py against a real nginx on loopback that proxies real WebSockets
to a real echo server, with the command line the role's model builds.

The metrics file follows the WebSockets as they open and close, is replaced by a rename (never rewritten in
place), and is removed when the count fails, so that no stale count is scraped.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
import stat
import subprocess
import sys

from pathlib import Path

import pytest

from websockets.sync.client import connect

from ansible_collections.websocket.nginx.plugins.plugin_utils import exporter_model
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import COLLECTION_ROOT
from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port
from ansible_collections.websocket.nginx.tests.unit.nginx_process import Nginx, wait_for

WRITER = Path(COLLECTION_ROOT) / 'roles' / 'nginx_exporter' / 'files' / 'write_textfile.py'
STATUS_SCRIPT = Path(COLLECTION_ROOT) / 'plugins' / 'module_utils' / 'nginx_status.py'
OPEN_WEBSOCKETS = 3


def _load_writer():
    spec = importlib.util.spec_from_file_location('write_textfile', WRITER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


write_textfile = _load_writer()


@pytest.fixture(scope='module')
def proxy(tmp_path_factory, ws_echo):
    """A real nginx: stub_status on one loopback port, a WebSocket location to the echo server on another."""
    directory = tmp_path_factory.mktemp('nginx-exporter')
    sites = directory / 'sites'
    sites.mkdir()
    status_port, ws_port = free_closed_port(), free_closed_port()
    (sites / 'exporter.conf').write_text('\n'.join([
        'server {',
        '    listen %s:%d;' % (LOOPBACK, status_port),
        '    location = /stub_status { stub_status; }',
        '}',
        'server {',
        '    listen %s:%d;' % (LOOPBACK, ws_port),
        '    location /ws/ {',
        '        proxy_pass http://%s:%d;' % (LOOPBACK, ws_echo),
        '        proxy_http_version 1.1;',
        '        proxy_set_header Upgrade $http_upgrade;',
        '        proxy_set_header Connection "upgrade";',
        '        proxy_read_timeout 60s;',
        '    }',
        '}',
        '']), encoding='utf-8')
    nginx = Nginx(directory)
    nginx.write('ok', include_dir=sites)
    nginx.start()
    try:
        yield {'status_url': 'http://%s:%d/stub_status' % (LOOPBACK, status_port),
               'ws_url': 'ws://%s:%d/ws/' % (LOOPBACK, ws_port), 'backend': '%s:%d' % (LOOPBACK, ws_echo)}
    finally:
        nginx.stop()


def counter_command(tmp_path, status_url, capacity=100):
    """The role's ExecStart, with the scripts and the textfile directory where this test has them."""
    config = exporter_model.build_nginx_exporter({
        'nginx_exporter_scrape_uri': status_url, 'nginx_websocket_capacity': capacity,
        'nginx_exporter_textfile_directory': str(tmp_path)}, '13', {})
    command = [sys.executable if part == '/usr/bin/python3' else part for part in config.textfile_command]
    command = [str(WRITER) if part.endswith('/write_textfile.py') else part for part in command]
    command = [str(STATUS_SCRIPT) if part.endswith('/nginx_status.py') else part for part in command]
    return command, Path(config.textfile_path)


def run_counter(command):
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)


def samples(text):
    """``{(metric, labels): value}`` of a Prometheus text exposition."""
    found = {}
    for line in text.splitlines():
        if line and not line.startswith('#'):
            match = re.fullmatch(r'([a-z_]+)(\{[^}]*\})? (\S+)', line)
            assert match, line
            found[(match.group(1), match.group(2) or '')] = float(match.group(3))
    return found


def backend_connections(text, backend):
    """Connections to ``backend`` on current workers, as the metrics file says (0 when it is not there)."""
    key = ('nginx_status_upstream_connections', '{upstream="",server="%s",workers="current"}' % backend)
    return samples(text).get(key, 0)


def test_the_counts_follow_websockets_opening_and_closing(proxy, tmp_path):
    command, output = counter_command(tmp_path, proxy['status_url'])
    result = run_counter(command)
    assert result.returncode == 0, result.stderr
    assert backend_connections(output.read_text(), proxy['backend']) == 0

    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(connect(proxy['ws_url'], proxy=None, open_timeout=10))
                   for _index in range(OPEN_WEBSOCKETS)]
        for index, websocket in enumerate(sockets):
            websocket.send('hello %d' % index)
            assert websocket.recv(timeout=10) == 'hello %d' % index
        result = run_counter(command)
        assert result.returncode == 0, result.stderr
        text = output.read_text()
        assert backend_connections(text, proxy['backend']) == OPEN_WEBSOCKETS, text
        metrics = samples(text)
        assert metrics[('nginx_status_websockets', '{workers="current"}')] == OPEN_WEBSOCKETS
        assert metrics[('nginx_status_websocket_capacity', '')] == 100
        assert metrics[('nginx_status_capacity_used_percent', '')] == OPEN_WEBSOCKETS
        assert metrics[('nginx_status_active_connections', '')] >= OPEN_WEBSOCKETS

    def closed():
        result = run_counter(command)
        assert result.returncode == 0, result.stderr
        return backend_connections(output.read_text(), proxy['backend']) == 0

    # nginx closes its upstream side right after the client's close frame went through.
    wait_for(closed, timeout=10, what='no connection to the backend in the metrics file')


def test_the_file_is_replaced_by_a_rename_readable_by_the_node_exporter(proxy, tmp_path):
    command, output = counter_command(tmp_path, proxy['status_url'])
    output.write_text('# an older count\n')
    before = output.stat().st_ino
    result = run_counter(command)
    assert result.returncode == 0, result.stderr
    after = output.stat()
    assert after.st_ino != before          # a new file renamed over the old one, not the old one rewritten
    assert stat.S_IMODE(after.st_mode) == 0o644      # the node exporter runs as another user
    assert sorted(os.listdir(tmp_path)) == [output.name]   # no temporary file left behind
    assert output.read_text().startswith('# HELP nginx_status_')


def test_a_failed_count_removes_the_old_file(tmp_path):
    """nginx does not answer: the old counts would be stale, so they go, and the journal says why."""
    status_url = 'http://%s:%d/stub_status' % (LOOPBACK, free_closed_port())
    command, output = counter_command(tmp_path, status_url)
    output.write_text('nginx_status_websockets{workers="current"} 7\n')
    result = run_counter(command)
    assert result.returncode == 1
    assert not output.exists()
    assert os.listdir(tmp_path) == []
    assert result.stderr.startswith('write_textfile.py: %s failed (exit status 1): ' % sys.executable), result.stderr
    assert "cannot read nginx's status at %s" % status_url in result.stderr, result.stderr
    assert result.stderr.rstrip().endswith('removed %s so that no stale counts are scraped' % output), result.stderr


@pytest.mark.parametrize('program, problem', [
    ('pass', 'printed no metrics'),
    ('import time; time.sleep(30)', 'ran longer than 0.5 s'),
])
def test_no_output_or_a_hung_command_removes_the_old_file(tmp_path, program, problem):
    output = tmp_path / 'websocket_nginx.prom'
    output.write_text('nginx_status_websockets{workers="current"} 7\n')
    status, message = write_textfile.run(str(output), [sys.executable, '-c', program], timeout=0.5)
    assert (status, message) == (1, '%s %s; removed %s so that no stale counts are scraped'
                                 % (sys.executable, problem, output))
    assert not output.exists()


def test_a_missing_command_is_reported(tmp_path):
    output = tmp_path / 'websocket_nginx.prom'
    status, message = write_textfile.run(str(output), [str(tmp_path / 'no-such-program')])
    assert status == 1 and message.startswith('cannot run %s: ' % (tmp_path / 'no-such-program')), message


def test_an_unwritable_directory_is_reported(tmp_path):
    output = tmp_path / 'missing' / 'websocket_nginx.prom'
    status, message = write_textfile.run(str(output), [sys.executable, '-c', 'print("nginx_status_up 1")'])
    assert status == 1 and message.startswith('cannot write %s: ' % output), message


@pytest.mark.parametrize('arguments, error', [
    (['--output', 'x.prom'], 'a command to run is needed after --'),
    (['--output', 'x.txt', '--', 'true'], '--output must end with .prom'),
])
def test_bad_command_lines_are_refused(arguments, error, capsys):
    with pytest.raises(SystemExit) as exc:
        write_textfile.main(arguments)
    assert exc.value.code == 2
    assert error in capsys.readouterr().err
