# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""keepalived's track script of the websocket.nginx proxies (installed by the websocket.nginx.keepalived role).

    keepalived_track.py SETTINGS_JSON

Exits 0 when this proxy may hold the floating address, 1 otherwise with one line on standard error saying why:

* the drain flag (the settings' ``drain_flag``) exists: the proxy is being drained and gives the address away;
* a check through the local nginx fails: a WebSocket opening handshake (and an echo when asked) to each check's
  ``address`` and ``path``, with its Host, Origin, subprotocols and TLS, as websocket.nginx.upstream_health does.

All checks of one run share the settings' ``budget`` (seconds), which the role keeps below keepalived's
timeout for the script, so that a hanging nginx fails with a reason instead of being killed. Standard library
only, plus the collection's websocket_client.py installed beside this file. Runs as keepalived's script_user.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import websocket_client  # noqa: E402  pylint: disable=wrong-import-position

HEALTHY, UNHEALTHY = 0, 1


def describe(check):
    """How a message names a check: its site and location when known, and its URL."""
    url = '%s://%s%s' % ('wss' if check.get('tls') else 'ws', check['address'], check['path'])
    names = ' '.join(part for part in ('site %s' % check['site'] if check.get('site') else '',
                                       'location %s' % check['location'] if check.get('location') else '') if part)
    return '%s (%s)' % (names, url) if names else url


def drain_problem(flag):
    """Why the drain flag says no (None when it is not there)."""
    try:
        os.stat(flag)
    except FileNotFoundError:
        return None
    except OSError as exc:
        # A flag this user cannot look for could be there: do not hold the address on a guess.
        return 'cannot tell whether the drain flag %s exists: %s' % (flag, exc.strerror or exc)
    return 'draining: %s exists' % flag


def run_check(check, timeout):
    """``(healthy, reason)`` of one check within ``timeout`` seconds."""
    host, port = websocket_client.split_host_port(check['address'])
    context = None
    if check.get('tls'):
        context = websocket_client.make_ssl_context(True, check.get('ca_path'))
    result = websocket_client.run_check(
        host, port, check='websocket', tls=bool(check.get('tls')), path=check['path'], timeout=timeout,
        host_header=check.get('host_header'), origin=check.get('origin'), subprotocols=check.get('subprotocols'),
        echo=bool(check.get('echo')), payload='websocket-nginx keepalived check', ssl_context=context)
    if result['healthy']:
        return True, None
    status = ' (HTTP %s)' % result['status'] if result.get('status') else ''
    return False, 'check %s failed at %s%s: %s' % (describe(check), result['stage'], status, result['error'])


def main(argv, clock=time.monotonic):
    if len(argv) != 2:
        sys.stderr.write('usage: keepalived_track.py SETTINGS_JSON\n')
        return UNHEALTHY
    try:
        with open(argv[1], encoding='utf-8') as handle:
            settings = json.load(handle)
        checks = settings['checks']
        flag = settings['drain_flag']
        budget = float(settings['budget'])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        sys.stderr.write('cannot read the settings %s: %s\n' % (argv[1], exc))
        return UNHEALTHY
    problem = drain_problem(flag)
    if problem:
        sys.stderr.write(problem + '\n')
        return UNHEALTHY
    if not checks:
        sys.stderr.write('no checks in %s\n' % argv[1])
        return UNHEALTHY
    deadline = clock() + budget
    for check in checks:
        remaining = deadline - clock()
        if remaining <= 0:
            sys.stderr.write('check %s not run: the checks took more than %g s\n' % (describe(check), budget))
            return UNHEALTHY
        timeout = min(remaining, check.get('timeout') or remaining)
        try:
            healthy, reason = run_check(check, timeout)
        except (ValueError, OSError) as exc:  # a bad address or CA file: never a traceback
            healthy, reason = False, 'check %s cannot run: %s' % (describe(check), exc)
        if not healthy:
            sys.stderr.write(reason.replace('\n', ' ') + '\n')
            return UNHEALTHY
    return HEALTHY


if __name__ == '__main__':
    sys.exit(main(sys.argv))
