# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers for the unit tests: a module runner, a test CA and real servers on loopback.

Imported as ansible_collections.websocket.nginx.tests.unit.helpers (see conftest.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import itertools
import logging
import os
import re
import socket
import ssl
import threading

from unittest import mock

from ansible.module_utils import basic
from ansible.module_utils.common.text.converters import to_bytes

try:
    from ansible.module_utils import testing as ansible_testing
except ImportError:  # ansible-core < 2.19
    ansible_testing = None

from ansible_collections.websocket.nginx.tests.support import pki

LOOPBACK = '127.0.0.1'
MAX_CONNECTIONS = 256
JOIN_TIMEOUT = 5.0


def ipv6_available():
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(('::1', 0))
    except OSError:
        return False
    return True


def ansible_wording(message):
    """``message`` (a text of ansible-core's) as ansible-core 2.19 and later word it: before 2.19 a type is
    named as "<class 'str'>" instead of "str" (make compat runs the tests on 2.17)."""
    return re.sub(r"<class '(\w+)'>", r'\1', message)


# The ports free_closed_port hands out: below the kernel's ephemeral range (32768-60999 on Debian), so that no server
# given a port by the kernel (bind to port 0), no outgoing connection and no port docker publishes for the molecule
# scenarios running beside the unit tests can take one a test has picked; and a block of its own for each
# pytest-xdist worker, in turn, so that two workers never pick the same one. (With ports from the kernel, a port one
# test picked and had not bound yet was now and then given to another test's server.)
PORT_BLOCK = 3000
PORT_BASE = 20000
_next_port = itertools.count()


def _port_block_start():
    worker = os.environ.get('PYTEST_XDIST_WORKER', '')  # gw0, gw1, ...; empty without xdist
    index = int(worker[2:]) + 1 if worker.startswith('gw') and worker[2:].isdigit() else 0
    return PORT_BASE + (index % 4) * PORT_BLOCK


def free_closed_port(host=LOOPBACK):
    """A port that was free a moment ago and has no listener now (connection refused): the next one of this
    process's block that can be bound."""
    family = socket.AF_INET6 if ':' in host else socket.AF_INET
    start = _port_block_start()
    for _attempt in range(PORT_BLOCK):
        port = start + next(_next_port) % PORT_BLOCK
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            try:
                sock.bind((host, port))
            except OSError:  # taken, or still in TIME_WAIT: the next one
                continue
        return port
    raise RuntimeError('no free port in %d-%d' % (start, start + PORT_BLOCK - 1))


# ---------------------------------------------------------------------------
# Driving the module
# ---------------------------------------------------------------------------

@contextlib.contextmanager
def _patch_module_args_before_2_19(args):
    """ansible-core before 2.19 has no ansible.module_utils.testing (make compat runs the tests on 2.17):
    AnsibleModule reads its arguments from basic._ANSIBLE_ARGS."""
    with mock.patch.object(basic, '_ANSIBLE_ARGS', to_bytes(json.dumps({'ANSIBLE_MODULE_ARGS': args}))):
        yield


patch_module_args = ansible_testing.patch_module_args if ansible_testing else _patch_module_args_before_2_19


class AnsibleExitJson(Exception):
    pass


class AnsibleFailJson(Exception):
    pass


def _exit_json(self, **kwargs):  # pylint: disable=unused-argument
    kwargs.setdefault('changed', False)
    raise AnsibleExitJson(kwargs)


def _fail_json(self, msg=None, **kwargs):  # pylint: disable=unused-argument
    kwargs['failed'] = True
    kwargs['msg'] = msg
    raise AnsibleFailJson(kwargs)


def run_module(main, args, check_mode=False):
    """Run a module's ``main`` with ``args``; return its result dict (``failed`` set when it failed, ``warnings``
    the module's warnings)."""
    args = dict(args)
    if check_mode:
        args['_ansible_check_mode'] = True
    warnings = []

    def _warn(self, warning):  # pylint: disable=unused-argument
        warnings.append(warning)

    with patch_module_args(args):
        with mock.patch.multiple(basic.AnsibleModule, exit_json=_exit_json, fail_json=_fail_json, warn=_warn):
            try:
                main()
            except AnsibleExitJson as exc:
                result = exc.args[0]
                result['failed'] = False
                result['warnings'] = warnings
                return result
            except AnsibleFailJson as exc:
                result = exc.args[0]
                result['warnings'] = warnings
                return result
    raise AssertionError('the module returned without calling exit_json or fail_json')


# ---------------------------------------------------------------------------
# Test CA and certificates
# ---------------------------------------------------------------------------

class TestPKI(pki.TestPKI):
    """tests/support/pki.py's test CA and server certificate, plus a TLS server context for loopback servers."""

    __test__ = False

    def server_context(self):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


# ---------------------------------------------------------------------------
# WebSocket servers (the websockets library, in one asyncio thread)
# ---------------------------------------------------------------------------

async def echo_handler(websocket):
    """Echo server; the request path selects misbehaviours used by the tests."""
    path = websocket.request.path
    if path == '/close-first':
        await websocket.close(1001, 'going away')
        return
    if path == '/ping-first':
        await websocket.ping(b'are you there')
    async for message in websocket:
        if path == '/wrong-echo':
            await websocket.send('not what you sent')
        elif path == '/binary':
            await websocket.send(message.encode('utf-8') if isinstance(message, str) else message)
        elif path == '/fragmented' and isinstance(message, str) and len(message) > 2:
            await websocket.send([message[:2], message[2:]])
        else:
            await websocket.send(message)
        if path == '/close-1011':
            await websocket.close(1011, 'internal error')
            return


class WebSocketServers(object):
    """Starts ``websockets`` servers on an event loop running in a thread."""

    def __init__(self):
        from websockets.asyncio.server import serve  # pylint: disable=import-outside-toplevel
        self._serve = serve
        logging.getLogger('websockets').setLevel(logging.CRITICAL)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name='ws-servers', daemon=True)
        self.thread.start()
        self.servers = []

    def start(self, host=LOOPBACK, handler=echo_handler, **kwargs):
        """Start a server on a free port; return its port."""
        async def start():
            return await self._serve(handler, host, 0, ping_interval=None, compression=None, **kwargs)

        server = asyncio.run_coroutine_threadsafe(start(), self.loop).result(JOIN_TIMEOUT)
        self.servers.append(server)
        return server.sockets[0].getsockname()[1]

    def stop(self):
        async def close_all():
            for server in self.servers:
                server.close()
            for server in self.servers:
                await server.wait_closed()

        try:
            asyncio.run_coroutine_threadsafe(close_all(), self.loop).result(JOIN_TIMEOUT)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(JOIN_TIMEOUT)
            if not self.thread.is_alive():
                self.loop.close()


# ---------------------------------------------------------------------------
# Raw TCP servers that misbehave on purpose
# ---------------------------------------------------------------------------

def read_head(conn, limit=65536):
    data = b''
    while b'\r\n\r\n' not in data and len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def request_key(head):
    for line in head.decode('latin-1').split('\r\n'):
        name, _sep, value = line.partition(':')
        if name.strip().lower() == 'sec-websocket-key':
            return value.strip()
    return ''


class RawServer(object):
    """Listens on loopback and runs ``handler(conn, server)`` for each connection in a thread."""

    def __init__(self, handler, host=LOOPBACK, tls_context=None):
        self.handler = handler
        self.tls_context = tls_context
        self.stopping = threading.Event()
        self.connections = []
        self.threads = []
        family = socket.AF_INET6 if ':' in host else socket.AF_INET
        self.listener = socket.socket(family, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind((host, 0))
        self.listener.listen(64)
        self.listener.settimeout(0.2)
        self.host = host
        self.port = self.listener.getsockname()[1]
        self.accepted = 0
        self.accept_thread = threading.Thread(target=self._accept_loop, name='raw-accept', daemon=True)
        self.accept_thread.start()

    def _accept_loop(self):
        while not self.stopping.is_set() and self.accepted < MAX_CONNECTIONS:
            try:
                conn, _peer = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted += 1
            self.connections.append(conn)
            thread = threading.Thread(target=self._run, args=(conn,), name='raw-conn', daemon=True)
            self.threads.append(thread)
            thread.start()

    def _run(self, conn):
        try:
            conn.settimeout(JOIN_TIMEOUT)
            if self.tls_context is not None:
                conn = self.tls_context.wrap_socket(conn, server_side=True)
                self.connections.append(conn)
            self.handler(conn, self)
        except (OSError, ValueError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def wait_until_stopped(self, conn):
        """Keep the connection open and silent (reading what comes) until the server stops."""
        conn.settimeout(0.1)
        while not self.stopping.is_set():
            try:
                if not conn.recv(4096):
                    return
            except socket.timeout:
                continue

    def stop(self):
        self.stopping.set()
        self.listener.close()
        for conn in self.connections:
            try:
                conn.close()
            except OSError:
                pass
        self.accept_thread.join(JOIN_TIMEOUT)
        for thread in self.threads:
            thread.join(JOIN_TIMEOUT)


# ---------------------------------------------------------------------------
# Plain HTTP server
# ---------------------------------------------------------------------------

class _HTTPHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def do_GET(self):  # pylint: disable=invalid-name
        routes = {'/': 200, '/healthz': 200, '/created': 201, '/broken': 503}
        status = routes.get(self.path.split('?')[0], 404)
        body = json.dumps({'path': self.path, 'host': self.headers.get('Host')}).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass


def start_http_server():
    """Start the plain HTTP server on a free loopback port; return ``(server, thread)``."""
    server = http.server.ThreadingHTTPServer((LOOPBACK, 0), _HTTPHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.1}, daemon=True)
    thread.start()
    return server, thread
