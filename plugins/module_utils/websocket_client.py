# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Small, dependency-free health probes for upstream servers.

Only the Python standard library is used, so this runs on any managed host.
It implements:

* ``tcp``: a TCP connect (plus the TLS handshake when TLS is on);
* ``http``: ``GET path`` over HTTP/1.1 and a check of the status code;
* ``websocket``: the client side of the RFC 6455 opening handshake, an
  optional masked text frame that must be echoed back and the closing
  handshake.

Every probe is bounded by one deadline that covers the whole check of one
server (connect, TLS, handshake, echo and close); when it expires the probe
fails at stage ``timeout``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import socket
import ssl
import struct
import time

from concurrent.futures import ThreadPoolExecutor

WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'

STAGE_CONNECT = 'connect'
STAGE_TLS = 'tls'
STAGE_HANDSHAKE = 'handshake'
STAGE_ACCEPT_KEY = 'accept-key'
STAGE_ECHO = 'echo'
STAGE_CLOSE = 'close'
STAGE_TIMEOUT = 'timeout'
STAGES = (STAGE_CONNECT, STAGE_TLS, STAGE_HANDSHAKE, STAGE_ACCEPT_KEY, STAGE_ECHO, STAGE_CLOSE, STAGE_TIMEOUT)

CHECK_TYPES = ('tcp', 'http', 'websocket')

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_OPCODE_NAMES = {
    OP_CONTINUATION: 'continuation', OP_TEXT: 'text', OP_BINARY: 'binary',
    OP_CLOSE: 'close', OP_PING: 'ping', OP_PONG: 'pong',
}

CLOSE_NORMAL = 1000
CLOSE_NO_STATUS = 1005

MAX_HEADER_BYTES = 65536
MAX_MESSAGE_BYTES = 1024 * 1024
MAX_FRAMES = 1000
RECV_SIZE = 65536

SCHEME_TLS = {'ws': False, 'http': False, 'wss': True, 'https': True}

_STATUS_LINE = re.compile(r'^HTTP/(\d)\.(\d) +(\d{3})(?: (.*))?$')
_URL = re.compile(r'^(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<path>[/?][^#]*)?$')
_CTL = re.compile(r'[\x00-\x1f\x7f]')
# An HTTP token (RFC 9110 tchar+), such as a WebSocket subprotocol name; use fullmatch.
HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


def is_request_path(value):
    """Whether ``value`` can be sent as a request target: starts with "/", no spaces or control characters."""
    return isinstance(value, str) and value.startswith('/') and ' ' not in value and not _CTL.search(value)


class ProbeError(Exception):
    """A check failed at ``stage``; ``status`` is the HTTP status when one was received."""

    def __init__(self, stage, message, status=None):
        super(ProbeError, self).__init__(message)
        self.stage = stage
        self.message = message
        self.status = status


class Deadline(object):
    """An absolute deadline shared by every step of one check."""

    def __init__(self, timeout, clock=time.monotonic):
        self.timeout = float(timeout)
        self._clock = clock
        self.end = clock() + self.timeout

    def remaining(self):
        return self.end - self._clock()

    def expired_error(self, step):
        return ProbeError(STAGE_TIMEOUT, 'timed out after %gs %s' % (self.timeout, step))

    def arm(self, sock, step):
        """Give ``sock`` what is left of the deadline, or raise a timeout error."""
        left = self.remaining()
        if left <= 0:
            raise self.expired_error(step)
        sock.settimeout(left)


# ---------------------------------------------------------------------------
# Addresses
# ---------------------------------------------------------------------------

def validate_port(value, what='port'):
    """Return ``value`` as an int between 1 and 65535 or raise ValueError."""
    if isinstance(value, bool):
        raise ValueError('invalid %s %r: must be an integer between 1 and 65535' % (what, value))
    if isinstance(value, int):
        port = value
    else:
        text = str(value).strip()
        if not re.fullmatch(r'[0-9]+', text):
            raise ValueError("invalid %s '%s': must be an integer between 1 and 65535" % (what, value))
        port = int(text)
    if not 1 <= port <= 65535:
        raise ValueError("invalid %s '%s': must be an integer between 1 and 65535" % (what, value))
    return port


def _validate_host(host, spec):
    if not host:
        raise ValueError("no host in '%s'" % spec)
    if _CTL.search(host) or any(c in host for c in ' /\\?#@[]'):
        raise ValueError("invalid host '%s' in '%s'" % (host, spec))
    return host


def split_host_port(spec):
    """Split ``host``, ``host:port``, ``[v6]``, ``[v6]:port`` or a bare IPv6 address.

    Returns ``(host, port)`` where ``port`` is None when the text has none.
    IPv6 addresses are returned without brackets.
    """
    text = spec.strip()
    if not text:
        raise ValueError('empty address')
    if text.startswith('['):
        end = text.find(']')
        if end < 0:
            raise ValueError("missing ']' in '%s'" % spec)
        host = text[1:end]
        rest = text[end + 1:]
        if ':' not in host:
            raise ValueError("'%s' is not an IPv6 address in '%s'" % (host, spec))
        if _CTL.search(host) or ' ' in host:
            raise ValueError("invalid host '%s' in '%s'" % (host, spec))
        if not rest:
            return host, None
        if not rest.startswith(':'):
            raise ValueError("unexpected text after ']' in '%s'" % spec)
        return host, validate_port(rest[1:])
    if text.count(':') > 1:
        # A bare IPv6 address cannot carry a port: it needs brackets for that.
        try:
            socket.inet_pton(socket.AF_INET6, text.split('%', 1)[0])
        except (OSError, ValueError):
            raise ValueError("'%s' is neither host:port nor an IPv6 address (write [v6]:port)" % spec)
        return text, None
    if ':' in text:
        host, port = text.rsplit(':', 1)
        return _validate_host(host, spec), validate_port(port)
    return _validate_host(text, spec), None


def format_host(host):
    """Bracket IPv6 literals."""
    return '[%s]' % host if ':' in host else host


def format_address(host, port):
    return '%s:%d' % (format_host(host), port)


def parse_server_spec(spec, default_port=None, default_tls=False, default_path=None):
    """Parse one server string into a dict with host, port, tls and path.

    Accepted forms: ``host``, ``host:port``, ``[v6]``, ``[v6]:port``, a bare
    IPv6 address and URLs ``ws://``, ``wss://``, ``http://``, ``https://``
    (whose scheme sets TLS and whose path, when present, overrides the default).
    ``default_port`` may be None, in which case 443 is used with TLS and 80
    without.
    """
    if not isinstance(spec, str):
        raise ValueError('expected a string, got %s' % type(spec).__name__)
    text = spec.strip()
    tls = default_tls
    path = default_path
    match = _URL.match(text)
    if match:
        scheme = match.group('scheme').lower()
        if scheme not in SCHEME_TLS:
            raise ValueError("unsupported scheme '%s' in '%s' (use ws, wss, http or https)" % (scheme, spec))
        tls = SCHEME_TLS[scheme]
        if match.group('path'):
            path = match.group('path')
            if path.startswith('?'):
                path = '/' + path
        text = match.group('authority')
        if '@' in text:
            raise ValueError("user information is not supported in '%s'" % spec)
    elif '://' in text:
        raise ValueError("cannot parse '%s'" % spec)
    host, port = split_host_port(text)
    if port is None:
        port = default_port if default_port is not None else (443 if tls else 80)
    return {'host': host, 'port': port, 'tls': tls, 'path': path}


def default_port_for(tls):
    return 443 if tls else 80


# ---------------------------------------------------------------------------
# Sockets
# ---------------------------------------------------------------------------

def _os_error_text(exc):
    return exc.strerror or str(exc) or exc.__class__.__name__


def open_connection(host, port, deadline):
    """Connect to ``host``:``port`` trying every resolved address before the deadline."""
    try:
        infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise ProbeError(STAGE_CONNECT, 'cannot resolve %s: %s' % (host, _os_error_text(exc)))
    except UnicodeError as exc:
        raise ProbeError(STAGE_CONNECT, 'cannot resolve %s: %s' % (host, exc))
    errors = []
    for family, socktype, proto, _canonname, sockaddr in infos:
        sock = socket.socket(family, socktype, proto)
        try:
            deadline.arm(sock, 'connecting to %s' % format_address(sockaddr[0], sockaddr[1]))
            sock.connect(sockaddr)
        except ProbeError:
            sock.close()
            raise
        except socket.timeout:
            sock.close()
            raise deadline.expired_error('connecting to %s' % format_address(sockaddr[0], sockaddr[1]))
        except OSError as exc:
            sock.close()
            errors.append('%s: %s' % (format_address(sockaddr[0], sockaddr[1]), _os_error_text(exc)))
            continue
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        return sock
    raise ProbeError(STAGE_CONNECT, 'cannot connect to %s' % '; '.join(errors or ['%s: no address' % host]))


def make_ssl_context(validate_certs=True, ca_path=None):
    """A client TLS context that offers ALPN http/1.1 (WebSocket needs HTTP/1.1)."""
    if validate_certs:
        context = ssl.create_default_context(cafile=ca_path)
    else:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        context.set_alpn_protocols(['http/1.1'])
    except (NotImplementedError, AttributeError):  # pragma: no cover - very old OpenSSL
        pass
    return context


def start_tls(sock, context, server_hostname, deadline):
    """Wrap ``sock`` in TLS within the deadline; ``sock`` is closed when this fails."""
    try:
        deadline.arm(sock, 'during the TLS handshake')
        return context.wrap_socket(sock, server_hostname=server_hostname)
    except ProbeError:
        sock.close()
        raise
    except socket.timeout:
        sock.close()
        raise deadline.expired_error('during the TLS handshake')
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise ProbeError(STAGE_TLS, 'certificate verification failed: %s' % (exc.verify_message or exc))
    except ssl.SSLError as exc:
        sock.close()
        raise ProbeError(STAGE_TLS, 'TLS handshake failed: %s' % (exc.reason or exc))
    except (OSError, ValueError) as exc:
        sock.close()
        if isinstance(exc, OSError) and not exc.errno and not exc.strerror:
            text = 'the connection was closed during the TLS handshake'
        else:
            text = _os_error_text(exc) if isinstance(exc, OSError) else str(exc)
        raise ProbeError(STAGE_TLS, 'TLS handshake failed: %s' % text)


class Connection(object):
    """A socket, its read buffer and the deadline of the current check."""

    def __init__(self, sock, deadline):
        self.sock = sock
        self.deadline = deadline
        self.buffer = b''

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data, stage, step):
        self.deadline.arm(self.sock, step)
        try:
            self.sock.sendall(data)
        except socket.timeout:
            raise self.deadline.expired_error(step)
        except OSError as exc:
            raise ProbeError(stage, 'connection error %s: %s' % (step, _os_error_text(exc)))

    def recv_more(self, stage, step, eof_message=None):
        """Append at least one byte to the buffer; EOF is an error at ``stage``."""
        self.deadline.arm(self.sock, step)
        try:
            chunk = self.sock.recv(RECV_SIZE)
        except socket.timeout:
            raise self.deadline.expired_error(step)
        except ConnectionResetError:
            raise ProbeError(stage, 'the server closed the connection (reset) %s' % step)
        except OSError as exc:
            raise ProbeError(stage, 'connection error %s: %s' % (step, _os_error_text(exc)))
        if not chunk:
            raise ProbeError(stage, eof_message or 'the server closed the connection %s' % step)
        self.buffer += chunk

    def read_exact(self, count, stage, step):
        while len(self.buffer) < count:
            self.recv_more(stage, step)
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data


# ---------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------

def host_header_value(host, port, tls):
    if port == default_port_for(tls):
        return format_host(host)
    return format_address(host, port)


def sni_name(host, host_header=None):
    """The TLS server name: the host of the Host header when one is given, else the host."""
    if host_header:
        try:
            name, _port = split_host_port(host_header)
            return name
        except ValueError:
            return host_header
    return host


def build_request(path, headers):
    lines = ['GET %s HTTP/1.1' % path]
    lines.extend('%s: %s' % (name, value) for name, value in headers)
    return ('\r\n'.join(lines) + '\r\n\r\n').encode('latin-1')


def read_response_head(conn, stage=STAGE_HANDSHAKE):
    """Read an HTTP response head; return ``(status, reason, headers)``.

    ``headers`` maps lower-cased names to lists of values. Bytes after the
    head stay in ``conn.buffer``.
    """
    step = 'waiting for the HTTP response'
    while b'\r\n\r\n' not in conn.buffer:
        if len(conn.buffer) > MAX_HEADER_BYTES:
            raise ProbeError(stage, 'the HTTP response head is larger than %d bytes' % MAX_HEADER_BYTES)
        if conn.buffer:
            eof = 'the server closed the connection in the middle of the HTTP response head (%d bytes received)' % len(conn.buffer)
        else:
            eof = 'the server closed the connection without sending an HTTP response'
        conn.recv_more(stage, step, eof)
    head, conn.buffer = conn.buffer.split(b'\r\n\r\n', 1)
    lines = head.decode('latin-1').split('\r\n')
    match = _STATUS_LINE.match(lines[0])
    if not match:
        raise ProbeError(stage, 'not an HTTP response: %r' % lines[0][:100])
    status = int(match.group(3))
    reason = (match.group(4) or '').strip()
    headers = {}
    for line in lines[1:]:
        if ':' not in line:
            raise ProbeError(stage, 'malformed HTTP header line: %r' % line[:100], status=status)
        name, value = line.split(':', 1)
        headers.setdefault(name.strip().lower(), []).append(value.strip())
    return status, reason, headers


def header_tokens(headers, name):
    """All comma separated, lower-cased tokens of a header (every occurrence)."""
    tokens = []
    for value in headers.get(name, []):
        tokens.extend(token.strip().lower() for token in value.split(',') if token.strip())
    return tokens


# ---------------------------------------------------------------------------
# WebSocket frames
# ---------------------------------------------------------------------------

def accept_key(key):
    """``Sec-WebSocket-Accept`` for a ``Sec-WebSocket-Key`` (RFC 6455 section 4.2.2)."""
    digest = hashlib.sha1((key + WS_GUID).encode('ascii')).digest()
    return base64.b64encode(digest).decode('ascii')


def new_key():
    return base64.b64encode(os.urandom(16)).decode('ascii')


def apply_mask(mask, data):
    if not data:
        return b''
    size = len(data)
    repeated = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(data, 'big') ^ int.from_bytes(repeated, 'big')).to_bytes(size, 'big')


def encode_frame(opcode, payload, fin=True, mask=None):
    """Encode a client (masked) frame; ``mask`` is 4 random bytes unless given."""
    if mask is None:
        mask = os.urandom(4)
    first = (0x80 if fin else 0) | opcode
    size = len(payload)
    if size < 126:
        header = struct.pack('!BB', first, 0x80 | size)
    elif size < 65536:
        header = struct.pack('!BBH', first, 0x80 | 126, size)
    else:
        header = struct.pack('!BBQ', first, 0x80 | 127, size)
    return header + mask + apply_mask(mask, payload)


def read_frame(conn, stage, step):
    """Read one server frame; return ``(fin, opcode, payload)``."""
    head = conn.read_exact(2, stage, step)
    first, second = head[0], head[1]
    fin = bool(first & 0x80)
    if first & 0x70:
        raise ProbeError(stage, 'protocol error: reserved bits set in a frame without a negotiated extension')
    opcode = first & 0x0F
    if opcode not in _OPCODE_NAMES:
        raise ProbeError(stage, 'protocol error: unknown opcode 0x%x' % opcode)
    if second & 0x80:
        raise ProbeError(stage, 'protocol error: the server sent a masked frame')
    size = second & 0x7F
    if size == 126:
        size = struct.unpack('!H', conn.read_exact(2, stage, step))[0]
    elif size == 127:
        size = struct.unpack('!Q', conn.read_exact(8, stage, step))[0]
    if opcode >= OP_CLOSE and (size > 125 or not fin):
        raise ProbeError(stage, 'protocol error: invalid %s control frame' % _OPCODE_NAMES[opcode])
    if size > MAX_MESSAGE_BYTES:
        raise ProbeError(stage, 'frame of %d bytes is larger than the %d bytes allowed' % (size, MAX_MESSAGE_BYTES))
    return fin, opcode, conn.read_exact(size, stage, step)


def parse_close_payload(payload):
    if not payload:
        return CLOSE_NO_STATUS, ''
    if len(payload) == 1:
        raise ValueError('a close frame payload of one byte is invalid')
    code = struct.unpack('!H', payload[:2])[0]
    return code, payload[2:].decode('utf-8', 'replace')


def read_message(conn, stage, step):
    """Read the next data message, answering pings and skipping pongs.

    Returns ``(opcode, data)`` for text/binary messages and
    ``(OP_CLOSE, payload)`` when the server starts the closing handshake.
    """
    parts = []
    message_opcode = None
    for _count in range(MAX_FRAMES):
        fin, opcode, payload = read_frame(conn, stage, step)
        if opcode == OP_PING:
            conn.send(encode_frame(OP_PONG, payload), stage, 'answering a ping')
            continue
        if opcode == OP_PONG:
            continue
        if opcode == OP_CLOSE:
            return OP_CLOSE, payload
        if opcode == OP_CONTINUATION:
            if message_opcode is None:
                raise ProbeError(stage, 'protocol error: continuation frame without a message to continue')
        else:
            if message_opcode is not None:
                raise ProbeError(stage, 'protocol error: new %s message inside a fragmented message' % _OPCODE_NAMES[opcode])
            message_opcode = opcode
        parts.append(payload)
        if sum(len(part) for part in parts) > MAX_MESSAGE_BYTES:
            raise ProbeError(stage, 'message larger than %d bytes' % MAX_MESSAGE_BYTES)
        if fin:
            return message_opcode, b''.join(parts)
    raise ProbeError(stage, 'no complete message within %d frames' % MAX_FRAMES)


def _describe_close(payload):
    try:
        code, reason = parse_close_payload(payload)
    except ValueError as exc:
        return str(exc)
    text = 'code %d' % code
    if reason:
        text += ' (%s)' % reason
    return text


def _short(data, limit=60):
    text = repr(data)
    return text if len(text) <= limit else text[:limit] + '...'


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

def _request_headers(host, port, tls, host_header, origin):
    headers = [('Host', host_header or host_header_value(host, port, tls))]
    if origin:
        headers.append(('Origin', origin))
    headers.append(('User-Agent', 'websocket.nginx.upstream_health'))
    return headers


def check_http(conn, host, port, tls, path, expected_status, host_header=None, origin=None):
    headers = _request_headers(host, port, tls, host_header, origin)
    headers.extend([('Accept', '*/*'), ('Connection', 'close')])
    conn.send(build_request(path, headers), STAGE_HANDSHAKE, 'sending the HTTP request')
    status, reason, _headers = read_response_head(conn)
    if status not in expected_status:
        raise ProbeError(
            STAGE_HANDSHAKE,
            'HTTP status %d %s, expected %s' % (status, reason, ' or '.join(str(s) for s in expected_status)),
            status=status,
        )
    return {'status': status}


def websocket_handshake(conn, host, port, tls, path, host_header=None, origin=None, subprotocols=None, key=None):
    """Run the opening handshake; return ``(status, subprotocol)``."""
    key = key or new_key()
    headers = _request_headers(host, port, tls, host_header, origin)
    headers.extend([
        ('Upgrade', 'websocket'),
        ('Connection', 'Upgrade'),
        ('Sec-WebSocket-Key', key),
        ('Sec-WebSocket-Version', '13'),
    ])
    if subprotocols:
        headers.append(('Sec-WebSocket-Protocol', ', '.join(subprotocols)))
    conn.send(build_request(path, headers), STAGE_HANDSHAKE, 'sending the opening handshake')
    status, reason, response = read_response_head(conn)
    if status != 101:
        raise ProbeError(STAGE_HANDSHAKE, 'the server refused the upgrade: HTTP status %d %s, expected 101' % (status, reason), status=status)
    upgrade = header_tokens(response, 'upgrade')
    if upgrade != ['websocket']:
        got = ', '.join(response.get('upgrade', [])) or '(missing)'
        raise ProbeError(STAGE_HANDSHAKE, "the response has Upgrade: %s, expected 'websocket'" % got, status=status)
    if 'upgrade' not in header_tokens(response, 'connection'):
        got = ', '.join(response.get('connection', [])) or '(missing)'
        raise ProbeError(STAGE_HANDSHAKE, "the response has Connection: %s, expected the token 'Upgrade'" % got, status=status)
    accept = response.get('sec-websocket-accept', [])
    expected = accept_key(key)
    if len(accept) != 1 or accept[0] != expected:
        got = ', '.join(accept) if accept else '(missing)'
        raise ProbeError(STAGE_ACCEPT_KEY, 'Sec-WebSocket-Accept is %s, expected %s for the key sent' % (got, expected), status=status)
    extensions = header_tokens(response, 'sec-websocket-extensions')
    if extensions:
        got = ', '.join(response['sec-websocket-extensions'])
        raise ProbeError(STAGE_HANDSHAKE, 'the server selected extensions that were not offered: %s' % got, status=status)
    chosen = response.get('sec-websocket-protocol', [])
    if subprotocols:
        if len(chosen) != 1 or chosen[0] not in subprotocols:
            raise ProbeError(
                STAGE_HANDSHAKE,
                'the server selected subprotocol %s, expected one of %s' % (', '.join(chosen) or '(none)', ', '.join(subprotocols)),
                status=status,
            )
        return status, chosen[0]
    if chosen:
        raise ProbeError(STAGE_HANDSHAKE, 'the server selected subprotocol %s although none was offered' % ', '.join(chosen), status=status)
    return status, None


def websocket_echo(conn, payload):
    data = payload.encode('utf-8')
    conn.send(encode_frame(OP_TEXT, data), STAGE_ECHO, 'sending the echo frame')
    opcode, received = read_message(conn, STAGE_ECHO, 'waiting for the echo')
    if opcode == OP_CLOSE:
        raise ProbeError(STAGE_ECHO, 'the server closed the WebSocket with %s instead of echoing' % _describe_close(received))
    if opcode != OP_TEXT:
        raise ProbeError(STAGE_ECHO, 'expected a text message echoing %s, got a %s message %s' % (_short(payload), _OPCODE_NAMES[opcode], _short(received)))
    if received != data:
        raise ProbeError(STAGE_ECHO, 'echo mismatch: sent %s, received %s' % (_short(payload), _short(received.decode('utf-8', 'replace'))))


def websocket_close(conn, verify=True):
    """Send a 1000 close frame; with ``verify`` wait for the server's close frame with code 1000."""
    conn.send(encode_frame(OP_CLOSE, struct.pack('!H', CLOSE_NORMAL)), STAGE_CLOSE, 'sending the close frame')
    if not verify:
        return
    for _count in range(MAX_FRAMES):
        opcode, payload = read_message(conn, STAGE_CLOSE, 'waiting for the close frame')
        if opcode != OP_CLOSE:
            continue
        try:
            code, reason = parse_close_payload(payload)
        except ValueError as exc:
            raise ProbeError(STAGE_CLOSE, 'invalid close frame: %s' % exc)
        if code != CLOSE_NORMAL:
            raise ProbeError(STAGE_CLOSE, 'the server answered the close with code %d%s, expected 1000' % (code, ' (%s)' % reason if reason else ''))
        return
    raise ProbeError(STAGE_CLOSE, 'no close frame within %d messages' % MAX_FRAMES)


def run_check(host, port, check='websocket', tls=False, path='/', timeout=5.0, expected_status=(200,),
              host_header=None, origin=None, subprotocols=None, echo=False, payload='upstream_health',
              ssl_context=None, clock=time.monotonic):
    """Check one server; never raises for network problems.

    Returns a dict with ``healthy``, ``stage``, ``status``, ``error``,
    ``latency_ms`` and ``subprotocol``.
    """
    if check not in CHECK_TYPES:
        raise ValueError('unknown check %r' % (check,))
    started = clock()
    deadline = Deadline(timeout, clock=clock)
    result = {'healthy': False, 'stage': None, 'status': None, 'error': None, 'latency_ms': None, 'subprotocol': None}
    conn = None
    try:
        sock = open_connection(host, port, deadline)
        if tls:
            context = ssl_context or make_ssl_context()
            sock = start_tls(sock, context, sni_name(host, host_header), deadline)  # closes sock on failure
        conn = Connection(sock, deadline)
        if check == 'http':
            result['status'] = check_http(conn, host, port, tls, path, tuple(expected_status), host_header, origin)['status']
        elif check == 'websocket':
            result['status'], result['subprotocol'] = websocket_handshake(
                conn, host, port, tls, path, host_header=host_header, origin=origin, subprotocols=subprotocols)
            if echo:
                websocket_echo(conn, payload)
                websocket_close(conn, verify=True)
            else:
                try:
                    websocket_close(conn, verify=False)
                except ProbeError:
                    pass
        result['healthy'] = True
    except ProbeError as exc:
        result['stage'] = exc.stage
        result['error'] = exc.message
        if exc.status is not None:
            result['status'] = exc.status
    finally:
        if conn is not None:
            conn.close()
    result['latency_ms'] = round((clock() - started) * 1000.0, 3)
    return result


def check_all(targets, probe, max_workers):
    """Run ``probe(target)`` for every target at once (at most ``max_workers`` threads) and update each
    target with the dict it returns. Probes are bounded by their own deadlines."""
    if not targets:
        return
    with ThreadPoolExecutor(max_workers=min(max_workers, len(targets))) as pool:
        for target, result in zip(targets, pool.map(probe, targets)):
            target.update(result)
