# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.upstream_health against real servers on loopback."""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from ansible_collections.websocket.nginx.plugins.modules import upstream_health
from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import accept_key

from ansible_collections.websocket.nginx.tests.unit.helpers import (
    LOOPBACK,
    ansible_wording,
    free_closed_port,
    ipv6_available,
    read_head,
    request_key,
    run_module,
)

MODULE_PATH = upstream_health.__file__


def run(args, check_mode=False):
    return run_module(upstream_health.main, args, check_mode=check_mode)


def only(result):
    assert len(result['servers']) == 1, result
    return result['servers'][0]


def addr(port, host=LOOPBACK):
    return '%s:%d' % (host, port)


# ---------------------------------------------------------------------------
# Misbehaving raw servers
# ---------------------------------------------------------------------------

def send_101(conn, accept, extra=b'', upgrade=b'Upgrade: websocket\r\n', connection=b'Connection: Upgrade\r\n'):
    conn.sendall(
        b'HTTP/1.1 101 Switching Protocols\r\n' + upgrade + connection
        + b'Sec-WebSocket-Accept: ' + accept.encode() + b'\r\n' + extra + b'\r\n'
    )


def handler_wrong_key(conn, server):
    read_head(conn)
    send_101(conn, base64.b64encode(b'\0' * 20).decode())
    server.wait_until_stopped(conn)


def handler_silent(conn, server):
    server.wait_until_stopped(conn)


def handler_close_mid_handshake(conn, server):  # pylint: disable=unused-argument
    read_head(conn)
    conn.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n')


def handler_close_at_once(conn, server):  # pylint: disable=unused-argument
    read_head(conn)


def handler_reset(conn, server):  # pylint: disable=unused-argument
    """Reads the request, then aborts the connection with a TCP reset."""
    read_head(conn)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack('ii', 1, 0))


def handler_hang_up(conn, server):  # pylint: disable=unused-argument
    """Closes at once, before reading anything (a TLS client sees the end of the stream)."""


def handler_refuse_426(conn, server):  # pylint: disable=unused-argument
    read_head(conn)
    conn.sendall(
        b'HTTP/1.1 426 Upgrade Required\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
    )


def handler_token_lists(conn, server):
    """A valid handshake written with unusual case and token lists."""
    head = read_head(conn)
    send_101(conn, accept_key(request_key(head)),
             upgrade=b'upgrade: WebSocket\r\n', connection=b'connection: keep-alive, UPGRADE\r\n')
    server.wait_until_stopped(conn)


def handler_no_upgrade_header(conn, server):
    head = read_head(conn)
    send_101(conn, accept_key(request_key(head)), upgrade=b'')
    server.wait_until_stopped(conn)


def handler_no_connection_header(conn, server):
    head = read_head(conn)
    send_101(conn, accept_key(request_key(head)), connection=b'Connection: keep-alive\r\n')
    server.wait_until_stopped(conn)


def handler_unsolicited_subprotocol(conn, server):
    head = read_head(conn)
    send_101(conn, accept_key(request_key(head)), extra=b'Sec-WebSocket-Protocol: chat.v9\r\n')
    server.wait_until_stopped(conn)


def handler_drip(conn, server):
    """Answers one byte every 0.2 s, so each read succeeds but the whole response never ends in time."""
    read_head(conn)
    for byte in b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' * 10:
        if server.stopping.is_set():
            return
        conn.sendall(bytes([byte]))
        time.sleep(0.2)


class Recorder(object):
    """Completes a valid handshake and records the request heads it received."""

    def __init__(self):
        self.heads = []
        self.lock = threading.Lock()

    def __call__(self, conn, server):
        head = read_head(conn)
        with self.lock:
            self.heads.append(head.decode('latin-1'))
        send_101(conn, accept_key(request_key(head)))
        server.wait_until_stopped(conn)

    def header(self, name):
        lines = self.heads[-1].split('\r\n')
        values = [line.split(':', 1)[1].strip() for line in lines[1:] if line.lower().startswith(name.lower() + ':')]
        return values[0] if values else None

    def request_line(self):
        return self.heads[-1].split('\r\n')[0]


# ---------------------------------------------------------------------------
# WebSocket check
# ---------------------------------------------------------------------------

def test_healthy_handshake(ws_echo):
    result = run({'servers': [addr(ws_echo)]})
    assert result['failed'] is False
    assert result['changed'] is False
    server = only(result)
    assert server['address'] == addr(ws_echo)
    assert server['host'] == LOOPBACK
    assert server['port'] == ws_echo
    assert server['healthy'] is True
    assert server['stage'] is None
    assert server['error'] is None
    assert server['status'] == 101
    assert isinstance(server['latency_ms'], float) and server['latency_ms'] >= 0
    assert server['down'] is False and server['backup'] is False and server['skipped'] is False
    assert (result['healthy'], result['unhealthy'], result['total'], result['required']) == (1, 0, 1, 1)
    assert result['msg'] == '1 of 1 servers healthy (1 required)'


def test_echo_and_clean_close(ws_echo):
    result = run({'servers': [addr(ws_echo)], 'echo': True, 'payload': u'héllo, upstream ✓', 'path': '/chat'})
    assert result['failed'] is False
    assert only(result)['healthy'] is True


@pytest.mark.parametrize('path', ['/ping-first', '/fragmented'])
def test_echo_with_ping_and_fragments(ws_echo, path):
    result = run({'servers': [addr(ws_echo)], 'echo': True, 'path': path})
    assert only(result)['healthy'] is True, result


@pytest.mark.parametrize('path, stage, text', [
    ('/wrong-echo', 'echo', "echo mismatch: sent 'upstream_health', received 'not what you sent'"),
    ('/binary', 'echo', 'got a binary message'),
    ('/close-first', 'echo', 'closed the WebSocket with code 1001 (going away) instead of echoing'),
    ('/close-1011', 'close', 'code 1011 (internal error), expected 1000'),
])
def test_echo_failures(ws_echo, path, stage, text):
    result = run({'servers': [addr(ws_echo)], 'echo': True, 'path': path, 'timeout': 2})
    assert result['failed'] is True
    server = only(result)
    assert server['healthy'] is False
    assert server['stage'] == stage
    assert text in server['error']
    assert server['status'] == 101


def test_without_echo_misbehaving_echo_server_still_passes(ws_echo):
    result = run({'servers': [addr(ws_echo)], 'path': '/wrong-echo'})
    assert only(result)['healthy'] is True


def test_http_server_refuses_upgrade(http_server):
    result = run({'servers': [addr(http_server)]})
    assert result['failed'] is True
    server = only(result)
    assert server['stage'] == 'handshake'
    assert server['status'] == 200
    assert 'refused the upgrade: HTTP status 200' in server['error']


def test_426_refusal(raw_server):
    srv = raw_server(handler_refuse_426)
    server = only(run({'servers': [addr(srv.port)], 'min_healthy': 0}))
    assert server['healthy'] is False
    assert server['stage'] == 'handshake'
    assert server['status'] == 426
    assert 'HTTP status 426 Upgrade Required, expected 101' in server['error']


def test_wrong_accept_key(raw_server):
    srv = raw_server(handler_wrong_key)
    server = only(run({'servers': [addr(srv.port)], 'min_healthy': 0}))
    assert server['stage'] == 'accept-key'
    assert server['status'] == 101
    assert 'Sec-WebSocket-Accept is AAAAAAAAAAAAAAAAAAAAAAAAAAA=' in server['error']


def test_silent_server_times_out(raw_server):
    srv = raw_server(handler_silent)
    started = time.monotonic()
    server = only(run({'servers': [addr(srv.port)], 'timeout': 0.5, 'min_healthy': 0}))
    elapsed = time.monotonic() - started
    assert server['stage'] == 'timeout'
    assert server['status'] is None
    assert server['error'] == 'timed out after 0.5s waiting for the HTTP response'
    assert 400 <= server['latency_ms'] < 3000
    assert elapsed < 3


def test_timeout_bounds_the_whole_check(raw_server):
    """A server that keeps sending a byte now and then cannot stretch the check past the timeout."""
    srv = raw_server(handler_drip)
    server = only(run({'servers': [addr(srv.port)], 'timeout': 1, 'min_healthy': 0}))
    assert server['stage'] == 'timeout'
    assert server['latency_ms'] < 1900


@pytest.mark.parametrize('handler, text', [
    (handler_close_mid_handshake, 'closed the connection in the middle of the HTTP response head'),
    (handler_close_at_once, 'closed the connection without sending an HTTP response'),
    (handler_reset, 'the server closed the connection (reset) waiting for the HTTP response'),
])
def test_server_closes_during_handshake(raw_server, handler, text):
    srv = raw_server(handler)
    server = only(run({'servers': [addr(srv.port)], 'min_healthy': 0}))
    assert server['stage'] == 'handshake'
    assert text in server['error']


def test_connection_refused():
    port = free_closed_port()
    server = only(run({'servers': [addr(port)], 'min_healthy': 0}))
    assert server['stage'] == 'connect'
    assert 'Connection refused' in server['error']
    assert server['status'] is None


def test_header_tokens_are_case_insensitive(raw_server):
    srv = raw_server(handler_token_lists)
    server = only(run({'servers': [addr(srv.port)]}))
    assert server['healthy'] is True, server


@pytest.mark.parametrize('handler, text', [
    (handler_no_upgrade_header, "Upgrade: (missing), expected 'websocket'"),
    (handler_no_connection_header, "Connection: keep-alive, expected the token 'Upgrade'"),
    (handler_unsolicited_subprotocol, 'selected subprotocol chat.v9 although none was offered'),
])
def test_bad_handshake_headers(raw_server, handler, text):
    srv = raw_server(handler)
    server = only(run({'servers': [addr(srv.port)], 'min_healthy': 0}))
    assert server['stage'] == 'handshake'
    assert server['status'] == 101
    assert text in server['error']


def test_request_headers_host_origin_path(raw_server):
    recorder = Recorder()
    srv = raw_server(recorder)
    result = run({
        'servers': [addr(srv.port)], 'path': '/socket?room=1', 'host_header': 'chat.example.com',
        'origin': 'https://chat.example.com',
    })
    assert only(result)['healthy'] is True
    assert recorder.request_line() == 'GET /socket?room=1 HTTP/1.1'
    assert recorder.header('Host') == 'chat.example.com'
    assert recorder.header('Origin') == 'https://chat.example.com'
    assert recorder.header('Sec-WebSocket-Version') == '13'
    assert len(base64.b64decode(recorder.header('Sec-WebSocket-Key'))) == 16
    assert recorder.header('Sec-WebSocket-Protocol') is None

    run({'servers': [addr(srv.port)]})
    assert recorder.header('Host') == addr(srv.port)
    assert recorder.header('Origin') is None


def test_origin_checked_by_server(ws_servers):
    port = ws_servers.start(origins=['https://allowed.example'])
    good = only(run({'servers': [addr(port)], 'origin': 'https://allowed.example'}))
    assert good['healthy'] is True
    bad = only(run({'servers': [addr(port)], 'origin': 'https://evil.example', 'min_healthy': 0}))
    assert bad['stage'] == 'handshake'
    assert bad['status'] == 403


def test_subprotocols(ws_servers):
    port = ws_servers.start(subprotocols=['chat.v1', 'chat.v2'])
    server = only(run({'servers': [addr(port)], 'subprotocols': ['chat.v2', 'chat.v3'], 'echo': True}))
    assert server['healthy'] is True
    assert server['subprotocol'] == 'chat.v2'
    # websockets rejects an offer without a protocol it supports.
    server = only(run({'servers': [addr(port)], 'subprotocols': ['mqtt'], 'min_healthy': 0}))
    assert (server['stage'], server['status']) == ('handshake', 400)


def test_subprotocol_offer_ignored(raw_server):
    recorder = Recorder()
    srv = raw_server(recorder)
    server = only(run({'servers': [addr(srv.port)], 'subprotocols': ['mqtt', 'chat.v1'], 'min_healthy': 0}))
    assert recorder.header('Sec-WebSocket-Protocol') == 'mqtt, chat.v1'
    assert (server['stage'], server['status']) == ('handshake', 101)
    assert server['error'] == 'the server selected subprotocol (none), expected one of mqtt, chat.v1'


# ---------------------------------------------------------------------------
# HTTP and TCP checks
# ---------------------------------------------------------------------------

def test_http_check(http_server):
    result = run({'servers': [addr(http_server)], 'check': 'http', 'path': '/healthz'})
    server = only(result)
    assert server['healthy'] is True
    assert server['status'] == 200


def test_http_check_status_list(http_server):
    server = only(run({'servers': [addr(http_server)], 'check': 'http', 'path': '/created', 'expected_status': [200, 201]}))
    assert server['healthy'] is True
    assert server['status'] == 201
    server = only(run({'servers': [addr(http_server)], 'check': 'http', 'path': '/created', 'min_healthy': 0}))
    assert server['healthy'] is False
    assert server['stage'] == 'handshake'
    assert server['status'] == 201
    assert 'HTTP status 201 Created, expected 200' in server['error']


def test_http_check_failures(http_server, raw_server):
    silent = raw_server(handler_silent)
    result = run({
        'servers': [addr(http_server), addr(silent.port)], 'check': 'http', 'path': '/broken',
        'timeout': 0.5, 'min_healthy': 0,
    })
    broken, hung = result['servers']
    assert (broken['stage'], broken['status']) == ('handshake', 503)
    assert (hung['stage'], hung['status']) == ('timeout', None)
    assert result['unhealthy'] == 2


def test_tcp_check(raw_server):
    silent = raw_server(handler_silent)
    closed = free_closed_port()
    result = run({'servers': [addr(silent.port), addr(closed)], 'check': 'tcp', 'min_healthy': 1, 'timeout': 1})
    assert result['failed'] is False
    up, down = result['servers']
    assert up['healthy'] is True and up['status'] is None
    assert down['healthy'] is False and down['stage'] == 'connect'
    assert (result['healthy'], result['unhealthy'], result['total']) == (1, 1, 2)


# ---------------------------------------------------------------------------
# TLS
# ---------------------------------------------------------------------------

@pytest.fixture(scope='module')
def wss_port(ws_servers, pki):
    return ws_servers.start(ssl=pki.server_context())


def test_wss_with_ca(wss_port, pki):
    server = only(run({'servers': [addr(wss_port)], 'tls': True, 'ca_path': pki.ca_path, 'echo': True}))
    assert server['healthy'] is True, server
    assert server['tls'] is True


def test_wss_url_and_sni_from_host_header(wss_port, pki):
    result = run({
        'servers': ['wss://127.0.0.1:%d/chat' % wss_port, {'host': LOOPBACK, 'port': wss_port, 'tls': True}],
        'ca_path': pki.ca_path, 'host_header': 'localhost',
    })
    assert [s['healthy'] for s in result['servers']] == [True, True], result
    assert result['servers'][0]['path'] == '/chat'


def test_wss_untrusted_certificate(wss_port):
    server = only(run({'servers': [addr(wss_port)], 'tls': True, 'min_healthy': 0}))
    assert server['stage'] == 'tls'
    assert 'certificate verification failed' in server['error']


def test_wss_name_mismatch(wss_port, pki):
    server = only(run({
        'servers': [addr(wss_port)], 'tls': True, 'ca_path': pki.ca_path, 'host_header': 'other.example',
        'min_healthy': 0,
    }))
    assert server['stage'] == 'tls'
    assert 'other.example' in server['error']


def test_wss_without_validation(wss_port):
    server = only(run({'servers': ['wss://127.0.0.1:%d' % wss_port], 'validate_certs': False}))
    assert server['healthy'] is True


def test_https_and_tcp_tls_checks(wss_port, pki):
    # The WebSocket server answers a plain GET with 426, which is what this check expects.
    server = only(run({
        'servers': ['https://127.0.0.1:%d/' % wss_port], 'check': 'http', 'expected_status': [426],
        'ca_path': pki.ca_path,
    }))
    assert (server['healthy'], server['status']) == (True, 426)
    server = only(run({'servers': [addr(wss_port)], 'check': 'tcp', 'tls': True, 'ca_path': pki.ca_path}))
    assert server['healthy'] is True


def test_tls_to_plain_server(http_server, pki):
    server = only(run({'servers': [addr(http_server)], 'tls': True, 'ca_path': pki.ca_path, 'min_healthy': 0}))
    assert server['stage'] == 'tls'
    assert server['error'].startswith('TLS handshake failed')


def test_tls_server_hangs_up_during_handshake(raw_server, pki):
    srv = raw_server(handler_hang_up)
    server = only(run({'servers': [addr(srv.port)], 'tls': True, 'ca_path': pki.ca_path, 'min_healthy': 0}))
    assert server['stage'] == 'tls'
    assert server['error'].startswith('TLS handshake failed: ')


def test_bad_ca_path(ws_echo, tmp_path):
    result = run({'servers': ['wss://127.0.0.1:%d' % ws_echo], 'ca_path': str(tmp_path / 'missing.pem')})
    assert result['failed'] is True
    assert result['msg'].startswith("cannot load CA certificates from ca_path '%s'" % (tmp_path / 'missing.pem'))


# ---------------------------------------------------------------------------
# IPv6
# ---------------------------------------------------------------------------

@pytest.mark.skipif(not ipv6_available(), reason='::1 is not available on this host')
def test_ipv6_loopback(ws_servers):
    port = ws_servers.start(host='::1')
    result = run({'servers': ['[::1]:%d' % port, '::1', {'host': '::1', 'port': port}], 'port': port, 'echo': True})
    assert [s['healthy'] for s in result['servers']] == [True, True, True], result
    assert [s['address'] for s in result['servers']] == ['[::1]:%d' % port] * 3
    assert result['servers'][0]['host'] == '::1'


# ---------------------------------------------------------------------------
# Many servers, concurrency, min_healthy
# ---------------------------------------------------------------------------

def test_many_servers_take_about_one_timeout(ws_echo, raw_server):
    silent = raw_server(handler_silent)
    closed = free_closed_port()
    servers = [addr(ws_echo)] * 20 + [addr(silent.port)] * 10 + [addr(closed)] * 10
    started = time.monotonic()
    result = run({'servers': servers, 'timeout': 1, 'min_healthy': '50%'})
    elapsed = time.monotonic() - started
    assert result['failed'] is False
    assert (result['healthy'], result['unhealthy'], result['total'], result['required']) == (20, 20, 40, 20)
    assert [s['stage'] for s in result['servers']] == [None] * 20 + ['timeout'] * 10 + ['connect'] * 10
    assert elapsed < 3.5, elapsed


def test_max_workers_limits_concurrency(raw_server):
    silent = raw_server(handler_silent)
    started = time.monotonic()
    result = run({'servers': [addr(silent.port)] * 3, 'timeout': 0.3, 'max_workers': 1, 'min_healthy': 0})
    elapsed = time.monotonic() - started
    assert [s['stage'] for s in result['servers']] == ['timeout'] * 3
    assert elapsed >= 0.85


def test_min_healthy_not_met_names_every_unhealthy_server(ws_echo, raw_server):
    refusing = raw_server(handler_refuse_426)
    closed = free_closed_port()
    result = run({'servers': [addr(ws_echo), addr(refusing.port), addr(closed)], 'min_healthy': 2})
    assert result['failed'] is True
    assert result['required'] == 2
    assert (result['healthy'], result['unhealthy'], result['total']) == (1, 2, 3)
    assert len(result['servers']) == 3
    msg = result['msg']
    assert msg.startswith('min_healthy 2 not met: 1 of 3 servers healthy (2 required). Unhealthy: ')
    assert '%s (stage handshake: the server refused the upgrade: HTTP status 426' % addr(refusing.port) in msg
    assert '%s (stage connect: cannot connect to' % addr(closed) in msg
    assert addr(ws_echo) + ' (' not in msg


@pytest.mark.parametrize('min_healthy, failed, required', [
    (0, False, 0), ('0', False, 0), ('0%', False, 0), (1, False, 1), ('1', False, 1), ('50%', False, 1),
    ('51%', True, 2), ('100%', True, 2), (2, True, 2), ('33.3%', False, 1),
])
def test_min_healthy_values(ws_echo, min_healthy, failed, required):
    result = run({'servers': [addr(ws_echo), addr(free_closed_port())], 'min_healthy': min_healthy})
    assert result['failed'] is failed
    assert result['required'] == required
    assert result['healthy'] == 1


def test_default_min_healthy_fails_when_all_down():
    result = run({'servers': [addr(free_closed_port())]})
    assert result['failed'] is True
    assert result['required'] == 1
    assert result['servers'][0]['stage'] == 'connect'


def test_check_mode_runs_the_same_checks(ws_echo):
    normal = run({'servers': [addr(ws_echo), addr(free_closed_port())], 'min_healthy': 1})
    checked = run({'servers': [addr(ws_echo), addr(free_closed_port())], 'min_healthy': 1}, check_mode=True)
    for result in (normal, checked):
        assert result['changed'] is False
        assert [s['healthy'] for s in result['servers']] == [True, False]


# ---------------------------------------------------------------------------
# Argument validation
# ---------------------------------------------------------------------------

MIN_HEALTHY_ERROR = "min_healthy must be a number of servers (0 or more) or a percentage from 0%% to 100%% such as '50%%', got '%s'"
TIMEOUT_ERROR = 'timeout must be a number of seconds greater than 0 and at most 3600, got %s'


@pytest.mark.parametrize('args, message', [
    ({'servers': []}, 'servers must not be empty'),
    ({'servers': ['127.0.0.1:0']}, "servers[0] (127.0.0.1:0): invalid port '0': must be an integer between 1 and 65535"),
    ({'servers': ['ok:80', '127.0.0.1:70000']},
     "servers[1] (127.0.0.1:70000): invalid port '70000': must be an integer between 1 and 65535"),
    ({'servers': ['127.0.0.1:abc']}, "servers[0] (127.0.0.1:abc): invalid port 'abc': must be an integer between 1 and 65535"),
    ({'servers': [{'host': LOOPBACK, 'port': 0}]}, "servers[0] ({'host': '127.0.0.1', 'port': 0}): invalid port '0'"),
    ({'servers': [{'host': LOOPBACK, 'port': 'abc'}]}, "invalid port 'abc': must be an integer between 1 and 65535"),
    ({'servers': [{'port': 80}]}, 'servers[0] ({\'port\': 80}): host is required and must be a non-empty string'),
    ({'servers': [{'host': 'a', 'weight': 2}]}, 'unknown key(s) weight; valid keys are host, port, path, tls'),
    ({'servers': [42]}, 'servers[0] (42): expected a string or a dictionary, got int'),
    ({'servers': ['ftp://host/']}, "unsupported scheme 'ftp'"),
    ({'servers': ['[::1']}, "missing ']' in '[::1'"),
    ({'servers': ['h'], 'port': 0}, "option port: invalid port '0': must be an integer between 1 and 65535"),
    ({'servers': ['h'], 'port': 70000}, "option port: invalid port '70000': must be an integer between 1 and 65535"),
    ({'servers': ['h'], 'port': 'abc'}, "argument 'port' is of type str and we were unable to convert to int"),
    ({'servers': ['h'], 'check': 'udp'}, 'value of check must be one of: tcp, http, websocket, got: udp'),
    ({'servers': ['h'], 'min_healthy': '150%'},
     "min_healthy must be a number of servers (0 or more) or a percentage from 0% to 100% such as '50%', got '150%'"),
    ({'servers': ['h'], 'min_healthy': '-1'}, "got '-1'"),
    ({'servers': ['h'], 'min_healthy': -1}, "got '-1'"),
    ({'servers': ['h'], 'min_healthy': 'abc'}, "got 'abc'"),
    ({'servers': ['h'], 'min_healthy': 1.5}, "got '1.5'"),
    ({'servers': ['h'], 'min_healthy': True}, "got 'True'"),
    # Only ASCII digits: '\u0663' (Arabic-Indic three), '\u00b2' (superscript two) and '\u0661\u0660' (Arabic-Indic ten)
    # pass str.isdigit() and \d; a trailing newline passes re.match(...$).
    ({'servers': ['h'], 'min_healthy': u'\u0663'}, MIN_HEALTHY_ERROR % u'\u0663'),
    ({'servers': ['h'], 'min_healthy': u'\u00b2'}, MIN_HEALTHY_ERROR % u'\u00b2'),
    ({'servers': ['h'], 'min_healthy': u'\u0661\u0660%'}, MIN_HEALTHY_ERROR % u'\u0661\u0660%'),
    ({'servers': ['h'], 'min_healthy': '1\n'}, MIN_HEALTHY_ERROR % '1\n'),
    ({'servers': ['h'], 'min_healthy': '50%\n'}, MIN_HEALTHY_ERROR % '50%\n'),
    ({'servers': ['h'], 'min_healthy': ' 2'}, MIN_HEALTHY_ERROR % ' 2'),
    ({'servers': ['h'], 'min_healthy': float('inf')}, MIN_HEALTHY_ERROR % 'inf'),
    ({'servers': ['h'], 'min_healthy': float('nan')}, MIN_HEALTHY_ERROR % 'nan'),
    ({'servers': ['h'], 'min_healthy': 'inf'}, MIN_HEALTHY_ERROR % 'inf'),
    ({'servers': ['h'], 'min_healthy': '9' * 5000}, MIN_HEALTHY_ERROR % ('9' * 5000)),
    ({'servers': ['h'], 'nginx_upstream': 'backend'}, 'parameters are mutually exclusive: servers|nginx_upstream'),
    ({}, 'one of the following is required: servers, nginx_upstream'),
    ({'servers': ['h'], 'timeout': 0}, TIMEOUT_ERROR % '0.0'),
    ({'servers': ['h'], 'timeout': -1}, TIMEOUT_ERROR % '-1.0'),
    ({'servers': ['h'], 'timeout': -2}, TIMEOUT_ERROR % '-2.0'),
    ({'servers': ['h'], 'timeout': float('inf')}, TIMEOUT_ERROR % 'inf'),
    ({'servers': ['h'], 'timeout': float('-inf')}, TIMEOUT_ERROR % '-inf'),
    ({'servers': ['h'], 'timeout': float('nan')}, TIMEOUT_ERROR % 'nan'),
    ({'servers': ['h'], 'timeout': 'inf'}, TIMEOUT_ERROR % 'inf'),  # YAML 'timeout: inf' is a string
    ({'servers': ['h'], 'timeout': 'nan'}, TIMEOUT_ERROR % 'nan'),
    ({'servers': ['h'], 'timeout': 1e10}, TIMEOUT_ERROR % '10000000000.0'),
    ({'servers': ['h'], 'timeout': '1e400'}, TIMEOUT_ERROR % 'inf'),
    ({'servers': ['h'], 'timeout': 3600.5}, TIMEOUT_ERROR % '3600.5'),
    ({'servers': ['h'], 'max_workers': 0}, 'max_workers must be between 1 and 1024, got 0'),
    ({'servers': ['h'], 'expected_status': [200, 99]}, 'expected_status values must be HTTP status codes from 100 to 599, got 99'),
    ({'servers': ['h'], 'expected_status': []}, 'expected_status must not be empty'),
    ({'servers': ['h'], 'path': 'ws'}, "path must start with '/' and contain no spaces or control characters, got 'ws'"),
    ({'servers': ['h'], 'host_header': 'a\r\nX-Evil: 1'}, 'host_header must not contain control characters'),
    ({'servers': ['h'], 'subprotocols': ['chat v1']}, "subprotocols must be HTTP tokens (no spaces, commas or quotes), got 'chat v1'"),
    ({'servers': ['h'], 'subprotocols': []}, 'subprotocols must not be an empty list'),
    ({'nginx_upstream': ''}, 'nginx_upstream must not be empty'),
    ({'servers': ['h'], 'bogus': 1}, 'Unsupported parameters for (basic.py) module: bogus'),
])
def test_bad_arguments(args, message):
    result = run(args)
    assert result['failed'] is True
    assert message in ansible_wording(result['msg']), result['msg']
    assert 'servers' not in result or isinstance(result['servers'], list)


@pytest.mark.parametrize('timeout', [3600, 3600.0, '3600'])
def test_largest_timeout_accepted(ws_echo, timeout):
    """3600 s is allowed; the check of a server that answers at once does not wait for it."""
    started = time.monotonic()
    result = run({'servers': [addr(ws_echo)], 'timeout': timeout, 'echo': True})
    assert result['failed'] is False, result['msg']
    assert only(result)['healthy'] is True, result
    assert time.monotonic() - started < 10


# ---------------------------------------------------------------------------
# nginx_upstream
# ---------------------------------------------------------------------------

NGINX_T_TEMPLATE = textwrap.dedent('''\
    # configuration file /etc/nginx/nginx.conf:
    events {{ worker_connections 64; }}
    http {{
        include /etc/nginx/conf.d/*.conf;
        upstream other {{ server 127.0.0.1:1; }}
    }}

    # configuration file /etc/nginx/conf.d/backend.conf:
    # WebSocket backends
    upstream websocket_backend {{
        zone websocket_backend 64k;
        least_conn;
        server 127.0.0.1:{healthy} weight=3 max_fails=2 fail_timeout=10s;  # main
        server 127.0.0.1:{closed} max_fails=1;
        server 127.0.0.1:{healthy} backup;
        server 127.0.0.1:{closed} down;
        server unix:/run/backend.sock;
        keepalive 16;
    }}
''')


def fake_nginx(tmp_path, text, rc=0):
    """An executable that prints ``text`` like ``nginx -T`` does, and its arguments to a file."""
    (tmp_path / 'nginx-T.txt').write_text(text)
    script = tmp_path / 'fake-nginx'
    script.write_text(textwrap.dedent('''\
        #!/bin/sh
        echo "$@" > "{args}"
        cat "{out}"
        echo "nginx: the configuration file /etc/nginx/nginx.conf syntax is ok" >&2
        exit {rc}
    ''').format(args=tmp_path / 'args.txt', out=tmp_path / 'nginx-T.txt', rc=rc))
    script.chmod(0o755)
    return str(script)


def test_nginx_upstream_from_nginx_t(tmp_path, ws_echo):
    closed = free_closed_port()
    nginx = fake_nginx(tmp_path, NGINX_T_TEMPLATE.format(healthy=ws_echo, closed=closed))
    result = run({'nginx_upstream': 'websocket_backend', 'nginx_binary': nginx, 'nginx_config': '/etc/nginx/alt.conf'})
    assert (tmp_path / 'args.txt').read_text().split() == ['-T', '-c', '/etc/nginx/alt.conf']
    assert result['failed'] is False
    assert result['upstream'] == 'websocket_backend'
    servers = result['servers']
    assert [s['address'] for s in servers] == [
        addr(ws_echo), addr(closed), addr(ws_echo), addr(closed), 'unix:/run/backend.sock']
    assert [s['healthy'] for s in servers] == [True, False, True, None, None]
    assert [s['skipped'] for s in servers] == [False, False, False, True, True]
    assert [s['down'] for s in servers] == [False, False, False, True, False]
    assert [s['backup'] for s in servers] == [False, False, True, False, False]
    assert servers[0]['params'] == ['weight=3', 'max_fails=2', 'fail_timeout=10s']
    assert servers[0]['source'] == '/etc/nginx/conf.d/backend.conf:5'
    assert servers[1]['stage'] == 'connect'
    assert servers[3]['skip_reason'] == 'marked down in nginx'
    assert servers[4]['skip_reason'] == 'unix sockets are not supported'
    assert (servers[4]['host'], servers[4]['port'], servers[4]['latency_ms']) == (None, None, None)
    assert (result['healthy'], result['unhealthy'], result['total']) == (2, 1, 3)


def test_nginx_upstream_unknown(tmp_path):
    nginx = fake_nginx(tmp_path, NGINX_T_TEMPLATE.format(healthy=1, closed=2))
    result = run({'nginx_upstream': 'missing', 'nginx_binary': nginx})
    assert result['failed'] is True
    assert "upstream 'missing' was not found in the output of %s -T; upstreams found: other, websocket_backend" % nginx == result['msg']


def test_nginx_t_fails(tmp_path):
    nginx = fake_nginx(tmp_path, '', rc=1)
    result = run({'nginx_upstream': 'backend', 'nginx_binary': nginx})
    assert result['failed'] is True
    assert result['msg'].startswith('%s -T failed (rc=1): nginx: the configuration file' % nginx)


def test_nginx_binary_not_found(tmp_path):
    result = run({'nginx_upstream': 'backend', 'nginx_binary': str(tmp_path / 'no-nginx')})
    assert result['failed'] is True
    assert result['msg'] == "nginx_binary '%s' was not found; set nginx_binary to the nginx executable" % (tmp_path / 'no-nginx')


def test_all_servers_down_counts_nothing(tmp_path):
    nginx = fake_nginx(tmp_path, 'upstream b { server 127.0.0.1:9 down; }\n')
    result = run({'nginx_upstream': 'b', 'nginx_binary': nginx, 'min_healthy': 0})
    assert result['failed'] is False
    assert (result['total'], result['healthy'], result['unhealthy']) == (0, 0, 0)
    result = run({'nginx_upstream': 'b', 'nginx_binary': nginx})
    assert result['failed'] is True
    assert result['msg'] == 'min_healthy 1 not met: 0 of 0 servers healthy (1 required). Unhealthy: none'


def find_nginx():
    return shutil.which('nginx') or next(
        (p for p in ('/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx') if os.access(p, os.X_OK)), None)


@pytest.mark.skipif(find_nginx() is None, reason='nginx is not installed (apt-get install nginx-light)')
def test_real_nginx_t(tmp_path, ws_echo):
    """Runs the real ``nginx -T`` on a configuration spread over several files."""
    closed = free_closed_port()
    conf_d = tmp_path / 'conf.d'
    conf_d.mkdir()
    (tmp_path / 'nginx.conf').write_text(textwrap.dedent('''\
        pid {tmp}/nginx.pid;
        error_log {tmp}/error.log;
        events {{ worker_connections 64; }}
        http {{
            access_log off;
            include {tmp}/conf.d/*.conf;
            server {{
                listen 127.0.0.1:{closed};
                location /ws {{
                    proxy_pass http://ws_app;
                    proxy_http_version 1.1;
                    proxy_set_header Upgrade $http_upgrade;
                    proxy_set_header Connection "upgrade";
                }}
            }}
        }}
    ''').format(tmp=tmp_path, healthy=ws_echo, closed=closed))
    (conf_d / 'a.conf').write_text(textwrap.dedent('''\
        # "upstream ws_app" lives here; the '{{' in this comment must not count
        upstream ws_app {{
            server 127.0.0.1:{healthy} weight=3 max_fails=2 fail_timeout=10s;
            server "127.0.0.1:{closed}" backup;
            server 127.0.0.1:{closed} down;
            server unix:{tmp}/app.sock;
        }}
    ''').format(tmp=tmp_path, healthy=ws_echo, closed=closed))
    (conf_d / 'b.conf').write_text('upstream unrelated { server 127.0.0.1:%d; }\nupstream ws_app_tcp { server 127.0.0.1:%d; }\n'
                                   % (closed, ws_echo))

    result = run({'nginx_upstream': 'ws_app', 'nginx_binary': find_nginx(), 'nginx_config': str(tmp_path / 'nginx.conf'),
                  'path': '/ws', 'echo': True})
    assert result['failed'] is False, result['msg']
    servers = result['servers']
    assert [s['address'] for s in servers] == [addr(ws_echo), addr(closed), addr(closed), 'unix:%s/app.sock' % tmp_path]
    assert [s['healthy'] for s in servers] == [True, False, None, None]
    assert [s['backup'] for s in servers] == [False, True, False, False]
    assert servers[0]['source'] == '%s:3' % (conf_d / 'a.conf')
    assert (result['healthy'], result['total']) == (1, 2)

    tcp = run({'nginx_upstream': 'ws_app_tcp', 'nginx_binary': find_nginx(), 'nginx_config': str(tmp_path / 'nginx.conf'),
               'check': 'tcp'})
    assert [s['healthy'] for s in tcp['servers']] == [True]

    (conf_d / 'c.conf').write_text('upstream broken { server 127.0.0.1:1 weight=abc; }\n')
    broken = run({'nginx_upstream': 'ws_app', 'nginx_binary': find_nginx(), 'nginx_config': str(tmp_path / 'nginx.conf')})
    assert broken['failed'] is True
    assert ' -T -c %s failed (rc=1): ' % (tmp_path / 'nginx.conf') in broken['msg']
    assert 'weight=abc' in broken['msg']


# ---------------------------------------------------------------------------
# The module as Ansible runs it
# ---------------------------------------------------------------------------

def test_module_as_a_script(tmp_path, ws_echo, module_env):
    """The module file run on its own, with the JSON arguments file Ansible would pass."""
    args = tmp_path / 'args.json'
    args.write_text(json.dumps({'ANSIBLE_MODULE_ARGS': {'servers': [addr(ws_echo), addr(free_closed_port())], 'echo': True}}))
    proc = subprocess.run([sys.executable, MODULE_PATH, str(args)], env=module_env, capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result['changed'] is False
    assert [s['healthy'] for s in result['servers']] == [True, False]
    assert result['healthy'] == 1


def _ansible_playbook():
    """ansible-playbook next to this Python, or None where only module_utils are available (ansible-test units)."""
    try:
        if importlib.util.find_spec('ansible.cli') is None:
            return None
    except ImportError:
        return None
    candidate = os.path.join(os.path.dirname(sys.executable), 'ansible-playbook')
    return candidate if os.access(candidate, os.X_OK) else None


@pytest.mark.skipif(_ansible_playbook() is None, reason='needs ansible-playbook and ansible.cli (plain pytest with .venv)')
def test_through_ansible_playbook(tmp_path, ws_echo, module_env):
    """Runs the module through ansible-playbook (AnsiballZ packs the module_utils) in check mode."""
    closed = free_closed_port()
    playbook = tmp_path / 'play.yml'
    playbook.write_text(textwrap.dedent('''\
        - hosts: localhost
          gather_facts: false
          tasks:
            - name: Check
              websocket.nginx.upstream_health:
                servers: ["127.0.0.1:{ok}", "127.0.0.1:{closed}"]
                echo: true
                min_healthy: 50%
              register: health
            - name: Verify
              ansible.builtin.assert:
                that:
                  - health is not changed
                  - health.healthy == 1
                  - health.unhealthy == 1
                  - health.servers[1].stage == 'connect'
            - name: Not enough healthy servers
              websocket.nginx.upstream_health:
                servers: ["127.0.0.1:{closed}"]
              register: failing
              ignore_errors: true
            - name: Verify the failure
              ansible.builtin.assert:
                that:
                  - failing is failed
                  - "'127.0.0.1:{closed} (stage connect' in failing.msg"
                  - failing.servers | length == 1
    ''').format(ok=ws_echo, closed=closed))
    env = dict(module_env, ANSIBLE_PYTHON_INTERPRETER=sys.executable, ANSIBLE_LOCALHOST_WARNING='false',
               ANSIBLE_INVENTORY_UNPARSED_WARNING='false', ANSIBLE_NOCOLOR='1', ANSIBLE_LOCAL_TEMP=str(tmp_path / 'tmp'),
               ANSIBLE_REMOTE_TEMP=str(tmp_path / 'remote'))
    proc = subprocess.run([_ansible_playbook(), '-i', 'localhost,', '-c', 'local', '--check', str(playbook)],
                          env=env, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert 'failed=0' in proc.stdout
