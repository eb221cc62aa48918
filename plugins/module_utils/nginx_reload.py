# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Reload nginx and wait until it serves the new configuration (shared by nginx_reload and nginx_transaction).

Only the Python standard library (and ansible's text converters when there): this runs on the managed host,
in modules and beside the plain scripts that run there without ansible (nginx_upgrade.py, the apt hook of the
nginx role; acme_certbot.py, the renewal service of the websocket_proxy role), which also share its host
helpers: the lock of nginx changes, command runs, atomic file writes and their own sources.
"""

from __future__ import annotations

import fcntl
import math
import os
import pkgutil
import re
import shutil
import signal
import stat
import subprocess
import threading
import time

try:
    from ansible.module_utils.common.text.converters import to_text
except ImportError:  # a plain script on the host (nginx_upgrade.py's apt hook), without ansible
    def to_text(value, errors='surrogate_or_replace'):
        if isinstance(value, bytes):
            return value.decode('utf-8', 'replace')
        return str(value)

MAX_TIMEOUT = 3600
POLL_INTERVAL = 0.05
# After an [emerg] line, nginx may still retry (bind() tries 5 times, 0.5 s apart); when nothing changes
# for this long after the last one, the master has kept the previous configuration.
EMERG_SETTLE = 2.0
MASTER_TITLE = 'nginx: master process'
WORKER_TITLE = 'nginx: worker process'
SHUTTING_DOWN_TITLE = 'nginx: worker process is shutting down'
LOG_TAIL_LINES = 10
LOG_TAIL_BYTES = 65536
_SERVICE = re.compile(r'[A-Za-z0-9:_.@-]+')


class ReloadError(Exception):
    """The reload (or start) failed; ``details`` are returned with the failure."""

    def __init__(self, msg, **details):
        super(ReloadError, self).__init__(msg)
        self.msg = msg
        self.details = details


class LockTimeout(Exception):
    """HostLock waited ``timeout`` seconds in vain for the lock file ``path``."""

    def __init__(self, path, timeout):
        super(LockTimeout, self).__init__(path, timeout)
        self.path = path
        self.timeout = timeout


class HostLock(object):
    """One change of nginx at a time on a host: an exclusive flock on ``path`` (created 0600, its directory 0700),
    waited for up to ``timeout`` seconds (then LockTimeout). The change transactions and the ACME deploys take the
    same file."""

    def __init__(self, path, timeout):
        self.path = path
        self.timeout = timeout
        self.fd = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + self.timeout
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    raise LockTimeout(self.path, self.timeout)
                time.sleep(0.1)

    def __exit__(self, *exc):
        os.close(self.fd)


def read_bytes(path):
    """The content of the file ``path``, or None when there is none."""
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def file_state(path):
    """``(bytes, mode)`` of the file ``path`` as it is now, ``(None, None)`` when it is missing."""
    data = read_bytes(path)
    return (data, None) if data is None else (data, stat.S_IMODE(os.stat(path).st_mode))


def write_file(path, content, mode, directory_mode=0o700):
    """Write ``path`` atomically: a temporary file in its directory (made with ``directory_mode`` when missing),
    created 0600 and given ``mode`` before the rename (a private key is never readable by others), fsync, rename,
    fsync of the directory."""
    directory = os.path.dirname(path)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=directory_mode)
    temporary = '%s/.%s.websocket-nginx.tmp' % (directory, os.path.basename(path))
    if os.path.lexists(temporary):
        os.unlink(temporary)
    with os.fdopen(os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), 'wb') as handle:
        handle.write(content)
        handle.flush()
        os.fchmod(handle.fileno(), mode)
        os.fsync(handle.fileno())
    os.rename(temporary, path)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def run_command(command, timeout, env=None):
    """``(exit status, output)`` of ``command`` (no shell, from /, standard error with the output). The plain
    scripts run without ansible, so they cannot use AnsibleModule.run_command; raises OSError or
    subprocess.SubprocessError."""
    done = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,  # pylint: disable=ansible-bad-function
                          stderr=subprocess.STDOUT, timeout=timeout, env=env, cwd='/', check=False)
    return done.returncode, to_text(done.stdout, errors='surrogate_or_replace').strip()


def sources(module_name, module_file, names):
    """``{file name: bytes}`` of the module_utils files ``names`` as the running module carries them, for a plain
    script's copy on the host: from the module's payload (a zip file), or, when the collection is a directory on
    sys.path (a namespace package), from beside ``module_file``. Raises OSError when one cannot be read."""
    package = module_name.rsplit('.', 1)[0]
    found = {}
    for name in names:
        data = pkgutil.get_data(package, name)
        if data is None:
            data = read_bytes(os.path.join(os.path.dirname(os.path.abspath(module_file)), name))
        if data is None:
            raise OSError('cannot read %s beside %s' % (name, module_file))
        found[name] = data
    return found


# ---------------------------------------------------------------------------
# Processes, from /proc
# ---------------------------------------------------------------------------

def proc_stat(pid):
    """``(state, ppid, starttime)`` of a process from /proc/PID/stat, or None when there is no such process."""
    try:
        with open('/proc/%d/stat' % pid, 'rb') as handle:
            data = handle.read()
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may contain spaces and parentheses, the last ")" ends it.
    fields = data[data.rfind(b')') + 2:].split()
    try:
        return fields[0].decode('ascii'), int(fields[1]), int(fields[19])
    except (IndexError, ValueError, UnicodeDecodeError):
        return None


def is_alive(pid):
    """Whether process ``pid`` exists and is not a zombie."""
    info = proc_stat(pid)
    return info is not None and info[0] not in ('Z', 'X', 'x')


def proc_title(pid):
    """The command line of ``pid`` as one string (nginx's process title), or None when it cannot be read."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as handle:
            data = handle.read()
    except OSError:
        return None
    # nginx writes its title over argv and pads the rest with NUL bytes.
    return to_text(data.strip(b'\0 ').replace(b'\0', b' '), errors='surrogate_or_replace').strip()


def children(ppid):
    """``{pid: starttime}`` of the live child processes of ``ppid`` (a scan of /proc/*/stat)."""
    found = {}
    try:
        names = os.listdir('/proc')
    except OSError as exc:
        raise ReloadError('cannot list /proc (this module needs Linux): %s' % to_text(exc))
    for name in names:
        if not name.isdigit():
            continue
        info = proc_stat(int(name))
        if info is not None and info[1] == ppid and info[0] not in ('Z', 'X', 'x'):
            found[int(name)] = info[2]
    return found


def workers(master):
    """``{pid: starttime}`` of the master's children titled exactly ``nginx: worker process``."""
    return dict((pid, start) for pid, start in children(master).items() if proc_title(pid) == WORKER_TITLE)


def still_accepting(old):
    """Those of the ``{pid: starttime}`` workers ``old`` that still run titled ``nginx: worker process``."""
    accepting = []
    for pid, start in old.items():
        info = proc_stat(pid)
        if info is not None and info[2] == start and info[0] not in ('Z', 'X', 'x') and proc_title(pid) == WORKER_TITLE:
            accepting.append(pid)
    return sorted(accepting)


def shutting_down(old):
    """Those of the ``{pid: starttime}`` workers ``old`` that run titled ``nginx: worker process is shutting down``."""
    down = []
    for pid, start in old.items():
        info = proc_stat(pid)
        if info is not None and info[2] == start and info[0] not in ('Z', 'X', 'x') and proc_title(pid) == SHUTTING_DOWN_TITLE:
            down.append(pid)
    return sorted(down)


# ---------------------------------------------------------------------------
# The pid file and the error log
# ---------------------------------------------------------------------------

def read_pid_file(pid_file):
    """``(pid, None)`` for a live process named in ``pid_file``, or ``(None, why)`` when nginx is not running.

    Raises ReloadError when the file cannot be read or does not hold a process ID.
    """
    try:
        with open(pid_file, 'rb') as handle:
            data = handle.read(4096)
    except FileNotFoundError:
        return None, 'there is no pid file %s' % pid_file
    except OSError as exc:
        raise ReloadError('cannot read the pid file %s: %s' % (pid_file, to_text(exc)))
    text = to_text(data, errors='surrogate_or_replace').strip()
    if not text:
        return None, 'the pid file %s is empty' % pid_file
    if not re.fullmatch(r'[0-9]{1,10}', text) or int(text) == 0:
        raise ReloadError("the pid file %s does not hold a process ID: '%s'" % (pid_file, text[:100]))
    pid = int(text)
    if not is_alive(pid):
        return None, 'the pid file %s names process %d, which is not running' % (pid_file, pid)
    return pid, None


def check_master(pid, pid_file):
    title = proc_title(pid)
    if title is None or not title.startswith(MASTER_TITLE):
        raise ReloadError(
            "process %d named in the pid file %s is not an nginx master process (its command line is '%s'); "
            "nothing was signalled" % (pid, pid_file, (title or '')[:200]),
            master_pid=pid)


def error_log_position(master):
    """``(path, size)`` of the file the master logs to (its standard error), or ``(None, 0)``."""
    link = '/proc/%d/fd/2' % master
    try:
        path = os.readlink(link)
        info = os.stat(link)
    except OSError:
        return None, 0
    if not stat.S_ISREG(info.st_mode) or not path.startswith('/'):
        return None, 0
    if path.endswith(' (deleted)'):
        return None, 0
    return path, info.st_size


def error_log_tail(path, offset):
    """The last lines written to ``path`` after ``offset`` (from its start when it was rotated)."""
    if path is None:
        return []
    try:
        with open(path, 'rb') as handle:
            size = os.fstat(handle.fileno()).st_size
            if size < offset:
                offset = 0
            handle.seek(max(offset, size - LOG_TAIL_BYTES))
            data = handle.read(LOG_TAIL_BYTES)
    except OSError:
        return []
    lines = [line.rstrip() for line in to_text(data, errors='surrogate_or_replace').splitlines() if line.strip()]
    return lines[-LOG_TAIL_LINES:]


# ---------------------------------------------------------------------------
# Reload, start
# ---------------------------------------------------------------------------

def validate(pid_file, timeout, service):
    """Check the option values; raise ReloadError."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise ReloadError('timeout must be a number of seconds, got %r' % (timeout,))
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ReloadError('timeout must be a finite number of seconds greater than 0 and at most %d, got %s' % (MAX_TIMEOUT, timeout))
    if not pid_file or not str(pid_file).strip():
        raise ReloadError('pid_file must not be empty')
    if not isinstance(service, str) or not _SERVICE.fullmatch(service) or service.startswith('-'):
        raise ReloadError("service must be a systemd unit name (letters, digits and ':_.@-', not starting with '-'), got '%s'" % (service,))


def sleep_until(deadline, interval):
    time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


def plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def _pids(pids):
    return ', '.join(str(pid) for pid in pids)


def _result(**values):
    result = dict(changed=True, started=False, master_pid=None, old_workers=[], new_workers=[], shutting_down=[],
                  seconds=None, error_log=None, msg='')
    result.update(values)
    return result


def wait_for_workers(master, deadline, interval):
    """``{pid: starttime}`` of the master's workers once it has at least one; raise ReloadError at ``deadline``."""
    while True:
        if not is_alive(master):
            raise ReloadError('the nginx master process %d exited before it was signalled' % master, master_pid=master)
        found = workers(master)
        if found:
            return found
        if time.monotonic() >= deadline:
            raise ReloadError('the nginx master process %d has no worker process titled "%s"' % (master, WORKER_TITLE),
                              master_pid=master)
        sleep_until(deadline, interval)


def reload_and_wait(pid_file='/run/nginx.pid', timeout=30.0, service='nginx', check_mode=False, run_command=None,
                    poll_interval=POLL_INTERVAL):
    """Reload the nginx named in ``pid_file`` (start ``service`` when it is not running) and wait until it serves
    the new configuration, for at most ``timeout`` seconds. Returns the result dict; raises ReloadError.

    ``run_command`` (AnsibleModule.run_command) runs ``systemctl start``; without it a stopped nginx is an error.
    """
    validate(pid_file, timeout, service)
    if not os.path.isdir('/proc/self'):
        raise ReloadError('this module reads the processes from /proc, which this host does not have (Linux only)')
    begin = time.monotonic()
    deadline = begin + timeout
    master, why = read_pid_file(pid_file)
    if master is None:
        if check_mode:
            return _result(started=True, msg='nginx is not running (%s); systemctl start %s would start it' % (why, service))
        if run_command is None:
            raise ReloadError('nginx is not running (%s), and no run_command was given to start %s' % (why, service))
        return start_and_wait(pid_file, timeout, service, why, run_command, poll_interval)
    check_master(master, pid_file)
    old = wait_for_workers(master, deadline, poll_interval)
    log_path, log_offset = error_log_position(master)
    if check_mode:
        return _result(master_pid=master, old_workers=sorted(old), error_log=log_path,
                       msg='nginx (master process %d) would be reloaded' % master)

    sent = time.monotonic()
    try:
        os.kill(master, signal.SIGHUP)
    except ProcessLookupError:
        raise ReloadError('the nginx master process %d exited before it was signalled' % master, master_pid=master)
    except PermissionError:
        raise ReloadError('not allowed to signal the nginx master process %d; run the task as its user, usually root '
                          '(become: true)' % master, master_pid=master)
    deadline = sent + timeout

    details = dict(master_pid=master, old_workers=sorted(old), error_log=log_path)
    emerg_lines, last_emerg = [], None
    while True:
        if not is_alive(master):
            lines = error_log_tail(log_path, log_offset)
            msg = 'the nginx master process %d exited during the reload; nginx is not running' % master
            raise ReloadError(with_log(msg, log_path, lines), error_log_lines=lines, **details)
        accepting = still_accepting(old)
        new = workers(master)
        new_pids = sorted(pid for pid, start in new.items() if old.get(pid) != start)
        if not accepting and new_pids:
            seconds = round(time.monotonic() - sent, 3)
            down = shutting_down(old)
            msg = 'nginx reloaded (master process %d): %s the new configuration after %.3f s' % (
                master, plural(len(new_pids), 'new worker') + (' serves' if len(new_pids) == 1 else ' serve'), seconds)
            if down:
                msg += ', %s shutting down' % (plural(len(down), 'old worker') + (' is' if len(down) == 1 else ' are'))
            return _result(master_pid=master, old_workers=sorted(old), new_workers=new_pids, shutting_down=down,
                           seconds=seconds, error_log=log_path, msg=msg)
        lines = error_log_tail(log_path, log_offset)
        emerg = [line for line in lines if '[emerg]' in line]
        if emerg != emerg_lines:
            emerg_lines, last_emerg = emerg, time.monotonic()
        if last_emerg is not None and accepting and not new_pids and time.monotonic() - last_emerg >= EMERG_SETTLE:
            msg = ('nginx did not take the new configuration after SIGHUP to its master process %d: it logged [emerg] '
                   'and %.1f s later the previous worker processes (%s) still accept connections, so nginx keeps serving '
                   'the previous configuration' % (master, time.monotonic() - last_emerg, _pids(accepting)))
            raise ReloadError(with_log(msg, log_path, lines), still_accepting=accepting, new_workers=new_pids,
                              error_log_lines=lines, **details)
        if time.monotonic() >= deadline:
            break
        sleep_until(deadline, poll_interval)

    lines = error_log_tail(log_path, log_offset)
    if accepting:
        state = ('the previous worker processes (%s) still accept connections, so nginx keeps serving the previous '
                 'configuration' % _pids(accepting))
    else:
        state = 'the previous workers stopped accepting connections but no new worker process started'
    msg = ('nginx did not take the new configuration within %s after SIGHUP to its master process %d: %s. '
           "Look at nginx's error log for the reason, for example a listen address already in use"
           % (_seconds(timeout), master, state))
    raise ReloadError(with_log(msg, log_path, lines), still_accepting=accepting, new_workers=new_pids,
                      error_log_lines=lines, **details)


def _seconds(value):
    if float(value).is_integer():
        return '%d second%s' % (value, '' if value == 1 else 's')
    return '%s seconds' % value


def with_log(msg, path, lines):
    if path is None:
        return msg + ' (its error log is not a file this module can find).'
    if not lines:
        return msg + ' (%s has nothing new since the reload).' % path
    return msg + '. Last lines of %s:\n%s' % (path, '\n'.join(lines))


def _kill(process, fired):
    fired.set()
    try:
        process.kill()
    except OSError:
        pass


def start_and_wait(pid_file, timeout, service, why, run_command, poll_interval=POLL_INTERVAL):
    """``systemctl start service``, then wait until ``pid_file`` names a live master with a worker.

    ``run_command`` is AnsibleModule.run_command (or a function with its interface). ``systemctl`` is killed
    when it has not finished within ``timeout`` seconds.
    """
    begin = time.monotonic()
    deadline = begin + timeout
    command = 'systemctl start %s' % service
    systemctl = shutil.which('systemctl') or shutil.which('systemctl', path='/usr/bin:/bin:/usr/sbin:/sbin')
    if systemctl is None:
        raise ReloadError('nginx is not running (%s), and systemctl was not found to start the unit %s' % (why, service),
                          started=False)
    fired = threading.Event()
    timers = []

    def arm(process):
        timer = threading.Timer(timeout, _kill, (process, fired))
        timer.daemon = True
        timers.append(timer)
        timer.start()

    try:
        rc, out, err = run_command([systemctl, 'start', service], before_communicate_callback=arm,
                                   environ_update=dict(LANG='C', LC_ALL='C', LC_MESSAGES='C', SYSTEMD_PAGER='', SYSTEMD_COLORS='0'))
    finally:
        for timer in timers:
            timer.cancel()
    if fired.is_set():
        raise ReloadError('nginx is not running (%s), and `%s` did not finish within %s' % (why, command, _seconds(timeout)),
                          started=False)
    if rc != 0:
        output = to_text(err or out, errors='surrogate_or_replace').strip() or 'no output'
        raise ReloadError('nginx is not running (%s), and `%s` failed (rc=%d): %s' % (why, command, rc, output),
                          started=False, rc=rc, stdout=out, stderr=err)
    master = None
    while True:
        master, _why = read_pid_file(pid_file)
        if master is not None and (proc_title(master) or '').startswith(MASTER_TITLE):
            found = workers(master)
            if found:
                seconds = round(time.monotonic() - begin, 3)
                log_path = error_log_position(master)[0]
                return _result(started=True, master_pid=master, new_workers=sorted(found), seconds=seconds, error_log=log_path,
                               msg='nginx was not running (%s); started %s (master process %d) with %s in %.3f s' % (
                                   why, service, master, plural(len(found), 'worker'), seconds))
        if time.monotonic() >= deadline:
            raise ReloadError('`%s` succeeded, but within %s the pid file %s did not name a running nginx master '
                              'process with a worker process' % (command, _seconds(timeout), pid_file),
                              started=True, master_pid=master)
        sleep_until(deadline, poll_interval)
