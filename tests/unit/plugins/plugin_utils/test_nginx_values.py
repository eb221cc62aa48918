# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The checks and the renderer of nginx_values, table by table.

Each table holds accepted values (with what they become) and refused values
(with the exact message). Where nginx itself was asked (nginx 1.22, ``nginx -t``)
the case says so.
"""

from __future__ import annotations

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config as nc
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values as nv


def refused(function, value, message, **kwargs):
    with pytest.raises(ValueError) as exc:
        function(value, **kwargs)
    assert str(exc.value) == message


def unchanged_or_refused(function, value, message):
    """A table row: accepted and returned as it is (message None), or refused with exactly message."""
    if message is None:
        assert function(value) == value
    else:
        refused(function, value, message)


# ---------------------------------------------------------------------------
# show: how messages quote values
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('value, shown', [
    ('a', '"a"'),
    ('a\nb', '"a\\nb"'),
    ('a"b', '"a\\"b"'),
    ('\u0663', '"\\u0663"'),
    (5, '"5"'),
])
def test_show(value, shown):
    assert nv.show(value) == shown


# ---------------------------------------------------------------------------
# Times
# ---------------------------------------------------------------------------

T_MS = 'time must be an nginx time such as 500ms, 60s, 5m or 1h30m, got %s'
T_S = 'time must be an nginx time such as 60s, 5m or 1h30m, got %s'
T_LONG = 'time is too long for nginx (at most about 68 years), got %s'


@pytest.mark.parametrize('value, seconds, milliseconds', [
    ('500ms', False, 500),
    ('30s', False, 30000),
    ('1h30m', False, 5400000),
    ('1h30m', True, 5400000),
    ('90', False, 90000),           # a bare number is seconds
    ('90', True, 90000),
    (90, False, 90000),             # an int from YAML
    ('0', False, 0),
    ('1d1', False, 86401000),       # nginx: a trailing bare number is seconds
    ('01s', False, 1000),
    ('1s500ms', False, 1500),
    ('3w4d5h6m7s8ms', False, 2178367008),       # every unit an msec directive takes
    ('1y2M3w4d5h6m7s', True, 38898367000),      # every unit a seconds directive takes
    ('1h 30m', False, 5400000),     # nginx -t accepts a space after a unit
    ('2147483647s', False, 2147483647000),
    ('2147483647', True, 2147483647000),
    ('2147483647999ms', False, 2147483647999),
    ('68y', True, 68 * 31536000000),
])
def test_parse_time_accepts(value, seconds, milliseconds):
    assert nv.parse_time(value, seconds=seconds) == milliseconds


@pytest.mark.parametrize('value, seconds, message', [
    ('1h\n', False, T_MS % '"1h\\n"'),
    ('1h\n', True, T_S % '"1h\\n"'),
    ('\u0663s', False, T_MS % '"\\u0663s"'),         # ARABIC-INDIC DIGIT THREE
    ('\uff11s', False, T_MS % '"\\uff11s"'),         # FULLWIDTH DIGIT ONE
    ('1h1h', False, T_MS % '"1h1h"'),
    ('30m1h', False, T_MS % '"30m1h"'),
    ('1ms1s', False, T_MS % '"1ms1s"'),
    ('1y 1y', True, T_S % '"1y 1y"'),
    ('5ms', True, T_S % '"5ms"'),
    ('1s500ms', True, T_S % '"1s500ms"'),
    ('', False, T_MS % '""'),
    (' ', False, T_MS % '" "'),
    (' 1h', False, T_MS % '" 1h"'),
    ('1h ', False, T_MS % '"1h "'),
    ('h', False, T_MS % '"h"'),
    ('s', False, T_MS % '"s"'),
    ('-1s', False, T_MS % '"-1s"'),
    ('+1s', False, T_MS % '"+1s"'),
    ('1.5s', False, T_MS % '"1.5s"'),
    ('1H', False, T_MS % '"1H"'),
    ('forever', False, T_MS % '"forever"'),
    ('1h\t30m', False, T_MS % '"1h\\t30m"'),
    ('69y', True, T_LONG % '"69y"'),
    ('2147483648s', False, T_LONG % '"2147483648s"'),
    ('2147483648', True, T_LONG % '"2147483648"'),
    ('2147483648000ms', False, T_LONG % '"2147483648000ms"'),
    ('99999999999999999999999y', True, T_LONG % '"99999999999999999999999y"'),
    ('1y2M3w4d5h6m7s8ms', True, T_S % '"1y2M3w4d5h6m7s8ms"'),     # "ms" in a seconds directive
    pytest.param('1y', False, T_MS % '"1y"'),
    pytest.param('1M', False, T_MS % '"1M"'),
    pytest.param('1y2M3w4d5h6m7s8ms', False, T_MS % '"1y2M3w4d5h6m7s8ms"'),
    ('1 h', False, T_MS % '"1 h"'),
    pytest.param(True, False, T_MS % '"True"'),
])
def test_parse_time_refuses(value, seconds, message):
    refused(nv.parse_time, value, message, seconds=seconds)


def test_check_time_names_the_value_and_returns_the_text():
    assert nv.check_time('1h30m', 'read_timeout') == '1h30m'
    assert nv.check_time(90, 'read_timeout') == '90'
    assert nv.check_time('0', 'read_timeout') == '0'
    refused(nv.check_time, '0', 'read_timeout must be longer than 0, got "0"', what='read_timeout', allow_zero=False)
    refused(nv.check_time, 'soon', 'fail_timeout must be an nginx time such as 60s, 5m or 1h30m, got "soon"',
            what='fail_timeout', seconds=True)


# ---------------------------------------------------------------------------
# Sizes
# ---------------------------------------------------------------------------

SIZE = 'size must be an nginx size such as 512, 16k or 1m, got %s'


@pytest.mark.parametrize('value, size', [
    ('512', 512), (512, 512), ('0', 0), ('16k', 16384), ('16K', 16384), ('1m', 1048576), ('1M', 1048576),
    ('9223372036854775807', 2 ** 63 - 1),
])
def test_parse_size_accepts(value, size):
    assert nv.parse_size(value) == size


@pytest.mark.parametrize('value, message', [
    ('16k\n', SIZE % '"16k\\n"'),
    ('1 k', SIZE % '"1 k"'),
    ('', SIZE % '""'),
    ('-1', SIZE % '"-1"'),
    ('1.5m', SIZE % '"1.5m"'),
    ('1t', SIZE % '"1t"'),
    ('\u0663k', SIZE % '"\\u0663k"'),
    (True, SIZE % '"True"'),
    ('99999999999999999999', 'size is too large, got "99999999999999999999"'),
    ('9007199254740992G', 'size is too large, got "9007199254740992G"'),
])
def test_parse_size_refuses(value, message):
    refused(nv.parse_size, value, message)


# ---------------------------------------------------------------------------
# Text, names, paths, variables
# ---------------------------------------------------------------------------

CONTROL = 'v must not contain control characters (newline, tab, NUL, ...), got %s'


@pytest.mark.parametrize('value, kwargs, message', [
    ('a', {}, None),
    ('$x', {}, None),
    ('a b "c" ; { } #', {}, None),   # rendering quotes these; check_text only refuses what cannot be rendered
    ('', {'allow_empty': True}, None),
    ('', {}, 'v must not be empty'),
    ('a\n', {}, CONTROL % '"a\\n"'),
    ('a\tb', {}, CONTROL % '"a\\tb"'),
    ('a\rb', {}, CONTROL % '"a\\rb"'),
    ('a\x00b', {}, CONTROL % '"a\\x00b"'),
    ('a\x7f', {}, CONTROL % '"a\\x7f"'),
    ('$x', {'allow_dollar': False}, 'v must not contain "$" (nginx would read it as a variable), got "$x"'),
    (5, {}, 'v must be a string, got int'),
    (None, {}, 'v must be a string, got NoneType'),
])
def test_check_text(value, kwargs, message):
    if message is None:
        assert nv.check_text(value, 'v', **kwargs) == value
    else:
        refused(nv.check_text, value, message, what='v', **kwargs)


NAME = 'name may only hold letters, digits, ".", "_" and "-", starting with a letter or digit, got %s'


@pytest.mark.parametrize('value, message', [
    ('demo', None), ('A1', None), ('a.b-c_d', None), ('websocket-proxy-', None),
    ('', NAME % '""'),
    ('-a', NAME % '"-a"'),
    ('.a', NAME % '".a"'),
    ('../../x', NAME % '"../../x"'),
    ('a/b', NAME % '"a/b"'),
    ('a b', NAME % '"a b"'),
    ('a\n', NAME % '"a\\n"'),
    ('\u00e9', NAME % '"\\xe9"'),
    ('\u0663', NAME % '"\\u0663"'),
    (5, NAME % '"5"'),
])
def test_check_name(value, message):
    unchanged_or_refused(nv.check_name, value, message)


NOT_NORMAL = 'path must be a normalized path without ".", ".." or "//", got %s'


@pytest.mark.parametrize('value, kwargs, result', [
    ('/srv', {}, '/srv'),
    ('/srv/', {}, '/srv'),              # trailing slashes are dropped
    ('/var/www/demo', {}, '/var/www/demo'),
    ('/a/.hidden', {}, '/a/.hidden'),
    ('/a...', {}, '/a...'),
    ('/', {}, '/'),
])
def test_check_absolute_path_accepts(value, kwargs, result):
    assert nv.check_absolute_path(value, **kwargs) == result


@pytest.mark.parametrize('value, kwargs, message', [
    ('/srv\n', {}, 'path must not contain control characters (newline, tab, NUL, ...), got "/srv\\n"'),
    ('', {}, 'path must not be empty'),
    ('srv', {}, 'path must be an absolute path (start with "/"), got "srv"'),
    ('./srv', {}, 'path must be an absolute path (start with "/"), got "./srv"'),
    ('/a/../b', {}, NOT_NORMAL % '"/a/../b"'),
    ('/a/..', {}, NOT_NORMAL % '"/a/.."'),
    ('/..', {}, NOT_NORMAL % '"/.."'),
    ('/a/./b', {}, NOT_NORMAL % '"/a/./b"'),
    ('/.', {}, NOT_NORMAL % '"/."'),
    ('/a//b', {}, NOT_NORMAL % '"/a//b"'),
    ('//a', {}, NOT_NORMAL % '"//a"'),
    ('$document_root/x', {}, 'path must not contain "$" (nginx would read it as a variable), got "$document_root/x"'),
    ('/srv/$host', {}, 'path must not contain "$" (nginx would read it as a variable), got "/srv/$host"'),
    ('/', {'allow_root': False}, 'path must not be "/" (that would serve the whole file system)'),
    ('//', {'allow_root': False}, 'path must not be "/" (that would serve the whole file system)'),
])
def test_check_absolute_path_refuses(value, kwargs, message):
    refused(nv.check_absolute_path, value, message, **kwargs)


HOSTILE = ('$remote_addr; } server { listen 81; location / { alias /etc/; autoindex on; } } '
           'upstream x { hash $remote_addr')
NOT_VARIABLE = 'value has a "$" that does not start a variable such as $remote_addr or ${cookie_id}, got %s'


@pytest.mark.parametrize('value, message', [
    ('$remote_addr', None),
    ('${cookie_id}', None),
    ('x$a$b', None),
    ('$request_uri$is_args', None),
    (HOSTILE, None),                    # text and variables: accepted, and nginx_arg keeps it one argument
    ('$', NOT_VARIABLE % '"$"'),
    ('a$', NOT_VARIABLE % '"a$"'),
    ('a$ b', NOT_VARIABLE % '"a$ b"'),
    ('${a', NOT_VARIABLE % '"${a"'),
    ('${}', NOT_VARIABLE % '"${}"'),
    ('$-', NOT_VARIABLE % '"$-"'),
    ('$a\n', 'value must not contain control characters (newline, tab, NUL, ...), got "$a\\n"'),
    ('', 'value must not be empty'),
])
def test_check_variables(value, message):
    unchanged_or_refused(nv.check_variables, value, message)


MIME = 'MIME type must be a MIME type such as text/css, got %s'


@pytest.mark.parametrize('value, message', [
    ('text/css', None), ('image/svg+xml', None), ('application/vnd.api+json', None), ('*', None),
    ('text/css\n', MIME % '"text/css\\n"'),
    ('text', MIME % '"text"'),
    ('text/*', MIME % '"text/*"'),
    ('/css', MIME % '"/css"'),
    ('a/b/c', MIME % '"a/b/c"'),
    ('text/css;x', MIME % '"text/css;x"'),
    ('text/css; charset=utf-8', MIME % '"text/css; charset=utf-8"'),
    ('', MIME % '""'),
    (HOSTILE, MIME % nv.show(HOSTILE)),
])
def test_check_mime_type(value, message):
    unchanged_or_refused(nv.check_mime_type, value, message)


TOKENS = 'value must be comma-separated directives such as "public" or "no-cache, max-age=0", got %s'


@pytest.mark.parametrize('value, message', [
    ('public', None),
    ('no-cache, max-age=0', None),
    ('max-age=0,public', None),
    ('public ,  no-store', None),
    ('public\n', TOKENS % '"public\\n"'),
    ('a"b', TOKENS % '"a\\"b"'),
    ('private="x"', TOKENS % '"private=\\"x\\""'),
    ('a=b=c', TOKENS % '"a=b=c"'),
    ('public,', TOKENS % '"public,"'),
    (' public', TOKENS % '" public"'),
    ('public;', TOKENS % '"public;"'),
    ('', TOKENS % '""'),
    pytest.param('public,\nno-store', TOKENS % '"public,\\nno-store"'),
    pytest.param('public\r\n, no-store', TOKENS % '"public\\r\\n, no-store"'),
    pytest.param('public\t,no-store', TOKENS % '"public\\t,no-store"'),
    pytest.param('public,\xa0no-store', TOKENS % '"public,\\xa0no-store"'),
])
def test_check_header_tokens(value, message):
    unchanged_or_refused(nv.check_header_tokens, value, message)


SYSTEMD = 'value may only hold letters, digits and "_.:@+/-" (it is written into a systemd unit), got %s'


@pytest.mark.parametrize('value, message', [
    ('/opt/websocket-echo', None), ('/opt/a_b.c:d@e+f', None),
    ('/opt/my echo', SYSTEMD % '"/opt/my echo"'),
    ('/opt/echo%i', SYSTEMD % '"/opt/echo%i"'),
    ('/opt/echo\n', SYSTEMD % '"/opt/echo\\n"'),
    ('/opt/"x"', SYSTEMD % '"/opt/\\"x\\""'),
    ('', SYSTEMD % '""'),
])
def test_check_systemd_word(value, message):
    unchanged_or_refused(nv.check_systemd_word, value, message)


# ---------------------------------------------------------------------------
# Integers
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('value, result', [(5, 5), ('5', 5), ('0', 0), ('10', 10), (5.0, 5), ('007', 7)])
def test_check_int_accepts(value, result):
    assert nv.check_int(value, 'n', 0, 10) == result


@pytest.mark.parametrize('value, message', [
    (11, 'n must be 10 or less, got 11'),
    (-1, 'n must be 0 or more, got -1'),
    ('-5', 'n must be 0 or more, got -5'),
    ('\u0663', 'n must be a whole number, got "\\u0663"'),
    ('5.0', 'n must be a whole number, got "5.0"'),
    ('+5', 'n must be a whole number, got "+5"'),
    ('', 'n must be a whole number, got ""'),
    ('eight', 'n must be a whole number, got "eight"'),
    (5.5, 'n must be a whole number, got 5.5'),
    (float('inf'), 'n must be a whole number, got inf'),
    (float('nan'), 'n must be a whole number, got nan'),
    (True, 'n must be a whole number, got True'),
    (None, 'n must be a whole number, got NoneType'),
    pytest.param('5\n', 'n must be a whole number, got "5\\n"'),
    pytest.param(' 5', 'n must be a whole number, got " 5"'),
])
def test_check_int_refuses(value, message):
    refused(nv.check_int, value, message, what='n', minimum=0, maximum=10)


# ---------------------------------------------------------------------------
# Hosts and addresses
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('value, message', [
    ('a.test', None), ('localhost', None), ('backend-1', None), ('a_b', None), ('a.', None),
    ('127.0.0.1', None), ('::1', None), ('fe80::1', None), ('2001:db8::5', None),
    ('a.test\n', 'host "a.test\\n" is not a host name or IP address'),
    ('', 'host must not be empty'),
    (None, 'host must not be empty'),
    ('-a', 'host "-a" is not a host name or IP address'),
    ('a-', 'host "a-" is not a host name or IP address'),
    ('a..b', 'host "a..b" is not a host name or IP address'),
    ('bad host', 'host "bad host" is not a host name or IP address'),
    ('\u00e9.test', 'host "\\xe9.test" is not a host name or IP address'),
    ('\u0663.test', 'host "\\u0663.test" is not a host name or IP address'),
    ('x' * 254, 'host "%s" is not a host name or IP address' % ('x' * 254)),
    ('[::1]', 'host "[::1]" is not an IPv6 address'),
    ('::g', 'host "::g" is not an IPv6 address'),
    ('::1\n', 'host "::1\\n" is not an IPv6 address'),
    pytest.param('fe80::1%eth0', 'host "fe80::1%eth0": nginx takes no IPv6 scope (%interface)'),
])
def test_check_host(value, message):
    unchanged_or_refused(nv.check_host, value, message)


ADDRESS = 'address must be host:port, [v6]:port or unix:/path (%s)'


@pytest.mark.parametrize('value, result', [
    ('127.0.0.1:8080', '127.0.0.1:8080'),
    ('a.test:80', 'a.test:80'),
    ('a.test', 'a.test'),               # nginx's default port, 80
    ('[::1]:8080', '[::1]:8080'),
    ('[::1]', '[::1]'),
    ('::1', '[::1]'),                   # a bare IPv6 address is written in brackets
    ('127.0.0.1:08080', '127.0.0.1:8080'),
    ('unix:/run/x.sock', 'unix:/run/x.sock'),
])
def test_check_server_address_accepts(value, result):
    assert nv.check_server_address(value) == result


@pytest.mark.parametrize('value, message', [
    ('a.test:80\n', 'address must not contain control characters (newline, tab, NUL, ...), got "a.test:80\\n"'),
    ('$host:80', 'address must not contain "$" (nginx would read it as a variable), got "$host:80"'),
    ('', 'address must not be empty'),
    ('a.test:0', ADDRESS % "invalid port '0': must be an integer between 1 and 65535"),
    ('a.test:65536', ADDRESS % "invalid port '65536': must be an integer between 1 and 65535"),
    ('a.test:x', ADDRESS % "invalid port 'x': must be an integer between 1 and 65535"),
    ('a.test:\u0663', ADDRESS % "invalid port '\u0663': must be an integer between 1 and 65535"),
    ('[::1]:', ADDRESS % "invalid port '': must be an integer between 1 and 65535"),
    ('bad host:1', ADDRESS % "invalid host 'bad host' in 'bad host:1'"),
    ('a:b:c', ADDRESS % "'a:b:c' is neither host:port nor an IPv6 address (write [v6]:port)"),
    ('unix:run/x.sock', 'address (unix socket path) must be an absolute path (start with "/"), got "run/x.sock"'),
    ('unix:/run/../x', 'address (unix socket path) must be a normalized path without ".", ".." or "//", '
                       'got "/run/../x"'),
    pytest.param('[fe80::1%eth0]:80', 'address "fe80::1%eth0": nginx takes no IPv6 scope (%interface)'),
])
def test_check_server_address_refuses(value, message):
    refused(nv.check_server_address, value, message)


@pytest.mark.parametrize('host, port, result', [
    ('10.0.0.1', 8765, '10.0.0.1:8765'),
    ('::1', 80, '[::1]:80'),
    ('2001:db8::5', '9000', '[2001:db8::5]:9000'),
    ('backend-1', 8765, 'backend-1:8765'),
])
def test_backend_address(host, port, result):
    assert nv.backend_address(host, port) == result


@pytest.mark.parametrize('host, port, message', [
    ('bad host', 80, 'backend address "bad host" is not a host name or IP address'),
    ('a.test', 0, 'backend port must be 1 or more, got 0'),
    ('a.test', 65536, 'backend port must be 65535 or less, got 65536'),
    ('a.test', 'x', 'backend port must be a whole number, got "x"'),
])
def test_backend_address_refuses(host, port, message):
    with pytest.raises(ValueError) as exc:
        nv.backend_address(host, port)
    assert str(exc.value) == message


# ---------------------------------------------------------------------------
# listen
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('value, key, address, params', [
    (80, '*:80', '80', []),
    ('80', '*:80', '80', []),
    ('*:80', '*:80', '*:80', []),
    ('0.0.0.0:80', '*:80', '0.0.0.0:80', []),
    ('[::]:80', '[::]:80', '[::]:80', []),
    ('[::0]:80', '[::]:80', '[::0]:80', []),
    ('[::1]:8080 ssl http2', '[::1]:8080', '[::1]:8080', ['ssl', 'http2']),
    ('[0:0::1]:8080', '[::1]:8080', '[0:0::1]:8080', []),
    ('[::1]', '[::1]:80', '[::1]', []),
    ('unix:/run/x.sock', 'unix:/run/x.sock', 'unix:/run/x.sock', []),
    ('127.0.0.1:8080 reuseport backlog=511', '127.0.0.1:8080', '127.0.0.1:8080', ['reuseport', 'backlog=511']),
    ('127.0.0.1', '127.0.0.1:80', '127.0.0.1', []),
    ('LOCALHOST:8080', 'localhost:8080', 'LOCALHOST:8080', []),
    ('80 proxy_protocol deferred', '*:80', '80', ['proxy_protocol', 'deferred']),
    ('80 ipv6only=on so_keepalive=30m::10', '*:80', '80', ['ipv6only=on', 'so_keepalive=30m::10']),
])
def test_parse_listen_accepts(value, key, address, params):
    assert nv.parse_listen(value) == (key, address, params)


def _unknown_param(param):
    return ('listen parameter "%s" is not one nginx knows (ssl, http2, quic, proxy_protocol, reuseport, deferred, '
            'bind, or backlog=..., rcvbuf=..., sndbuf=..., ipv6only=..., so_keepalive=..., fastopen=..., setfib=..., '
            'accept_filter=value)' % param)


@pytest.mark.parametrize('value, message', [
    ('80\n', 'listen must not contain control characters (newline, tab, NUL, ...), got "80\\n"'),
    ('', 'listen must not be empty'),
    ('$port', 'listen must not contain "$" (nginx would read it as a variable), got "$port"'),
    ('80 default_server', 'listen: write default_server: true on the site instead of in listen, '
                          'got "80 default_server"'),
    ('[::]:80 ipv6only=on default_server', 'listen: write default_server: true on the site instead of in listen, '
                                           'got "[::]:80 ipv6only=on default_server"'),
    ('80 sssl', _unknown_param('sssl')),
    ('80 backlog=', _unknown_param('backlog=')),
    ('80 backlog=a;b', _unknown_param('backlog=a;b')),
    ('80 bind=x', _unknown_param('bind=x')),
    ('80 ssl;', _unknown_param('ssl;')),
    ('a b', _unknown_param('b')),
    ('80  ssl', 'listen must be words separated by single spaces, got "80  ssl"'),
    (' 80', 'listen must be words separated by single spaces, got " 80"'),
    (0, 'listen port must be 1 or more, got 0'),
    (65536, 'listen port must be 65535 or less, got 65536'),
    ('*:x', 'listen port must be a whole number, got "x"'),
    ('*:\u0663', 'listen port must be a whole number, got "\\u0663"'),
    ('\u0663', 'listen address "\\u0663" is not a host name or IP address'),
    ('*', 'listen address "*" is not a host name or IP address'),
    ('[::1]x', 'listen address must be port, host:port, [v6]:port or unix:/path, got "[::1]x"'),
    ('[::1', 'listen address must be port, host:port, [v6]:port or unix:/path, got "[::1"'),
    ('[]:80', 'listen address must not be empty'),
    ('unix:x', 'listen unix socket path must be an absolute path (start with "/"), got "x"'),
    (True, 'listen must be a string, got bool'),
    (8080.0, 'listen must be a string, got float'),
    pytest.param('[fe80::1%eth0]:80', 'listen address "fe80::1%eth0": nginx takes no IPv6 scope (%interface)'),
])
def test_parse_listen_refuses(value, message):
    refused(nv.parse_listen, value, message)


# ---------------------------------------------------------------------------
# proxy_next_upstream
# ---------------------------------------------------------------------------

CONDITIONS = ('error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, '
              'http_429, non_idempotent, off')


@pytest.mark.parametrize('value, words', [
    ('error timeout', ['error', 'timeout']),
    ('off', ['off']),
    ('http_429 non_idempotent', ['http_429', 'non_idempotent']),
    (['error', 'timeout'], ['error', 'timeout']),
])
def test_check_next_upstream_accepts(value, words):
    assert nv.check_next_upstream(value) == words


@pytest.mark.parametrize('value, message', [
    ('error sometimes', 'next_upstream must be nginx conditions such as "error timeout" (%s), got "error sometimes"'
     % CONDITIONS),
    (['error', 'bogus'], 'next_upstream must be nginx conditions such as "error timeout" (%s), got "bogus"'
     % CONDITIONS),
    ('error off', 'next_upstream "off" cannot be combined with other conditions'),
    ('', 'next_upstream must name at least one condition such as "error timeout"'),
    ([], 'next_upstream must name at least one condition such as "error timeout"'),
    ('error timeout\n', 'next_upstream must not contain control characters (newline, tab, NUL, ...), got "error timeout\\n"'),
])
def test_check_next_upstream_refuses(value, message):
    refused(nv.check_next_upstream, value, message)


# ---------------------------------------------------------------------------
# A trailing newline and non-ASCII digits, across the checks
# ---------------------------------------------------------------------------

NEWLINE_CASES = [
    (nv.parse_time, '1h'), (nv.check_time, '30s'), (nv.parse_size, '16k'), (nv.check_text, 'a'),
    (nv.check_name, 'demo'), (nv.check_absolute_path, '/srv'), (nv.check_variables, '$remote_addr'),
    (nv.check_mime_type, 'text/css'), (nv.check_header_tokens, 'public'), (nv.check_systemd_word, '/opt/x'),
    (nv.check_host, 'a.test'), (nv.check_host, '::1'), (nv.check_server_address, 'a.test:80'),
    (nv.check_server_address, 'unix:/run/x.sock'), (nv.parse_listen, '80'), (nv.parse_listen, '80 ssl'),
    (nv.nginx_arg, 'a'),
    pytest.param(nv.check_int, '5'),
    pytest.param(nv.check_next_upstream, 'error'),
]


@pytest.mark.parametrize('function, good', NEWLINE_CASES)
@pytest.mark.parametrize('tail', ['\n', '\r\n', '\r'])
def test_a_trailing_newline_is_refused_everywhere(function, good, tail):
    function(good)
    with pytest.raises(ValueError):
        function(good + tail)


@pytest.mark.parametrize('function, value', [
    (nv.parse_time, '\u0663s'), (nv.parse_time, '\u0663'), (nv.parse_size, '\u0663k'), (nv.check_int, '\u0663'),
    (nv.check_int, '\uff15'), (nv.parse_listen, '\u0663'), (nv.parse_listen, '*:\u0663'),
    (nv.check_server_address, 'a.test:\u0663'), (nv.check_name, '\u0663'),
])
def test_non_ascii_digits_are_refused(function, value):
    with pytest.raises(ValueError):
        function(value)


# ---------------------------------------------------------------------------
# Rendering: nginx_arg
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('value, rendered', [
    ('a', 'a'),
    ('index.html', 'index.html'),
    ('/var/www/demo', '/var/www/demo'),
    ('127.0.0.1:8080', '127.0.0.1:8080'),
    ('[::1]:8080', '[::1]:8080'),
    ('unix:/run/x.sock', 'unix:/run/x.sock'),
    ('*.example.com', '*.example.com'),
    ('backlog=511', 'backlog=511'),
    ('image/svg+xml', 'image/svg+xml'),
    ('(a)', '(a)'),
    ('x#', '"x#"'),
    (8080, '8080'),
    (-5, '-5'),
    ('', '""'),
    ('a b', '"a b"'),
    ('$remote_addr', '"$remote_addr"'),
    ('${cookie_id}', '"${cookie_id}"'),
    ('a"b', '"a\\"b"'),
    ("a'b", '"a\'b"'),
    ("'x", '"\'x"'),
    ('a\\b', '"a\\\\b"'),
    ('a\\', '"a\\\\"'),
    ('\\"', '"\\\\\\""'),
    ('a\\nb', '"a\\\\nb"'),          # a backslash and an n, not a newline
    ('#x', '"#x"'),
    ('a;b', '"a;b"'),
    ('{', '"{"'),
    ('}', '"}"'),
    ('~^/x$', '"~^/x$"'),
    ('caf\u00e9', '"caf\u00e9"'),
    ('no-cache, max-age=0', '"no-cache, max-age=0"'),
    (HOSTILE, '"%s"' % HOSTILE),
])
def test_nginx_arg_renders_one_argument(value, rendered):
    assert nv.nginx_arg(value) == rendered
    # nginx's tokenizer reads it back as exactly this one argument
    directives = nc.parse('x %s;\nnext;' % rendered)
    assert [(d.name, d.args) for d in directives] == [('x', [str(value)]), ('next', [])]
    directives = nc.parse('block { x %s; }' % rendered)
    assert [(d.name, d.args) for d in directives[0].children] == [('x', [str(value)])]


@pytest.mark.parametrize('code', list(range(0x20)) + [0x7f], ids=lambda code: 'U+%04X' % code)
def test_nginx_arg_refuses_every_control_character(code):
    for value in (chr(code), 'a%sb' % chr(code), 'a b%s' % chr(code)):
        refused(nv.nginx_arg, value, 'control characters cannot be rendered into nginx configuration: %s'
                % nv.show(value))


@pytest.mark.parametrize('value, kind', [(True, 'bool'), (None, 'NoneType'), (1.5, 'float'), (['a'], 'list'),
                                         (b'a', 'bytes'), ({'a': 1}, 'dict')])
def test_nginx_arg_refuses_other_types(value, kind):
    refused(nv.nginx_arg, value, 'nginx_arg takes a string or an integer, got %s' % kind)


# ---------------------------------------------------------------------------
# Raw directives (extra_directives): complete nginx syntax that stays in its block
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('text, parsed', [
    ('client_max_body_size 10m;', [('client_max_body_size', ['10m'], None)]),
    ('location /x { return 204; }', [('location', ['/x'], [('return', ['204'], None)])]),
    ('client_max_body_size 10m;\nproxy_buffering off;\n',
     [('client_max_body_size', ['10m'], None), ('proxy_buffering', ['off'], None)]),
    ('# a comment\nadd_header X-A "a; b"; # trailing { comment\n', [('add_header', ['X-A', 'a; b'], None)]),
    ('map $http_x $y {\n    default 1;\n    "~}" 2;\n}\n',
     [('map', ['$http_x', '$y'], [('default', ['1'], None), ('~}', ['2'], None)])]),
    ("return 200 'a } b';", [('return', ['200', 'a } b'], None)]),
    ('if ($x) { return 403; }', [('if', ['($x)'], [('return', ['403'], None)])]),
    ('a}; b;', [('a}', [], None), ('b', [], None)]),   # "a}" is one word to nginx
    ('set $a ${b}c;', [('set', ['$a', '${b}c'], None)]),
    ('a {}', [('a', [], [])]),
])
def test_check_raw_directives_accepts(text, parsed):
    def shape(directives):
        return [(d.name, d.args, None if d.children is None else shape(d.children)) for d in directives]
    assert shape(nv.check_raw_directives(text)) == parsed


SYNTAX = ('is not complete nginx syntax (%s): braces must balance, quotes close, and every directive end with ";" '
          'or a block')


@pytest.mark.parametrize('text, message', [
    ('}', SYNTAX % "unexpected '}'"),
    ('a;}', SYNTAX % "unexpected '}'"),
    ('location / { a; } }', SYNTAX % "unexpected '}'"),
    ('} server { listen 81; } http {', SYNTAX % "unexpected '}'"),
    ('location / {', SYNTAX % "block 'location' is not closed"),
    ('x ${a;};', SYNTAX % "unexpected '}'"),
    ('"unterminated;', SYNTAX % 'unterminated quoted string'),
    ("a 'b;", SYNTAX % 'unterminated quoted string'),
    ('a "b"c;', SYNTAX % 'unexpected "c" after a quoted string'),
    ('a "b"};', SYNTAX % 'unexpected "}" after a quoted string'),
    (';', SYNTAX % "unexpected ';'"),
    ('a;;', SYNTAX % "unexpected ';'"),
    ('{ }', SYNTAX % 'block without a directive name'),
    ('client_max_body_size 10m', SYNTAX % "directive 'client_max_body_size' is not terminated by ';'"),
    ('a}', SYNTAX % "directive 'a}' is not terminated by ';'"),
    ('a # ;', SYNTAX % "directive 'a' is not terminated by ';'"),
    ('location / { a }', SYNTAX % "directive 'a' is not terminated by ';'"),
    ('# only a comment', 'holds no directive (only comments or blanks)'),
    ('# one\n# two\n', 'holds no directive (only comments or blanks)'),
    ('a\x00;', 'must not contain control characters other than newline, carriage return and tab, got "a\\x00;"'),
    ('', 'must be a non-empty string of nginx directives'),
    ('  \n', 'must be a non-empty string of nginx directives'),
    (None, 'must be a non-empty string of nginx directives'),
    (5, 'must be a non-empty string of nginx directives'),
])
def test_check_raw_directives_refuses(text, message):
    refused(nv.check_raw_directives, text, message)
