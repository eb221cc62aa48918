# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session log, written by a real nginx: rendered sites on loopback, WebSockets to a loopback echo server.

One nginx serves every test (each request has a path of its own, which its line carries), with the
role's realip settings trusting 127.0.0.1, so that an X-Forwarded-For from the test is the client.
"""

from __future__ import annotations

import datetime
import json
import os
import time
import types
import urllib.parse

import pytest

from ansible_collections.websocket.nginx.plugins.plugin_utils import site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh
from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port, start_http_server

pytestmark = pytest.mark.skipif(not os.access(rh.NGINX, os.X_OK), reason='needs %s (make test-tools)' % rh.NGINX)

MESSAGES = 20
MESSAGE_SIZE = 1000
# A client's frame of MESSAGE_SIZE bytes: 2 + 2 (length) + 4 (mask) bytes of header; the server's has no mask.
CLIENT_FRAME = MESSAGE_SIZE + 8
SERVER_FRAME = MESSAGE_SIZE + 4
# The handshake (request or 101 response, a few hundred bytes) and the closing frame are on top of the messages.
HANDSHAKE_AND_CLOSE = 1024
# Paths with "$" (and what nginx's tokenizer and scripts treat specially), each a WebSocket location.
DOLLAR_PATHS = ['/cost$/', '/$/', '/${x}$1/', '/q"\\\'{};#/']
CLIENT = '203.0.113.7'
WAIT = 5.0


@pytest.fixture(scope='module')
def proxy(tmp_path_factory, ws_echo):
    """The site "logged" as the role renders it, served by nginx: ``nginx``, ``session_log`` (its path),
    ``http_port`` (the plain HTTP upstream) and ``no_status_port`` (a server that answers without a status)."""
    directory = tmp_path_factory.mktemp('session-log')
    http_server, _thread = start_http_server()
    port, no_status_port = free_closed_port(), free_closed_port()
    session_log = directory / 'sessions.log'
    websocket_paths = ['/ws/', '/origin/'] + DOLLAR_PATHS
    variables = {
        'websocket_proxy_session_log_file': str(session_log),
        'websocket_proxy_real_ip_from': ['127.0.0.1'],
        'websocket_proxy_sites': [{
            'name': 'logged',
            'listen': ['%s:%d' % (LOOPBACK, port)],
            'upstreams': [{'name': 'echo', 'servers': [{'address': '%s:%d' % (LOOPBACK, ws_echo)}]},
                          {'name': 'api', 'servers': [{'address': '%s:%d' % (LOOPBACK, http_server.server_port)}]}],
            'websocket_locations': [{'path': path, 'upstream': 'echo'} for path in websocket_paths] + [
                {'path': '/ws-unlogged/', 'upstream': 'echo', 'session_log': False}],
            'proxy_locations': [{'path': '/api/', 'upstream': 'api'},
                                {'path': '/api-logged/', 'upstream': 'api', 'session_log': True}],
            'static_locations': [{'path': '/files/', 'root': str(directory), 'session_log': True}],
        }],
    }
    # /origin/ refuses any Origin but this one (before its request reaches the upstream).
    variables['websocket_proxy_sites'][0]['websocket_locations'][1]['allowed_origins'] = ['https://app.test']
    (site,) = site_model.build(variables).as_dict()['sites']
    # A server that writes a line without a status ("000") in the same format.
    no_status = 'server {\n    listen %s:%d;\n    access_log %s %s;\n    return 0;\n}\n' % (
        LOOPBACK, no_status_port, session_log, site['session_log_format'])
    nginx = rh.RunningNginx({'map': rh.render_upgrade_map(), 'site': rh.render_site(site), 'no-status': no_status},
                            directory, port).start()
    try:
        yield types.SimpleNamespace(nginx=nginx, session_log=session_log, http_port=http_server.server_port,
                                    no_status_port=no_status_port)
    finally:
        nginx.stop()
        http_server.shutdown()
        http_server.server_close()


def session_lines(path):
    """Every line of the session log, each parsed as JSON (a line that is not fails the test)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding='utf-8').splitlines()]


def lines_for(path, uri, timeout=WAIT):
    """The lines of requests to ``uri``, once there is one (nginx writes when the request ends)."""
    deadline = time.monotonic() + timeout
    while True:
        found = [line for line in session_lines(path) if line['path'] == uri]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def ws_connect(port, path, **kwargs):
    from websockets.sync.client import connect  # pylint: disable=import-outside-toplevel
    return connect('ws://%s:%d%s' % (LOOPBACK, port, urllib.parse.quote(path)), compression=None, ping_interval=None,
                   proxy=None, open_timeout=WAIT, close_timeout=WAIT, **kwargs)


def test_a_websocket_is_one_json_line_written_when_it_closes(proxy, ws_echo):
    nginx, session_log = proxy.nginx, proxy.session_log
    uri = '/ws/one-session'
    with ws_connect(nginx.port, uri, additional_headers={'X-Forwarded-For': CLIENT}) as ws:
        opened = time.monotonic()
        for number in range(MESSAGES):
            message = ('%d' % number).ljust(MESSAGE_SIZE, 'x')
            ws.send(message)
            assert ws.recv(timeout=WAIT) == message
        time.sleep(0.3)
        assert lines_for(session_log, uri, timeout=0) == []  # nothing until it closes
        held = time.monotonic() - opened
        ended = datetime.datetime.now(datetime.timezone.utc)
    (line,) = lines_for(session_log, uri)
    assert set(line) == {'time', 'client', 'host', 'path', 'status', 'duration', 'upstream', 'upstream_connect_time',
                         'request_bytes', 'bytes_to_client', 'bytes_to_upstream', 'bytes_from_upstream', 'site',
                         'location'}
    assert (line['status'], line['client'], line['host'], line['site'], line['location']) == (
        101, CLIENT, LOOPBACK, 'logged', '/ws/')
    assert line['upstream'] == '%s:%d' % (LOOPBACK, ws_echo)
    assert 0 <= float(line['upstream_connect_time']) < WAIT
    # nginx counts from the request's first byte to the close, in milliseconds (rounded down).
    assert held - 0.002 <= line['duration'] < held + WAIT
    assert abs(datetime.datetime.fromisoformat(line['time']) - ended) < datetime.timedelta(seconds=WAIT)
    # Sent to the client: the 101 response, the echoes and the closing frame.
    assert MESSAGES * SERVER_FRAME < line['bytes_to_client'] < MESSAGES * SERVER_FRAME + HANDSHAKE_AND_CLOSE
    # The client's frames, relayed unchanged after nginx's own handshake request.
    assert MESSAGES * CLIENT_FRAME < int(line['bytes_to_upstream']) < MESSAGES * CLIENT_FRAME + HANDSHAKE_AND_CLOSE
    assert MESSAGES * SERVER_FRAME < int(line['bytes_from_upstream']) < MESSAGES * SERVER_FRAME + HANDSHAKE_AND_CLOSE
    # The handshake only: nginx does not count what it reads from the client after it.
    assert 0 < line['request_bytes'] < HANDSHAKE_AND_CLOSE


def test_the_client_is_the_connecting_address_without_a_trusted_header(proxy):
    """Control for the realip check above: the same request without X-Forwarded-For logs 127.0.0.1."""
    nginx, session_log = proxy.nginx, proxy.session_log
    with ws_connect(nginx.port, '/ws/no-header') as ws:
        ws.send('x')
        assert ws.recv(timeout=WAIT) == 'x'
    (line,) = lines_for(session_log, '/ws/no-header')
    assert (line['client'], line['status']) == (LOOPBACK, 101)


@pytest.mark.parametrize('location', DOLLAR_PATHS)
def test_a_location_path_with_dollar_is_logged_as_configured(proxy, location):
    nginx, session_log = proxy.nginx, proxy.session_log
    uri = location + 'session'
    with ws_connect(nginx.port, uri) as ws:
        ws.send('x')
        assert ws.recv(timeout=WAIT) == 'x'
    (line,) = lines_for(session_log, uri)
    assert (line['location'], line['site'], line['status']) == (location, 'logged', 101)


def test_a_refused_handshake_is_logged_with_its_site_and_location(proxy):
    """The location's set values come before its Origin check, whose 403 ends the request before the upstream."""
    from websockets.exceptions import InvalidStatus  # pylint: disable=import-outside-toplevel
    nginx, session_log = proxy.nginx, proxy.session_log
    with pytest.raises(InvalidStatus) as refused:
        ws_connect(nginx.port, '/origin/refused', origin='https://evil.test')
    assert refused.value.response.status_code == 403
    (line,) = lines_for(session_log, '/origin/refused')
    assert (line['status'], line['site'], line['location'], line['upstream'], line['bytes_to_upstream']) == (
        403, 'logged', '/origin/', '', '')


def test_plain_http_and_static_locations_keep_the_access_log_unless_they_ask(proxy):
    nginx, session_log = proxy.nginx, proxy.session_log
    # 404: the upstream's answer to a path it does not know, and a file that is not there.
    assert [nginx.get(path)[0] for path in ('/api/unlogged', '/api-logged/x', '/files/missing')] == [404] * 3
    (api,) = lines_for(session_log, '/api-logged/x')
    assert (api['status'], api['location'], api['upstream']) == (404, '/api-logged/', '%s:%d' % (LOOPBACK, proxy.http_port))
    (static,) = lines_for(session_log, '/files/missing')
    assert (static['status'], static['location'], static['upstream'], static['upstream_connect_time']) == (
        404, '/files/', '', '')
    assert lines_for(session_log, '/api/unlogged', timeout=0.3) == []
    access_log = (nginx.directory / 'access.log').read_text(encoding='utf-8')
    assert 'GET /api/unlogged ' in access_log and '/api-logged/x' not in access_log


def test_a_websocket_location_can_keep_the_access_log(proxy):
    nginx, session_log = proxy.nginx, proxy.session_log
    with ws_connect(nginx.port, '/ws-unlogged/x') as ws:
        ws.send('x')
        assert ws.recv(timeout=WAIT) == 'x'
    deadline = time.monotonic() + WAIT
    while 'GET /ws-unlogged/x ' not in (nginx.directory / 'access.log').read_text(encoding='utf-8'):
        assert time.monotonic() < deadline, 'the WebSocket is not in the access log'
        time.sleep(0.02)
    assert lines_for(session_log, '/ws-unlogged/x', timeout=0) == []


def test_a_request_without_a_status_is_still_a_json_line(proxy):
    """$status is "000" then, which is not a JSON number: the format writes 0."""
    proxy.nginx.get('/no-status', port=proxy.no_status_port)
    (line,) = lines_for(proxy.session_log, '/no-status')
    assert line['status'] == 0
