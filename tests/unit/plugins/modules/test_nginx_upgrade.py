# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.nginx_upgrade against a real nginx on loopback.

Each nginx runs from its own copy of the nginx binary; "upgrading" it replaces that file (a new
copy, or a program that fails the way a broken new binary would), as a package upgrade does. The
real moves to the other Debian version, by the role and by apt, run in molecule (test_upgrades.py).
The hooks are written under a temporary root: their policy-rc.d is run for real with sh.
"""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys

from pathlib import Path

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_upgrade
from ansible_collections.websocket.nginx.plugins.module_utils.nginx_reload import ReloadError
from ansible_collections.websocket.nginx.plugins.modules import nginx_upgrade as nginx_upgrade_module

from ansible_collections.websocket.nginx.tests.unit.helpers import run_module
from ansible_collections.websocket.nginx.tests.unit.nginx_process import (
    NGINX, DaemonNginx, silent_upstream, slow_request, title, wait_for)


pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the module reads /proc (Linux only)'),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX),
    pytest.mark.skipif(os.geteuid() != 0, reason='runs nginx as root, as the module does'),
]

BROKEN_BINARY = '#!/bin/sh\necho "nginx: [emerg] this new binary cannot start (a test)" >&2\nexit 1\n'


def replace_file(path, content=None, mode=0o755):
    """Replace ``path`` by a new file (a copy of the real nginx, or ``content``), as dpkg does: rename over it."""
    new = Path('%s.dpkg-new' % path)
    if content is None:
        shutil.copyfile(NGINX, new)
    else:
        new.write_text(content)
    os.chmod(new, mode)
    os.rename(new, path)


@pytest.fixture
def held(tmp_path):
    """A running nginx from its own binary copy, with one request held open in a worker (a silent upstream)."""
    binary = tmp_path / 'sbin' / 'nginx'
    binary.parent.mkdir()
    shutil.copyfile(NGINX, binary)
    os.chmod(binary, 0o755)
    port, accepted, stop_upstream = silent_upstream()
    (tmp_path / 'prefix').mkdir()
    server = DaemonNginx(tmp_path / 'prefix', binary=binary)
    client = None
    try:
        server.write('v1', upstream_port=port)
        server.start()
        client = slow_request(server, accepted)
        yield server, binary, client
    finally:
        if client is not None:
            client.close()
        server.stop()
        stop_upstream()


def still_open(client):
    """The held request is still in flight: nothing to read, no end of stream."""
    client.settimeout(0.2)
    try:
        return client.recv(1) != b''
    except socket.timeout:
        return True


def test_nothing_to_do_when_nginx_runs_the_installed_binary(held):
    server, binary, _client = held
    result = nginx_upgrade.upgrade(str(server.pid_file), str(binary), 10)
    assert result['changed'] is False and result['master_pid'] == server.master, result
    assert result['msg'].startswith('nginx (master process %s) runs the installed binary' % server.master)
    assert nginx_upgrade.running_binary(str(server.pid_file), str(binary))['current'] is True


def test_upgrade_moves_to_the_new_binary_and_keeps_open_connections(held):
    server, binary, client = held
    old_workers = server.workers()
    replace_file(binary)
    assert nginx_upgrade.running_binary(str(server.pid_file), str(binary))['current'] is False

    result = nginx_upgrade.upgrade(str(server.pid_file), str(binary), 10)

    new = result['master_pid']
    assert result['changed'] is True and new != server.master and result['old_master_pid'] == server.master, result
    # The new master runs the file now installed, and serves every new connection.
    assert os.stat('/proc/%s/exe' % new).st_ino == os.stat(binary).st_ino
    assert server.pid_file.read_text().strip() == str(new)
    assert [server.get() for _request in range(10)] == [(200, b'v1')] * 10
    assert result['version'] == result['version_before'] and result['version'].startswith('nginx/')
    assert 0 < result['seconds'] < 5 and result['old_workers'] == old_workers and result['new_workers']
    # The old master lets the worker that holds the request finish it; the idle one is gone.
    wait_for(lambda: [title(pid) for pid in old_workers].count(None) == 1, what='the idle old worker gone')
    assert 'nginx: worker process is shutting down' in [title(pid) for pid in old_workers]
    assert still_open(client)
    assert nginx_upgrade.running_binary(str(server.pid_file), str(binary))['current'] is True
    print(result['msg'])

    # nginx takes one binary change at a time: while the old master drains, nothing is signalled.
    replace_file(binary)
    with pytest.raises(ReloadError) as failed:
        nginx_upgrade.upgrade(str(server.pid_file), str(binary), 10)
    assert failed.value.details['previous_master_pid'] == server.master
    assert 'the old master process %d of an earlier upgrade still lets its workers finish' % server.master in failed.value.msg
    assert server.pid_file.read_text().strip() == str(new)
    assert still_open(client)


def test_a_new_binary_that_does_not_start_fails_with_its_words_and_the_old_one_keeps_serving(held):
    server, binary, client = held
    replace_file(binary, BROKEN_BINARY)
    result = run_module(nginx_upgrade_module.main, {'pid_file': str(server.pid_file), 'binary': str(binary), 'timeout': 10})
    assert result['failed'] is True, result
    assert 'nginx could not move to the installed binary %s' % binary in result['msg']
    assert 'The master process %d' % server.master in result['msg'] and 'keeps serving' in result['msg']
    assert any('this new binary cannot start (a test)' in line for line in result['error_log_lines']), result
    # The old master put its pid file back and serves as before, with the open request.
    wait_for(lambda: server.pid_file.read_text().strip() == str(server.master), what='pid file back')
    assert not Path('%s.oldbin' % server.pid_file).exists()
    assert [server.get() for _request in range(5)] == [(200, b'v1')] * 5
    assert still_open(client)


def test_check_mode_says_what_would_happen_and_signals_nothing(held):
    server, binary, _client = held
    workers = server.workers()
    replace_file(binary)
    result = run_module(nginx_upgrade_module.main, {'pid_file': str(server.pid_file), 'binary': str(binary)},
                        check_mode=True)
    assert result['failed'] is False and result['changed'] is True, result
    assert 'would be moved on the fly' in result['msg']
    assert server.workers() == workers and server.pid_file.read_text().strip() == str(server.master)


def test_nginx_not_running_is_nothing_to_do(tmp_path):
    result = nginx_upgrade.upgrade(str(tmp_path / 'nginx.pid'), NGINX, 5)
    assert result['changed'] is False and result['master_pid'] is None
    assert result['msg'].startswith('nginx is not running (there is no pid file')


def test_bad_timeout_is_refused(tmp_path):
    result = run_module(nginx_upgrade_module.main, {'pid_file': str(tmp_path / 'nginx.pid'), 'timeout': 0})
    assert result['failed'] is True and 'timeout must be a finite number of seconds greater than 0' in result['msg']


# ---------------------------------------------------------------------------
# The hooks of upgrades by apt
# ---------------------------------------------------------------------------

SOURCES = {'nginx_upgrade.py': b'# upgrade\n', 'nginx_reload.py': b'# reload\n'}


def test_hooks_are_installed_once_and_removed(tmp_path):
    root = str(tmp_path)
    assert nginx_upgrade.hooks_state(SOURCES, root)['state'] == 'absent'
    assert len(nginx_upgrade.install_hooks(SOURCES, check_mode=True, root=root)) == 4
    assert nginx_upgrade.hooks_state(SOURCES, root)['state'] == 'absent'
    changes = nginx_upgrade.install_hooks(SOURCES, root=root)
    assert sorted(changes) == sorted('create %s%s' % (root, path) for path in (
        nginx_upgrade.POLICY_RC_D, nginx_upgrade.APT_HOOK, nginx_upgrade.HOOK_DIR + '/nginx_upgrade.py',
        nginx_upgrade.HOOK_DIR + '/nginx_reload.py'))
    policy = Path(root + nginx_upgrade.POLICY_RC_D)
    assert stat.S_IMODE(policy.stat().st_mode) == 0o755
    assert stat.S_IMODE(Path(root + nginx_upgrade.APT_HOOK).stat().st_mode) == 0o644
    assert 'DPkg::Post-Invoke' in Path(root + nginx_upgrade.APT_HOOK).read_text()
    assert nginx_upgrade.install_hooks(SOURCES, root=root) == []
    assert nginx_upgrade.hooks_state(SOURCES, root)['state'] == 'installed'
    # A newer collection's file is an update.
    assert nginx_upgrade.install_hooks(dict(SOURCES, **{'nginx_upgrade.py': b'# newer\n'}), root=root) == [
        'update %s%s/nginx_upgrade.py' % (root, nginx_upgrade.HOOK_DIR)]
    assert len(nginx_upgrade.remove_hooks(root=root)) == 4
    assert not policy.exists() and nginx_upgrade.hooks_state(SOURCES, root)['state'] == 'absent'
    assert nginx_upgrade.remove_hooks(root=root) == []


def test_a_policy_of_the_host_is_kept_and_given_back(tmp_path):
    root = str(tmp_path)
    policy = Path(root + nginx_upgrade.POLICY_RC_D)
    policy.parent.mkdir(parents=True)
    policy.write_text('#!/bin/sh\nexit 101\n')
    state = nginx_upgrade.hooks_state(SOURCES, root)
    assert state['state'] == 'absent' and state['foreign_policy'] is True
    nginx_upgrade.install_hooks(SOURCES, root=root)
    assert nginx_upgrade.MARKER in policy.read_text()
    assert Path(root + nginx_upgrade.PREVIOUS_POLICY).read_text() == '#!/bin/sh\nexit 101\n'
    nginx_upgrade.remove_hooks(root=root)
    assert policy.read_text() == '#!/bin/sh\nexit 101\n'
    assert not Path(root + nginx_upgrade.PREVIOUS_POLICY).exists()


def run_policy(tmp_path, package, *args, previous=None):
    """Exit status and standard error of the policy-rc.d script, called as a maintainer script of ``package`` would."""
    script = nginx_upgrade.POLICY_SCRIPT
    if previous is not None:
        # Only where the host's previous policy is kept moves, to a file of the test's.
        path = tmp_path / 'previous'
        path.write_text(previous)
        os.chmod(path, 0o755)
        script = script.replace('previous=' + nginx_upgrade.PREVIOUS_POLICY, 'previous=%s' % path)
        assert script != nginx_upgrade.POLICY_SCRIPT
    environment = {'PATH': os.environ['PATH']}
    if package is not None:
        environment.update(DPKG_MAINTSCRIPT_PACKAGE=package, DPKG_MAINTSCRIPT_NAME='postinst')
    done = subprocess.run(['sh', '-c', script, 'policy-rc.d'] + list(args), env=environment, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=10, check=False)
    return done.returncode, done.stderr


@pytest.mark.parametrize('package, args', [
    ('nginx-common', ['nginx.service', 'restart']),   # deb-systemd-invoke, from dh_installsystemd
    ('nginx-common', ['nginx.service', 'try-restart']),
    ('nginx', ['nginx', 'upgrade']),                   # invoke-rc.d, from nginx's postinst
    ('nginx', ['--quiet', 'nginx', 'restart']),
    ('nginx', ['nginx', '(restart)']),
    ('nginx-light', ['nginx', 'restart']),
])
def test_the_policy_denies_the_restart_nginx_packages_ask_for(tmp_path, package, args):
    status, error = run_policy(tmp_path, package, *args)
    assert status == 101 and 'websocket.nginx: not running' in error


@pytest.mark.parametrize('package, args', [
    ('nginx-common', ['nginx.service', 'start']),     # a fresh install starts nginx
    ('nginx', ['nginx', 'reload']),                    # module triggers reload
    ('nginx', ['--quiet', 'nginx', 'status']),
    ('postgresql-common', ['postgresql.service', 'restart']),
    ('nginx', ['php8.2-fpm', 'restart']),
    (None, ['nginx', 'restart']),                      # invoke-rc.d by hand, not from a package
])
def test_the_policy_allows_everything_else(tmp_path, package, args):
    assert run_policy(tmp_path, package, *args) == (0, '')


def test_the_policy_asks_the_host_s_previous_policy_for_everything_else(tmp_path):
    deny_all = '#!/bin/sh\necho "previous: $*" >&2\nexit 101\n'
    assert run_policy(tmp_path, 'postgresql-common', 'postgresql.service', 'restart', previous=deny_all) == (
        101, 'previous: postgresql.service restart\n')
    status, error = run_policy(tmp_path, 'nginx-common', 'nginx.service', 'restart', previous=deny_all)
    assert status == 101 and error.startswith('websocket.nginx: not running')
