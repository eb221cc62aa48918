# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of the RFC 6455 client helpers and address parsing."""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import websocket_client as wsc


# RFC 6455 section 1.3
def test_accept_key_rfc_example():
    assert wsc.accept_key('dGhlIHNhbXBsZSBub25jZQ==') == 's3pPLMBiTxaQ9kYGzzhZRbK+xOo='


# RFC 6455 section 5.7: a single-frame masked text message "Hello"
def test_encode_masked_hello_rfc_example():
    frame = wsc.encode_frame(wsc.OP_TEXT, b'Hello', mask=bytes([0x37, 0xfa, 0x21, 0x3d]))
    assert frame == bytes([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])


@pytest.mark.parametrize('size, header_size, length_field', [
    (0, 2, None), (125, 2, None), (126, 4, '!H'), (65535, 4, '!H'), (65536, 10, '!Q'),
])
def test_encode_frame_lengths(size, header_size, length_field):
    payload = bytes(range(256)) * (size // 256) + bytes(range(size % 256))
    mask = b'\x01\x02\x03\x04'
    frame = wsc.encode_frame(wsc.OP_BINARY, payload, mask=mask)
    assert frame[0] == 0x82
    assert frame[1] & 0x80
    if length_field:
        assert struct.unpack(length_field, frame[2:header_size])[0] == size
    else:
        assert frame[1] & 0x7F == size
    assert frame[header_size:header_size + 4] == mask
    assert wsc.apply_mask(mask, frame[header_size + 4:]) == payload


def test_new_key_is_16_random_bytes():
    import base64
    keys = {wsc.new_key() for _count in range(10)}
    assert len(keys) == 10
    assert all(len(base64.b64decode(key)) == 16 for key in keys)


@pytest.mark.parametrize('spec, expected', [
    ('example.com', ('example.com', None)),
    ('example.com:8080', ('example.com', 8080)),
    ('127.0.0.1:1', ('127.0.0.1', 1)),
    ('[::1]:65535', ('::1', 65535)),
    ('[::1]', ('::1', None)),
    ('::1', ('::1', None)),
    ('fe80::1%eth0', ('fe80::1%eth0', None)),
    ('[2001:db8::1]:443', ('2001:db8::1', 443)),
    ('  host:80 ', ('host', 80)),
])
def test_split_host_port(spec, expected):
    assert wsc.split_host_port(spec) == expected


@pytest.mark.parametrize('spec, message', [
    ('', 'empty address'),
    ('host:0', "invalid port '0'"),
    ('host:65536', "invalid port '65536'"),
    ('host:', "invalid port ''"),
    ('host:-1', "invalid port '-1'"),
    ('host:http', "invalid port 'http'"),
    ('[::1', "missing ']'"),
    ('[::1]x', "unexpected text after ']'"),
    ('[host]:80', "'host' is not an IPv6 address"),
    ('1:2:3', 'is neither host:port nor an IPv6 address'),
    (':80', "no host in ':80'"),
    ('a b:80', "invalid host 'a b'"),
    ('a/b', "invalid host 'a/b'"),
])
def test_split_host_port_errors(spec, message):
    with pytest.raises(ValueError) as exc:
        wsc.split_host_port(spec)
    assert message in str(exc.value)


@pytest.mark.parametrize('value', [0, 65536, -1, 'abc', '', True, 1.5])
def test_validate_port_rejects(value):
    with pytest.raises(ValueError, match='must be an integer between 1 and 65535'):
        wsc.validate_port(value)


def test_validate_port_accepts():
    assert wsc.validate_port('443') == 443
    assert wsc.validate_port(1) == 1


@pytest.mark.parametrize('spec, kwargs, expected', [
    ('h', {}, ('h', 80, False, None)),
    ('h', {'default_tls': True}, ('h', 443, True, None)),
    ('h', {'default_port': 8080, 'default_path': '/ws'}, ('h', 8080, False, '/ws')),
    ('wss://h', {'default_path': '/'}, ('h', 443, True, '/')),
    ('WSS://h:8443/chat?x=1', {}, ('h', 8443, True, '/chat?x=1')),
    ('ws://[::1]:9000/', {'default_tls': True}, ('::1', 9000, False, '/')),
    ('https://h?probe', {}, ('h', 443, True, '/?probe')),
    ('http://h:81', {'default_path': '/p'}, ('h', 81, False, '/p')),
])
def test_parse_server_spec(spec, kwargs, expected):
    result = wsc.parse_server_spec(spec, **kwargs)
    assert (result['host'], result['port'], result['tls'], result['path']) == expected


@pytest.mark.parametrize('spec, message', [
    ('ftp://h', "unsupported scheme 'ftp'"),
    ('ws://user@h/', 'user information is not supported'),
    ('ws:/h', "invalid port '/h'"),
    ('://h', "cannot parse '://h'"),
])
def test_parse_server_spec_errors(spec, message):
    with pytest.raises(ValueError) as exc:
        wsc.parse_server_spec(spec)
    assert message in str(exc.value)


@pytest.mark.parametrize('host, port, expected', [
    ('h', 80, 'h:80'), ('::1', 8080, '[::1]:8080'), ('10.0.0.1', 1, '10.0.0.1:1'),
])
def test_format_address(host, port, expected):
    assert wsc.format_address(host, port) == expected


def test_host_header_and_sni():
    assert wsc.host_header_value('h', 80, False) == 'h'
    assert wsc.host_header_value('h', 443, True) == 'h'
    assert wsc.host_header_value('h', 443, False) == 'h:443'
    assert wsc.host_header_value('::1', 8080, False) == '[::1]:8080'
    assert wsc.sni_name('10.0.0.1', 'chat.example.com:8443') == 'chat.example.com'
    assert wsc.sni_name('10.0.0.1', None) == '10.0.0.1'


def test_deadline_with_fake_clock():
    now = [100.0]
    deadline = wsc.Deadline(2, clock=lambda: now[0])
    assert deadline.remaining() == 2
    now[0] += 2.5
    with pytest.raises(wsc.ProbeError) as exc:
        deadline.arm(None, 'doing something')
    assert exc.value.stage == 'timeout'
    assert exc.value.message == 'timed out after 2s doing something'


def test_unknown_check_type():
    with pytest.raises(ValueError, match="unknown check 'udp'"):
        wsc.run_check('127.0.0.1', 1, check='udp')


def _scripted_server(frames):
    """A one-shot server on loopback that completes the handshake then sends ``frames`` (bytes)."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    listener.settimeout(5)

    def serve():
        try:
            conn, _peer = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            head = b''
            while b'\r\n\r\n' not in head:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                head += chunk
            key = [line.split(b':', 1)[1].strip().decode() for line in head.split(b'\r\n')
                   if line.lower().startswith(b'sec-websocket-key:')][0]
            conn.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                         b'Sec-WebSocket-Accept: ' + wsc.accept_key(key).encode() + b'\r\n\r\n' + frames)
            conn.shutdown(socket.SHUT_WR)  # the client sees the end of the stream after the frames
            try:
                while conn.recv(4096):
                    pass
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener, thread


def server_frame(opcode, payload, fin=True, masked=False, rsv=0):
    first = (0x80 if fin else 0) | rsv | opcode
    mask_bit = 0x80 if masked else 0
    if len(payload) < 126:
        header = struct.pack('!BB', first, mask_bit | len(payload))
    else:
        header = struct.pack('!BBH', first, mask_bit | 126, len(payload))
    if masked:
        return header + b'\0\0\0\0' + payload
    return header + payload


CLOSE_1000 = server_frame(wsc.OP_CLOSE, struct.pack('!H', 1000))


@pytest.mark.parametrize('frames, stage, error', [
    # healthy: pong and ping before the echo, then the close reply
    (server_frame(wsc.OP_PONG, b'') + server_frame(wsc.OP_PING, b'x') + server_frame(wsc.OP_TEXT, b'hi') + CLOSE_1000,
     None, None),
    # healthy: echo in three fragments with a ping in between, a late message before the close reply
    (server_frame(wsc.OP_TEXT, b'h', fin=False) + server_frame(wsc.OP_PING, b'') + server_frame(wsc.OP_CONTINUATION, b'', fin=False)
     + server_frame(wsc.OP_CONTINUATION, b'i') + server_frame(wsc.OP_TEXT, b'extra') + CLOSE_1000, None, None),
    (server_frame(wsc.OP_TEXT, b'hi', masked=True), 'echo', 'the server sent a masked frame'),
    (server_frame(wsc.OP_TEXT, b'hi', rsv=0x40), 'echo', 'reserved bits set'),
    (server_frame(0x3, b'hi'), 'echo', 'unknown opcode 0x3'),
    (server_frame(wsc.OP_CONTINUATION, b'hi'), 'echo', 'continuation frame without a message'),
    (server_frame(wsc.OP_PING, b'x' * 126), 'echo', 'invalid ping control frame'),
    (server_frame(wsc.OP_TEXT, b'h', fin=False) + server_frame(wsc.OP_TEXT, b'i'), 'echo', 'new text message inside a fragmented message'),
    (server_frame(wsc.OP_TEXT, b'hi'), 'close', 'the server closed the connection waiting for the close frame'),
    (server_frame(wsc.OP_TEXT, b'hi') + server_frame(wsc.OP_CLOSE, b''), 'close', 'code 1005, expected 1000'),
    (server_frame(wsc.OP_TEXT, b'hi') + server_frame(wsc.OP_CLOSE, b'\x03'), 'close', 'invalid close frame'),
    (b'', 'echo', 'the server closed the connection waiting for the echo'),
])
def test_frame_handling(frames, stage, error):
    listener, thread = _scripted_server(frames)
    try:
        result = wsc.run_check('127.0.0.1', listener.getsockname()[1], echo=True, payload='hi', timeout=3)
    finally:
        listener.close()
        thread.join(5)
    assert result['stage'] == stage, result
    assert result['healthy'] is (stage is None)
    if error:
        assert error in result['error']
    else:
        assert result['error'] is None


def _read_client_frame(conn, buffer):
    """Read one masked client frame from ``conn``; return ``(opcode, payload, rest of buffer)``."""
    def need(count, data):
        while len(data) < count:
            chunk = conn.recv(4096)
            if not chunk:
                raise EOFError('client closed the connection')
            data += chunk
        return data

    buffer = need(2, buffer)
    opcode, size = buffer[0] & 0x0F, buffer[1] & 0x7F
    assert buffer[1] & 0x80, 'client frames must be masked'
    offset = 2
    if size == 126:
        buffer = need(4, buffer)
        size, offset = struct.unpack('!H', buffer[2:4])[0], 4
    buffer = need(offset + 4 + size, buffer)
    mask = buffer[offset:offset + 4]
    payload = wsc.apply_mask(mask, buffer[offset + 4:offset + 4 + size])
    return opcode, payload, buffer[offset + 4 + size:]


def test_ping_is_answered_with_a_pong_before_the_echo_arrives():
    """The server withholds the echo until the client has answered its ping with the same payload."""
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(1)
    listener.settimeout(5)
    seen = []

    def serve():
        try:
            conn, _peer = listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            head = b''
            while b'\r\n\r\n' not in head:
                head += conn.recv(4096)
            head, buffer = head.split(b'\r\n\r\n', 1)
            key = [line.split(b':', 1)[1].strip().decode() for line in head.split(b'\r\n')
                   if line.lower().startswith(b'sec-websocket-key:')][0]
            conn.sendall(b'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
                         b'Sec-WebSocket-Accept: ' + wsc.accept_key(key).encode() + b'\r\n\r\n'
                         + server_frame(wsc.OP_PING, b'ping-42'))
            try:
                for _count in range(10):
                    opcode, payload, buffer = _read_client_frame(conn, buffer)
                    seen.append((opcode, payload))
                    if opcode == wsc.OP_PONG:
                        conn.sendall(server_frame(wsc.OP_TEXT, b'hi'))
                    elif opcode == wsc.OP_CLOSE:
                        conn.sendall(CLOSE_1000)
                        return
            except (EOFError, OSError):
                return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        result = wsc.run_check('127.0.0.1', listener.getsockname()[1], echo=True, payload='hi', timeout=3)
    finally:
        listener.close()
        thread.join(5)
    assert result['healthy'] is True, result
    assert seen == [(wsc.OP_TEXT, b'hi'), (wsc.OP_PONG, b'ping-42'), (wsc.OP_CLOSE, struct.pack('!H', 1000))]
