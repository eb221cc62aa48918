# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.nginx_reload against a real nginx on loopback.

Each test starts its own nginx (master + 2 workers, in the foreground in a new
session, as root, pid file, error log and temporary files in a temporary
directory, listening on a free 127.0.0.1 port) and stops it afterwards.
Nothing is mocked: the module signals the real master and reads /proc.

The start path with a real systemd (nginx not running, ``systemctl start
nginx``) cannot run here: the unit tests run without systemd as PID 1, and
where systemd runs they must not start the host's nginx. The real systemctl
is called with a unit name that exists nowhere, so only its failure is
tested; the start itself runs with a ``systemctl`` stand-in on PATH that
starts nginx as a Type=forking unit does. Starting the real unit is for
scenarios where nginx runs under systemd (molecule).
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from pathlib import Path

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils.nginx_reload import EMERG_SETTLE, ReloadError, reload_and_wait
from ansible_collections.websocket.nginx.plugins.modules import nginx_reload

from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, run_module
from ansible_collections.websocket.nginx.tests.unit.nginx_process import (
    HTTP_TIMEOUT, NGINX, STOP_TIMEOUT, Nginx, children_of, silent_upstream, slow_request, title, wait_for)


pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the module reads /proc (Linux only)'),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX),
    pytest.mark.skipif(os.geteuid() != 0, reason='runs nginx as root, as the module does'),
]

NO_SUCH_UNIT = 'websocket-nginx-test-no-such-unit'


# ---------------------------------------------------------------------------
# A real nginx
# ---------------------------------------------------------------------------

@pytest.fixture
def nginx(tmp_path):
    server = Nginx(tmp_path)
    server.write('v1')
    try:
        yield server.start()
    finally:
        server.stop()


def assert_old_workers_gone_or_shutting_down(old_workers):
    for pid in old_workers:
        assert title(pid) in (None, '', 'nginx: worker process is shutting down'), (pid, title(pid))


# ---------------------------------------------------------------------------
# Reloads
# ---------------------------------------------------------------------------

def test_reload_serves_the_new_configuration_at_once(nginx):
    assert nginx.get() == (200, b'v1')
    before = nginx.workers()
    nginx.write('v2')
    result = reload_and_wait(str(nginx.pid_file), 10)
    # No retry: every new connection after the call is answered by the new configuration.
    answers = [nginx.get() for _request in range(30)]
    assert answers == [(200, b'v2')] * 30
    assert result['changed'] is True
    assert result['started'] is False
    assert result['master_pid'] == nginx.master
    assert result['old_workers'] == before and len(before) == 2
    assert_old_workers_gone_or_shutting_down(result['old_workers'])
    assert len(result['new_workers']) >= 1 and not set(result['new_workers']) & set(before)
    assert set(result['new_workers']) <= set(nginx.workers())
    assert 0 < result['seconds'] < 2, result
    assert result['error_log'] == str(nginx.error_log)
    assert result['msg'].startswith('nginx reloaded (master process %d): ' % nginx.master)
    print('reload took effect after %.3f s' % result['seconds'])

    # And once more: the second reload's old workers are the first one's new workers.
    nginx.write('v3')
    again = reload_and_wait(str(nginx.pid_file), 10)
    assert [nginx.get() for _request in range(10)] == [(200, b'v3')] * 10
    # (The first call returned as soon as one new worker ran; the second one's old workers include them all.)
    assert set(again['old_workers']) >= set(result['new_workers'])
    assert_old_workers_gone_or_shutting_down(again['old_workers'])


def test_reload_through_the_module_main(nginx):
    nginx.write('main')
    result = run_module(nginx_reload.main, {'pid_file': str(nginx.pid_file), 'timeout': 10})
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert nginx.get() == (200, b'main')
    assert_old_workers_gone_or_shutting_down(result['old_workers'])


def test_an_old_worker_with_an_open_request_does_not_hold_up_the_reload(tmp_path):
    port, accepted, stop_upstream = silent_upstream()
    server = Nginx(tmp_path)
    client = None
    try:
        server.write('v1', upstream_port=port)
        server.start()
        # A request in flight in one old worker: nginx waits for the upstream, which never answers.
        client = slow_request(server, accepted)
        before = server.workers()

        server.write('v2', upstream_port=port)
        started = time.monotonic()
        result = reload_and_wait(str(server.pid_file), 10)
        elapsed = time.monotonic() - started

        assert elapsed < 3 and result['seconds'] < 3, result
        assert result['old_workers'] == before
        assert result['shutting_down'] and set(result['shutting_down']) <= set(before), result
        # The idle old worker exits; the one holding the request stays, no longer accepting connections.
        wait_for(lambda: len(set(before) & set(children_of(server.master))) == 1, what='one old worker left')
        holder = (set(before) & set(children_of(server.master))).pop()
        assert holder in result['shutting_down']
        assert title(holder) == 'nginx: worker process is shutting down'
        assert_old_workers_gone_or_shutting_down(before)
        assert [server.get() for _request in range(10)] == [(200, b'v2')] * 10
        assert 'is shutting down' in result['msg']
        # The open request is still in flight in the old worker.
        client.settimeout(0.2)
        with pytest.raises(socket.timeout):
            client.recv(1)
    finally:
        if client is not None:
            client.close()
        server.stop()
        stop_upstream()


@pytest.fixture
def busy_port():
    """A loopback port another socket listens on: a reload that also listens there is refused."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        holder.bind((LOOPBACK, 0))
        holder.listen(1)
        yield holder.getsockname()[1]
    finally:
        holder.close()


def test_a_rejected_reload_fails_soon_after_the_emerg_line_not_at_the_timeout(nginx, busy_port):
    before = nginx.workers()
    nginx.write('v2', extra_listen=busy_port)
    started = time.monotonic()
    with pytest.raises(ReloadError) as caught:
        reload_and_wait(str(nginx.pid_file), 60)
    elapsed = time.monotonic() - started
    msg = caught.value.msg
    # nginx tries bind() 5 times 0.5 s apart, then the settle time: well before the 60 s timeout.
    assert EMERG_SETTLE <= elapsed < 10, elapsed
    assert msg.startswith('nginx did not take the new configuration after SIGHUP to its master process %d: it logged '
                          '[emerg] and ' % nginx.master), msg
    assert 'the previous worker processes (%s) still accept connections' % ', '.join(str(p) for p in before) in msg
    assert 'bind() to %s:%d failed (98: Address already in use)' % (LOOPBACK, busy_port) in msg
    assert nginx.get() == (200, b'v1')
    assert caught.value.details['still_accepting'] == before


def test_a_reload_the_master_rejects_fails_and_the_old_configuration_stays(nginx, busy_port):
    before = nginx.workers()
    nginx.write('v2', extra_listen=busy_port)  # nginx -t accepts it: it does not bind
    started = time.monotonic()
    with pytest.raises(ReloadError) as caught:
        reload_and_wait(str(nginx.pid_file), 3)
    elapsed = time.monotonic() - started
    msg = caught.value.msg
    assert 3 <= elapsed < 5, elapsed
    assert msg.startswith('nginx did not take the new configuration within 3 seconds after SIGHUP to its master process %d: '
                          % nginx.master), msg
    assert 'the previous worker processes (%s) still accept connections, so nginx keeps serving the previous configuration' % (
        ', '.join(str(pid) for pid in before)) in msg
    assert "Look at nginx's error log for the reason, for example a listen address already in use" in msg
    assert 'Last lines of %s:\n' % nginx.error_log in msg
    assert 'bind() to %s:%d failed (98: Address already in use)' % (LOOPBACK, busy_port) in msg
    print(msg)
    details = caught.value.details
    assert details['still_accepting'] == before
    assert details['old_workers'] == before
    assert details['error_log'] == str(nginx.error_log)
    assert any('Address already in use' in line for line in details['error_log_lines'])
    # Still the old configuration, from the same workers.
    assert [nginx.get() for _request in range(10)] == [(200, b'v1')] * 10
    assert nginx.workers() == before


def test_the_rejected_reload_through_the_module_main(nginx, busy_port):
    nginx.write('v2', extra_listen=busy_port)
    result = run_module(nginx_reload.main, {'pid_file': str(nginx.pid_file), 'timeout': 1.5})
    assert result['failed'] is True
    assert result['msg'].startswith('nginx did not take the new configuration within 1.5 seconds')
    assert result['still_accepting'] == result['old_workers'] == nginx.workers()
    assert nginx.get() == (200, b'v1')


def test_the_master_dying_during_the_reload_is_reported(nginx):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind((LOOPBACK, 0))
        holder.listen(1)
        # The master retries bind() for about 2.5 s; kill it meanwhile.
        nginx.write('v2', extra_listen=holder.getsockname()[1])
        killer = threading.Timer(0.5, os.kill, (nginx.master, signal.SIGKILL))
        killer.start()
        try:
            with pytest.raises(ReloadError) as caught:
                reload_and_wait(str(nginx.pid_file), 10)
        finally:
            killer.cancel()
            killer.join(HTTP_TIMEOUT)
    assert caught.value.msg.startswith('the nginx master process %d exited during the reload; nginx is not running' % nginx.master)


# ---------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('timeout', [0, -1, float('nan'), float('inf'), 3601, 'nan', 'inf'])
def test_timeout_out_of_range(tmp_path, timeout):
    result = run_module(nginx_reload.main, {'pid_file': str(tmp_path / 'nginx.pid'), 'timeout': timeout})
    assert result['failed'] is True
    assert result['msg'].startswith('timeout must be a finite number of seconds greater than 0 and at most 3600, got ')
    shown = result['msg'].rsplit(' ', 1)[1]
    if isinstance(timeout, str) or not math.isfinite(timeout):
        assert shown == str(float(timeout))
    else:
        assert float(shown) == timeout


def test_timeout_in_range_is_accepted(tmp_path):
    result = run_module(nginx_reload.main, {'pid_file': str(tmp_path / 'nginx.pid'), 'timeout': 3600}, check_mode=True)
    assert result['failed'] is False, result


@pytest.mark.parametrize('service', ['', '-x', 'a b', 'nginx;reboot', 'a/b', 'a\\x2db', 'nginx\n'])
def test_service_must_be_a_unit_name(tmp_path, service):
    with pytest.raises(ReloadError) as caught:
        reload_and_wait(str(tmp_path / 'nginx.pid'), 5, service=service)
    assert caught.value.msg == (
        "service must be a systemd unit name (letters, digits and ':_.@-', not starting with '-'), got '%s'" % service)


@pytest.fixture
def sighup_recorder():
    """Records SIGHUPs to this process (the test's own process must not be signalled)."""
    received = []
    previous = signal.signal(signal.SIGHUP, lambda signum, frame: received.append(signum))
    try:
        yield received
    finally:
        signal.signal(signal.SIGHUP, previous)


def test_a_pid_that_is_not_nginx_is_not_signalled(tmp_path, sighup_recorder):
    pid_file = tmp_path / 'nginx.pid'
    pid_file.write_text('%d\n' % os.getpid())
    for check_mode in (False, True):
        result = run_module(nginx_reload.main, {'pid_file': str(pid_file), 'timeout': 2}, check_mode=check_mode)
        assert result['failed'] is True
        assert result['msg'].startswith("process %d named in the pid file %s is not an nginx master process (its command line is '"
                                        % (os.getpid(), pid_file)), result['msg']
        assert result['msg'].endswith('); nothing was signalled')
        assert result['master_pid'] == os.getpid()
    time.sleep(0.1)
    assert sighup_recorder == []


def test_a_worker_pid_is_not_a_master(nginx):
    worker = nginx.workers()[0]
    pid_file = nginx.directory / 'worker.pid'
    pid_file.write_text('%d\n' % worker)
    with pytest.raises(ReloadError) as caught:
        reload_and_wait(str(pid_file), 2)
    assert "is not an nginx master process (its command line is 'nginx: worker process')" in caught.value.msg
    assert nginx.workers()[0] == worker


@pytest.mark.parametrize('content', ['abc', '12 34', '-5', '0', '99999999999'])
def test_a_pid_file_without_a_process_id(tmp_path, content):
    pid_file = tmp_path / 'nginx.pid'
    pid_file.write_text(content)
    with pytest.raises(ReloadError) as caught:
        reload_and_wait(str(pid_file), 2)
    assert caught.value.msg == "the pid file %s does not hold a process ID: '%s'" % (pid_file, content)


def test_an_unreadable_pid_file(tmp_path):
    with pytest.raises(ReloadError) as caught:
        reload_and_wait(str(tmp_path), 2)  # a directory
    assert caught.value.msg.startswith('cannot read the pid file %s: ' % tmp_path)


# ---------------------------------------------------------------------------
# nginx not running: systemctl start
# ---------------------------------------------------------------------------

def dead_pid():
    proc = subprocess.Popen([sys.executable, '-c', ''])  # pylint: disable=consider-using-with
    proc.wait(HTTP_TIMEOUT)
    return proc.pid


@pytest.mark.parametrize('state', ['missing', 'empty', 'dead'])
def test_not_running_tries_systemctl_start(tmp_path, state):
    pid_file = tmp_path / 'nginx.pid'
    why = {'missing': 'there is no pid file %s' % pid_file, 'empty': 'the pid file %s is empty' % pid_file}
    if state == 'empty':
        pid_file.write_text('\n')
    elif state == 'dead':
        pid = dead_pid()
        pid_file.write_text('%d\n' % pid)
        why['dead'] = 'the pid file %s names process %d, which is not running' % (pid_file, pid)
    started = time.monotonic()
    result = run_module(nginx_reload.main, {'pid_file': str(pid_file), 'service': NO_SUCH_UNIT, 'timeout': 20})
    assert time.monotonic() - started < 20
    assert result['failed'] is True
    assert result['started'] is False
    if shutil.which('systemctl') is None and not os.access('/usr/bin/systemctl', os.X_OK):
        assert result['msg'] == 'nginx is not running (%s), and systemctl was not found to start the unit %s' % (why[state], NO_SUCH_UNIT)
        return
    prefix = 'nginx is not running (%s), and `systemctl start %s` failed (rc=' % (why[state], NO_SUCH_UNIT)
    assert result['msg'].startswith(prefix), result['msg']
    # systemctl's own reason follows: no systemd here ("System has not been booted with systemd ..."),
    # or, where systemd runs, that the unit does not exist.
    reason = result['msg'][len(prefix):].split('): ', 1)[1]
    assert reason and reason != 'no output'
    assert result['rc'] != 0
    print(result['msg'])


def fake_systemctl(directory, script):
    """A directory holding an executable ``systemctl`` stand-in that runs ``script`` (sh) for ``start UNIT``."""
    bin_dir = Path(directory) / 'bin'
    bin_dir.mkdir()
    path = bin_dir / 'systemctl'
    path.write_text('#!/bin/sh\n[ "$1" = start ] && [ "$2" = %s ] || exit 64\n%s\n' % (NO_SUCH_UNIT, script))
    path.chmod(0o755)
    return str(bin_dir)


def stop_daemon(pid_file):
    """Stop an nginx started with daemon on (its own session): SIGTERM, then SIGKILL to its process group."""
    try:
        master = int(Path(pid_file).read_text().strip())
    except (OSError, ValueError):
        return
    if title(master) is None or not title(master).startswith('nginx: master process'):
        return
    os.kill(master, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while time.monotonic() < deadline and title(master):
        time.sleep(0.02)
    if title(master):
        os.killpg(master, signal.SIGKILL)


def test_not_running_is_started_with_systemctl(tmp_path, monkeypatch):
    """The start path, with a systemctl stand-in that starts nginx as a Type=forking unit would (daemon on)."""
    server = Nginx(tmp_path)
    server.write('started')
    assert server.pid_file.read_text() == ''
    bin_dir = fake_systemctl(tmp_path, 'exec %s -p %s -c %s' % (NGINX, server.directory, server.conf))
    monkeypatch.setenv('PATH', bin_dir + os.pathsep + os.environ.get('PATH', ''))
    try:
        result = run_module(nginx_reload.main, {'pid_file': str(server.pid_file), 'service': NO_SUCH_UNIT, 'timeout': 10})
        assert result['failed'] is False, result
        assert result['changed'] is True and result['started'] is True
        master = int(server.pid_file.read_text())
        assert result['master_pid'] == master
        assert title(master).startswith('nginx: master process')
        assert result['old_workers'] == []
        assert result['new_workers'] and set(result['new_workers']) <= set(children_of(master))
        assert 0 < result['seconds'] < 10
        # nginx -t (in server.write) leaves an empty pid file behind when nginx is not running.
        assert result['msg'].startswith('nginx was not running (the pid file %s is empty); started %s (master process %d) with '
                                        % (server.pid_file, NO_SUCH_UNIT, master))
        assert server.get() == (200, b'started')
    finally:
        stop_daemon(server.pid_file)


def test_a_hanging_systemctl_start_is_bounded(tmp_path, monkeypatch):
    bin_dir = fake_systemctl(tmp_path, 'exec sleep 60')
    monkeypatch.setenv('PATH', bin_dir + os.pathsep + os.environ.get('PATH', ''))
    started = time.monotonic()
    result = run_module(nginx_reload.main, {'pid_file': str(tmp_path / 'nginx.pid'), 'service': NO_SUCH_UNIT, 'timeout': 1})
    assert time.monotonic() - started < 5
    assert result['failed'] is True
    assert result['msg'] == 'nginx is not running (there is no pid file %s), and `systemctl start %s` did not finish within 1 second' % (
        tmp_path / 'nginx.pid', NO_SUCH_UNIT)


def test_systemctl_start_without_a_master_is_bounded(tmp_path, monkeypatch):
    bin_dir = fake_systemctl(tmp_path, 'exit 0')
    monkeypatch.setenv('PATH', bin_dir + os.pathsep + os.environ.get('PATH', ''))
    result = run_module(nginx_reload.main, {'pid_file': str(tmp_path / 'nginx.pid'), 'service': NO_SUCH_UNIT, 'timeout': 0.5})
    assert result['failed'] is True
    assert result['msg'] == ('`systemctl start %s` succeeded, but within 0.5 seconds the pid file %s did not name a running nginx '
                             'master process with a worker process' % (NO_SUCH_UNIT, tmp_path / 'nginx.pid'))
    assert result['started'] is True


def test_not_running_in_check_mode_changes_nothing(tmp_path):
    pid_file = tmp_path / 'nginx.pid'
    result = run_module(nginx_reload.main, {'pid_file': str(pid_file), 'service': NO_SUCH_UNIT}, check_mode=True)
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert result['started'] is True
    assert result['master_pid'] is None
    assert result['msg'] == 'nginx is not running (there is no pid file %s); systemctl start %s would start it' % (pid_file, NO_SUCH_UNIT)
    assert not pid_file.exists()


# ---------------------------------------------------------------------------
# Through ansible
# ---------------------------------------------------------------------------

def _ansible():
    """The ``ansible`` command next to this Python, or None where ansible.cli is not installed (ansible-test units)."""
    try:
        if importlib.util.find_spec('ansible.cli') is None:
            return None
    except ImportError:
        return None
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible')
    return candidate if os.access(candidate, os.X_OK) else None


def run_ansible(module_env, tmp_path, args, *options):
    """``ansible localhost -m websocket.nginx.nginx_reload -a ARGS``; returns the module's result."""
    env = dict(module_env, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1', ANSIBLE_LOAD_CALLBACK_PLUGINS='1',
               ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-local'),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / 'ansible-remote'))
    proc = subprocess.run([_ansible(), 'localhost', '-c', 'local', '-m', 'websocket.nginx.nginx_reload', '-a', args] + list(options),
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    try:
        output = json.loads(proc.stdout)
        return output['plays'][0]['tasks'][0]['hosts']['localhost']
    except (ValueError, KeyError, IndexError):
        raise AssertionError('rc=%d\n%s\n%s' % (proc.returncode, proc.stdout, proc.stderr))


needs_ansible = pytest.mark.skipif(_ansible() is None, reason='needs the ansible command and ansible.cli (plain pytest with .venv)')


@needs_ansible
def test_check_mode_through_ansible(nginx, module_env, tmp_path):
    before = nginx.workers()
    nginx.write('v2')
    result = run_ansible(module_env, tmp_path, 'pid_file=%s timeout=5' % nginx.pid_file, '--check')
    assert result.get('failed') is not True, result
    assert result['changed'] is True
    assert result['master_pid'] == nginx.master
    assert result['old_workers'] == before
    assert result['new_workers'] == []
    assert result['seconds'] is None
    assert result['msg'] == 'nginx (master process %d) would be reloaded' % nginx.master
    time.sleep(0.3)
    assert nginx.workers() == before
    assert nginx.get() == (200, b'v1')


@needs_ansible
def test_reload_through_ansible(nginx, module_env, tmp_path):
    nginx.write('v2')
    result = run_ansible(module_env, tmp_path, 'pid_file=%s timeout=5' % nginx.pid_file)
    assert result.get('failed') is not True, result
    assert result['changed'] is True
    assert nginx.get() == (200, b'v2')
    assert_old_workers_gone_or_shutting_down(result['old_workers'])
    assert set(result['new_workers']) <= set(nginx.workers())
