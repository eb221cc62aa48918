# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A real nginx set up as a small WebSocket proxy, for the tests of nginx_status and proxy_status.

It listens on an IPv4 loopback address of its own (127.x.y.z), with its stub_status on a port of its own.
WebSocket locations /a/ and /b/ have one upstream and one loopback echo server each (so the test knows which
server each WebSocket reaches); /v6/ goes to an echo server on [::1] and /mapped/ to one written as a v4-mapped
address [::ffff:127.0.0.1] (when the machine has ::1); /plain/ is plain HTTP with upstream keep-alive (its idle
connection stays open after a request). The proxy also listens on [::1].
"""

from __future__ import annotations

import contextlib
import os
import random
import sys

import pytest

from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port, ipv6_available
from ansible_collections.websocket.nginx.tests.unit.nginx_process import NGINX, Nginx, http_get

WEBSOCKET_LOCATION = """
    location /%(path)s/ {
        proxy_pass http://%(upstream)s;
        proxy_http_version 1.1;
        proxy_set_header Upgrade $http_upgrade;
        proxy_set_header Connection "upgrade";
        proxy_read_timeout 60s;
    }
"""


def cannot_run_live():
    if not sys.platform.startswith('linux'):
        return 'reads /proc (Linux only)'
    if not os.access(NGINX, os.X_OK):
        return 'needs %s (make test-tools)' % NGINX
    if os.geteuid() != 0:
        return "reads nginx's /proc/PID/fd, as root"
    return None


# Tests with a real nginx (and /proc).
live = pytest.mark.skipif(cannot_run_live() is not None, reason=cannot_run_live() or '')


class StatusProxy(object):
    """``nginx`` (tests/unit/nginx_process.Nginx), ``address`` (its IPv4 listens), ``status_url``, ``proxy_port`` (and
    ``proxy_port_v6`` on [::1]), ``servers``: upstream name -> the address written in its ``server`` line."""

    def __init__(self, directory, ws_servers, http_port, status_host=None):
        self.ipv6 = ipv6_available()
        # nginx listens on an IPv4 loopback address of its own: the counts are exact only if no other client
        # connects, and other tests' clients connect to ports of 127.0.0.1 that they believe to be their own.
        self.address = '127.%d.%d.%d' % (random.randint(1, 254), random.randint(0, 255), random.randint(1, 254))
        self.nginx = Nginx(directory, host=self.address)
        self.status_host = status_host or self.address
        self.servers = {
            'ws_a': '%s:%d' % (LOOPBACK, ws_servers.start()),
            'ws_b': '%s:%d' % (LOOPBACK, ws_servers.start()),
            'plain': '%s:%d' % (LOOPBACK, http_port),
        }
        if self.ipv6:
            self.servers['ws_v6'] = '[::1]:%d' % ws_servers.start(host='::1')
            self.servers['ws_mapped'] = '[::ffff:127.0.0.1]:%d' % ws_servers.start()
        self.include = directory / 'conf.d'
        self.include.mkdir()
        self.configure()

    def configure(self):
        """Choose free ports for nginx's listens and write its configuration (again, when a port was taken)."""
        self.nginx.port = free_closed_port(self.address)
        taken = {self.nginx.port}
        self.status_port = distinct_port(taken, self.status_host)
        self.status_address = ('[%s]:%d' if ':' in self.status_host else '%s:%d') % (self.status_host, self.status_port)
        self.status_url = 'http://%s/stub_status' % self.status_address
        self.proxy_port = distinct_port(taken, self.address)
        self.proxy_port_v6 = distinct_port(taken, '::1') if self.ipv6 else None
        (self.include / 'status_proxy.conf').write_text(self.config(), encoding='utf-8')
        self.nginx.write('not the status page', include_dir=self.include)

    def config(self):
        upstreams = ''.join('upstream %s {\n    server %s;\n%s}\n' % (name, address, '    keepalive 4;\n' if name == 'plain' else '')
                            for name, address in self.servers.items())
        locations = ''.join(WEBSOCKET_LOCATION % {'path': name[3:], 'upstream': name}
                            for name in self.servers if name.startswith('ws_'))
        listen_v6 = '    listen [::1]:%d;\n' % self.proxy_port_v6 if self.ipv6 else ''
        return (
            upstreams
            + 'server {\n    listen %s;\n    location = /stub_status { stub_status; }\n'
              '    location / { return 404; }\n}\n' % self.status_address
            + 'server {\n    listen %s:%d;\n%s' % (self.address, self.proxy_port, listen_v6)
            + locations
            + '    location /plain/ {\n        proxy_pass http://plain/;\n        proxy_http_version 1.1;\n'
              '        proxy_set_header Connection "";\n    }\n}\n'
        )

    def upstreams(self, **websocket):
        """The ``upstreams`` argument: every upstream, WebSocket ones but ``plain`` (``websocket`` overrides)."""
        return [{'name': name, 'servers': [address], 'websocket': websocket.get(name, name != 'plain')}
                for name, address in self.servers.items()]

    def url(self, path, ipv6=False):
        if ipv6:
            return 'ws://[::1]:%d%s' % (self.proxy_port_v6, path)
        return 'ws://%s:%d%s' % (self.address, self.proxy_port, path)

    def get(self, path):
        """``(status, body)`` of ``GET path`` on the proxy's IPv4 listen, on a new connection."""
        return http_get(self.proxy_port, path, host=self.address)


def distinct_port(taken, host=LOOPBACK):
    """A free port that is none of ``taken`` (then added to it): two listens of one port would share it."""
    while True:
        port = free_closed_port(host)
        if port not in taken:
            taken.add(port)
            return port


def open_websockets(stack, url, count):
    """``count`` WebSockets to ``url`` (entered in the ExitStack ``stack``), each shown to echo through nginx."""
    from websockets.sync.client import connect  # pylint: disable=import-outside-toplevel

    sockets = []
    for index in range(count):
        ws = stack.enter_context(connect(url, open_timeout=5, close_timeout=2, ping_interval=None, compression=None,
                                         proxy=None))
        ws.send('hello %d' % index)
        assert ws.recv(timeout=5) == 'hello %d' % index
        sockets.append(ws)
    return sockets


@contextlib.contextmanager
def running(proxy, attempts=3):
    """``proxy`` with its nginx started; new ports when one was taken meanwhile (free_closed_port cannot hold it)."""
    for attempt in range(attempts):
        try:
            proxy.nginx.start()
            break
        except RuntimeError as exc:
            proxy.nginx.stop()
            if 'Address already in use' not in str(exc) or attempt == attempts - 1:
                raise
            proxy.configure()
    try:
        yield proxy
    finally:
        proxy.nginx.stop()
