# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The keepalived role's scripts as keepalived runs them.

The track script (installed beside a copy of the collection's websocket_client.py, run with ``python3 -I``)
against a real nginx on loopback that proxies WebSockets to a real echo server, with the settings file the
role's model writes: healthy, echo, a wrong path (404), nginx stopped, a silent upstream (the run's budget),
the drain flag. The notify script writes the state file atomically for every state keepalived sends.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import threading
import time

from pathlib import Path

import pytest

from ansible_collections.websocket.nginx.plugins.plugin_utils import keepalived_model as km
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import COLLECTION_ROOT
from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port
from ansible_collections.websocket.nginx.tests.unit.nginx_process import Nginx, silent_upstream

FILES = Path(COLLECTION_ROOT) / 'roles' / 'keepalived' / 'files'
CLIENT = Path(COLLECTION_ROOT) / 'plugins' / 'module_utils' / 'websocket_client.py'
GROUPS = {'websocket_proxies': ['proxy1', 'proxy2']}
HOSTS = {'proxy2': {'ansible_host': '192.0.2.12'}}
INTERFACES = {'eth0': {'ipv4': ['192.0.2.11/24'], 'ipv6': []}}


def nginx_site(directory, ws_port, echo_port, silent_port):
    (directory / 'ws.conf').write_text('\n'.join([
        'server {',
        '    listen %s:%d;' % (LOOPBACK, ws_port),
        '    location /ws/ {',
        '        proxy_pass http://%s:%d;' % (LOOPBACK, echo_port),
        '        proxy_http_version 1.1;',
        '        proxy_set_header Upgrade $http_upgrade;',
        '        proxy_set_header Connection "upgrade";',
        '    }',
        '    location /silent/ {',
        '        proxy_pass http://%s:%d;' % (LOOPBACK, silent_port),
        '        proxy_http_version 1.1;',
        '        proxy_set_header Upgrade $http_upgrade;',
        '        proxy_set_header Connection "upgrade";',
        '        proxy_read_timeout 60s;',
        '    }',
        '}',
        '']), encoding='utf-8')


def start_proxy(directory, ws_echo, silent_port):
    sites = directory / 'sites'
    sites.mkdir()
    ws_port = free_closed_port()
    nginx_site(sites, ws_port, ws_echo, silent_port)
    nginx = Nginx(directory)
    nginx.write('ok', include_dir=sites)
    nginx.start()
    return nginx, '%s:%d' % (LOOPBACK, ws_port)


@pytest.fixture(scope='module')
def silent():
    port, _accepted, stop = silent_upstream()
    yield port
    stop()


@pytest.fixture(scope='module')
def proxy(tmp_path_factory, ws_echo, silent):
    nginx, address = start_proxy(tmp_path_factory.mktemp('keepalived-nginx'), ws_echo, silent)
    try:
        yield address
    finally:
        nginx.stop()


@pytest.fixture
def installed(tmp_path):
    """The track script and websocket_client.py in one directory, as the role installs them."""
    directory = tmp_path / 'lib'
    directory.mkdir()
    shutil.copy(FILES / 'keepalived_track.py', directory / 'keepalived_track.py')
    shutil.copy(CLIENT, directory / 'websocket_client.py')
    return directory


def settings_file(tmp_path, checks, timeout=2):
    """The settings the role's model writes for ``checks``, with the drain flag in ``tmp_path``."""
    config = km.build_keepalived({'keepalived_virtual_addresses': ['192.0.2.10/24'], 'keepalived_track_checks': checks,
                                  'keepalived_check_timeout': timeout, 'keepalived_check_interval': timeout},
                                 'proxy1', GROUPS, HOSTS, INTERFACES, [], ansible_host='192.0.2.11')
    settings = json.loads(config.track_settings_json)
    assert settings['drain_flag'] == km.DRAIN_FLAG
    settings['drain_flag'] = str(tmp_path / 'draining')
    path = tmp_path / 'keepalived-track.json'
    path.write_text(json.dumps(settings), encoding='utf-8')
    return path


def track(installed, settings):
    """The script as keepalived runs it (the role's command with this interpreter): (exit status, stderr)."""
    done = subprocess.run([sys.executable, '-I', str(installed / 'keepalived_track.py'), str(settings)],
                          capture_output=True, text=True, timeout=30, check=False, env={'PATH': '/usr/bin:/bin'})
    return done.returncode, done.stderr


def test_healthy(proxy, installed, tmp_path):
    code, err = track(installed, settings_file(tmp_path, [{'address': proxy, 'path': '/ws/'}]))
    assert (code, err) == (0, '')


def test_healthy_with_an_echo_and_several_checks(proxy, installed, tmp_path):
    checks = [{'address': proxy, 'path': '/ws/', 'echo': True, 'site': 'chat', 'location': '/ws/'},
              {'address': proxy, 'path': '/ws/other', 'host_header': 'chat.example.com',
               'origin': 'https://chat.example.com'}]
    assert track(installed, settings_file(tmp_path, checks)) == (0, '')


def test_a_wrong_path_fails_with_the_status(proxy, installed, tmp_path):
    code, err = track(installed, settings_file(tmp_path, [{'address': proxy, 'path': '/nothing-here',
                                                           'site': 'chat', 'location': '/ws/'}]))
    assert code == 1
    assert err.count('\n') == 1 and err.endswith('\n'), err
    assert err.startswith('check site chat location /ws/ (ws://%s/nothing-here) failed at handshake (HTTP 404)'
                          % proxy), err


def test_the_first_failed_check_fails_the_run(proxy, installed, tmp_path):
    checks = [{'address': proxy, 'path': '/ws/'}, {'address': proxy, 'path': '/missing'}]
    code, err = track(installed, settings_file(tmp_path, checks))
    assert code == 1 and '/missing' in err and 'HTTP 404' in err, err


def test_nginx_stopped(tmp_path, ws_echo, silent, installed):
    (tmp_path / 'nginx').mkdir()
    nginx, address = start_proxy(tmp_path / 'nginx', ws_echo, silent)
    settings = settings_file(tmp_path, [{'address': address, 'path': '/ws/'}])
    try:
        assert track(installed, settings) == (0, '')
    finally:
        nginx.stop()
    code, err = track(installed, settings)
    assert code == 1
    assert err.startswith('check ws://%s/ws/ failed at connect: ' % address) and 'refused' in err, err


def test_a_hanging_upstream_fails_within_the_budget(proxy, installed, tmp_path):
    """keepalived would kill the script at its timeout (2 s) without a word: the script stops first and says why."""
    code, err = track(installed, settings_file(tmp_path, [{'address': proxy, 'path': '/silent/'}], timeout=2))
    assert code == 1
    assert 'ws://%s/silent/ failed at timeout' % proxy in err, err


def test_the_drain_flag_fails_the_run_before_any_check(proxy, installed, tmp_path):
    settings = settings_file(tmp_path, [{'address': proxy, 'path': '/ws/'}])
    (tmp_path / 'draining').write_text('')
    assert track(installed, settings) == (1, 'draining: %s exists\n' % (tmp_path / 'draining'))
    (tmp_path / 'draining').unlink()
    assert track(installed, settings) == (0, '')


def test_a_drain_flag_it_cannot_look_for_fails(proxy, installed, tmp_path):
    if os.geteuid() == 0:
        pytest.skip('root looks into every directory')
    settings = settings_file(tmp_path, [{'address': proxy, 'path': '/ws/'}])
    tmp_path.chmod(0o300)
    try:
        code, err = track(installed, settings)
    finally:
        tmp_path.chmod(0o700)
    assert code == 1 and 'cannot tell whether the drain flag' in err


def test_unreadable_settings_fail_with_the_reason(installed, tmp_path):
    code, err = track(installed, tmp_path / 'missing.json')
    assert code == 1 and err.startswith('cannot read the settings %s: ' % (tmp_path / 'missing.json')), err
    (tmp_path / 'bad.json').write_text('{"checks": ')
    code, err = track(installed, tmp_path / 'bad.json')
    assert code == 1 and 'cannot read the settings' in err


def test_without_websocket_client_beside_it_the_script_cannot_run(tmp_path):
    """The role installs websocket_client.py beside the script: it is imported from there, not from a path."""
    alone = tmp_path / 'alone'
    alone.mkdir()
    shutil.copy(FILES / 'keepalived_track.py', alone / 'keepalived_track.py')
    done = subprocess.run([sys.executable, '-I', str(alone / 'keepalived_track.py'), 'x'], capture_output=True,
                          text=True, timeout=30, check=False)
    assert done.returncode != 0 and 'websocket_client' in done.stderr


# ---------------------------------------------------------------------------
# The notify script
# ---------------------------------------------------------------------------

def notify(state_file, *args):
    done = subprocess.run([sys.executable, '-I', str(FILES / 'keepalived_notify.py'), str(state_file), *args],
                          capture_output=True, text=True, timeout=30, check=False)
    return done.returncode, done.stderr


@pytest.mark.parametrize('state, written', [('MASTER', 'MASTER'), ('BACKUP', 'BACKUP'), ('FAULT', 'FAULT'),
                                            ('STOP', 'STOP'), ('DELETED', 'STOP')])
def test_notify_writes_the_state(tmp_path, state, written):
    state_file = tmp_path / 'state.json'
    state_file.write_text('{"state": "old"}')
    before = os_time()
    assert notify(state_file, 'INSTANCE', 'websocket_nginx', state, '150') == (0, '')
    record = json.loads(state_file.read_text())
    assert set(record) == {'instance', 'state', 'priority', 'time'}
    assert (record['instance'], record['state'], record['priority']) == ('websocket_nginx', written, 150)
    assert isinstance(record['time'], float) and before <= record['time'] <= os_time()
    assert stat.S_IMODE(state_file.stat().st_mode) == 0o644
    assert sorted(path.name for path in tmp_path.iterdir()) == ['state.json']  # no temporary file left


def os_time():
    return time.time()


@pytest.mark.parametrize('args, words', [
    (('GROUP', 'g', 'MASTER', '100'), 'not an instance'),
    (('INSTANCE', 'websocket_nginx', 'MASTER_RX_LOWER_PRI', '100'), 'unknown state'),
    (('INSTANCE', 'websocket_nginx', 'MASTER', 'high'), 'is not a number'),
])
def test_notify_writes_nothing_for_what_is_not_a_transition(tmp_path, args, words):
    state_file = tmp_path / 'state.json'
    code, err = notify(state_file, *args)
    assert code == 2 and words in err and not state_file.exists()


def test_notify_into_a_missing_directory_fails_with_the_reason(tmp_path):
    code, err = notify(tmp_path / 'gone' / 'state.json', 'INSTANCE', 'websocket_nginx', 'MASTER', '150')
    assert code == 1 and 'cannot write' in err


def test_a_reader_never_sees_half_a_state(tmp_path):
    """The file is replaced by a rename: a reader reading all the time sees whole JSON objects only."""
    state_file = tmp_path / 'state.json'
    assert notify(state_file, 'INSTANCE', 'websocket_nginx', 'BACKUP', '140')[0] == 0
    stop = threading.Event()
    seen, bad = [], []

    def read():
        while not stop.is_set():
            text = state_file.read_text()
            try:
                seen.append(json.loads(text)['state'])
            except ValueError:
                bad.append(text)

    reader = threading.Thread(target=read)
    reader.start()
    try:
        for index in range(20):
            assert notify(state_file, 'INSTANCE', 'websocket_nginx', ('MASTER', 'FAULT')[index % 2], '140')[0] == 0
    finally:
        stop.set()
        reader.join(10)
    assert not bad and set(seen) <= {'BACKUP', 'MASTER', 'FAULT'} and len(seen) > 20
