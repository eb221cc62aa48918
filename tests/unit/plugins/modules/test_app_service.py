# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.app_service on this machine: real files, real system accounts (useradd, removed
afterwards), a real HTTP server on loopback for the health check.

systemd does not run here (nor on CI's machine), so ``systemctl`` is a small stand-in on PATH that keeps a
unit's state in a JSON file and records every call; molecule runs the module against the real systemd of
Debian 12 and 13 (every scenario deploys the echo backend with it).
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import secrets
import stat
import subprocess
import sys

import pytest

from ansible_collections.websocket.nginx.plugins.modules import app_service
from ansible_collections.websocket.nginx.tests.unit.helpers import free_closed_port, run_module, start_http_server

pytestmark = [
    pytest.mark.skipif(os.geteuid() != 0, reason='creates system accounts and root-owned files'),
]

NAME = 'wsn-test-app'
FAKE_SYSTEMCTL = r'''#!%(python)s
"""systemctl for one unit: its state in %(state)s, every call appended to %(calls)s."""
import json, os, sys
state_file, calls_file, unit_file = %(state)r, %(calls)r, %(unit)r
args = [arg for arg in sys.argv[1:] if arg != '--']
with open(calls_file, 'a') as handle:
    handle.write(' '.join(args) + '\n')
state = json.load(open(state_file)) if os.path.exists(state_file) else {'load': 'not-found', 'active': 'inactive', 'enabled': ''}
action = args[0]
if action == 'show':
    print('Id=%%s\nLoadState=%%s\nActiveState=%%s\nUnitFileState=%%s' %% (args[-1], state['load'], state['active'], state['enabled']))
    sys.exit(0)
if action == 'daemon-reload':
    state['load'] = 'loaded' if os.path.exists(unit_file) else 'not-found'
elif state['load'] != 'loaded':
    print('Unit %%s not found.' %% args[-1], file=sys.stderr)
    sys.exit(5)
elif action in ('enable', 'disable'):
    state['enabled'] = action + 'd'
elif action in ('start', 'restart'):
    if state.get('refuse_start'):
        print('Job for %%s failed because the control process exited with error code.' %% args[-1], file=sys.stderr)
        sys.exit(1)
    state['active'] = 'active'
elif action == 'stop':
    state['active'] = 'inactive'
elif action == 'reload':
    if state['active'] != 'active' or state.get('refuse_reload'):
        print('Job for %%s failed because the control process exited with error code.' %% args[-1], file=sys.stderr)
        sys.exit(1)
    state['reloads'] = state.get('reloads', 0) + 1
json.dump(state, open(state_file, 'w'))
'''


class Host(object):
    """A scratch directory standing for the host: the files go under ``root``, systemctl is the stand-in."""

    def __init__(self, tmp_path, monkeypatch):
        self.root = tmp_path / 'opt'
        self.unit_dir = tmp_path / 'etc' / 'systemd' / 'system'
        self.unit_dir.mkdir(parents=True)
        self.unit = self.unit_dir / ('%s.service' % NAME)
        self.state_file = tmp_path / 'systemctl-state.json'
        self.calls_file = tmp_path / 'systemctl-calls.txt'
        bin_dir = tmp_path / 'bin'
        bin_dir.mkdir()
        systemctl = self.systemctl = bin_dir / 'systemctl'
        systemctl.write_text(FAKE_SYSTEMCTL % dict(python=sys.executable, state=str(self.state_file),
                                                   calls=str(self.calls_file), unit=str(self.unit)))
        systemctl.chmod(0o755)
        monkeypatch.setenv('PATH', '%s:%s' % (bin_dir, os.environ['PATH']))
        # The module takes files under /etc/systemd/ for unit files; here they live in the scratch directory.
        monkeypatch.setattr(app_service, 'UNIT_DIRECTORY', str(tmp_path / 'etc' / 'systemd') + '/')

    def calls(self):
        """The systemctl calls other than ``show`` since the last time this was asked."""
        if not self.calls_file.exists():
            return []
        calls = [line for line in self.calls_file.read_text().splitlines() if not line.startswith('show')]
        self.calls_file.unlink()
        return calls

    def set_state(self, **state):
        current = (json.loads(self.state_file.read_text()) if self.state_file.exists()
                   else {'load': 'not-found', 'active': 'inactive', 'enabled': ''})
        current.update(state)
        self.state_file.write_text(json.dumps(current))

    def args(self, program='print("v1")\n', unit='[Service]\nExecStart=/bin/true\n', **args):
        base = dict(name=NAME, directories=[dict(path=str(self.root))],
                    files=[dict(path=str(self.root / 'app.py'), content=program),
                           dict(path=str(self.unit), content=unit)])
        base.update(args)
        return base


@pytest.fixture
def host(tmp_path, monkeypatch):
    return Host(tmp_path, monkeypatch)


@pytest.fixture
def account():
    """A system user name no one has; the user and its group are removed after the test."""
    name = 'wsn-test-%s' % secrets.token_hex(4)
    yield name
    subprocess.run(['userdel', name], capture_output=True, check=False)
    subprocess.run(['groupdel', name], capture_output=True, check=False)


@pytest.fixture
def health():
    server, _thread = start_http_server()
    yield 'http://127.0.0.1:%d/healthz' % server.server_address[1]
    server.shutdown()
    server.server_close()


def run(args, check_mode=False, diff=False):
    args = dict(args)
    if diff:
        args['_ansible_diff'] = True
    return run_module(app_service.main, args, check_mode=check_mode)


# ---------------------------------------------------------------------------
# A first run, a re-run, a change
# ---------------------------------------------------------------------------

def test_first_run_creates_everything_and_a_rerun_changes_nothing(host, account, health):
    args = host.args(account=dict(user=account, comment='Test app'), health_check=dict(url=health))
    result = run(args)
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert result['account'] == {'group': 'created', 'user': 'created'}
    entry = pwd.getpwnam(account)
    assert entry.pw_gid == grp.getgrnam(account).gr_gid
    assert (entry.pw_gecos, entry.pw_dir, entry.pw_shell) == ('Test app', '/nonexistent', '/usr/sbin/nologin')
    assert entry.pw_uid < 1000  # a system account
    assert not os.path.exists('/nonexistent')
    assert result['directories'] == {str(host.root): 'created'}
    assert stat.S_IMODE(os.stat(host.root).st_mode) == 0o755
    assert result['files'] == {str(host.root / 'app.py'): 'created', str(host.unit): 'created'}
    assert (host.root / 'app.py').read_text() == 'print("v1")\n'
    assert result['service']['before'] == {'load': 'not-found', 'active': 'inactive', 'enabled': None}
    assert result['service']['actions'] == ['daemon-reload', 'enable', 'start']
    assert host.calls() == ['daemon-reload', 'enable %s.service' % NAME, 'start %s.service' % NAME]
    assert result['health']['status'] == 200 and result['health']['attempts'] == 1

    again = run(args)
    assert again['failed'] is False, again
    assert again['changed'] is False
    assert again['account'] == {'group': 'unchanged', 'user': 'unchanged'}
    assert set(again['files'].values()) == {'unchanged'} and set(again['directories'].values()) == {'unchanged'}
    assert again['service'] == {'before': {'load': 'loaded', 'active': 'active', 'enabled': 'enabled'}, 'actions': []}
    assert host.calls() == []
    assert again['health']['status'] == 200  # asked on every run


def test_a_changed_program_restarts_without_a_daemon_reload(host):
    run(host.args())
    host.calls()
    result = run(host.args(program='print("v2")\n'))
    assert result['files'] == {str(host.root / 'app.py'): 'changed', str(host.unit): 'unchanged'}
    assert result['service']['actions'] == ['restart']
    assert host.calls() == ['restart %s.service' % NAME]


def test_a_changed_unit_reloads_systemd_then_restarts(host):
    run(host.args())
    host.calls()
    result = run(host.args(unit='[Service]\nExecStart=/bin/false\n'))
    assert result['service']['actions'] == ['daemon-reload', 'restart']
    assert host.calls() == ['daemon-reload', 'restart %s.service' % NAME]


def test_stopped_and_disabled_as_asked_and_left_so(host, health):
    run(host.args())
    host.calls()
    args = host.args(state='stopped', enabled=False, health_check=dict(url=health))
    result = run(args)
    assert result['service']['actions'] == ['disable', 'stop']
    assert 'health' not in result  # a stopped service is not asked
    assert run(args)['changed'] is False


def test_a_stopped_service_is_started_not_restarted_after_a_change(host):
    run(host.args())
    host.set_state(active='inactive')
    host.calls()
    result = run(host.args(program='print("v2")\n'))
    assert result['service']['actions'] == ['start']


def test_an_existing_user_with_another_shell_is_corrected(host, account):
    subprocess.run(['groupadd', '--system', account], check=True)
    subprocess.run(['useradd', '--system', '--gid', account, '--shell', '/bin/sh', '--no-create-home', account], check=True)
    result = run(host.args(account=dict(user=account)))
    assert result['account'] == {'group': 'unchanged', 'user': 'changed'}, result
    assert pwd.getpwnam(account).pw_shell == '/usr/sbin/nologin'


def test_a_file_owned_by_the_account_gets_its_ids(host, account):
    args = host.args(account=dict(user=account))
    args['files'][0].update(owner=account, group=account, mode='0640')
    assert run(args)['failed'] is False
    info = os.stat(host.root / 'app.py')
    wanted = (pwd.getpwnam(account).pw_uid, grp.getgrnam(account).gr_gid, 0o640)
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == wanted


def test_a_changed_mode_alone_is_a_change(host):
    run(host.args())
    args = host.args()
    args['files'][0]['mode'] = '0600'
    result = run(args)
    assert result['files'][str(host.root / 'app.py')] == 'changed'
    assert stat.S_IMODE(os.stat(host.root / 'app.py').st_mode) == 0o600


# ---------------------------------------------------------------------------
# Check mode and diff mode
# ---------------------------------------------------------------------------

def test_check_mode_reports_everything_a_first_run_would_do_and_changes_nothing(host, account, health):
    args = host.args(account=dict(user=account), health_check=dict(url=health))
    args['files'][0].update(owner=account)  # owned by an account not created yet
    result = run(args, check_mode=True, diff=True)
    assert result['failed'] is False, result
    assert result['changed'] is True
    assert result['account'] == {'group': 'created', 'user': 'created'}
    assert result['service']['actions'] == ['daemon-reload', 'enable', 'start']
    assert [entry['after'] for entry in result['diff']] == ['print("v1")\n', '[Service]\nExecStart=/bin/true\n']
    assert 'health' not in result
    assert not host.root.exists() and not host.unit.exists()
    with pytest.raises(KeyError):
        pwd.getpwnam(account)
    assert host.calls() == []


def test_check_mode_after_a_run_reports_only_the_difference(host):
    run(host.args())
    host.calls()
    result = run(host.args(program='print("v2")\n'), check_mode=True, diff=True)
    assert result['changed'] is True
    assert result['service']['actions'] == ['restart']
    assert result['diff'] == [{'before_header': str(host.root / 'app.py'), 'after_header': str(host.root / 'app.py'),
                               'before': 'print("v1")\n', 'after': 'print("v2")\n'}]
    assert (host.root / 'app.py').read_text() == 'print("v1")\n'
    assert host.calls() == []
    assert run(host.args(), check_mode=True)['changed'] is False


# ---------------------------------------------------------------------------
# Failures, each with its own message
# ---------------------------------------------------------------------------

def test_a_health_check_that_never_passes_fails_with_the_last_answer(host):
    port = free_closed_port()
    result = run(host.args(health_check=dict(url='http://127.0.0.1:%d/healthz' % port, timeout=0.5)))
    assert result['failed'] is True
    assert result['msg'].startswith('%s.service did not pass its health check within 0.5 s: http://127.0.0.1:%d/healthz '
                                    'answered no answer (' % (NAME, port)), result['msg']
    assert 'expected 200 (journalctl -u %s.service tells why)' % NAME in result['msg']
    assert result['service']['actions'] == ['daemon-reload', 'enable', 'start']  # what was done before


def test_a_health_check_with_the_wrong_body_fails(host, health):
    result = run(host.args(health_check=dict(url=health, content='ok backend\n', timeout=0.3)))
    assert result['failed'] is True
    assert "answered 200 '{" in result['msg'] and "expected 200 'ok backend\\n'" in result['msg'], result['msg']


def test_a_health_check_with_the_wrong_status_fails(host, health):
    result = run(host.args(health_check=dict(url=health.replace('/healthz', '/broken'), timeout=0.3)))
    assert result['failed'] is True and 'answered 503 ' in result['msg'], result['msg']


def test_a_refused_start_fails_with_systemds_words(host):
    host.set_state(refuse_start=True)
    result = run(host.args())
    assert result['failed'] is True
    assert result['msg'] == ('systemctl start failed (%s start -- %s.service, exit status 1): Job for %s.service failed '
                             'because the control process exited with error code.'
                             % (host.systemctl, NAME, NAME)), result['msg']


def test_a_unit_systemd_does_not_know_is_refused(host):
    args = host.args()
    args['files'] = args['files'][:1]  # no unit file
    result = run(args)
    assert result['failed'] is True
    assert result['msg'] == ('systemd does not know %s.service (not-found): install its unit file with this module or '
                             'before it' % NAME), result['msg']


def test_without_systemctl_the_message_says_so(host, tmp_path, monkeypatch):
    monkeypatch.setattr(app_service.AnsibleModule, 'get_bin_path',
                        lambda self, name, required=False, opt_dirs=None: None if name == 'systemctl' else '/usr/sbin/' + name)
    result = run(host.args())
    assert result['failed'] is True
    assert result['msg'] == 'systemctl was not found: this module needs systemd on the host'


@pytest.mark.parametrize('name', ['', '-x', 'app service', 'app;reboot', 'app\n'])
def test_bad_service_names_are_refused_before_anything_changes(host, name):
    result = run(host.args(name=name))
    assert result['failed'] is True
    assert result['msg'] == 'name must be a systemd unit name without .service, got %r' % name
    assert not host.root.exists()


@pytest.mark.parametrize('user', ['-o', 'a:b', 'a b', 'a/b', 'x' * 33])
def test_bad_account_names_are_refused(host, user):
    result = run(host.args(account=dict(user=user)))
    assert result['failed'] is True
    assert result['msg'] == 'account.user must be a user or group name, got %r' % user
    assert not host.root.exists()


def test_a_bad_mode_is_named(host):
    args = host.args()
    args['files'][0]['mode'] = '0999'
    result = run(args)
    assert result['failed'] is True
    assert result['msg'] == "%s: mode must be an octal string such as '0644', got '0999'" % (host.root / 'app.py')


def test_an_unknown_owner_is_named(host):
    args = host.args()
    args['files'][0]['owner'] = 'wsn-no-such-user'
    result = run(args)
    assert result['failed'] is True
    assert result['msg'] == "%s: owner 'wsn-no-such-user' does not exist on this host" % (host.root / 'app.py')


def test_a_symbolic_link_is_not_replaced(host, tmp_path):
    host.root.mkdir()
    (host.root / 'app.py').symlink_to(tmp_path / 'elsewhere.py')
    result = run(host.args())
    assert result['failed'] is True
    assert result['msg'] == '%s is a symbolic link; it is not replaced' % (host.root / 'app.py')


def test_a_file_where_the_directory_goes_is_refused(host):
    host.root.write_text('')
    result = run(host.args())
    assert result['failed'] is True and result['msg'] == '%s exists and is not a directory' % host.root


def test_templates_need_the_action_plugin(host):
    result = run(host.args(templates=[dict(src='app.py.j2', dest=str(host.root / 'app.py'))]))
    assert result['failed'] is True and 'action plugin websocket.nginx.app_service' in result['msg']


# ---------------------------------------------------------------------------
# on_change: reload (keepalived: a SIGHUP keeps a MASTER's address, a restart drops it)
# ---------------------------------------------------------------------------

def test_a_changed_file_reloads_instead_of_restarting(host):
    run(host.args(on_change='reload'))
    assert host.calls() == ['daemon-reload', 'enable %s.service' % NAME, 'start %s.service' % NAME]
    result = run(host.args(program='print("v2")\n', on_change='reload'))
    assert result['failed'] is False and result['changed'] is True, result
    assert result['service']['actions'] == ['reload']
    assert host.calls() == ['reload %s.service' % NAME]
    assert json.loads(host.state_file.read_text())['reloads'] == 1


def test_a_changed_unit_with_reload_reloads_systemd_then_the_service(host):
    run(host.args(on_change='reload'))
    host.calls()
    result = run(host.args(unit='[Service]\nExecStart=/bin/false\n', on_change='reload'))
    assert result['service']['actions'] == ['daemon-reload', 'reload']
    assert host.calls() == ['daemon-reload', 'reload %s.service' % NAME]


def test_reload_changes_nothing_when_nothing_changed(host):
    args = host.args(on_change='reload')
    run(args)
    host.calls()
    again = run(args)
    assert again['changed'] is False and again['service']['actions'] == [] and host.calls() == []


def test_a_stopped_service_is_started_not_reloaded_after_a_change(host):
    run(host.args(on_change='reload'))
    host.set_state(active='inactive')
    host.calls()
    result = run(host.args(program='print("v2")\n', on_change='reload'))
    assert result['service']['actions'] == ['start']
    assert host.calls() == ['start %s.service' % NAME]


def test_check_mode_reports_the_reload_and_runs_none(host):
    run(host.args(on_change='reload'))
    host.calls()
    result = run(host.args(program='print("v2")\n', on_change='reload'), check_mode=True)
    assert result['changed'] is True and result['service']['actions'] == ['reload']
    assert host.calls() == []
    assert (host.root / 'app.py').read_text() == 'print("v1")\n'


def test_a_refused_reload_fails_with_systemds_words(host):
    """A unit without ExecReload=, or an ExecReload= that fails: systemd's words, and the file stays written."""
    run(host.args(on_change='reload'))
    host.set_state(refuse_reload=True)
    result = run(host.args(program='print("v3")\n', on_change='reload'))
    assert result['failed'] is True, result
    assert result['msg'].startswith('systemctl reload failed (') and 'control process exited' in result['msg']
    assert result['files'][str(host.root / 'app.py')] == 'changed'
    assert (host.root / 'app.py').read_text() == 'print("v3")\n'


def test_on_change_takes_restart_or_reload_only(host):
    result = run(host.args(on_change='hup'))
    assert result['failed'] is True and 'on_change' in result['msg'], result
