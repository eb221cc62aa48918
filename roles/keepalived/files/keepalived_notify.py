# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalived's notify script of the websocket.nginx proxies (installed by the websocket.nginx.keepalived role).

    keepalived_notify.py STATE_FILE INSTANCE|GROUP NAME STATE PRIORITY

keepalived appends the last four arguments on every transition of the VRRP instance. The script writes

    {"instance": NAME, "state": "MASTER"|"BACKUP"|"FAULT"|"STOP", "priority": PRIORITY, "time": UNIX_SECONDS}

to STATE_FILE atomically: a temporary file in the same directory, flushed, then renamed over it, so that a
reader sees the previous state or the new one, never half of one. DELETED (an instance removed by a reload)
is written as STOP. Standard library only; runs as keepalived's script_user, which owns the directory.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

STATES = ('MASTER', 'BACKUP', 'FAULT', 'STOP')
# keepalived's name for an instance removed by a reload (with notify_deleted): it no longer runs here.
ALIASES = {'DELETED': 'STOP'}
MODE = 0o644


def state_record(kind, name, state, priority, now=None):
    """The JSON object for keepalived's arguments; ValueError when they are not an instance's transition."""
    if kind != 'INSTANCE':
        raise ValueError('not an instance: %r' % kind)
    state = ALIASES.get(state, state)
    if state not in STATES:
        raise ValueError('unknown state %r' % state)
    try:
        priority = int(priority)
    except ValueError:
        raise ValueError('priority %r is not a number' % priority)
    return {'instance': name, 'state': state, 'priority': priority, 'time': time.time() if now is None else now}


def write_atomic(path, record):
    directory = os.path.dirname(path) or '.'
    fd, temp = tempfile.mkstemp(prefix='.state-', suffix='.tmp', dir=directory)
    try:
        os.fchmod(fd, MODE)
        with os.fdopen(fd, 'w', encoding='utf-8') as handle:
            fd = None
            json.dump(record, handle, sort_keys=True)
            handle.write('\n')
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


def main(argv):
    if len(argv) != 6:
        sys.stderr.write('usage: keepalived_notify.py STATE_FILE INSTANCE|GROUP NAME STATE PRIORITY\n')
        return 2
    path, kind, name, state, priority = argv[1:]
    try:
        record = state_record(kind, name, state, priority)
    except ValueError as exc:
        sys.stderr.write('keepalived_notify.py: nothing written: %s\n' % exc)
        return 2
    try:
        write_atomic(path, record)
    except OSError as exc:
        sys.stderr.write('keepalived_notify.py: cannot write %s: %s\n' % (path, exc.strerror or exc))
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
