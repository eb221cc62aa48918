# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.nginx_transaction against a real nginx on loopback.

Each test starts its own nginx (tests/unit/nginx_process.py) whose http block includes a
directory of site files; the transaction writes there, runs the real ``nginx -t``, reloads the
real master and checks WebSocket locations through it, proxied to a real echo server. Every
failure path of the change runs here: refused by ``nginx -t``, reload refused, check through
nginx failed, a file that cannot be put back, the process killed half-way, check mode.
"""

from __future__ import annotations

import json
import os
import pwd
import socket
import stat
import subprocess
import sys
import time

from pathlib import Path

import pytest

from ansible_collections.websocket.nginx.plugins.modules import nginx_transaction
from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port, run_module
from ansible_collections.websocket.nginx.tests.unit.nginx_process import NGINX, Nginx, http_get

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith('linux'), reason='the reload reads /proc (Linux only)'),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX),
    pytest.mark.skipif(os.geteuid() != 0, reason='runs nginx as root and writes files owned by root'),
]

NO_SUCH_UNIT = 'websocket-nginx-test-no-such-unit'


def site(port, body, echo_port, extra=''):
    """A site file: ``return 200 body`` on / and a WebSocket location /ws/ proxied to the echo server."""
    return '\n'.join([
        'server {',
        '    listen %s:%d;' % (LOOPBACK, port),
        '    location / { return 200 "%s"; }' % body,
        '    location /ws/ {',
        '        proxy_pass http://%s:%d/;' % (LOOPBACK, echo_port),
        '        proxy_http_version 1.1;',
        '        proxy_set_header Upgrade $http_upgrade;',
        '        proxy_set_header Connection "upgrade";',
        '    }',
        extra,
        '}',
        '',
    ])


class Proxy(object):
    """A running nginx with conf.d/site.conf serving "v1" and /ws/ on ``port``."""

    def __init__(self, tmp_path, echo_port):
        self.tmp = tmp_path
        self.conf_d = tmp_path / 'conf.d'
        self.conf_d.mkdir()
        self.state_dir = tmp_path / 'state'
        self.echo_port = echo_port
        self.port = free_closed_port()
        self.site_file = self.conf_d / 'site.conf'
        self.site_file.write_text(self.site('v1'))
        (tmp_path / 'nginx').mkdir()
        self.nginx = Nginx(tmp_path / 'nginx')
        self.nginx.write('main', include_dir=self.conf_d)

    def site(self, body, extra=''):
        return site(self.port, body, self.echo_port, extra)

    def args(self, **args):
        base = dict(nginx_binary=NGINX, nginx_config=str(self.nginx.conf), pid_file=str(self.nginx.pid_file),
                    service=NO_SUCH_UNIT, reload_timeout=10, state_dir=str(self.state_dir), transaction_id='test')
        base.update(args)
        return base

    def run(self, check_mode=False, diff=False, **args):
        args = self.args(**args)
        if diff:
            args['_ansible_diff'] = True
        return run_module(nginx_transaction.main, args, check_mode=check_mode)

    def get(self, path='/'):
        return http_get(self.port, path)

    def workers(self):
        return self.nginx.workers()

    def check(self, path='/ws/', **extra):
        return dict(dict(site='demo', location=path, address='%s:%d' % (LOOPBACK, self.port), path=path), **extra)

    def leftovers(self):
        """What a transaction may leave behind: its journal and saved copies, temporary files."""
        found = sorted(str(path.relative_to(self.tmp)) for path in self.state_dir.rglob('*') if path.name != 'lock') \
            if self.state_dir.exists() else []
        return found + sorted(path.name for path in self.conf_d.iterdir() if path.name.endswith('.tmp'))


@pytest.fixture
def proxy(tmp_path, ws_echo):
    proxy = Proxy(tmp_path, ws_echo)
    proxy.nginx.start()
    try:
        assert proxy.get() == (200, b'v1')
        yield proxy
    finally:
        proxy.nginx.stop()


def site_file(proxy, body, extra=''):
    return dict(path=str(proxy.site_file), content=proxy.site(body, extra))


# ---------------------------------------------------------------------------
# The change that works
# ---------------------------------------------------------------------------

def test_a_change_is_written_tested_reloaded_and_checked_and_open_websockets_stay(proxy):
    from websockets.sync.client import connect  # pylint: disable=import-outside-toplevel
    workers_before = proxy.workers()
    with connect('ws://%s:%d/ws/' % (LOOPBACK, proxy.port), open_timeout=5) as websocket:
        websocket.send('before')
        assert websocket.recv(5) == 'before'
        result = proxy.run(files=[site_file(proxy, 'v2')], proxy_checks=[proxy.check(echo=True)])
        assert result['failed'] is False, result
        # No retry: the reload returned once the new workers serve.
        assert proxy.get() == (200, b'v2')
        websocket.send('after')
        assert websocket.recv(5) == 'after'
    assert result['changed'] is True and result['reloaded'] is True and result['rolled_back'] is False
    assert result['files'] == [dict(path=str(proxy.site_file), state='updated')]
    assert result['test']['accepted'] is True
    assert [(check['location'], check['healthy']) for check in result['proxy_checks']] == [('/ws/', 1)]
    assert set(result['seconds']) >= {'write', 'test', 'reload', 'proxy_checks', 'total'}, result['seconds']
    assert not set(proxy.workers()) & set(workers_before)
    assert proxy.leftovers() == []
    assert stat.S_IMODE(proxy.site_file.stat().st_mode) == 0o644


def test_a_second_run_changes_nothing_and_does_not_reload(proxy):
    wanted = [site_file(proxy, 'v2')]
    assert proxy.run(files=wanted)['reloaded'] is True
    workers = proxy.workers()
    again = proxy.run(files=wanted, proxy_checks=[proxy.check()])
    assert again['failed'] is False, again
    assert (again['changed'], again['reloaded'], again['test']) == (False, False, None)
    assert again['files'] == [dict(path=str(proxy.site_file), state='unchanged')]
    assert again['proxy_checks'][0]['healthy'] == 1  # checked every run
    assert proxy.workers() == workers


def test_a_mode_change_alone_is_a_change(proxy):
    result = proxy.run(files=[dict(site_file(proxy, 'v1'), mode='0640')])
    assert result['failed'] is False and result['files'][0]['state'] == 'attributes', result
    assert stat.S_IMODE(proxy.site_file.stat().st_mode) == 0o640


def test_removed_files_and_new_directories(proxy):
    extra = proxy.conf_d / 'extra.conf'
    extra.write_text('# nothing\n')
    tls_dir = proxy.tmp / 'tls'
    result = proxy.run(files=[dict(path=str(tls_dir / 'cert.pem'), content='not a certificate\n')], remove=[str(extra)],
                       directories=[dict(path=str(tls_dir), mode='0700')])
    assert result['failed'] is False, result
    assert not extra.exists()
    assert stat.S_IMODE(tls_dir.stat().st_mode) == 0o700
    states = {entry['path']: entry['state'] for entry in result['files']}
    assert states == {str(tls_dir / 'cert.pem'): 'created', str(extra): 'removed'}


def test_a_log_file_the_new_configuration_names_is_created_private_before_nginx_opens_it(proxy):
    """nginx would create it as root, 0644; an existing log keeps its lines, a rollback leaves the new one."""
    new_log, old_log = proxy.tmp / 'sessions.log', proxy.tmp / 'old.log'
    old_log.write_text('a line\n')
    old_log.chmod(0o600)
    logged = site_file(proxy, 'v2', 'access_log %s;' % new_log)
    result = proxy.run(files=[logged], log_files=[dict(path=str(new_log), owner='nobody', group='nogroup'),
                                                  dict(path=str(old_log)), dict(path=str(proxy.tmp / 'no-dir' / 'x.log'))])
    assert result['failed'] is False, result
    assert (stat.S_IMODE(new_log.stat().st_mode), new_log.stat().st_uid) == (0o640, pwd.getpwnam('nobody').pw_uid)
    assert proxy.get() == (200, b'v2')
    assert new_log.read_text().count('GET / ') == 1  # nginx writes to the file created for it
    assert (old_log.read_text(), stat.S_IMODE(old_log.stat().st_mode)) == ('a line\n', 0o600)
    assert not (proxy.tmp / 'no-dir').exists()
    new_log.unlink()
    refused = proxy.run(files=[site_file(proxy, 'v3', 'access_log %s; bogus;' % new_log)], log_files=[dict(path=str(new_log))])
    assert refused['failed'] is True and new_log.exists()  # created before nginx -t, kept after the rollback
    assert proxy.get() == (200, b'v2')


def test_a_removed_symbolic_link_comes_back_as_the_same_link(proxy):
    """Debian's sites-enabled/default is a symbolic link; the nginx role removes it."""
    available = proxy.tmp / 'available'
    available.mkdir()
    (available / 'extra.conf').write_text('# nothing\n')
    link = proxy.conf_d / 'extra.conf'
    link.symlink_to(available / 'extra.conf')
    refused = proxy.run(remove=[str(link)], files=[site_file(proxy, 'v2', extra='    no_such_directive on;')], diff=True)
    assert refused['failed'] is True and refused['rolled_back'] is True
    assert link.is_symlink() and os.readlink(link) == str(available / 'extra.conf')
    removed = proxy.run(remove=[str(link)], diff=True)
    assert removed['failed'] is False and not os.path.lexists(link), removed
    assert removed['diff'][0]['before'] == '(symbolic link to %s)\n' % (available / 'extra.conf')
    assert (available / 'extra.conf').exists()  # the link went, not what it points to


def test_diff_mode_shows_each_changed_file(proxy):
    result = proxy.run(files=[site_file(proxy, 'v2')], diff=True)
    assert result['failed'] is False, result
    [diff] = result['diff']
    assert 'return 200 "v1";' in diff['before'] and 'return 200 "v2";' in diff['after']
    assert diff['before_header'] == diff['after_header'] == str(proxy.site_file)


# ---------------------------------------------------------------------------
# Failure paths: everything comes back
# ---------------------------------------------------------------------------

def test_nginx_t_refuses_the_candidate_files_come_back_and_nginx_is_not_reloaded(proxy):
    before = proxy.site_file.read_text()
    workers = proxy.workers()
    new_file = proxy.conf_d / 'new.conf'
    result = proxy.run(files=[dict(path=str(new_file), content='# a new file\n'),
                              site_file(proxy, 'v2', extra='    no_such_directive on;')])
    assert result['failed'] is True
    assert result['msg'].startswith('nginx rejected the new configuration, so it was not applied: the previous files are '
                                    'back and nginx keeps serving with them (it was not reloaded).'), result['msg']
    assert 'unknown directive "no_such_directive"' in result['msg']  # nginx's own words
    assert result['test']['accepted'] is False and result['rolled_back'] is True and result['reloaded'] is False
    assert proxy.site_file.read_text() == before
    assert not new_file.exists()  # a file that did not exist before is gone again
    assert proxy.workers() == workers
    assert proxy.get() == (200, b'v1')
    assert proxy.leftovers() == []


def test_a_reload_nginx_refuses_is_rolled_back_and_the_previous_files_serve(proxy):
    """nginx -t does not bind: a listen address another socket holds passes it and fails the reload."""
    with socket.socket() as busy:
        busy.bind((LOOPBACK, 0))
        busy.listen(1)
        extra = '    listen %s:%d;' % (LOOPBACK, busy.getsockname()[1])
        result = proxy.run(files=[site_file(proxy, 'v2', extra=extra)], proxy_checks=[proxy.check()])
    assert result['failed'] is True
    assert result['msg'].startswith('nginx did not take the new configuration when it reloaded: '), result['msg']
    assert 'Address already in use' in result['msg']
    assert result['msg'].endswith('The previous configuration files are back and nginx reloaded with them.')
    assert result['rolled_back'] is True and result['reloaded'] is True
    assert 'listen' not in proxy.site_file.read_text().split('location')[0].replace('listen %s:%d' % (LOOPBACK, proxy.port), '')
    assert proxy.get() == (200, b'v1')
    assert proxy.leftovers() == []


BROKEN = '    location /nowhere/ { proxy_pass http://%s:%d; proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; ' \
         'proxy_set_header Connection "upgrade"; }'


def test_a_failed_check_through_nginx_puts_the_previous_files_back_and_reloads(proxy):
    before = proxy.site_file.read_text()
    broken = BROKEN % (LOOPBACK, free_closed_port())
    result = proxy.run(files=[site_file(proxy, 'v2', extra=broken)], proxy_checks=[proxy.check(), proxy.check('/nowhere/')])
    assert result['failed'] is True
    assert result['msg'].startswith('The check through nginx failed: site demo, location /nowhere/ (/nowhere/): failed at '
                                    'stage handshake: '), result['msg']
    assert '502' in result['msg']
    assert result['msg'].endswith('The previous configuration files are back and nginx reloaded with them, so it serves as '
                                  'before this run.')
    assert [check['healthy'] for check in result['proxy_checks']] == [1, 0]
    assert result['rolled_back'] is True and result['reloaded'] is True
    assert proxy.site_file.read_text() == before
    assert proxy.get() == (200, b'v1')
    assert proxy.leftovers() == []


def test_the_new_configuration_stays_when_rollback_is_off(proxy):
    broken = BROKEN % (LOOPBACK, free_closed_port())
    result = proxy.run(files=[site_file(proxy, 'v2', extra=broken)], proxy_checks=[proxy.check('/nowhere/')],
                       rollback_on_failed_check=False)
    assert result['failed'] is True
    assert result['msg'].endswith('The new configuration stays live (rollback_on_failed_check is false).'), result['msg']
    assert result['rolled_back'] is False
    assert proxy.get() == (200, b'v2')
    assert proxy.leftovers() == []


def test_a_failed_check_with_nothing_changed_changes_nothing(proxy):
    result = proxy.run(files=[site_file(proxy, 'v1')], proxy_checks=[proxy.check('/missing/')])
    assert result['failed'] is True
    assert result['msg'].endswith('This run changed no file: the configuration nginx already ran fails the check.'), result
    assert result['changed'] is False and result['reloaded'] is False


def test_an_unhealthy_upstream_stops_the_change_before_anything_is_written(proxy):
    closed = free_closed_port()
    result = proxy.run(files=[site_file(proxy, 'v2')], upstream_checks=[
        dict(name='echo', servers=['%s:%d' % (LOOPBACK, proxy.echo_port)]),
        dict(name='nowhere', servers=['%s:%d' % (LOOPBACK, closed)], check='tcp')])
    assert result['failed'] is True
    assert result['msg'].startswith('The upstream check before the change failed, so nothing was changed: upstream nowhere: '
                                    '0 of 1 servers healthy (1 required): %s:%d failed at stage connect' % (LOOPBACK, closed)), result
    assert [(check['name'], check['healthy']) for check in result['upstream_checks']] == [('echo', 1), ('nowhere', 0)]
    assert proxy.get() == (200, b'v1')
    assert proxy.leftovers() == []


def test_unhealthy_upstreams_that_are_allowed_are_reported(proxy):
    closed = free_closed_port()
    result = proxy.run(files=[site_file(proxy, 'v2')], upstream_checks=[
        dict(name='nowhere', servers=['%s:%d' % (LOOPBACK, closed)], check='tcp', min_healthy=0)])
    assert result['failed'] is False and proxy.get() == (200, b'v2')
    assert 'upstream nowhere: 1 of 1 servers unhealthy' in result['warnings'][0]


def test_a_file_that_cannot_be_written_is_named_and_the_others_come_back(proxy):
    before = proxy.site_file.read_text()
    missing = proxy.tmp / 'no-such-dir' / 'map.conf'
    result = proxy.run(files=[site_file(proxy, 'v2'), dict(path=str(missing), content='# map\n')])
    assert result['failed'] is True
    assert result['msg'].startswith('Writing the new configuration failed (%s' % missing.parent), result['msg']
    assert 'No such file or directory' in result['msg'] and 'nginx rejected' not in result['msg']
    assert proxy.site_file.read_text() == before
    assert not missing.parent.exists()
    assert proxy.leftovers() == []


def test_a_private_key_keeps_its_mode_through_a_rollback_and_is_never_shown(proxy):
    key = proxy.tmp / 'site.key'
    key.write_text('OLD PRIVATE KEY\n')
    key.chmod(0o600)
    secret = 'NEW PRIVATE KEY %d\n' % time.time_ns()
    result = proxy.run(private_files=[dict(path=str(key), content=secret)],
                       files=[site_file(proxy, 'v2', extra='    no_such_directive on;')], diff=True)
    assert result['failed'] is True and result['rolled_back'] is True
    assert key.read_text() == 'OLD PRIVATE KEY\n'
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    shown = json.dumps(result)
    assert 'PRIVATE KEY' not in shown
    # And when it goes through: written 0600, its diff says only that it changed.
    result = proxy.run(private_files=[dict(path=str(key), content=secret)], diff=True)
    assert result['failed'] is False and key.read_text() == secret
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert 'PRIVATE KEY' not in json.dumps(result)
    assert result['diff'] == [dict(before_header=str(key), after_header=str(key),
                                   prepared='%s: would change (private file: content not shown)\n' % key)]


def chattr_works(directory):
    probe = directory / 'chattr-probe'
    probe.mkdir()
    try:
        return subprocess.run(['chattr', '+i', str(probe)], capture_output=True, check=False).returncode == 0
    except OSError:
        return False
    finally:
        subprocess.run(['chattr', '-i', str(probe)], capture_output=True, check=False)
        probe.rmdir()


def test_when_putting_back_fails_the_saved_copies_stay_and_are_named(proxy):
    """nginx -t refuses the candidate; by then the site directory is immutable (a wrapper around the real
    nginx sets it, as root ignores read-only modes), so the previous file cannot be put back."""
    if not chattr_works(proxy.tmp):
        pytest.skip('chattr +i is not supported on %s' % proxy.tmp)
    before = proxy.site_file.read_text()
    wrapper = proxy.tmp / 'nginx-wrapper'
    wrapper.write_text('#!/bin/sh\nchattr +i %s\nexec %s "$@"\n' % (proxy.conf_d, NGINX))
    wrapper.chmod(0o755)
    try:
        result = proxy.run(nginx_binary=str(wrapper), files=[site_file(proxy, 'v2', extra='    no_such_directive on;')])
    finally:
        subprocess.run(['chattr', '-i', str(proxy.conf_d)], check=True)
    assert result['failed'] is True
    assert 'putting back the previous files failed (%s: Operation not permitted)' % proxy.site_file in result['msg'], result['msg']
    assert 'their saved copies stay in %s' % (proxy.state_dir / 'saved') in result['msg']
    journal = json.loads((proxy.state_dir / 'journal.json').read_text())
    [entry] = journal['files']
    assert Path(entry['saved']).read_text() == before  # the only copy of the previous file is kept
    # The next run (the directory writable again) puts it back first, and says so.
    again = proxy.run(files=[])
    assert again['failed'] is False, again
    assert proxy.site_file.read_text() == before
    assert again['recovered']['files'] == [str(proxy.site_file)]
    assert 'was put back before this run' in again['warnings'][0]
    assert proxy.leftovers() == []


KILLED_RUN = '''
import sys
from ansible_collections.websocket.nginx.plugins.module_utils.config_transaction import Transaction, Wanted
path, content, nginx, conf, pid_file, state_dir = sys.argv[1:]
Transaction(files=[Wanted(path, content.encode())], nginx_binary=nginx, nginx_config=conf, pid_file=pid_file,
            state_dir=state_dir, transaction_id='killed').run()
'''


def test_a_transaction_killed_between_writing_and_reloading_is_put_back_by_the_next_run(proxy, module_env):
    """The process is killed while nginx -t runs (a wrapper that waits); the candidate is on disk, not loaded."""
    before = proxy.site_file.read_text()
    marker = proxy.tmp / 'testing'
    wrapper = proxy.tmp / 'slow-nginx'
    wrapper.write_text('#!/bin/sh\ntouch %s\nsleep 30\n' % marker)
    wrapper.chmod(0o755)
    candidate = proxy.site('v2', extra='    location /only-in-candidate/ { return 204; }')
    process = subprocess.Popen([sys.executable, '-c', KILLED_RUN, str(proxy.site_file), candidate, str(wrapper),  # pylint: disable=consider-using-with
                                str(proxy.nginx.conf), str(proxy.nginx.pid_file), str(proxy.state_dir)], env=module_env)
    try:
        deadline = time.monotonic() + 20
        while not marker.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert marker.exists(), 'the transaction never reached nginx -t'
    finally:
        process.kill()
        process.wait(10)
    assert proxy.site_file.read_text() == candidate  # written, never tested nor loaded
    assert proxy.get() == (200, b'v1')

    # Check mode compares with what a real run puts back first, not with the interrupted run's leftovers.
    checked = proxy.run(check_mode=True, diff=True, files=[site_file(proxy, 'v1')])
    assert checked['failed'] is False, checked
    assert checked['changed'] is False and checked['diff'] == [], checked
    assert checked['recovered']['id'] == 'killed'
    assert 'a run outside check mode puts them back first' in checked['warnings'][0]
    assert proxy.site_file.read_text() == candidate  # check mode changed nothing

    result = proxy.run(files=[site_file(proxy, 'v1')])
    assert result['failed'] is False, result
    assert result['recovered']['id'] == 'killed' and result['recovered']['state'] == 'writing'
    assert 'an interrupted change transaction' in result['warnings'][0]
    assert proxy.site_file.read_text() == before
    assert result['changed'] is False and result['reloaded'] is False
    assert proxy.get('/only-in-candidate/') == (200, b'v1')  # served by location /, never by the candidate's
    assert proxy.leftovers() == []


def test_leftover_temporary_files_are_never_read_by_nginx_and_are_cleared(proxy):
    leftover = proxy.conf_d / '.nginx-transaction-abcd.tmp'
    leftover.write_text('this is not nginx syntax {\n')
    result = proxy.run(files=[site_file(proxy, 'v2')])
    assert result['failed'] is False, result  # nginx -t never read it (include *.conf)
    assert not leftover.exists()


# ---------------------------------------------------------------------------
# One reload for two calls of one play
# ---------------------------------------------------------------------------

def test_a_pending_transaction_is_reloaded_once_by_the_next_call_of_the_same_play(proxy):
    other = proxy.conf_d / 'other.conf'
    workers = proxy.workers()
    first = proxy.run(files=[dict(path=str(other), content='# from the first role\n')], reload=False, transaction_id='play-1')
    assert first['failed'] is False, first
    assert first['pending_reload'] is True and first['reloaded'] is False and first['test']['accepted'] is True
    assert proxy.workers() == workers  # not reloaded yet
    second = proxy.run(files=[site_file(proxy, 'v2')], transaction_id='play-1')
    assert second['failed'] is False and second['reloaded'] is True, second
    assert second['adopted'] == [str(other)]
    assert proxy.get() == (200, b'v2')
    handler = proxy.run(transaction_id='play-1')  # the play's handler: nothing pending any more
    assert (handler['changed'], handler['reloaded']) == (False, False)
    assert proxy.leftovers() == []


def test_a_pending_transaction_fails_as_a_whole(proxy):
    other = proxy.conf_d / 'other.conf'
    assert proxy.run(files=[dict(path=str(other), content='# first\n')], reload=False, transaction_id='play-1')['failed'] is False
    result = proxy.run(files=[site_file(proxy, 'v2', extra='    no_such_directive on;')], transaction_id='play-1')
    assert result['failed'] is True
    assert not other.exists()  # the first call's file went back too
    assert proxy.leftovers() == []


def test_a_pending_transaction_of_another_play_is_an_interrupted_one(proxy):
    other = proxy.conf_d / 'other.conf'
    assert proxy.run(files=[dict(path=str(other), content='# first\n')], reload=False, transaction_id='play-1')['failed'] is False
    result = proxy.run(transaction_id='play-2')
    assert result['failed'] is False and result['recovered']['state'] == 'pending', result
    assert not other.exists()


# ---------------------------------------------------------------------------
# Check mode
# ---------------------------------------------------------------------------

def test_check_mode_changes_nothing_and_reports_the_candidates_nginx_t_verdict(proxy):
    before = proxy.site_file.read_text()
    workers = proxy.workers()
    # The candidate includes a file that only the candidate has: nginx -t must read the candidate's, not the live tree.
    snippet = proxy.conf_d / 'snippet.inc'
    good = proxy.run(check_mode=True, diff=True, files=[
        site_file(proxy, 'v2', extra='    include %s;' % snippet), dict(path=str(snippet), content='location /s/ { return 204; }\n')])
    assert good['failed'] is False, good
    assert good['changed'] is True and good['test']['accepted'] is True
    assert {entry['state'] for entry in good['files']} == {'updated', 'created'}
    assert len(good['diff']) == 2
    bad = proxy.run(check_mode=True, files=[site_file(proxy, 'v2', extra='    no_such_directive on;')])
    assert bad['failed'] is True
    assert bad['msg'].startswith('check mode: nginx would reject the new configuration'), bad['msg']
    assert 'unknown directive "no_such_directive" in %s' % proxy.site_file in bad['msg']  # the live path, not the scratch one
    assert proxy.site_file.read_text() == before and not snippet.exists()
    assert proxy.workers() == workers
    assert not proxy.state_dir.exists()


def test_check_mode_without_nginx_reports_the_files_untested(proxy):
    result = proxy.run(check_mode=True, nginx_binary=str(proxy.tmp / 'no-nginx'), files=[site_file(proxy, 'v2')])
    assert result['failed'] is False and result['changed'] is True
    assert result['test']['accepted'] is None and 'not tested' in result['test']['output']


def test_without_nginx_a_real_run_changes_nothing(proxy):
    result = proxy.run(nginx_binary=str(proxy.tmp / 'no-nginx'), files=[site_file(proxy, 'v2')])
    assert result['failed'] is True and 'nginx is not installed on this host' in result['msg']
    assert proxy.get() == (200, b'v1')


# ---------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('args, message', [
    (dict(files=[dict(path='relative.conf', content='')]), 'file paths must be absolute and normalized'),
    (dict(files=[dict(path='/tmp/x.conf', content='', mode='rw-r--r--')]), "mode must be an octal string such as '0644'"),
    (dict(files=[dict(path='/tmp/x.conf', content='', owner='no-such-user-here')]), "owner 'no-such-user-here' does not exist"),
    (dict(files=[dict(path='/tmp/x.conf', content='')], remove=['/tmp/x.conf']), 'remove: /tmp/x.conf is also a file to write'),
    (dict(files=[dict(path='/tmp/x.conf', content=''), dict(path='/tmp/x.conf', content='')]), 'files: /tmp/x.conf is given twice'),
    (dict(reload_timeout=0), 'timeout must be a finite number of seconds greater than 0'),
    (dict(templates=[dict(src='a.j2', dest='/tmp/a')]), 'templates and copies are read on the controller by the action plugin'),
])
def test_bad_arguments_are_refused_before_anything_changes(tmp_path, args, message):
    result = run_module(nginx_transaction.main, dict(args, state_dir=str(tmp_path / 'state')))
    assert result['failed'] is True and message in result['msg'], result
    assert not (tmp_path / 'state').exists()
