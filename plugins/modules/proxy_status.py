#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: proxy_status
short_description: Report how busy an nginx WebSocket proxy is, in one call per host
version_added: "1.1.0"
description:
  - Reads, on the host, nginx's C(stub_status) page at O(status_url) (which the P(websocket.nginx.nginx#role) role serves
    on O(websocket.nginx.nginx#role:main:nginx_status_listen) at
    O(websocket.nginx.nginx#role:main:nginx_status_path)), nginx's processes from C(/proc), and nginx's established
    TCP connections from C(/proc/net/tcp) and C(/proc/net/tcp6), matched to the sockets that nginx's processes hold
    (C(/proc/PID/fd)). No C(ss) or C(netstat) is needed.
  - The nginx reported is the one serving O(status_url) - the master process holding its listening socket - with every
    child of that master.
  - "A connection whose local address is one of nginx's listening sockets is a client connection; every other one goes
    to an upstream server and is counted per server address (IPv4, IPv6 and v4-mapped IPv6 alike), and per whether a
    current worker or an old worker holds it. Old workers are those still draining after a reload (titled
    C(nginx: worker process is shutting down)); they keep their WebSockets until these close or
    C(worker_shutdown_timeout) passes."
  - "Open WebSockets are the established connections to the servers of the upstreams in O(upstreams) that carry
    WebSockets (C(websocket: true)): nginx holds one upstream connection per proxied WebSocket. An upstream that also
    serves plain HTTP adds its idle keep-alive connections to that count."
  - With O(capacity), the share of it that the open WebSockets use is returned; the module warns at O(warn_percent) and
    fails at O(fail_percent).
  - The module never changes anything, so it always returns C(changed=false), and it runs the same in check mode.
  - It only needs the Python standard library on the managed host.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  status_url:
    description:
      - The C(http://) URL of nginx's C(stub_status) on this host, fetched without a proxy and without following
        redirects.
      - The P(websocket.nginx.nginx#role) role serves it at C(http://) + O(websocket.nginx.nginx#role:main:nginx_status_listen) +
        O(websocket.nginx.nginx#role:main:nginx_status_path).
    type: str
    default: http://127.0.0.1:8079/stub_status
  capacity:
    description:
      - The number of concurrent WebSockets the proxy is sized for, the P(websocket.nginx.nginx#role) role's
        O(websocket.nginx.nginx#role:main:nginx_websocket_capacity). A whole number, at least 1.
      - Without it, RV(capacity_percent) is null and O(warn_percent) and O(fail_percent) do not apply.
    type: int
  upstreams:
    description:
      - Which servers belong to which upstream, and which upstreams carry WebSockets.
      - Without upstreams, every connection to an upstream server is taken for a WebSocket.
      - A connection to a server that is in no upstream given is reported in RV(other_servers).
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: The upstream's name, unique in the list.
        type: str
        required: true
      servers:
        description:
          - Its servers as nginx's C(server) lines write them - V(10.0.0.5:8765), V([2001:db8::5]:8765), V(backend-1:8765),
            V(backend-1) (port 80) or V(unix:/path).
          - A host name is resolved here, as nginx resolved it when it loaded its configuration; its connections are
            those to every address it resolves to.
          - C(unix:) sockets are listed but not counted.
        type: list
        elements: str
        required: true
      websocket:
        description: Whether the upstream carries WebSockets, so its connections count as open WebSockets.
        type: bool
        default: true
  warn_percent:
    description:
      - The module warns when the open WebSockets use this share of O(capacity) or more (in percent, greater than 0).
    type: float
    default: 80
  fail_percent:
    description:
      - The module fails, with the report, when the open WebSockets use this share of O(capacity) or more (in percent,
        greater than 0). Needs O(capacity).
      - By default it never fails for the share.
    type: float
  timeout:
    description:
      - Seconds allowed for connecting to O(status_url) and for each read of its answer; greater than 0, at most 300.
    type: float
    default: 5
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode reports the same.
  diff_mode:
    support: none
  platform:
    platforms: posix
    details: Linux only (C(/proc)).
notes:
  - Reading the open files of nginx's processes (C(/proc/PID/fd)) needs root (C(become)).
  - C(stub_status) counts every open WebSocket among its C(writing) connections, and once in C(active_connections);
    the upstream side of a WebSocket is not a client connection and is not in C(stub_status).
  - Memory is each process's resident set size (RSS); the pages nginx's processes share count once per process.
  - The same code runs as a plain script on a host, C(python3 nginx_status.py --status-url URL [--capacity N]
    [--upstreams-file FILE] [--format json|prometheus|table]), from the collection's C(plugins/module_utils).
seealso:
  - module: websocket.nginx.upstream_health
  - module: websocket.nginx.nginx_reload
"""

EXAMPLES = r"""
- name: Report how busy the proxy is
  websocket.nginx.proxy_status:
    capacity: 10000
    upstreams:
      - name: app_ws
        servers: [10.0.0.5:8765, 10.0.0.6:8765]
      - name: api
        servers: [10.0.0.7:8080]
        websocket: false
  become: true
  register: proxy_status

- name: Print it
  ansible.builtin.debug:
    msg: "{{ proxy_status.table }}"

# Fail when 95% of the capacity is in use (and warn from 80%, the default)
- name: Check the proxy has room
  websocket.nginx.proxy_status:
    capacity: "{{ nginx_websocket_capacity }}"
    fail_percent: 95
  become: true

# The whole collection does it with the role's models: ansible-playbook -i inventory websocket.nginx.status
"""

RETURN = r"""
status_url:
  description: The status page read.
  returned: always
  type: str
  sample: http://127.0.0.1:8079/stub_status
active_connections:
  description: C(stub_status)'s active client connections (an open WebSocket counts once).
  returned: success
  type: int
  sample: 1242
accepts:
  description: Client connections accepted since nginx started (C(stub_status)).
  returned: success
  type: int
  sample: 5021
handled:
  description: Client connections handled since nginx started (C(stub_status)).
  returned: success
  type: int
  sample: 5021
dropped:
  description: RV(accepts) - RV(handled), the client connections nginx dropped since it started (no free
    C(worker_connections)).
  returned: success
  type: int
  sample: 0
requests:
  description: Client requests since nginx started (C(stub_status)).
  returned: success
  type: int
  sample: 6310
reading:
  description: Connections reading a request header (C(stub_status)).
  returned: success
  type: int
  sample: 0
writing:
  description: Connections with a request being answered (C(stub_status)); open WebSockets are among them.
  returned: success
  type: int
  sample: 1240
waiting:
  description: Idle keep-alive client connections (C(stub_status)).
  returned: success
  type: int
  sample: 2
capacity:
  description: O(capacity), or null.
  returned: success
  type: int
  sample: 10000
websockets:
  description: Open WebSockets, the established connections to the servers of the WebSocket upstreams (each server
    address counted once however many upstreams list it), on current and old workers.
  returned: success
  type: int
  sample: 1238
capacity_percent:
  description: RV(websockets) in percent of O(capacity), rounded to 0.1; null without O(capacity).
  returned: success
  type: float
  sample: 12.4
client_connections:
  description: Established client connections that nginx's processes hold, from C(/proc).
  returned: success
  type: int
  sample: 1240
upstream_connections:
  description: Established connections from nginx to any upstream server, from C(/proc).
  returned: success
  type: int
  sample: 1238
masters:
  description: nginx's master process (two during a binary upgrade), with its resident memory.
  returned: success
  type: list
  elements: dict
  sample: [{"pid": 812, "rss_bytes": 6553600}]
workers:
  description: The current worker processes, C(count), C(pids) and their resident memory in C(rss_bytes).
  returned: success
  type: dict
  sample: {"count": 2, "pids": [1417, 1418], "rss_bytes": 38010880}
old_workers:
  description:
    - "The old workers still draining after reloads (titled C(nginx: worker process is shutting down)): C(count),
      C(pids), C(rss_bytes), and the C(client_connections), C(upstream_connections) and C(websockets) they still hold."
  returned: success
  type: dict
  sample: {"count": 1, "pids": [1301], "rss_bytes": 14680064, "client_connections": 12, "upstream_connections": 12,
           "websockets": 12}
helpers:
  description: nginx's other processes (cache manager, cache loader), C(count), C(pids), C(rss_bytes).
  returned: success
  type: dict
  sample: {"count": 0, "pids": [], "rss_bytes": 0}
rss_bytes:
  description: Resident memory of all of nginx's processes, summed.
  returned: success
  type: int
  sample: 59244544
upstreams:
  description:
    - Per upstream of O(upstreams), its open C(connections) and those C(on_old_workers), and per server its
      C(address) as given, the C(endpoints) it resolved to, its C(connections) and C(on_old_workers) (null when not
      counted), the other upstreams that list the same address (C(shared_with); its connections are the same ones),
      and C(error) (why it was not counted) or null.
  returned: success
  type: list
  elements: dict
  sample:
    - name: app_ws
      websocket: true
      connections: 1238
      on_old_workers: 12
      servers:
        - {address: "10.0.0.5:8765", endpoints: ["10.0.0.5:8765"], connections: 620, on_old_workers: 6,
           shared_with: [], error: null}
        - {address: "10.0.0.6:8765", endpoints: ["10.0.0.6:8765"], connections: 618, on_old_workers: 6,
           shared_with: [], error: null}
other_servers:
  description: Connections from nginx to addresses that are the server of no upstream in O(upstreams), per address.
  returned: success
  type: list
  elements: dict
  sample: [{"address": "10.0.0.9:5432", "connections": 1, "on_old_workers": 0}]
table:
  description: The report as lines of text, for M(ansible.builtin.debug).
  returned: success
  type: list
  elements: str
  sample:
    - "WebSockets open: 1238 of a capacity of 10000 (12.4%), 12 of them on old workers"
    - "client connections: 1242 active (reading 0, writing 1240, waiting 2); 1238 to upstream servers"
    - "since nginx started: 5021 accepted, 5021 handled, 0 dropped (no free worker_connections); 6310 requests"
    - "processes: 1 master (6.2 MiB), 2 workers (36.2 MiB), 1 old worker draining (14.0 MiB, holding 12 client and 12
      upstream connections)"
    - "upstream  carries    server          open  on old workers"
    - "app_ws    websocket  10.0.0.5:8765    620               6"
    - "app_ws    websocket  10.0.0.6:8765    618               6"
msg:
  description: A summary, or why the module failed.
  returned: always
  type: str
  sample: "1238 open WebSockets (12.4% of a capacity of 10000), 12 of them on 1 old worker"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.websocket.nginx.plugins.module_utils.nginx_status import (
    DEFAULT_STATUS_URL, DEFAULT_TIMEOUT, DEFAULT_WARN_PERCENT, StatusError, capacity_verdict, check_capacity,
    check_percent, check_timeout, check_upstreams, format_table, parse_status_url, status_report)


def validate(params):
    """Check the values the argument spec cannot; raise ValueError with one message."""
    parse_status_url(params['status_url'])
    check_capacity(params['capacity'])
    check_percent('warn_percent', params['warn_percent'])
    check_percent('fail_percent', params['fail_percent'])
    if params['fail_percent'] is not None and params['capacity'] is None:
        raise ValueError('fail_percent needs capacity (the number of WebSockets the proxy is sized for, the nginx '
                         "role's nginx_websocket_capacity): without it there is no share to compare")
    check_timeout(params['timeout'])
    # websocket defaults to true: the argument spec fills it in.
    return check_upstreams(params['upstreams'])


def summary(report):
    share = ''
    if report['capacity'] is not None:
        share = ' (%g%% of a capacity of %d)' % (report['capacity_percent'], report['capacity'])
    old = report['old_workers']
    return '%d open WebSockets%s, %d of them on %d old worker%s' % (
        report['websockets'], share, old['websockets'], old['count'], '' if old['count'] == 1 else 's')


def main():
    module = AnsibleModule(
        argument_spec=dict(
            status_url=dict(type='str', default=DEFAULT_STATUS_URL),
            capacity=dict(type='int'),
            upstreams=dict(type='list', elements='dict', default=[], options=dict(
                name=dict(type='str', required=True),
                servers=dict(type='list', elements='str', required=True),
                websocket=dict(type='bool', default=True),
            )),
            warn_percent=dict(type='float', default=DEFAULT_WARN_PERCENT),
            fail_percent=dict(type='float'),
            timeout=dict(type='float', default=DEFAULT_TIMEOUT),
        ),
        supports_check_mode=True,
    )
    params = module.params
    try:
        upstreams = validate(params)
    except ValueError as exc:
        module.fail_json(msg=to_text(exc), status_url=params['status_url'])
    try:
        report = status_report(params['status_url'], params['capacity'], upstreams, params['timeout'])
    except StatusError as exc:
        module.fail_json(msg=exc.msg, **dict(exc.details, status_url=params['status_url']))
    for note in report.pop('notes'):
        module.warn(note)
    warning, failure = capacity_verdict(report, params['warn_percent'], params['fail_percent'])
    result = dict(report, changed=False, table=format_table(report), msg=summary(report))
    if failure:
        module.fail_json(**dict(result, msg=failure))
    if warning:
        module.warn(warning)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
