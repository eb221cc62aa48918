# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Move a running nginx to its installed binary on the fly, keeping every open connection.

When the nginx package is upgraded (or downgraded) the file /usr/sbin/nginx is replaced, but the
running master and its workers still run the previous binary. Debian's packages then restart nginx
(nginx-common's postinst: ``deb-systemd-invoke restart nginx.service``), which closes every open
WebSocket. nginx can do better (https://nginx.org/en/docs/control.html#upgrade):

1. USR2 to the master: it renames its pid file to ``<pid file>.oldbin`` and starts the new binary as
   a new master, which inherits the listening sockets, writes the pid file and starts its workers;
2. once the new master's workers run: QUIT to the old master, whose workers stop accepting and
   finish their open connections (up to ``worker_shutdown_timeout``), then it exits. systemd then
   takes the new master from the pid file as the service's main process.

If the new master does not start, the old one puts its pid file back and goes on serving; nothing
is signalled after that but a QUIT to a new master that started without workers.

The hooks (:func:`hook_files`) make upgrades by apt outside Ansible go the same way: a policy-rc.d
layer denies the restart (and Debian's own ``upgrade`` action, which cannot wait for a previous
upgrade's old master) that nginx's packages ask for, and an apt ``DPkg::Post-Invoke`` hook runs this
file as a script once dpkg is done. Other services and an administrator's ``systemctl restart nginx``
are not affected.

Standard library only (beside nginx_reload.py): besides websocket.nginx.nginx_upgrade, this file runs
as a plain script on the hosts:

    python3 nginx_upgrade.py [--pid-file FILE] [--binary PATH] [--timeout SECONDS] [--apt-hook]
"""

from __future__ import annotations

import argparse
import os
import signal
import stat
import subprocess
import sys
import time

try:
    from ansible_collections.websocket.nginx.plugins.module_utils import nginx_reload
except ImportError:  # a plain script on the host, beside its copy of nginx_reload.py
    import nginx_reload  # pylint: disable=import-error

ReloadError = nginx_reload.ReloadError

DEFAULT_PID_FILE = '/run/nginx.pid'
DEFAULT_BINARY = '/usr/sbin/nginx'
DEFAULT_TIMEOUT = 60.0
# The old master renames its pid file before it starts the new binary; when no new master shows up
# (its start failed at once) for this long, the upgrade failed.
NO_NEW_MASTER_SETTLE = 2.0

# The hooks, and where the previous policy-rc.d of the host is kept while ours answers for it.
HOOK_DIR = '/usr/local/lib/websocket-nginx'
POLICY_RC_D = '/usr/sbin/policy-rc.d'
PREVIOUS_POLICY = HOOK_DIR + '/policy-rc.d.previous'
APT_HOOK = '/etc/apt/apt.conf.d/80websocket-nginx-upgrade'
MARKER = 'websocket.nginx: nginx package upgrades'
SYSLOG_IDENT = 'websocket-nginx-upgrade'
DEFERRED_UNIT = 'websocket-nginx-upgrade-deferred'
# How long a deferred upgrade waits for the earlier upgrade's old master (nginx's worker_shutdown_timeout is 1h
# with the nginx role's defaults).
MAX_WAIT_PREVIOUS = 7200.0

POLICY_SCRIPT = r'''#!/bin/sh
# websocket.nginx: nginx package upgrades replace the binary on the fly instead of restarting nginx.
# Written by the websocket.nginx.nginx role (nginx_graceful_upgrades); see its README.
# nginx's packages ask for a restart (nginx-common, through deb-systemd-invoke) and for Debian's
# "upgrade" action (nginx) when they are upgraded: both are denied here, and the apt hook
# /etc/apt/apt.conf.d/80websocket-nginx-upgrade moves nginx to the new binary once dpkg is done,
# keeping every open connection. Everything else is answered by the policy this host had before
# (/usr/local/lib/websocket-nginx/policy-rc.d.previous), or allowed.
service=$1
action=$2
if [ "$service" = --quiet ]; then
    service=$2
    action=$3
fi
case "${DPKG_MAINTSCRIPT_PACKAGE:-}:$service:$action" in
    nginx*:nginx:restart | nginx*:nginx:\(restart\) | nginx*:nginx:try-restart | nginx*:nginx:upgrade | \
    nginx*:nginx.service:restart | nginx*:nginx.service:try-restart)
        echo "websocket.nginx: not running \"$action\" of nginx for $DPKG_MAINTSCRIPT_PACKAGE:" \
            "apt's hook moves nginx to the installed binary on the fly when dpkg is done" >&2
        exit 101
        ;;
esac
previous=/usr/local/lib/websocket-nginx/policy-rc.d.previous
if [ -x "$previous" ]; then
    exec "$previous" "$@"
fi
exit 0
'''

APT_HOOK_CONF = '''// websocket.nginx: nginx package upgrades replace the binary on the fly instead of restarting nginx.
// Written by the websocket.nginx.nginx role (nginx_graceful_upgrades); see its README. When dpkg is done,
// an nginx that runs a binary other than the installed one is moved to it on the fly (open connections
// stay); what happened is written to the journal (SYSLOG_IDENTIFIER=websocket-nginx-upgrade).
DPkg::Post-Invoke { "test ! -f /usr/local/lib/websocket-nginx/nginx_upgrade.py || /usr/bin/python3 \
/usr/local/lib/websocket-nginx/nginx_upgrade.py --apt-hook || true"; };
'''


def file_id(path):
    """``(st_dev, st_ino)`` of the file ``path`` (following links: /proc/PID/exe is the running binary)."""
    info = os.stat(path)
    return info.st_dev, info.st_ino


def binary_version(path, timeout=10.0):
    """``nginx/1.22.1`` from ``path -v`` (a deleted binary still runs through /proc/PID/exe), or None."""
    try:
        text = nginx_reload.run_command([path, '-v'], timeout)[1]
    except (OSError, subprocess.SubprocessError):
        return None
    marker = 'nginx version: '
    return text.split(marker, 1)[1].split()[0] if marker in text else None


def running_binary(pid_file=DEFAULT_PID_FILE, binary=DEFAULT_BINARY):
    """``{'master_pid', 'current', 'why'}``: whether the nginx named in ``pid_file`` runs the file ``binary``.

    ``master_pid`` is None when nginx is not running; ``current`` is None then, or when ``binary`` is missing.
    """
    master, why = nginx_reload.read_pid_file(pid_file)
    if master is None:
        return {'master_pid': None, 'current': None, 'why': why}
    nginx_reload.check_master(master, pid_file)
    try:
        installed = file_id(binary)
    except OSError as exc:
        return {'master_pid': master, 'current': None, 'why': 'cannot read %s: %s' % (binary, nginx_reload.to_text(exc))}
    try:
        running = file_id('/proc/%d/exe' % master)
    except OSError as exc:
        raise ReloadError('cannot read which binary nginx master process %d runs (/proc/%d/exe): %s; this needs root'
                          % (master, master, nginx_reload.to_text(exc)), master_pid=master)
    return {'master_pid': master, 'current': running == installed, 'why': None}


def empty_result(**values):
    result = dict(changed=False, master_pid=None, old_master_pid=None, version=None, version_before=None, seconds=None,
                  old_workers=[], new_workers=[], error_log=None, msg='')
    result.update(values)
    return result


def _new_masters(master):
    """Live children of ``master`` that are not its workers (the new binary's master while it starts)."""
    return sorted(pid for pid in nginx_reload.children(master)
                  if (nginx_reload.proc_title(pid) or '').startswith(nginx_reload.MASTER_TITLE)
                  or not (nginx_reload.proc_title(pid) or '').startswith('nginx: '))


def previous_master(master):
    """The old master of an earlier on-the-fly upgrade that still finishes its connections, or None.

    It is the parent of ``master``; while it runs, nginx ignores USR2 ("the changing binary signal is ignored").
    """
    info = nginx_reload.proc_stat(master)
    if info is None or info[1] <= 1:
        return None
    title = nginx_reload.proc_title(info[1]) or ''
    return info[1] if title.startswith(nginx_reload.MASTER_TITLE) else None


def wait_for_previous(master, seconds, poll_interval=1.0):
    """Wait up to ``seconds`` until no earlier upgrade's old master runs; returns it when it still does."""
    deadline = time.monotonic() + seconds
    while True:
        previous = previous_master(master)
        if previous is None or time.monotonic() >= deadline:
            return previous
        nginx_reload.sleep_until(deadline, poll_interval)


def upgrade(pid_file=DEFAULT_PID_FILE, binary=DEFAULT_BINARY, timeout=DEFAULT_TIMEOUT, check_mode=False,
            poll_interval=nginx_reload.POLL_INTERVAL, wait_previous=0.0):
    """Move the nginx named in ``pid_file`` to the file ``binary`` on the fly when it runs another one.

    Returns the result dict (``changed`` False when nginx is not running or already runs ``binary``); raises
    ReloadError when the new master does not serve within ``timeout`` seconds, with nginx's error log lines:
    the old master then goes on serving. nginx takes one binary change at a time: while the old master of an
    earlier upgrade still finishes its connections, this waits up to ``wait_previous`` seconds for it, then
    raises ReloadError with ``previous_master_pid`` without signalling anything.
    """
    nginx_reload.validate(pid_file, timeout, 'nginx')
    state = running_binary(pid_file, binary)
    master = state['master_pid']
    if master is None:
        return empty_result(msg='nginx is not running (%s): its next start runs the installed binary' % state['why'])
    if state['current'] is None:
        raise ReloadError('nginx (master process %d) cannot be moved to the installed binary: %s' % (master, state['why']),
                          master_pid=master)
    version = binary_version(binary)
    if state['current']:
        return empty_result(master_pid=master, version=version,
                            msg='nginx (master process %d) runs the installed binary %s (%s)' % (master, binary, version))
    version_before = binary_version('/proc/%d/exe' % master)
    previous = None if check_mode else wait_for_previous(master, wait_previous)
    if previous is not None:
        raise ReloadError(
            'nginx (master process %d, %s) was not moved to the installed binary %s (%s): the old master process %d of '
            'an earlier upgrade still lets its workers finish their open connections, and nginx takes one binary change '
            'at a time. Nothing was signalled; run again once it has exited (at the latest worker_shutdown_timeout '
            'after that upgrade)' % (master, version_before, binary, version, previous),
            master_pid=master, previous_master_pid=previous, version=version, version_before=version_before)
    old_workers = sorted(nginx_reload.workers(master))
    log_path, log_offset = nginx_reload.error_log_position(master)
    details = dict(master_pid=master, old_master_pid=master, version=version, version_before=version_before,
                   old_workers=old_workers, error_log=log_path)
    if check_mode:
        return empty_result(changed=True, msg='nginx (master process %d, %s) would be moved on the fly to the installed '
                                              'binary %s (%s)' % (master, version_before, binary, version), **details)
    installed = file_id(binary)
    sent = time.monotonic()
    deadline = sent + timeout
    try:
        os.kill(master, signal.SIGUSR2)
    except ProcessLookupError:
        raise ReloadError('the nginx master process %d exited before it was signalled' % master, **details)
    except PermissionError:
        raise ReloadError('not allowed to signal the nginx master process %d; run as root (become: true)' % master,
                          **details)
    seen = set()
    new = None
    while True:
        if not nginx_reload.is_alive(master):
            lines = nginx_reload.error_log_tail(log_path, log_offset)
            raise ReloadError(nginx_reload.with_log(
                'the nginx master process %d exited during the upgrade' % master, log_path, lines),
                error_log_lines=lines, **details)
        candidates = _new_masters(master)
        seen.update(candidates)
        named, _why = nginx_reload.read_pid_file(pid_file)
        new = named if named in candidates else (candidates[0] if candidates else None)
        if new is not None and _runs(new, installed) and nginx_reload.workers(new):
            break
        started_and_gone = seen and not candidates
        nothing_started = not seen and time.monotonic() - sent >= NO_NEW_MASTER_SETTLE and named == master
        if started_and_gone or nothing_started or time.monotonic() >= deadline:
            if new is not None and nginx_reload.is_alive(new):
                # Started but not serving (no worker, or not the installed binary): the old master takes over again.
                _signal(new, signal.SIGQUIT)
            lines = nginx_reload.error_log_tail(log_path, log_offset)
            if started_and_gone:
                state = 'the new master process (%s) exited' % ', '.join(str(pid) for pid in sorted(seen))
            elif nothing_started:
                state = 'no new master process started'
            else:
                state = 'no new master process of %s served within %s s' % (binary, timeout)
            msg = ('nginx could not move to the installed binary %s (%s): after USR2 to the master process %d, %s. '
                   'The master process %d (%s) keeps serving with its workers' % (
                       binary, version, master, state, master, version_before))
            raise ReloadError(nginx_reload.with_log(msg, log_path, lines),
                              error_log_lines=lines, **details)
        nginx_reload.sleep_until(deadline, poll_interval)
    seconds = round(time.monotonic() - sent, 3)
    new_workers = sorted(nginx_reload.workers(new))
    # The old master closes its listening sockets, its workers finish their open connections (WebSockets
    # up to worker_shutdown_timeout), then it exits.
    _signal(master, signal.SIGQUIT)
    details.update(master_pid=new, new_workers=new_workers)
    return empty_result(changed=True, seconds=seconds, msg=(
        'nginx moved on the fly from %s to %s (%s): the new master process %d serves with %s after %.3f s; the old '
        'master process %d lets its %s finish their open connections' % (
            version_before, version, binary, new, nginx_reload.plural(len(new_workers), 'worker'), seconds, master,
            nginx_reload.plural(len(old_workers), 'worker'))), **details)


def _runs(pid, installed):
    try:
        return file_id('/proc/%d/exe' % pid) == installed
    except OSError:
        return False


def _signal(pid, number):
    try:
        os.kill(pid, number)
    except OSError:
        pass


# ---------------------------------------------------------------------------
# The hooks of upgrades by apt
# ---------------------------------------------------------------------------

def own_sources():
    """``{file name: bytes}`` of this file and nginx_reload.py as the module running now carries them."""
    return nginx_reload.sources(__name__, __file__, ('nginx_upgrade.py', 'nginx_reload.py'))


def hook_files(sources, root=''):
    """``{path: (content bytes, mode)}`` the hooks consist of; ``sources``: ``{file name: bytes}`` of
    this file and nginx_reload.py, copied beside each other into HOOK_DIR. ``root`` prefixes every path."""
    files = {root + POLICY_RC_D: (POLICY_SCRIPT.encode('utf-8'), 0o755), root + APT_HOOK: (APT_HOOK_CONF.encode('utf-8'), 0o644)}
    for name in ('nginx_upgrade.py', 'nginx_reload.py'):
        files['%s%s/%s' % (root, HOOK_DIR, name)] = (sources[name], 0o644)
    return files


def _is_ours(path):
    data = nginx_reload.read_bytes(path)
    return data is not None and MARKER.encode('utf-8') in data


def hooks_state(sources, root=''):
    """``{'state': installed|outdated|absent, 'changes': [what install_hooks would do], 'foreign_policy': bool}``."""
    changes = []
    policy = root + POLICY_RC_D
    files = hook_files(sources, root)
    for path, (content, mode) in sorted(files.items()):
        data = nginx_reload.read_bytes(path)
        if data is None:
            changes.append('create %s' % path)
        elif path == policy and not _is_ours(path):
            changes.append("keep the host's %s as %s and answer for it" % (path, root + PREVIOUS_POLICY))
        elif data != content or stat.S_IMODE(os.stat(path).st_mode) != mode:
            changes.append('update %s' % path)
    present = [path for path in files if os.path.lexists(path) and (path != policy or _is_ours(path))]
    return {'state': 'installed' if not changes else 'outdated' if present else 'absent', 'changes': changes,
            'foreign_policy': os.path.lexists(root + PREVIOUS_POLICY) or (os.path.lexists(policy) and not _is_ours(policy))}


def install_hooks(sources, check_mode=False, root=''):
    """Install the hooks; returns the list of changes (empty when they were in place).

    A policy-rc.d of the host's own is kept as PREVIOUS_POLICY, which ours runs for everything it does not deny.
    """
    changes = hooks_state(sources, root)['changes']
    if check_mode or not changes:
        return changes
    policy, previous = root + POLICY_RC_D, root + PREVIOUS_POLICY
    if os.path.lexists(policy) and not _is_ours(policy) and not os.path.lexists(previous):
        os.makedirs(os.path.dirname(previous), mode=0o755, exist_ok=True)
        os.rename(policy, previous)
    # The scripts first, the policy that denies Debian's restart last: never a denial without the hook.
    for path, (content, mode) in sorted(hook_files(sources, root).items(), key=lambda item: item[0] == policy):
        if nginx_reload.read_bytes(path) != content or stat.S_IMODE(os.stat(path).st_mode) != mode:
            nginx_reload.write_file(path, content, mode, directory_mode=0o755)
    return changes


def remove_hooks(check_mode=False, root=''):
    """Remove the hooks and give the host's previous policy-rc.d back; returns the list of changes."""
    policy, previous = root + POLICY_RC_D, root + PREVIOUS_POLICY
    others = [root + APT_HOOK, root + HOOK_DIR + '/nginx_upgrade.py', root + HOOK_DIR + '/nginx_reload.py']
    changes = ['remove %s' % policy] if _is_ours(policy) else []
    if os.path.lexists(previous):
        changes.append("put the host's previous %s back" % policy)
    changes += ['remove %s' % path for path in others if os.path.lexists(path)]
    if check_mode:
        return changes
    if _is_ours(policy):
        os.unlink(policy)
    if os.path.lexists(previous) and not os.path.lexists(policy):
        os.rename(previous, policy)
    for path in others:
        if os.path.lexists(path):
            os.unlink(path)
    return changes


# ---------------------------------------------------------------------------
# The script
# ---------------------------------------------------------------------------

def _journal(message, error=False):
    try:
        import syslog  # pylint: disable=import-outside-toplevel
        syslog.openlog(SYSLOG_IDENT, 0, syslog.LOG_DAEMON)
        for line in message.splitlines() or ['']:
            syslog.syslog(syslog.LOG_ERR if error else syslog.LOG_INFO, line)
        syslog.closelog()
    except (ImportError, OSError):
        pass


def _defer(args, exc):
    """Start a transient systemd unit that upgrades once the earlier upgrade's old master has exited."""
    command = ['systemd-run', '--unit', DEFERRED_UNIT, '--collect', '--no-block', '--description',
               'websocket.nginx: move nginx to the installed binary once the previous one has finished',
               sys.executable, os.path.abspath(__file__), '--pid-file', args.pid_file, '--binary', args.binary,
               '--timeout', str(args.timeout), '--wait-previous', str(MAX_WAIT_PREVIOUS)]
    try:
        status, output = nginx_reload.run_command(command, 30)
        deferred = status == 0 or 'already' in output
    except (OSError, subprocess.SubprocessError) as error:
        output, deferred = str(error), False
    if deferred:
        message = ('websocket.nginx: the old master process %d of an earlier upgrade still finishes its connections; '
                   'nginx moves to the installed binary when it has exited (systemd unit %s)'
                   % (exc.details['previous_master_pid'], DEFERRED_UNIT))
    else:
        message = 'websocket.nginx: %s; deferring it failed: %s' % (exc.msg, output)
    sys.stderr.write(message + '\n')
    _journal(message, error=not deferred)
    return 0 if deferred else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description='Move a running nginx to its installed binary on the fly.')
    parser.add_argument('--pid-file', default=DEFAULT_PID_FILE)
    parser.add_argument('--binary', default=DEFAULT_BINARY)
    parser.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT)
    parser.add_argument('--apt-hook', action='store_true',
                        help="run by apt's DPkg::Post-Invoke: quiet when nginx already runs the installed binary, and "
                             "deferred to a systemd unit while an earlier upgrade's old master still runs")
    parser.add_argument('--wait-previous', type=float, default=0.0, metavar='SECONDS',
                        help="wait this long for an earlier upgrade's old master to exit")
    args = parser.parse_args(argv)
    try:
        result = upgrade(args.pid_file, args.binary, args.timeout, wait_previous=args.wait_previous)
    except ReloadError as exc:
        if args.apt_hook and exc.details.get('previous_master_pid'):
            return _defer(args, exc)
        message = 'websocket.nginx: %s' % exc.msg
        sys.stderr.write(message + '\n')
        _journal(message, error=True)
        return 1
    if result['changed'] or not args.apt_hook:
        sys.stdout.write('websocket.nginx: %s\n' % result['msg'])
    if result['changed']:
        _journal(result['msg'])
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
