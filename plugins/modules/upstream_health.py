#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: upstream_health
short_description: Actively check which upstream servers can serve WebSockets
version_added: "0.1.0"
description:
  - Open-source nginx only has passive health checks. This module checks, from the host where it runs, which upstream
    servers really answer, and fails when fewer than O(min_healthy) of them do.
  - Per server it checks that the TCP port accepts a connection (O(check=tcp)), that C(GET) of O(path) returns one of
    O(expected_status) (O(check=http)), or, by default, that the RFC 6455 WebSocket opening handshake succeeds
    (O(check=websocket)), which means status 101, an C(Upgrade) header of C(websocket), the C(Upgrade) token in C(Connection) and a
    C(Sec-WebSocket-Accept) that matches the key sent. With O(echo=true) it also sends a masked text frame, expects
    the same text back and performs a clean close (code 1000 both ways).
  - The servers are either listed in O(servers) or read from the running configuration with C(nginx -T), from
    the C(server) lines of the C(upstream) block named in O(nginx_upstream).
  - Servers are checked concurrently; O(timeout) bounds the whole check of one server, so a list with dead servers
    takes about one O(timeout) in total as long as O(max_workers) threads are enough for the servers that hang.
  - The module never changes anything on the host or on the servers, so it always returns C(changed=false);
    in check mode it runs the same checks.
  - It only needs the Python standard library on the managed host.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  servers:
    description:
      - The servers to check.
      - Each item is either a string V(host), V(host:port), V([v6addr]), V([v6addr]:port), a bare IPv6 address,
        or a URL V(ws://host:port/path), V(wss://...), V(http://...), V(https://...) whose scheme sets TLS and whose
        path, when present, overrides O(path);
      - or a dictionary with the keys C(host) (required), C(port), C(path) and C(tls).
      - Without a port the server uses O(port).
      - Mutually exclusive with O(nginx_upstream); one of the two is required. The list must not be empty.
    type: list
    elements: raw
  nginx_upstream:
    description:
      - Name of an C(upstream) block in the nginx configuration. Its servers are read from the output of
        C(nginx -T), across every configuration file nginx loaded (C(http) and C(stream) blocks alike).
      - Servers marked C(down) are reported with RV(servers[].down=true) but not checked or counted.
      - C(unix:) socket servers are reported as skipped and not counted.
      - A server without a port uses port 80, as nginx does; O(port) does not apply here.
      - Mutually exclusive with O(servers); one of the two is required.
    type: str
  nginx_binary:
    description:
      - The nginx executable used with O(nginx_upstream), a name looked up in E(PATH) and the usual sbin directories,
        or a path.
    type: str
    default: nginx
  nginx_config:
    description:
      - Configuration file passed to nginx with C(-c) when reading O(nginx_upstream). By default nginx reads its
        compiled-in configuration file.
    type: path
  check:
    description:
      - What to check on each server.
      - V(tcp) checks that the port accepts a connection (and completes the TLS handshake when TLS is on).
      - V(http) sends C(GET) O(path) and expects a status from O(expected_status).
      - V(websocket) performs the WebSocket opening handshake on O(path), and with O(echo=true) an echo and a clean close.
    type: str
    choices: [tcp, http, websocket]
    default: websocket
  port:
    description:
      - Port for entries of O(servers) that have none.
      - When not set, 443 with TLS and 80 without.
    type: int
  path:
    description:
      - Request path (and query) for O(check=http) and O(check=websocket). Must start with C(/).
    type: str
    default: /
  expected_status:
    description:
      - HTTP status codes that count as healthy for O(check=http).
      - The WebSocket check always expects 101.
    type: list
    elements: int
    default: [200]
  tls:
    description:
      - Connect with TLS (C(wss://)/C(https://)). A scheme in a server URL or C(tls) in a server dictionary overrides this.
      - The server name sent with SNI and checked against the certificate is the host of O(host_header) when set,
        otherwise the server's host.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify the server certificate and its name when TLS is used.
      - Set to V(false) only for servers whose certificates cannot be verified.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file with the CA certificates used to verify servers, instead of the system's CA store.
    type: path
  host_header:
    description:
      - Value of the C(Host) request header, for example the name nginx uses for the upstream.
      - Defaults to the server's host, with its port when that is not the default port of the scheme.
    type: str
  origin:
    description:
      - Value of the C(Origin) request header. No C(Origin) header is sent by default.
    type: str
  subprotocols:
    description:
      - WebSocket subprotocols offered in C(Sec-WebSocket-Protocol). When set, the server must select one of them.
      - When not set, a server that selects a subprotocol anyway fails the handshake, as RFC 6455 requires.
    type: list
    elements: str
  echo:
    description:
      - After the handshake, send O(payload) as a masked text frame and require the same text back (ping frames are
        answered while waiting), then close with code 1000 and require a close frame with code 1000 back.
      - Use it only with servers that echo messages. Without it the module sends a close frame and disconnects
        after the handshake without waiting.
    type: bool
    default: false
  payload:
    description:
      - Text sent and expected back with O(echo=true).
    type: str
    default: upstream_health
  timeout:
    description:
      - Seconds allowed for the whole check of one server, from connect to close.
      - Must be a finite number greater than 0 and at most 3600 (one hour); V(inf), V(nan) and larger values are refused.
      - Name resolution of a host name happens first and is not interrupted by this timeout.
    type: float
    default: 5.0
  max_workers:
    description:
      - Maximum number of servers checked at the same time (threads), from 1 to 1024.
    type: int
    default: 64
  min_healthy:
    description:
      - The least number of healthy servers for the task to succeed, as a count such as V(2) or as a percentage
        of the checked servers such as V(50%) (rounded up).
      - A count is a whole number, 0 or more, written with the ASCII digits C(0-9) only. A percentage is such a number,
        optionally with a decimal part (V(33.3%)), from V(0%) to V(100%). Nothing else is accepted, not even surrounding
        spaces or a trailing newline; V(inf), V(nan) and fractional counts are refused.
      - V(0) or V(0%) never fails, whatever the servers' state.
      - When it is not met the task fails with a message naming every unhealthy server with its failed stage and
        error, and still returns RV(servers).
    type: raw
    default: 1
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode runs the same checks.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - This module never changes anything; C(changed) is always C(false).
  - The checks run from the host the task runs on. Use C(delegate_to) to check from the nginx host itself or from
    another vantage point.
  - Reading O(nginx_upstream) runs C(nginx -T), which usually needs root (C(become)).
seealso:
  - module: ansible.builtin.wait_for
  - module: ansible.builtin.uri
"""

EXAMPLES = r"""
- name: Check that the WebSocket backends complete the opening handshake
  websocket.nginx.upstream_health:
    servers:
      - 10.0.0.11:8080
      - 10.0.0.12:8080
      - "[2001:db8::13]:8080"
    path: /ws
    host_header: chat.example.com

- name: Check the servers of an nginx upstream block, echo included, and require half of them
  websocket.nginx.upstream_health:
    nginx_upstream: websocket_backend
    path: /ws
    echo: true
    payload: ping from ansible
    min_healthy: 50%
    timeout: 3
  become: true
  register: backend_health

- name: Show the unhealthy ones
  ansible.builtin.debug:
    msg: "{{ backend_health.servers | rejectattr('healthy') | rejectattr('skipped') | map(attribute='address') }}"

- name: Check backends over TLS with a private CA and a subprotocol
  websocket.nginx.upstream_health:
    servers:
      - wss://ws1.internal:8443/socket
      - host: ws2.internal
        port: 8443
        path: /socket
        tls: true
    ca_path: /etc/ssl/private-ca.pem
    subprotocols: [chat.v2, chat.v1]
    origin: https://chat.example.com

- name: Plain HTTP health endpoint, 200 or 204 accepted, never fail the play
  websocket.nginx.upstream_health:
    servers: [app1, app2]
    port: 8000
    check: http
    path: /healthz
    expected_status: [200, 204]
    min_healthy: 0
  register: http_health

- name: Only the TCP port
  websocket.nginx.upstream_health:
    servers: "{{ groups['backends'] }}"
    port: 9000
    check: tcp
    min_healthy: 100%
"""

RETURN = r"""
servers:
  description: One result per server, in the order given or found in the configuration.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The server as V(host:port) (V([v6addr]:port) for IPv6), or V(unix:/path) for a unix socket.
      type: str
      sample: 127.0.0.1:8080
    host:
      description: Host name or IP address (IPv6 without brackets); null for unix sockets.
      type: str
      sample: 127.0.0.1
    port:
      description: TCP port; null for unix sockets.
      type: int
      sample: 8080
    tls:
      description: Whether the check used TLS.
      type: bool
      sample: false
    path:
      description: Request path used by the http and websocket checks.
      type: str
      sample: /ws
    healthy:
      description: Whether the server passed the check; null when it was skipped.
      type: bool
      sample: true
    stage:
      description:
        - The stage that failed, null when healthy or skipped.
        - V(connect) the TCP connection failed (refused, unreachable, name not resolved).
        - V(tls) the TLS handshake or the certificate verification failed.
        - V(handshake) the HTTP exchange failed, the status was unexpected, the server refused the upgrade or the
          connection closed before a full response.
        - V(accept-key) the server answered 101 with a missing or wrong C(Sec-WebSocket-Accept).
        - V(echo) the echoed message was missing or different.
        - V(close) the closing handshake did not end with a close frame with code 1000.
        - V(timeout) O(timeout) expired; RV(servers[].error) says during which step.
      type: str
      sample: handshake
    status:
      description: HTTP status code received, null when there was none.
      type: int
      sample: 101
    latency_ms:
      description: Duration of the whole check in milliseconds; null when skipped.
      type: float
      sample: 2.417
    error:
      description: Why the check failed; null when healthy or skipped.
      type: str
      sample: "the server refused the upgrade: HTTP status 426 Upgrade Required, expected 101"
    subprotocol:
      description: The WebSocket subprotocol selected by the server, if any.
      type: str
      sample: chat.v2
    down:
      description: Whether nginx marks the server C(down); such servers are not checked or counted.
      type: bool
      sample: false
    backup:
      description: Whether nginx marks the server C(backup). Backup servers are checked and counted.
      type: bool
      sample: false
    skipped:
      description: Whether the server was not checked (marked C(down), or a unix socket).
      type: bool
      sample: false
    skip_reason:
      description: Why the server was skipped, null otherwise.
      type: str
      sample: marked down in nginx
    source:
      description: V(file:line) of the C(server) line for servers read from nginx, null otherwise.
      type: str
      sample: /etc/nginx/conf.d/backend.conf:3
    params:
      description: Parameters of the nginx C(server) line (such as V(weight=3)); empty for listed servers.
      type: list
      elements: str
      sample: [weight=3, max_fails=2]
total:
  description: Number of servers checked (skipped ones are not counted).
  returned: always
  type: int
  sample: 3
healthy:
  description: Number of healthy servers.
  returned: always
  type: int
  sample: 2
unhealthy:
  description: Number of checked servers that are not healthy.
  returned: always
  type: int
  sample: 1
required:
  description: Number of healthy servers needed, computed from O(min_healthy).
  returned: always
  type: int
  sample: 1
upstream:
  description: The upstream name from O(nginx_upstream), null when O(servers) was used.
  returned: always
  type: str
  sample: websocket_backend
msg:
  description: Summary.
  returned: always
  type: str
  sample: 2 of 3 servers healthy (1 required)
"""

import math
import re
import ssl

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text
from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.websocket.nginx.plugins.module_utils.nginx_config import find_upstreams, upstream_servers
from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import (
    check_all,
    HTTP_TOKEN,
    format_address,
    is_request_path,
    make_ssl_context,
    parse_server_spec,
    run_check,
    split_host_port,
    validate_port,
)

MAX_WORKERS_LIMIT = 1024
MAX_TIMEOUT = 3600
SERVER_KEYS = ('host', 'port', 'path', 'tls')
_CTL = re.compile(r'[\x00-\x1f\x7f]')


def parse_min_healthy(value):
    """Return ``(kind, number)`` with kind ``count`` or ``percent``; raise ValueError when invalid."""
    error = ValueError(
        "min_healthy must be a number of servers (0 or more) or a percentage from 0%% to 100%% such as '50%%', got '%s'" % (value,)
    )
    if isinstance(value, bool) or value is None:
        raise error
    if isinstance(value, int):
        if value < 0:
            raise error
        return 'count', value
    if isinstance(value, float):
        # inf and nan are not whole numbers (int() of them would raise OverflowError or ValueError).
        if not math.isfinite(value) or value < 0 or not value.is_integer():
            raise error
        return 'count', int(value)
    if not isinstance(value, str):
        raise error
    # ASCII digits only: str.isdigit() and \d also accept other Unicode digits such as '٣' or '²', and
    # re.match with '$' accepts a trailing newline, hence fullmatch.
    percent = re.fullmatch(r'([0-9]+(?:\.[0-9]+)?)%', value)
    if percent:
        number = float(percent.group(1))
        if number > 100:
            raise error
        return 'percent', number
    if not re.fullmatch(r'[0-9]+', value):
        raise error
    try:
        return 'count', int(value)
    except ValueError:  # more digits than int() converts (sys.get_int_max_str_digits())
        raise error


def required_healthy(min_healthy, total):
    kind, number = min_healthy
    if kind == 'count':
        return number
    return int(math.ceil(number * total / 100.0 - 1e-9))


def _check_text(name, value):
    if value is not None and _CTL.search(value):
        raise ValueError('%s must not contain control characters' % name)


def _check_path(name, value):
    if not is_request_path(value):
        raise ValueError("%s must start with '/' and contain no spaces or control characters, got '%s'" % (name, value))


def _target(address, host, port, tls, path, **extra):
    target = {
        'address': address, 'host': host, 'port': port, 'tls': tls, 'path': path,
        'down': False, 'backup': False, 'skipped': False, 'skip_reason': None, 'source': None, 'params': [],
    }
    target.update(extra)
    return target


def targets_from_servers(servers, params):
    """Turn the servers option into targets; raise ValueError naming the bad entry."""
    if not servers:
        raise ValueError('servers must not be empty')
    targets = []
    for index, item in enumerate(servers):
        where = 'servers[%d]' % index
        try:
            if isinstance(item, dict):
                unknown = sorted(set(item) - set(SERVER_KEYS))
                if unknown:
                    raise ValueError('unknown key(s) %s; valid keys are %s' % (', '.join(unknown), ', '.join(SERVER_KEYS)))
                host = item.get('host')
                if not isinstance(host, str) or not host.strip():
                    raise ValueError('host is required and must be a non-empty string')
                host, embedded_port = split_host_port(host)
                tls = params['tls'] if item.get('tls') is None else boolean(item['tls'], strict=True)
                if item.get('port') is not None:
                    if embedded_port is not None:
                        raise ValueError("both a port in host '%s' and the key port are given" % item['host'])
                    port = validate_port(item['port'])
                elif embedded_port is not None:
                    port = embedded_port
                else:
                    port = params['port'] if params['port'] is not None else (443 if tls else 80)
                path = item.get('path')
                path = params['path'] if path is None else to_text(path)
            elif isinstance(item, str):
                spec = parse_server_spec(item, default_port=params['port'], default_tls=params['tls'], default_path=params['path'])
                host, port, tls, path = spec['host'], spec['port'], spec['tls'], spec['path']
            else:
                raise ValueError('expected a string or a dictionary, got %s' % type(item).__name__)
            _check_path('path', path)
        except (ValueError, TypeError) as exc:
            raise ValueError('%s (%s): %s' % (where, to_text(item), to_text(exc)))
        targets.append(_target(format_address(host, port), host, port, tls, path))
    return targets


def targets_from_nginx(module, params):
    nginx = module.get_bin_path(params['nginx_binary'], required=False, opt_dirs=['/usr/sbin', '/usr/local/sbin', '/usr/local/nginx/sbin'])
    if not nginx:
        module.fail_json(msg="nginx_binary '%s' was not found; set nginx_binary to the nginx executable" % params['nginx_binary'])
    command = [nginx, '-T']
    if params['nginx_config']:
        command.extend(['-c', params['nginx_config']])
    rc, out, err = module.run_command(command)
    if rc != 0:
        module.fail_json(msg='%s failed (rc=%d): %s' % (' '.join(command), rc, (err or out).strip()), rc=rc, stdout=out, stderr=err)
    name = params['nginx_upstream']
    try:
        servers, errors = upstream_servers(out, name)
    except KeyError:
        found, errors = find_upstreams(out)
        msg = "upstream '%s' was not found in the output of %s" % (name, ' '.join(command))
        msg += '; upstreams found: %s' % (', '.join(sorted(found)) if found else 'none')
        if errors:
            msg += '; parse errors: %s' % '; '.join(errors)
        module.fail_json(msg=msg)
    for error in errors:
        module.warn('nginx configuration not fully parsed: %s' % error)
    targets = []
    for server in servers:
        extra = {
            'down': server['down'], 'backup': server['backup'],
            'source': '%s:%d' % (server['source'], server['line']), 'params': server['params'],
        }
        if server['unix'] is not None:
            target = _target(server['address'], None, None, params['tls'], params['path'], **extra)
            target['skipped'] = True
            target['skip_reason'] = 'unix sockets are not supported'
        else:
            port = server['port']
            target = _target(server['address'], server['host'], port, params['tls'], params['path'], **extra)
        if server['down']:
            target['skipped'] = True
            target['skip_reason'] = 'marked down in nginx'
        targets.append(target)
    return targets


def check_targets(targets, params, ssl_context):
    """Check every target concurrently, filling in the result keys in place."""
    to_check = [target for target in targets if not target['skipped']]
    for target in targets:
        target.update({'healthy': None, 'stage': None, 'status': None, 'latency_ms': None, 'error': None, 'subprotocol': None})
    if not to_check:
        return

    def probe(target):
        return run_check(
            target['host'], target['port'],
            check=params['check'], tls=target['tls'], path=target['path'], timeout=params['timeout'],
            expected_status=params['expected_status'], host_header=params['host_header'], origin=params['origin'],
            subprotocols=params['subprotocols'], echo=params['echo'], payload=params['payload'],
            ssl_context=ssl_context,
        )

    check_all(to_check, probe, params['max_workers'])


def validate(params):
    """Check option values that the argument spec cannot; raise ValueError."""
    if params['port'] is not None:
        try:
            validate_port(params['port'])
        except ValueError as exc:
            raise ValueError('option port: %s' % exc)
    timeout = params['timeout']
    if not (math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ValueError('timeout must be a number of seconds greater than 0 and at most %d, got %s' % (MAX_TIMEOUT, timeout))
    if not 1 <= params['max_workers'] <= MAX_WORKERS_LIMIT:
        raise ValueError('max_workers must be between 1 and %d, got %d' % (MAX_WORKERS_LIMIT, params['max_workers']))
    if not params['expected_status']:
        raise ValueError('expected_status must not be empty')
    for status in params['expected_status']:
        if not 100 <= status <= 599:
            raise ValueError('expected_status values must be HTTP status codes from 100 to 599, got %d' % status)
    _check_path('path', params['path'])
    _check_text('host_header', params['host_header'])
    _check_text('origin', params['origin'])
    if params['subprotocols'] is not None:
        if not params['subprotocols']:
            raise ValueError('subprotocols must not be an empty list')
        for protocol in params['subprotocols']:
            if not HTTP_TOKEN.fullmatch(protocol):
                raise ValueError("subprotocols must be HTTP tokens (no spaces, commas or quotes), got '%s'" % protocol)
    if params['nginx_upstream'] is not None and not params['nginx_upstream'].strip():
        raise ValueError('nginx_upstream must not be empty')
    return parse_min_healthy(params['min_healthy'])


def main():
    module = AnsibleModule(
        argument_spec=dict(
            servers=dict(type='list', elements='raw'),
            nginx_upstream=dict(type='str'),
            nginx_binary=dict(type='str', default='nginx'),
            nginx_config=dict(type='path'),
            check=dict(type='str', default='websocket', choices=['tcp', 'http', 'websocket']),
            port=dict(type='int'),
            path=dict(type='str', default='/'),
            expected_status=dict(type='list', elements='int', default=[200]),
            tls=dict(type='bool', default=False),
            validate_certs=dict(type='bool', default=True),
            ca_path=dict(type='path'),
            host_header=dict(type='str'),
            origin=dict(type='str'),
            subprotocols=dict(type='list', elements='str'),
            echo=dict(type='bool', default=False),
            payload=dict(type='str', default='upstream_health'),
            timeout=dict(type='float', default=5.0),
            max_workers=dict(type='int', default=64),
            min_healthy=dict(type='raw', default=1),
        ),
        mutually_exclusive=[('servers', 'nginx_upstream')],
        required_one_of=[('servers', 'nginx_upstream')],
        supports_check_mode=True,
    )
    params = module.params

    try:
        min_healthy = validate(params)
        if params['servers'] is not None:
            targets = targets_from_servers(params['servers'], params)
    except ValueError as exc:
        module.fail_json(msg=to_text(exc))
    if params['servers'] is None:
        targets = targets_from_nginx(module, params)

    ssl_context = None
    if any(target['tls'] and not target['skipped'] for target in targets):
        try:
            ssl_context = make_ssl_context(params['validate_certs'], params['ca_path'])
        except (OSError, ssl.SSLError, ValueError) as exc:
            module.fail_json(msg="cannot load CA certificates from ca_path '%s': %s" % (params['ca_path'], to_text(exc)))

    check_targets(targets, params, ssl_context)

    checked = [target for target in targets if not target['skipped']]
    healthy = sum(1 for target in checked if target['healthy'])
    total = len(checked)
    required = required_healthy(min_healthy, total)
    summary = '%d of %d servers healthy (%d required)' % (healthy, total, required)
    result = dict(
        changed=False,
        servers=targets,
        total=total,
        healthy=healthy,
        unhealthy=total - healthy,
        required=required,
        upstream=params['nginx_upstream'],
        msg=summary,
    )
    if healthy < required:
        failures = [
            '%s (stage %s: %s)' % (target['address'], target['stage'], target['error'])
            for target in checked if not target['healthy']
        ]
        result['msg'] = 'min_healthy %s not met: %s. Unhealthy: %s' % (
            params['min_healthy'], summary, '; '.join(failures) if failures else 'none')
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
