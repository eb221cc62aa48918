#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: nginx_reload
short_description: Reload nginx and wait until it really serves the new configuration
version_added: "0.3.0"
description:
  - C(systemctl reload nginx) (and M(ansible.builtin.systemd_service) with C(state=reloaded)) only sends C(SIGHUP) to
    the nginx master process and returns at once. A check through nginx right after it can still be answered by the
    old worker processes, and a reload that the master rejects at reload time, for example because a new C(listen)
    address is already in use (C(nginx -t) does not bind, so it passes), goes unnoticed - the old workers keep serving
    the old configuration.
  - "This module sends C(SIGHUP) to the master named in O(pid_file) and waits until the reload has taken effect: none of
    the worker processes that ran before the reload still accepts connections (each one has exited or is titled
    C(nginx: worker process is shutting down), which nginx sets right before it closes its listening sockets), the
    master is still alive and at least one new worker process runs."
  - It does not wait for the old workers to exit. They finish the requests and WebSocket connections they hold, as
    long as nginx lets them (C(worker_shutdown_timeout)).
  - When nginx did not take the new configuration within O(timeout) seconds, the task fails, says that nginx keeps
    serving the previous configuration, and quotes the last lines that nginx wrote to its error log since the reload
    when the log is a file.
  - When nginx is not running at all (no O(pid_file), an empty one, or one that names a process that is gone), there
    is nothing to reload - like M(ansible.builtin.systemd_service) with C(state=reloaded) the module starts the systemd
    unit O(service) with C(systemctl start), then waits until the pid file names a running master with a worker process.
  - The module finds the processes in C(/proc) and only needs the Python standard library on the managed host.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  pid_file:
    description:
      - The file in which nginx writes the process ID of its master process (the C(pid) directive).
      - "The process it names must be running with the title C(nginx: master process ...), otherwise the task fails
        without signalling anything."
    type: path
    default: /run/nginx.pid
  service:
    description:
      - The systemd unit started with C(systemctl start) when nginx is not running.
      - A unit name only (letters, digits and C(:_.@-), not starting with C(-)).
    type: str
    default: nginx
  timeout:
    description:
      - Seconds allowed for the new configuration to take effect after C(SIGHUP) (and, before it, for the master to have
        a worker process, when it has none yet).
      - When nginx was not running, the time allowed for C(systemctl start) and the first worker process together;
        C(systemctl) is killed when it has not finished by then (the start job it queued may still go on).
      - Must be a finite number greater than 0 and at most 3600 (one hour); V(inf), V(nan) and larger values are refused.
      - A reload the master refuses (it writes C([emerg]) to its error log and keeps the previous workers) fails about
        2 seconds after nginx's last C([emerg]) line, without waiting for the timeout.
    type: float
    default: 30.0
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: In check mode the module only reads the pid file and C(/proc) and reports C(changed=true), the reload (or
      start) that would happen.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Linux only; the processes are read from C(/proc).
notes:
  - Signalling the master needs the rights of its user, usually root (C(become)).
  - The module does not test the configuration; run C(nginx -t) first (for example with the C(validate) option of
    M(ansible.builtin.template)). A configuration that C(nginx -t) accepts can still be refused at reload time.
  - The module always reports C(changed=true), like a reload by M(ansible.builtin.systemd_service); use it in a
    handler or with C(when).
  - Without a running systemd (for example in a plain container) C(systemctl start) fails and so does the task when
    nginx is not running; a running nginx is reloaded without systemd.
seealso:
  - module: ansible.builtin.systemd_service
  - module: websocket.nginx.upstream_health
"""

EXAMPLES = r"""
- name: Reload nginx and wait until the new configuration is served
  websocket.nginx.nginx_reload:
  become: true

- name: Reload an nginx with its own pid file, allow 10 seconds
  websocket.nginx.nginx_reload:
    pid_file: /run/nginx-edge.pid
    service: nginx-edge
    timeout: 10
  become: true
  register: reload

- name: Show how long the reload took
  ansible.builtin.debug:
    msg: "new workers {{ reload.new_workers }} after {{ reload.seconds }} s"

# As a handler, instead of ansible.builtin.systemd_service with state=reloaded
- name: Reload nginx
  websocket.nginx.nginx_reload:
  listen: reload nginx
  become: true
"""

RETURN = r"""
master_pid:
  description: Process ID of the nginx master; null in check mode when nginx is not running.
  returned: always
  type: int
  sample: 1234
started:
  description: Whether nginx was not running and was started with C(systemctl start) (in check mode, would be started).
  returned: always
  type: bool
  sample: false
old_workers:
  description: Process IDs of the worker processes that ran before the reload; empty when nginx was started.
  returned: always
  type: list
  elements: int
  sample: [1301, 1302]
new_workers:
  description: Process IDs of the worker processes that serve the new configuration; empty in check mode.
  returned: always
  type: list
  elements: int
  sample: [1417, 1418]
shutting_down:
  description:
    - "Those of RV(old_workers) that were still alive, titled C(nginx: worker process is shutting down), when the reload
      had taken effect. They no longer accept connections and finish the ones they hold."
  returned: always
  type: list
  elements: int
  sample: [1301]
seconds:
  description: Seconds from C(SIGHUP) (or C(systemctl start)) until the new configuration was served; null in check mode.
  returned: always
  type: float
  sample: 0.108
error_log:
  description: The file the master writes its error log to (its standard error), null when that is not a file.
  returned: always
  type: str
  sample: /var/log/nginx/error.log
still_accepting:
  description:
    - Those of RV(old_workers) that still accepted connections when O(timeout) expired, so nginx kept serving the
      previous configuration.
  returned: when nginx did not take the new configuration in time
  type: list
  elements: int
  sample: [1301, 1302]
error_log_lines:
  description: The last lines nginx wrote to RV(error_log) after the reload (at most 10).
  returned: when the reload failed
  type: list
  elements: str
  sample: ["2026/01/05 10:00:00 [emerg] 1234#1234: bind() to 127.0.0.1:8080 failed (98: Address already in use)"]
msg:
  description: Summary.
  returned: always
  type: str
  sample: "nginx reloaded (master process 1234): 2 new workers serve the new configuration after 0.108 s, 1 old worker is shutting down"
"""

import math
import os
import re
import shutil
import signal
import stat
import threading
import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

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


def _sleep_until(deadline, interval):
    time.sleep(max(0.0, min(interval, deadline - time.monotonic())))


def _plural(count, word):
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
        _sleep_until(deadline, interval)


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
            raise ReloadError(_with_log(msg, log_path, lines), error_log_lines=lines, **details)
        accepting = still_accepting(old)
        new = workers(master)
        new_pids = sorted(pid for pid, start in new.items() if old.get(pid) != start)
        if not accepting and new_pids:
            seconds = round(time.monotonic() - sent, 3)
            down = shutting_down(old)
            msg = 'nginx reloaded (master process %d): %s the new configuration after %.3f s' % (
                master, _plural(len(new_pids), 'new worker') + (' serves' if len(new_pids) == 1 else ' serve'), seconds)
            if down:
                msg += ', %s shutting down' % (_plural(len(down), 'old worker') + (' is' if len(down) == 1 else ' are'))
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
            raise ReloadError(_with_log(msg, log_path, lines), still_accepting=accepting, new_workers=new_pids,
                              error_log_lines=lines, **details)
        if time.monotonic() >= deadline:
            break
        _sleep_until(deadline, poll_interval)

    lines = error_log_tail(log_path, log_offset)
    if accepting:
        state = ('the previous worker processes (%s) still accept connections, so nginx keeps serving the previous '
                 'configuration' % _pids(accepting))
    else:
        state = 'the previous workers stopped accepting connections but no new worker process started'
    msg = ('nginx did not take the new configuration within %s after SIGHUP to its master process %d: %s. '
           "Look at nginx's error log for the reason, for example a listen address already in use"
           % (_seconds(timeout), master, state))
    raise ReloadError(_with_log(msg, log_path, lines), still_accepting=accepting, new_workers=new_pids,
                      error_log_lines=lines, **details)


def _seconds(value):
    if float(value).is_integer():
        return '%d second%s' % (value, '' if value == 1 else 's')
    return '%s seconds' % value


def _with_log(msg, path, lines):
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
                                   why, service, master, _plural(len(found), 'worker'), seconds))
        if time.monotonic() >= deadline:
            raise ReloadError('`%s` succeeded, but within %s the pid file %s did not name a running nginx master '
                              'process with a worker process' % (command, _seconds(timeout), pid_file),
                              started=True, master_pid=master)
        _sleep_until(deadline, poll_interval)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pid_file=dict(type='path', default='/run/nginx.pid'),
            service=dict(type='str', default='nginx'),
            timeout=dict(type='float', default=30.0),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        result = reload_and_wait(params['pid_file'], params['timeout'], params['service'], check_mode=module.check_mode,
                                 run_command=module.run_command)
    except ReloadError as exc:
        module.fail_json(msg=exc.msg, **exc.details)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
