# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one layer between variable values and nginx configuration text.

Two halves:

- *checks* (``check_*`` and ``parse_*``) read a value the way nginx will and raise
  :class:`ValueError` with a message that says what is expected;
- *rendering* (:func:`nginx_arg`, :func:`raw_block`) turns a checked value into text
  that nginx's tokenizer reads back as exactly that value, as one argument: it can
  never end a directive, open or close a block, or start a comment.

The rules are nginx's own (ngx_conf_read_token, ngx_parse_time, ngx_parse_size),
and :mod:`..module_utils.nginx_config` tokenizes the same way, so the tests can
parse what was rendered and compare it with what was meant.
"""

from __future__ import annotations

import ipaddress
import math
import posixpath
import re

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config
from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import (
    HTTP_TOKEN,
    format_address,
    format_host,
    is_request_path,
    split_host_port,
)

CONTROL = re.compile(r'[\x00-\x1f\x7f]')
# Characters a bare (unquoted) nginx word may hold without any of them meaning
# something to the tokenizer; anything else is written in double quotes.
_BARE = re.compile(r'[A-Za-z0-9_./:@%+=,~^*!?&|<>()\[\]-]+')
_NOT_BARE_START = ('"', "'", '#')

# ngx_parse_time: units in this order, each at most once; a bare number is seconds
# (or milliseconds where nginx reads milliseconds); spaces between parts are allowed.
TIME_UNITS = (('y', 31536000000), ('M', 2592000000), ('w', 604800000), ('d', 86400000),
              ('h', 3600000), ('m', 60000), ('s', 1000), ('ms', 1))
_TIME_PART = re.compile(r'([0-9]+)(ms|[yMwdhms])?')
# nginx stores times in an ngx_msec_t / time_t; refuse what would overflow it.
MAX_TIME_MS = 2 ** 31 * 1000 - 1
SIZE_UNITS = {'': 1, 'k': 1024, 'K': 1024, 'm': 1024 ** 2, 'M': 1024 ** 2, 'g': 1024 ** 3, 'G': 1024 ** 3}
_SIZE = re.compile(r'([0-9]+)([kKmMgG]?)')
MAX_SIZE = 2 ** 63 - 1

HOST_NAME = re.compile(r'[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?')
NAME = re.compile(r'[A-Za-z0-9][A-Za-z0-9_.-]*')
VARIABLE = re.compile(r'\$([A-Za-z0-9_]+|\{[A-Za-z0-9_]+\})')
MIME_TYPE = re.compile(r"[A-Za-z0-9!#&^_.+-]+/[A-Za-z0-9!#&^_.+-]+|\*")
HEADER_TOKEN_LIST = re.compile(r'[A-Za-z0-9!#%&\'*+.^_`|~-]+(=[A-Za-z0-9!#%&\'*+.^_`|~-]+)?'
                               r'( *, *[A-Za-z0-9!#%&\'*+.^_`|~-]+(=[A-Za-z0-9!#%&\'*+.^_`|~-]+)?)*')
NEXT_UPSTREAM_CONDITIONS = ('error', 'timeout', 'invalid_header', 'http_500', 'http_502', 'http_503',
                            'http_504', 'http_403', 'http_404', 'http_429', 'non_idempotent', 'off')
LISTEN_FLAGS = ('ssl', 'http2', 'quic', 'proxy_protocol', 'reuseport', 'deferred', 'bind')
LISTEN_PARAMS = ('backlog', 'rcvbuf', 'sndbuf', 'ipv6only', 'so_keepalive', 'fastopen', 'setfib', 'accept_filter')
SYSTEMD_SAFE = re.compile(r'[A-Za-z0-9_.:@+/-]+')


def show(value):
    """A value as the messages quote it: JSON-like, so a newline shows as \\n."""
    text = value if isinstance(value, str) else str(value)
    return '"%s"' % text.encode('unicode_escape').decode('ascii').replace('"', '\\"')


# ---------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------

def nginx_arg(value):
    """Render ``value`` as exactly one nginx argument.

    Bare when it only holds characters without meaning to the tokenizer,
    otherwise in double quotes with ``\\`` and ``"`` escaped. Control
    characters are refused: no checked value holds one, so meeting one here
    means a value skipped its check.
    """
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError('nginx_arg takes a string or an integer, got %s' % type(value).__name__)
    text = str(value)
    if CONTROL.search(text):
        raise ValueError('control characters cannot be rendered into nginx configuration: %s' % show(text))
    if _BARE.fullmatch(text) and not text.startswith(_NOT_BARE_START):
        return text
    return '"%s"' % text.replace('\\', '\\\\').replace('"', '\\"')


NGINX_WHITESPACE = ' \t\r\n'

# A variable whose value is a literal "$": websocket_proxy's upgrade_map.conf.j2 defines it with geo,
# whose values are text, not scripts. Braced, so that the characters after it stay text.
DOLLAR_VARIABLE = '${websocket_proxy_dollar}'


def script_literal(text):
    """``text`` as an nginx script (a ``set`` value) that evaluates to exactly ``text``.

    In a script every ``$`` starts a variable, and nginx has no escape for it: each one becomes
    DOLLAR_VARIABLE. Render the result with :func:`nginx_arg`; only the variables written here
    are in it.
    """
    if not isinstance(text, str):
        raise ValueError('script_literal takes a string, got %s' % type(text).__name__)
    return text.replace('$', DOLLAR_VARIABLE)


def check_raw_directives(text):
    """Check raw nginx text (trusted input such as ``extra_directives``) stays in its block.

    It must tokenize and parse on its own into complete directives (every
    block it opens closed, every directive ended by ``;`` or ``}``), so it can
    neither close the block it is put in nor leave one open. Returns the
    parsed directives.
    """
    if not isinstance(text, str) or not text.strip():
        raise ValueError('must be a non-empty string of nginx directives')
    if re.search(r'[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]', text):
        raise ValueError('must not contain control characters other than newline, carriage return and tab, got %s' % show(text))
    try:
        directives = nginx_config.parse(text)
    except nginx_config.NginxConfigError as exc:
        raise ValueError('is not complete nginx syntax (%s): braces must balance, quotes close, and every '
                         'directive end with ";" or a block' % str(exc).split(': ', 1)[-1])
    if not directives:
        raise ValueError('holds no directive (only comments or blanks)')
    return directives


# ---------------------------------------------------------------------------
# Checks: text
# ---------------------------------------------------------------------------

def check_text(value, what='value', allow_empty=False, allow_dollar=True):
    if not isinstance(value, str):
        raise ValueError('%s must be a string, got %s' % (what, type(value).__name__))
    if not value and not allow_empty:
        raise ValueError('%s must not be empty' % what)
    if CONTROL.search(value):
        raise ValueError('%s must not contain control characters (newline, tab, NUL, ...), got %s' % (what, show(value)))
    if not allow_dollar and '$' in value:
        raise ValueError('%s must not contain "$" (nginx would read it as a variable), got %s' % (what, show(value)))
    return value


def check_name(value, what='name'):
    if not isinstance(value, str) or not NAME.fullmatch(value):
        raise ValueError('%s may only hold letters, digits, ".", "_" and "-", starting with a letter or digit, got %s'
                         % (what, show(value)))
    return value


def check_absolute_path(value, what='path', allow_root=True):
    """An absolute, normalized file system path without variables: no ``..``, ``.``, ``//``."""
    check_text(value, what, allow_dollar=False)
    if not value.startswith('/'):
        raise ValueError('%s must be an absolute path (start with "/"), got %s' % (what, show(value)))
    trimmed = value.rstrip('/') or '/'
    parts = trimmed.split('/')[1:]
    if '..' in parts or '.' in parts or '' in parts[:-1] or posixpath.normpath(trimmed) != trimmed:
        raise ValueError('%s must be a normalized path without ".", ".." or "//", got %s' % (what, show(value)))
    if not allow_root and trimmed == '/':
        raise ValueError('%s must not be "/" (that would serve the whole file system)' % what)
    return trimmed


def check_log_file(value, what='log file'):
    """A log file nginx writes (``access_log``): an absolute, normalized file path, no variables or spaces."""
    check_absolute_path(value, what)
    if value.endswith('/'):
        raise ValueError('%s must be a file, not a directory (it ends with "/"), got %s' % (what, show(value)))
    if ' ' in value:
        raise ValueError('%s must be a file path without spaces (the log format is not set here), got %s'
                         % (what, show(value)))
    return value


def check_variables(value, what='value'):
    """Text where ``$name`` / ``${name}`` are nginx variables: each ``$`` must start one."""
    check_text(value, what)
    rest = VARIABLE.sub('', value)
    if '$' in rest:
        raise ValueError('%s has a "$" that does not start a variable such as $remote_addr or ${cookie_id}, got %s'
                         % (what, show(value)))
    return value


def check_mime_type(value, what='MIME type'):
    if not isinstance(value, str) or not MIME_TYPE.fullmatch(value):
        raise ValueError('%s must be a MIME type such as text/css, got %s' % (what, show(value)))
    return value


def check_header_tokens(value, what='value'):
    """A header value made of tokens and token=token pairs separated by commas (Cache-Control)."""
    if not isinstance(value, str) or not HEADER_TOKEN_LIST.fullmatch(value):
        raise ValueError('%s must be comma-separated directives such as "public" or "no-cache, max-age=0", got %s'
                         % (what, show(value)))
    return value


# Checks: what the health checks send (request target and headers, not configuration)
# ---------------------------------------------------------------------------

def check_request_path(value, what='path'):
    """A request target: starts with ``/``, may have a query; no spaces or control characters."""
    if not is_request_path(value):
        raise ValueError('%s must start with "/" and hold no spaces or control characters, got %s' % (what, show(value)))
    return value


def check_host_header(value, what='host_header'):
    """A ``Host`` header value: ``name``, ``name:port`` or ``[v6]:port``."""
    check_text(value, what)
    try:
        host, _port = split_host_port(value)
        check_host(host, what)
    except ValueError:
        raise ValueError('%s must be a host name or address, optionally with ":port", got %s' % (what, show(value)))
    return value


def check_status_codes(values, what='expected_status'):
    if not values:
        raise ValueError('%s needs at least one HTTP status, such as 200' % what)
    for status in values:
        if not 100 <= status <= 599:
            raise ValueError('%s values must be HTTP statuses from 100 to 599, got %s' % (what, status))
    return values


def check_subprotocols(values, what='subprotocols'):
    """WebSocket subprotocol names: HTTP tokens, at least one when the list is given."""
    if not values:
        raise ValueError('%s must not be an empty list (leave it out to offer none)' % what)
    for protocol in values:
        if not isinstance(protocol, str) or not HTTP_TOKEN.fullmatch(protocol):
            raise ValueError('%s must be HTTP tokens (no spaces, commas, quotes or control characters), got %s'
                             % (what, show(protocol)))
    return values


def check_systemd_word(value, what='value'):
    """A value written bare into a systemd unit: no spaces, quotes, specifiers (%) or control characters."""
    if not isinstance(value, str) or not SYSTEMD_SAFE.fullmatch(value):
        raise ValueError('%s may only hold letters, digits and "_.:@+/-" (it is written into a systemd unit), got %s'
                         % (what, show(value)))
    return value


# ---------------------------------------------------------------------------
# Checks: numbers, times, sizes
# ---------------------------------------------------------------------------

def check_int(value, what='value', minimum=None, maximum=None):
    """An integer (an int, or a string of ASCII digits as ``-e`` gives it) within bounds."""
    if isinstance(value, bool):
        raise ValueError('%s must be a whole number, got %s' % (what, value))
    if isinstance(value, str):
        if not re.fullmatch(r'-?[0-9]+', value):
            raise ValueError('%s must be a whole number, got %s' % (what, show(value)))
        value = int(value)
    elif isinstance(value, float):
        if not math.isfinite(value) or value != int(value):
            raise ValueError('%s must be a whole number, got %s' % (what, value))
        value = int(value)
    elif not isinstance(value, int):
        raise ValueError('%s must be a whole number, got %s' % (what, type(value).__name__))
    if minimum is not None and value < minimum:
        raise ValueError('%s must be %d or more, got %d' % (what, minimum, value))
    if maximum is not None and value > maximum:
        raise ValueError('%s must be %d or less, got %d' % (what, maximum, value))
    return value


def parse_time(value, what='time', seconds=False):
    """Milliseconds of an nginx time such as ``500ms``, ``30s``, ``1h30m`` or ``90``.

    A transcription of ngx_parse_time. Where the directive counts in seconds
    (``seconds=True``: ``expires``, ``fail_timeout``) ``ms`` is refused; where it
    counts in milliseconds (timeouts) years and months are refused. Units come in
    descending order, each once; a bare number at the end means seconds. Spaces may
    follow a unit (``"1h 30m"``); leading or trailing spaces are refused.
    """
    example = '60s, 5m or 1h30m' if seconds else '500ms, 60s, 5m or 1h30m'
    error = ValueError('%s must be an nginx time such as %s, got %s' % (what, example, show(value)))
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise error
    text = str(value)
    if not text or text != text.strip(' ') or CONTROL.search(text):
        raise error
    order = ('start', 'y', 'M', 'w', 'd', 'h', 'm', 's', 'ms', 'last')
    step = 0 if seconds else order.index('M')
    valid = False
    number = 0
    total = 0
    index = 0
    while index < len(text):
        char = text[index]
        index += 1
        if '0' <= char <= '9':
            number = number * 10 + int(char)
            valid = True
            continue
        if char == 'm' and text[index:index + 1] == 's':
            index += 1
            unit = 'ms'
            if seconds or step >= order.index('ms'):
                raise error
        elif char in ('y', 'M', 'w', 'd', 'h', 'm', 's'):
            unit = char
            if step >= order.index(unit) or (unit == 'y' and step > 0):
                raise error
        elif char == ' ':
            unit = 'last'
            if step >= order.index('s'):
                raise error
        else:
            raise error
        step = order.index(unit)
        total += number * (1000 if unit == 'last' else dict(TIME_UNITS)[unit])
        number = 0
        while text[index:index + 1] == ' ':
            index += 1
    if not valid:
        raise error
    total += number * 1000
    if total > MAX_TIME_MS:
        raise ValueError('%s is too long for nginx (at most about 68 years), got %s' % (what, show(text)))
    return total


def check_time(value, what='time', seconds=False, allow_zero=True):
    """A checked nginx time, as the text to render."""
    total = parse_time(value, what, seconds)
    if not allow_zero and total == 0:
        raise ValueError('%s must be longer than 0, got %s' % (what, show(value)))
    return str(value)


# What "expires max" writes (ngx_http_set_expires: ten years, whatever the date).
EXPIRES_MAX_AGE = 315360000


def expires_cache_control(value, what='expires'):
    """The Cache-Control directive nginx's ``expires VALUE`` writes, where it is the same for every response.

    A transcription of ngx_http_set_expires for ``epoch`` (``no-cache``), ``max``
    (``max-age=315360000``) and a time with an optional sign, counted from the request:
    ``max-age=`` its seconds, ``no-cache`` when negative (``-0`` is ``max-age=0``).
    ``modified ...`` and ``@...`` give a max-age that changes from one response to the
    next: ValueError, as for anything else.
    """
    if value == 'epoch':
        return 'no-cache'
    if value == 'max':
        return 'max-age=%d' % EXPIRES_MAX_AGE
    text = str(value)
    if text[:1] == '@' or text.startswith('modified'):
        raise ValueError('%s %s has no fixed max-age' % (what, show(text)))
    minus = text[:1] == '-'
    seconds = parse_time(text[1:] if text[:1] in ('+', '-') else text, what, seconds=True) // 1000
    return 'no-cache' if minus and seconds else 'max-age=%d' % seconds


def parse_size(value, what='size'):
    """Bytes of an nginx size such as ``512``, ``16k`` or ``1m``."""
    text = str(value) if not isinstance(value, bool) else ''
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError('%s must be an nginx size such as 512, 16k or 1m, got %s' % (what, show(value)))
    size = int(match.group(1)) * SIZE_UNITS[match.group(2)]
    if size > MAX_SIZE:
        raise ValueError('%s is too large, got %s' % (what, show(value)))
    return size


def check_size_range(value, what, minimum, maximum, bounds):
    """An nginx size (``512``, ``1k``) from ``minimum`` to ``maximum`` bytes (``bounds`` says so in words), as written."""
    size = parse_size(value, what)
    if not minimum <= size <= maximum:
        raise ValueError('%s must be %s, got %s' % (what, bounds, show(value)))
    return str(value)


def check_buffer_size(value, what='buffer_size'):
    """A proxy buffer size (``512``, ``1k``, ``4k``): nginx reads the upstream's response headers into it."""
    return check_size_range(value, what, 512, 1024 ** 2, 'from 512 bytes to 1m (such as 1k or 4k)')


# ---------------------------------------------------------------------------
# Checks: addresses
# ---------------------------------------------------------------------------

def check_host(host, what='host'):
    """A host name or an IP address (IPv6 without brackets)."""
    if not isinstance(host, str) or not host:
        raise ValueError('%s must not be empty' % what)
    if '%' in host:
        raise ValueError('%s %s: nginx takes no IPv6 scope (%%interface)' % (what, show(host)))
    if ':' in host:
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError('%s %s is not an IPv6 address' % (what, show(host)))
        return host
    if not HOST_NAME.fullmatch(host) or len(host) > 253:
        raise ValueError('%s %s is not a host name or IP address' % (what, show(host)))
    return host


def check_server_address(value, what='address'):
    """An upstream server: ``host``, ``host:port``, ``[v6]:port`` or ``unix:/path``; returns it normalized."""
    check_text(value, what, allow_dollar=False)
    if value.startswith('unix:'):
        path = check_absolute_path(value[len('unix:'):], what + ' (unix socket path)')
        return 'unix:' + path
    try:
        host, port = split_host_port(value)
    except ValueError as exc:
        raise ValueError('%s must be host:port, [v6]:port or unix:/path (%s)' % (what, exc))
    check_host(host, what)
    if port is None:
        return format_host(host)
    return format_address(host, port)


def local_host(host):
    """Where this host reaches a server listening on ``host``: wildcard addresses become loopback."""
    return {'*': '127.0.0.1', '0.0.0.0': '127.0.0.1', '::': '::1'}.get(host, host)


def backend_address(host, port, what='backend'):
    """``host:port`` of an inventory backend, IPv6 in brackets."""
    check_host(str(host), what + ' address')
    return format_address(str(host), check_int(port, what + ' port', 1, 65535))


def parse_listen(value, what='listen'):
    """Split a ``listen`` value into ``(address_key, address, params)``.

    ``address_key`` identifies the socket (``*:80``, ``[::]:80``,
    ``127.0.0.1:8080``, ``unix:/path``) so two sites can be compared;
    ``address`` is the first argument as written (checked); ``params`` the rest.
    """
    text = str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    check_text(text, what, allow_dollar=False)
    words = text.split(' ')
    if any(not word for word in words):
        raise ValueError('%s must be words separated by single spaces, got %s' % (what, show(text)))
    address, params = words[0], words[1:]
    if address.startswith('unix:'):
        key = 'unix:' + check_absolute_path(address[len('unix:'):], what + ' unix socket path')
    else:
        host, port = None, None
        if re.fullmatch(r'[0-9]+', address):
            port = address
        elif address.startswith('['):
            end = address.find(']')
            if end < 0 or address[end + 1:end + 2] not in ('', ':'):
                raise ValueError('%s address must be port, host:port, [v6]:port or unix:/path, got %s' % (what, show(text)))
            host, port = address[1:end], address[end + 2:] or '80'
            check_host(host, what + ' address')
        elif ':' in address:
            host, port = address.rsplit(':', 1)
            if host != '*':
                check_host(host, what + ' address')
        else:
            host, port = address, '80'
            check_host(host, what + ' address')
        check_int(port, what + ' port', 1, 65535)
        port = int(port)
        if host in (None, '*', '0.0.0.0'):
            key = '*:%d' % port
        elif ':' in host:
            key = '[%s]:%d' % (ipaddress.IPv6Address(host).compressed, port)
        else:
            key = '%s:%d' % (host.lower(), port)
    for param in params:
        name = param.split('=', 1)[0]
        if param == 'default_server':
            raise ValueError('%s: write default_server: true on the site instead of in listen, got %s' % (what, show(text)))
        if param in LISTEN_FLAGS:
            continue
        if name in LISTEN_PARAMS and '=' in param and re.fullmatch(r'[A-Za-z0-9:._-]+', param.split('=', 1)[1]):
            continue
        raise ValueError('%s parameter %s is not one nginx knows (%s, or %s=value)'
                         % (what, show(param), ', '.join(LISTEN_FLAGS), '=..., '.join(LISTEN_PARAMS)))
    return key, address, params


def check_next_upstream(value, what='next_upstream'):
    """``proxy_next_upstream`` conditions, as a list of words."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError('%s must name at least one condition such as "error timeout"' % what)
        check_text(value, what)
        words = value.split(' ')
    else:
        words = list(value or [])
    if not words:
        raise ValueError('%s must name at least one condition such as "error timeout"' % what)
    for word in words:
        if word not in NEXT_UPSTREAM_CONDITIONS:
            raise ValueError('%s must be nginx conditions such as "error timeout" (%s), got %s'
                             % (what, ', '.join(NEXT_UPSTREAM_CONDITIONS), show(value if isinstance(value, str) else word)))
    if 'off' in words and len(words) > 1:
        raise ValueError('%s "off" cannot be combined with other conditions' % what)
    return words


def check_origin(value, what='origin'):
    """A browser ``Origin``: ``http(s)://host[:port]``, no path; returned lower-cased, as browsers send it."""
    check_text(value, what, allow_dollar=False)
    match = re.fullmatch(r'(https?)://(\[[^\]]*\]|[^:/\[\]]+)(?::([0-9]{1,5}))?', value, re.IGNORECASE)
    error = ValueError('%s must be scheme://host or scheme://host:port with scheme http or https and no path, '
                       'such as https://app.example.com, got %s' % (what, show(value)))
    if not match:
        raise error
    host = match.group(2)
    try:
        check_host(host[1:-1] if host.startswith('[') else host, what)
    except ValueError:
        raise error
    if host.startswith('[') is not (':' in host):
        raise error
    if match.group(3) is not None:
        check_int(match.group(3), what + ' port', 1, 65535)
    return value.lower()


def check_request_rate(value, what='rate'):
    """A ``limit_req_zone`` rate: ``<n>r/s`` or ``<n>r/m`` with n at least 1."""
    text = str(value) if not isinstance(value, bool) else ''
    match = re.fullmatch(r'([0-9]{1,9})r/([sm])', text)
    if not match or int(match.group(1)) < 1:
        raise ValueError('%s must be requests per second or minute such as 10r/s or 30r/m, got %s' % (what, show(value)))
    return text


def check_real_ip_source(value, what='address'):
    """A trusted proxy for ``set_real_ip_from``: an IP address, a network in CIDR form, or ``unix:``."""
    check_text(value, what)
    if value == 'unix:':
        return value
    try:
        return str(ipaddress.ip_network(value, strict=True))
    except ValueError:
        raise ValueError('%s must be an IP address or network such as 10.0.0.0/8 (no host bits set), or "unix:", got %s'
                         % (what, show(value)))


def check_header_name(value, what='header'):
    """An HTTP header name (a token), such as X-Forwarded-For."""
    if not isinstance(value, str) or not HTTP_TOKEN.fullmatch(value):
        raise ValueError('%s must be an HTTP header name such as X-Forwarded-For, got %s' % (what, show(value)))
    return value


def parse_nginx_build(text):
    """``(nginx_version, openssl_version)`` as tuples of ints from ``nginx -V`` output; None where absent.

    The OpenSSL nginx runs with counts (nginx says "running with" when it differs from "built with").
    """
    text = text or ''
    nginx = re.search(r'nginx version: nginx/([0-9]+)\.([0-9]+)\.([0-9]+)', text)
    openssl = (re.search(r'running with OpenSSL ([0-9]+)\.([0-9]+)\.([0-9]+)', text)
               or re.search(r'built with OpenSSL ([0-9]+)\.([0-9]+)\.([0-9]+)', text))
    return (tuple(int(part) for part in nginx.groups()) if nginx else None,
            tuple(int(part) for part in openssl.groups()) if openssl else None)
