# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A change to nginx's configuration as one transaction on the managed host.

The steps, in this order, each only when the one before succeeded:

1. an earlier transaction that was interrupted (its journal is still in the state directory) is
   put back first, and said so;
2. the upstream servers are checked, all at once: nothing changes when an upstream has too few
   healthy servers;
3. the previous version of every file about to change is saved in the state directory and the
   journal naming them is written (fsync), then each file is written atomically (a temporary file
   in the same directory, renamed over it) and the files to remove are removed;
4. ``nginx -t``; a reload that waits until the new workers serve (module_utils.nginx_reload);
5. the checks through nginx (a WebSocket handshake on each location).

When a step fails, every file is put back, nginx accepts them (``nginx -t``) and, when the candidate
was loaded, reloads with them; only then are the saved copies deleted. When putting back fails, the
saved copies stay and the error names where they are. A transaction can also stop after ``nginx -t``
(``reload=False``): its journal stays "pending" and the next call with the same ``transaction_id``
(another role of the same play, or the play's handler) takes its files into its own transaction,
so that nginx reloads once per play. A pending journal of another id is an interrupted one.

Check mode changes nothing: it reports the files that would change, with a diff each, and runs
``nginx -t`` on the candidate in a scratch copy of the configuration tree.

Only the Python standard library and ansible's module_utils: this runs on the managed host.
"""

from __future__ import annotations

import base64
import grp
import json
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import time

from ansible.module_utils.common.text.converters import to_bytes, to_text

from ansible_collections.websocket.nginx.plugins.module_utils.nginx_reload import (
    HostLock, LockTimeout, ReloadError, reload_and_wait)
from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import (
    check_all,
    make_ssl_context,
    parse_server_spec,
    run_check,
)

DEFAULT_STATE_DIR = '/var/lib/websocket-nginx/transaction'
JOURNAL = 'journal.json'
SAVED = 'saved'
LOCK = 'lock'
LOCK_TIMEOUT = 120.0
# Temporary files start with a dot and end in .tmp: no "include *.conf" of nginx ever reads one.
TEMP_PREFIX = '.nginx-transaction-'
TEMP_SUFFIX = '.tmp'
NGINX_TEST_TIMEOUT = 120
MAX_CHECK_WORKERS = 64
MAX_DIFF_BYTES = 256 * 1024
SECRET_NOT_SHOWN = '(private file: content not shown)'

# Journal states. "writing": files may be half changed, nginx never saw them. "pending": written and
# accepted by nginx -t, waiting for the reload of a later call with the same transaction id.
# "loaded": nginx was signalled, so it may serve the candidate.
WRITING, PENDING, LOADED = 'writing', 'pending', 'loaded'


class TransactionError(Exception):
    """The transaction failed; ``result`` is returned with the failure (everything known so far)."""

    def __init__(self, msg, result):
        super(TransactionError, self).__init__(msg)
        self.msg = msg
        self.result = result


class RestoreError(Exception):
    """Putting the previous files back failed; the saved copies stay where the message says."""


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _ids(owner, group):
    try:
        uid = pwd.getpwnam(owner).pw_uid if not str(owner).isdigit() else int(owner)
    except KeyError:
        raise ValueError("owner '%s' does not exist on this host" % owner)
    try:
        gid = grp.getgrnam(group).gr_gid if not str(group).isdigit() else int(group)
    except KeyError:
        raise ValueError("group '%s' does not exist on this host" % group)
    return uid, gid


def parse_mode(value, what):
    """An octal mode string such as '0644' (or an int) -> int; ValueError when it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        mode = value
    elif isinstance(value, str) and value and all(char in '01234567' for char in value) and len(value) <= 4:
        mode = int(value, 8)
    else:
        raise ValueError("%s: mode must be an octal string such as '0644', got %r" % (what, value))
    if not 0 <= mode <= 0o7777:
        raise ValueError('%s: mode %r is out of range' % (what, value))
    return mode


class Wanted(object):
    """One file as the transaction wants it: ``data`` (bytes), mode, owner; ``secret`` never shown."""

    def __init__(self, path, data, mode=0o644, owner='root', group='root', secret=False):
        if not isinstance(path, str) or not os.path.isabs(path) or os.path.normpath(path) != path:
            raise ValueError('file paths must be absolute and normalized, got %r' % (path,))
        self.path = path
        self.data = data
        self.mode = parse_mode(mode, path)
        self.uid, self.gid = _ids(owner, group)
        self.secret = secret


class Link(tuple):
    """A symbolic link found where a file goes (Debian's sites-enabled/default): ``(target,)``."""

    @property
    def target(self):
        return self[0]


def read_state(path):
    """``(data, mode, uid, gid)`` of the regular file ``path``, a Link, or None when there is none."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    if stat.S_ISLNK(info.st_mode):
        return Link((os.readlink(path),))
    if not stat.S_ISREG(info.st_mode):
        raise ValueError('%s exists and is neither a regular file nor a symbolic link' % path)
    with open(path, 'rb') as handle:
        return handle.read(), stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid


def link_atomic(path, target):
    """Make ``path`` a symbolic link to ``target`` (a temporary link renamed over it)."""
    temp = os.path.join(os.path.dirname(path), '%s%d%s' % (TEMP_PREFIX, os.getpid(), TEMP_SUFFIX))
    if os.path.lexists(temp):
        os.unlink(temp)
    os.symlink(target, temp)
    try:
        os.rename(temp, path)
    except OSError:
        os.unlink(temp)
        raise


def write_atomic(path, data, mode, uid, gid):
    """Write ``data`` to ``path`` through a temporary file in its directory, renamed over it.

    The mode is set before any byte is written, so a private key is never readable by others.
    """
    directory = os.path.dirname(path)
    fd, temp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
    try:
        os.fchmod(fd, mode)
        os.fchown(fd, uid, gid)
        with os.fdopen(fd, 'wb') as handle:
            fd = None
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(temp, path)
    except BaseException:
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
    _fsync_directory(directory)


def _fsync_directory(directory):
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def create_log_file(log_file):
    """An empty log file with its mode and owner when it is missing and its directory exists (else nginx -t
    names the problem); an existing one is left as it is."""
    path = log_file['path']
    if not os.path.isdir(os.path.dirname(path)):
        return
    mode = parse_mode(log_file.get('mode', '0640'), path)
    uid, gid = _ids(log_file.get('owner', 'www-data'), log_file.get('group', 'adm'))
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    try:
        os.fchown(fd, uid, gid)
        os.fchmod(fd, mode)  # the umask left out
    finally:
        os.close(fd)


def remove_leftover_temp_files(directories):
    """Temporary files an interrupted write left behind (never read by nginx, but clutter)."""
    for directory in directories:
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
                try:
                    os.unlink(os.path.join(directory, name))
                except OSError:
                    pass


def _text(data):
    return to_text(data, errors='surrogate_or_replace')


def _before(current):
    """What a diff shows of the file as it is: its bytes, a symbolic link's target, or None."""
    if current is None:
        return None
    if isinstance(current, Link):
        return to_bytes('(symbolic link to %s)\n' % current.target, errors='surrogate_or_strict')
    return current[0]


def file_diff(path, before, after, secret):
    """One entry of Ansible's diff list (before/after text; a private file shows neither)."""
    if secret:
        return dict(before_header=path, after_header=path,
                    prepared='%s: %s\n' % (path, 'would change ' + SECRET_NOT_SHOWN if before is not None or after is not None
                                           else SECRET_NOT_SHOWN))
    entry = dict(before_header=path if before is not None else '%s (absent)' % path,
                 after_header=path if after is not None else '%s (absent)' % path)
    for key, data in (('before', before), ('after', after)):
        if data is None:
            entry[key] = ''
        elif len(data) > MAX_DIFF_BYTES:
            entry[key] = '(%d bytes, too large to show)\n' % len(data)
        else:
            entry[key] = _text(data)
    return entry


# ---------------------------------------------------------------------------
# The journal
# ---------------------------------------------------------------------------

class Journal(object):
    """The state directory: ``journal.json`` names the saved copies in ``saved/``.

    Written before any live file changes; removed (first the journal, then the copies) when the
    transaction ends, either way. A journal found at the start of a run is an interrupted
    transaction, unless it is "pending" for the same transaction id.
    """

    def __init__(self, state_dir):
        self.state_dir = state_dir
        self.path = os.path.join(state_dir, JOURNAL)
        self.saved_dir = os.path.join(state_dir, SAVED)
        self.data = None

    def exists(self):
        return os.path.exists(self.path)

    def load(self):
        with open(self.path, 'rb') as handle:
            data = json.loads(_text(handle.read()))
        if not isinstance(data, dict) or not isinstance(data.get('files'), list):
            raise ValueError('%s is not a transaction journal' % self.path)
        self.data = data
        return data

    def begin(self, transaction_id):
        os.makedirs(self.saved_dir, mode=0o700, exist_ok=True)
        os.chmod(self.state_dir, 0o700)
        self.data = dict(version=1, id=transaction_id, state=WRITING, started=time.strftime('%Y-%m-%dT%H:%M:%S%z'),
                         pid=os.getpid(), files=[], directories=[])
        self.save()

    def save(self):
        write_atomic(self.path, to_bytes(json.dumps(self.data, indent=1, sort_keys=True)), 0o600, os.getuid(), os.getgid())

    def set_state(self, state, transaction_id=None):
        self.data['state'] = state
        if transaction_id is not None:
            self.data['id'] = transaction_id
        self.save()

    def entry(self, path):
        for item in self.data['files']:
            if item['path'] == path:
                return item
        return None

    def keep(self, path):
        """Save the current version of ``path`` (once per transaction) before it changes; ``save()`` records it."""
        if self.entry(path) is not None:
            return
        current = read_state(path)
        item = dict(path=path, existed=current is not None)
        if isinstance(current, Link):
            item.update(symlink=current.target)
        elif current is not None:
            data, mode, uid, gid = current
            saved = os.path.join(self.saved_dir, '%d' % len(self.data['files']))
            write_atomic(saved, data, 0o600, os.getuid(), os.getgid())
            item.update(saved=saved, mode=mode, uid=uid, gid=gid)
        self.data['files'].append(item)

    def created_directory(self, path):
        """Record a directory this transaction made (removed on rollback when empty); ``save()`` records it."""
        self.data['directories'].append(path)

    def saved_data(self, item):
        with open(item['saved'], 'rb') as handle:
            return handle.read()

    def restore(self):
        """Put every file back as it was; raise RestoreError naming the saved copies when one fails."""
        errors = []
        for item in self.data['files']:
            try:
                if item.get('symlink') is not None:
                    link_atomic(item['path'], item['symlink'])
                elif item['existed']:
                    write_atomic(item['path'], self.saved_data(item), item['mode'], item['uid'], item['gid'])
                elif os.path.lexists(item['path']):
                    os.unlink(item['path'])
            except OSError as exc:
                errors.append('%s: %s' % (item['path'], _os_error(exc)))
        for directory in reversed(self.data.get('directories', [])):
            try:
                os.rmdir(directory)
            except OSError:
                pass  # not empty (files of others) or gone: leave it
        if errors:
            raise RestoreError('putting back the previous files failed (%s); their saved copies stay in %s, listed in %s'
                               % ('; '.join(errors), self.saved_dir, self.path))

    def finish(self):
        """Delete the journal, then the saved copies."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        shutil.rmtree(self.saved_dir, ignore_errors=True)
        self.data = None


def _os_error(exc):
    return exc.strerror or str(exc)


class StateLock(HostLock):
    """One transaction at a time on a host: an flock on the state directory's lock file."""

    def __init__(self, state_dir, timeout=LOCK_TIMEOUT):
        super(StateLock, self).__init__(os.path.join(state_dir, LOCK), timeout)

    def __enter__(self):
        try:
            return super(StateLock, self).__enter__()
        except LockTimeout:
            raise TransactionError('another change transaction on this host held %s for %.0f s' % (self.path, self.timeout),
                                   dict(changed=False))


# ---------------------------------------------------------------------------
# nginx -t, the checks
# ---------------------------------------------------------------------------

def nginx_test(nginx_binary, nginx_config, replace=None):
    """``(accepted, output)`` of ``nginx -t -c nginx_config``; ``replace`` maps text in the output."""
    env = dict(os.environ, LANG='C', LC_ALL='C')
    try:
        # Not AnsibleModule.run_command: this needs a timeout, and the engine also runs without a module (tests).
        process = subprocess.run([nginx_binary, '-t', '-c', nginx_config],  # pylint: disable=ansible-bad-function
                                 stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 timeout=NGINX_TEST_TIMEOUT, env=env, check=False)
    except subprocess.TimeoutExpired:
        return False, '%s -t did not finish within %d s' % (nginx_binary, NGINX_TEST_TIMEOUT)
    except OSError as exc:
        return False, 'cannot run %s -t: %s' % (nginx_binary, _os_error(exc))
    output = _text(process.stdout).strip()
    for old, new in (replace or {}).items():
        output = output.replace(old, new)
    return process.returncode == 0, output


def scratch_test(nginx_binary, nginx_config, contents):
    """``nginx -t`` of a candidate without touching the live files.

    ``contents`` maps a path to its candidate bytes (None: removed). The directory of nginx.conf and
    the directory of every candidate file outside it are copied to a scratch directory, the candidate
    is laid over the copy, and every path into the copied directories is rewritten to its copy.
    """
    roots = [os.path.dirname(nginx_config)]
    for path in contents:
        if not any(path.startswith(root + '/') for root in roots):
            roots.append(os.path.dirname(path))
    scratch = tempfile.mkdtemp(prefix='nginx-transaction-check-')
    try:
        for root in roots:
            copy = scratch + root
            if os.path.isdir(root):
                shutil.copytree(root, copy, symlinks=False, ignore_dangling_symlinks=True, dirs_exist_ok=True)
            else:
                os.makedirs(copy, exist_ok=True)
        for path, data in contents.items():
            target = scratch + path
            if data is None:
                if os.path.lexists(target):
                    os.unlink(target)
            else:
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with open(target, 'wb') as handle:
                    handle.write(data)
        prefixes = [(to_bytes(root + '/'), to_bytes(scratch + root + '/')) for root in roots]
        for directory, _dirs, names in os.walk(scratch):
            for name in names:
                _rewrite(os.path.join(directory, name), prefixes)
        return nginx_test(nginx_binary, scratch + nginx_config, replace={scratch: ''})
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _rewrite(path, prefixes):
    with open(path, 'rb') as handle:
        data = handle.read()
    if b'-----BEGIN' in data or b'\0' in data:
        return  # certificates, keys, binary files: nothing nginx parses for paths
    new = data
    for old, replacement in prefixes:
        new = new.replace(old, replacement)
    if new != data:
        with open(path, 'wb') as handle:
            handle.write(new)


def _probe(target, ssl_contexts):
    """Check one server as its check says; the SSL context is made once per (validate_certs, ca_path)."""
    check = target['check']
    context = None
    if target['tls']:
        key = (bool(check.get('validate_certs', True)), check.get('ca_path'))
        try:
            if key not in ssl_contexts:
                ssl_contexts[key] = make_ssl_context(*key)
            context = ssl_contexts[key]
        except (OSError, ValueError) as exc:
            return dict(healthy=False, stage='tls', status=None, error="cannot load CA certificates from ca_path '%s': %s"
                        % (key[1], _os_error(exc) if isinstance(exc, OSError) else exc), latency_ms=None, subprotocol=None)
    return run_check(target['host'], target['port'], check=check.get('check', 'websocket'), tls=target['tls'],
                     path=target['path'], timeout=float(check.get('timeout', 5)),
                     expected_status=tuple(check.get('expected_status') or (200,)), host_header=check.get('host_header'),
                     origin=check.get('origin'), subprotocols=check.get('subprotocols'), echo=bool(check.get('echo')),
                     ssl_context=context)


def run_checks(checks):
    """Check every server of every check at once; each check gets ``servers`` (results) and ``healthy`` (count)."""
    targets = []
    results = []
    for check in checks:
        servers = []
        for address in check['servers']:
            spec = parse_server_spec(address, default_tls=bool(check.get('tls')), default_path=check.get('path') or '/')
            target = dict(address=address, host=spec['host'], port=spec['port'], tls=spec['tls'], path=spec['path'], check=check)
            targets.append(target)
            servers.append(target)
        results.append(servers)
    ssl_contexts = {}
    check_all(targets, lambda target: _probe(target, ssl_contexts), MAX_CHECK_WORKERS)
    reports = []
    for check, servers in zip(checks, results):
        report = dict((key, value) for key, value in check.items() if key != 'servers')
        report['servers'] = [dict((key, value) for key, value in server.items() if key != 'check') for server in servers]
        report['healthy'] = sum(1 for server in servers if server['healthy'])
        report['total'] = len(servers)
        reports.append(report)
    return reports


def _failures(report):
    return '; '.join('%s failed at stage %s: %s' % (server['address'], server['stage'], server['error'])
                     for server in report['servers'] if not server['healthy'])


# ---------------------------------------------------------------------------
# The transaction
# ---------------------------------------------------------------------------

class Transaction(object):
    """One change: see the module docstring. ``run()`` returns the result dict or raises TransactionError."""

    def __init__(self, files=(), remove=(), directories=(), log_files=(), upstream_checks=(), proxy_checks=(), nginx_binary='/usr/sbin/nginx',
                 nginx_config='/etc/nginx/nginx.conf', reload=True, pid_file='/run/nginx.pid', service='nginx',
                 reload_timeout=30.0, rollback_on_failed_check=True, state_dir=DEFAULT_STATE_DIR, transaction_id=None,
                 check_mode=False, diff=False, run_command=None):
        self.files = list(files)
        self.remove = list(remove)
        self.directories = list(directories)
        self.log_files = list(log_files)
        self.upstream_checks = list(upstream_checks)
        self.proxy_checks = list(proxy_checks)
        self.nginx_binary = nginx_binary
        self.nginx_config = nginx_config
        self.reload = reload
        self.pid_file = pid_file
        self.service = service
        self.reload_timeout = reload_timeout
        self.rollback_on_failed_check = rollback_on_failed_check
        self.state_dir = state_dir
        self.transaction_id = transaction_id or 'transaction-%d-%d' % (os.getpid(), int(time.time() * 1000))
        self.check_mode = check_mode
        self.diff = diff
        self.run_command = run_command
        self.journal = Journal(state_dir)
        self.seconds = {}
        self.warnings = []
        self.result = dict(changed=False, files=[], adopted=[], reloaded=False, rolled_back=False, recovered=None, test=None,
                           upstream_checks=[], proxy_checks=[], seconds=self.seconds, warnings=self.warnings,
                           pending_reload=False, state_dir=state_dir)
        if diff:
            self.result['diff'] = []

    # -- helpers --------------------------------------------------------------
    def _timed(self, stage, function, *args):
        started = time.monotonic()
        try:
            return function(*args)
        finally:
            self.seconds[stage] = round(self.seconds.get(stage, 0.0) + time.monotonic() - started, 3)

    def _fail(self, msg):
        self.result['failed'] = True
        raise TransactionError(msg, self.result)

    def _nginx_installed(self):
        return os.access(self.nginx_binary, os.X_OK)

    # -- 1. an interrupted transaction ---------------------------------------
    def _recover_or_adopt(self):
        """Put back an interrupted transaction; return True when a pending one of this id is taken over."""
        if not self.journal.exists():
            return False
        try:
            data = self.journal.load()
        except (OSError, ValueError) as exc:
            self._fail('the transaction journal %s cannot be read (%s): look at it and at the saved copies in %s, '
                       'then remove it; nothing was changed' % (self.journal.path, exc, self.journal.saved_dir))
        if data.get('state') == PENDING and data.get('id') == self.transaction_id:
            self.result['adopted'] = [item['path'] for item in data['files']]
            return True
        recovered = dict(id=data.get('id'), started=data.get('started'), state=data.get('state'),
                         files=[item['path'] for item in data['files']])
        self.result['recovered'] = recovered
        if self.check_mode:
            self.warnings.append('an interrupted change transaction (started %s) left %d files changed; a run outside check '
                                 'mode puts them back first. Compared here with the saved copies in %s'
                                 % (data.get('started'), len(data['files']), self.journal.saved_dir))
            return False
        try:
            self._put_back(data.get('state') == LOADED, 'putting back an interrupted change transaction')
        except RestoreError as exc:
            self._fail('an interrupted change transaction (started %s) was found and %s. Nothing else was done'
                       % (data.get('started'), exc))
        recovered['reloaded'] = data.get('state') == LOADED
        self.journal.finish()
        self.warnings.append('an interrupted change transaction (started %s, %s) was found: the previous version of its %d '
                             'files was put back before this run (%s)'
                             % (data.get('started'), data.get('state'), len(data['files']), ', '.join(recovered['files'])))
        return False

    def _put_back(self, loaded, why):
        """Every file of the journal back, accepted by nginx -t and, when nginx may have loaded the candidate,
        reloaded; raise RestoreError (the saved copies stay) when any of that fails."""
        self.journal.restore()
        if self._nginx_installed():
            accepted, output = nginx_test(self.nginx_binary, self.nginx_config)
            if not accepted:
                raise RestoreError('the previous files are back but nginx -t refuses them (%s); their saved copies stay '
                                   'in %s' % (output, self.journal.saved_dir))
        if loaded:
            try:
                reload_and_wait(self.pid_file, self.reload_timeout, self.service, run_command=self.run_command)
            except ReloadError as exc:
                raise RestoreError('nginx did not reload the previous files when %s: %s' % (why, exc.msg))

    # -- 2. upstream checks ---------------------------------------------------
    def _check_upstreams(self):
        reports = run_checks(self.upstream_checks)
        self.result['upstream_checks'] = reports
        refused = []
        for report in reports:
            unhealthy = report['total'] - report['healthy']
            if unhealthy:
                self.warnings.append('upstream %s: %d of %d servers unhealthy: %s'
                                     % (report.get('name'), unhealthy, report['total'], _failures(report)))
            required = 0 if self.check_mode else int(report.get('min_healthy', 1))
            if report['healthy'] < required:
                refused.append('upstream %s: %d of %d servers healthy (%d required): %s'
                               % (report.get('name'), report['healthy'], report['total'], required, _failures(report)))
        if refused:
            self._fail('The upstream check before the change failed, so nothing was changed: %s' % '; '.join(refused))

    # -- 3. what changes ------------------------------------------------------
    def _current(self, path):
        """The file as it is now: (data, mode, uid, gid) or None. In check mode, an interrupted
        transaction's file counts as its saved copy (what a real run puts back first)."""
        if self.check_mode and self.result['recovered'] and self.journal.data:
            item = self.journal.entry(path)
            if item is not None:
                if not item['existed']:
                    return None
                if item.get('symlink') is not None:
                    return Link((item['symlink'],))
                return self.journal.saved_data(item), item['mode'], item['uid'], item['gid']
        return read_state(path)

    def _plan(self):
        """``[(path, wanted or None for removal, current)]`` of the files that change."""
        changes = []
        for wanted in self.files:
            current = self._current(wanted.path)
            if current is None or isinstance(current, Link) or current != (wanted.data, wanted.mode, wanted.uid, wanted.gid):
                changes.append((wanted.path, wanted, current))
        for path in self.remove:
            current = self._current(path)
            if current is not None:
                changes.append((path, None, current))
        return changes

    def _report_files(self, changes):
        changed = dict((path, (wanted, current)) for path, wanted, current in changes)
        for wanted in self.files:
            entry = dict(path=wanted.path, state='unchanged')
            if wanted.path in changed:
                current = changed[wanted.path][1]
                if current is None:
                    entry['state'] = 'created'
                elif isinstance(current, Link) or current[0] != wanted.data:
                    entry['state'] = 'updated'
                else:
                    entry['state'] = 'attributes'
            self.result['files'].append(entry)
        for path in self.remove:
            if path in changed:
                self.result['files'].append(dict(path=path, state='removed'))
        if self.diff:
            for path, wanted, current in changes:
                before = _before(current)
                after = wanted.data if wanted is not None else None
                secret = wanted.secret if wanted is not None else False
                if before != after or secret:
                    self.result['diff'].append(file_diff(path, before, after, secret))

    def _write(self, changes, adopted):
        if not adopted:
            self.journal.begin(self.transaction_id)
        else:
            self.journal.set_state(WRITING, self.transaction_id)
        for directory in self.directories:
            path = directory['path']
            if not os.path.isdir(path):
                os.makedirs(path, mode=parse_mode(directory.get('mode', '0755'), path))
                uid, gid = _ids(directory.get('owner', 'root'), directory.get('group', 'root'))
                os.chown(path, uid, gid)
                self.journal.created_directory(path)
        for log_file in self.log_files:
            create_log_file(log_file)
        for path, _wanted, _current in changes:
            self.journal.keep(path)
        # Written (fsync) once every previous version is saved, and before any live file changes.
        self.journal.save()
        remove_leftover_temp_files(sorted(set(os.path.dirname(path) for path, _w, _c in changes)))
        for path, wanted, _current in changes:
            if wanted is None:
                os.unlink(path)
            else:
                write_atomic(path, wanted.data, wanted.mode, wanted.uid, wanted.gid)

    # -- putting back ---------------------------------------------------------
    def _roll_back(self, loaded, why):
        """Put every file back; when nginx may have loaded the candidate, reload the previous files.

        Raises TransactionError (the saved copies kept) when that fails.
        """
        try:
            if self.journal.data is not None:  # else the journal could not even be started: nothing changed
                self._timed('rollback', self._put_back, loaded, 'putting the previous files back')
        except RestoreError as exc:
            self._fail('%s %s' % (why, exc))
        self.result['rolled_back'] = True
        self.result['reloaded'] = loaded
        if self.journal.data is not None:
            self.journal.finish()

    # -- the whole --------------------------------------------------------------
    def run(self):
        started = time.monotonic()
        try:
            if not self.check_mode:
                with StateLock(self.state_dir):
                    self._run()
            else:
                self._run()
        finally:
            self.seconds['total'] = round(time.monotonic() - started, 3)
        return self.result

    def _run(self):
        installed = self._nginx_installed()
        if not installed and not self.check_mode:
            self._fail('nginx is not installed on this host (%s is missing): install it first, for example with the '
                       'websocket.nginx.nginx role; nothing was changed' % self.nginx_binary)
        adopted = self._timed('recover', self._recover_or_adopt)
        if self.upstream_checks:
            self._timed('upstream_checks', self._check_upstreams)
        changes = self._plan()
        self._report_files(changes)
        pending = adopted and bool(self.journal.data['files'])
        self.result['changed'] = bool(changes) or pending

        if self.check_mode:
            self._check_mode(changes, installed)
            return

        if changes:
            try:
                self._timed('write', self._write, changes, adopted)
            except (OSError, ValueError) as exc:
                where = getattr(exc, 'filename', None)
                what = '%s: %s' % (where, _os_error(exc)) if where else to_text(exc)
                self._roll_back(False, 'Writing the new configuration failed (%s), so it was not applied, and' % what)
                self._fail('Writing the new configuration failed (%s), so it was not applied: the previous files are back '
                           'and nginx keeps serving with them.' % what)
        elif not pending:
            self._check_through_nginx(changed_nothing=True)
            return

        accepted, output = self._timed('test', nginx_test, self.nginx_binary, self.nginx_config)
        self.result['test'] = dict(accepted=accepted, output=output)
        if not accepted:
            self._roll_back(False, 'nginx rejected the new configuration (%s), and' % output)
            self._fail('nginx rejected the new configuration, so it was not applied: the previous files are back and '
                       'nginx keeps serving with them (it was not reloaded). %s' % output)

        if not self.reload:
            self.journal.set_state(PENDING, self.transaction_id)
            self.result['pending_reload'] = True
            return

        self.journal.set_state(LOADED)
        try:
            outcome = self._timed('reload', reload_and_wait, self.pid_file, self.reload_timeout, self.service, False,
                                  self.run_command)
        except ReloadError as exc:
            self.result['reload'] = dict(exc.details, msg=exc.msg)
            self._roll_back(True, 'nginx did not take the new configuration when it reloaded (%s), and' % exc.msg)
            self._fail('nginx did not take the new configuration when it reloaded: %s The previous configuration files are '
                       'back and nginx reloaded with them.' % exc.msg)
        self.result['reloaded'] = True
        self.result['reload'] = outcome
        self._check_through_nginx(changed_nothing=False)
        self.journal.finish()

    def _check_through_nginx(self, changed_nothing):
        if not self.proxy_checks:
            return
        reports = self._timed('proxy_checks', run_checks, self.proxy_checks)
        self.result['proxy_checks'] = reports
        failed = [report for report in reports if report['healthy'] < 1]
        if not failed:
            return
        what = ' '.join('site %s, location %s (%s): %s.' % (report.get('site'), report.get('location'), report.get('path'),
                                                            '; '.join('failed at stage %s: %s' % (server['stage'], server['error'])
                                                                      for server in report['servers'] if not server['healthy']))
                        for report in failed)
        message = 'The check through nginx failed: %s' % what
        if changed_nothing:
            self._fail('%s This run changed no file: the configuration nginx already ran fails the check.' % message)
        if not self.rollback_on_failed_check:
            self.journal.finish()
            self._fail('%s The new configuration stays live (rollback_on_failed_check is false).' % message)
        self._roll_back(True, '%s And' % message)
        self._fail('%s The previous configuration files are back and nginx reloaded with them, so it serves as before this '
                   'run.' % message)

    def _check_mode(self, changes, installed):
        if not changes and not self.result['recovered']:
            return
        if not installed:
            self.result['test'] = dict(accepted=None, output='nginx is not installed (%s is missing): the candidate was not '
                                                             'tested' % self.nginx_binary)
            return
        contents = dict((path, wanted.data if wanted is not None else None) for path, wanted, _current in changes)
        if self.result['recovered'] and self.journal.data:
            for item in self.journal.data['files']:
                if item['path'] not in contents and item.get('symlink') is None:
                    contents[item['path']] = self.journal.saved_data(item) if item['existed'] else None
        accepted, output = self._timed('test', scratch_test, self.nginx_binary, self.nginx_config, contents)
        self.result['test'] = dict(accepted=accepted, output=output)
        if not accepted:
            self._fail('check mode: nginx would reject the new configuration, so a real run would not apply it: %s' % output)


def decode_content(item):
    """The bytes of a files entry: ``content`` (text) or ``content_base64``."""
    if item.get('content_base64') is not None:
        return base64.b64decode(item['content_base64'])
    return to_bytes(item.get('content') or '', errors='surrogate_or_strict')
