# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nginx and echo_backend models: defaults build, and each bad input has exactly one message.

The host's open-files hard limit is given as 20000 (``LIMIT``) unless a case says otherwise.
"""

from __future__ import annotations


import pytest

from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.plugin_utils import server_models
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import ModelError
from ansible_collections.websocket.nginx.tests.unit.helpers import ansible_wording

LIMIT = 20000


class Contains(str):
    """An expected message given by a distinctive part (ansible-core's own wording may change)."""


def assert_one_error(build, variables, limit, message):
    with pytest.raises(ModelError) as exc:
        build(variables, limit)
    errors = exc.value.errors
    if isinstance(message, Contains):
        assert len(errors) == 1 and message in ansible_wording(errors[0]), errors
    else:
        assert errors == [message]


# ---------------------------------------------------------------------------
# nginx
# ---------------------------------------------------------------------------

def test_nginx_defaults():
    config = server_models.build_nginx({}, LIMIT)
    assert config.as_dict() == {
        'package_name': 'nginx', 'package_state': 'present', 'apt_cache_valid_time': 3600,
        'binary': '/usr/sbin/nginx', 'include_dir': '/etc/nginx/conf.d', 'user': 'www-data',
        'websocket_capacity': 10000, 'connections_per_websocket': 2,
        # 10000 WebSockets of 2 connections, 5000 per worker: 11000 with the 10% margin, plus 32
        # for nginx's own, is 15/16 of 11767.
        'worker_processes': 2, 'worker_connections': 11767, 'worker_rlimit_nofile': 11767 + 256,
        'holds_websockets': 10000,
        'worker_shutdown_timeout': '1h', 'multi_accept': False, 'request_pool_size': '1k', 'keepalive_timeout': '65s',
        'server_tokens': False, 'access_log': '/var/log/nginx/access.log', 'error_log': '/var/log/nginx/error.log',
        'error_log_level': 'warn', 'http_extra_directives': [], 'status_listen': '127.0.0.1:8079',
        'status_path': '/stub_status', 'health_listen': [], 'health_path': '/health', 'health_urls': [],
        'drain_flag': '/var/lib/websocket-nginx/draining',
        'remove_default_site': True, 'service_enabled': True, 'graceful_upgrades': True,
        'hard_nofile_limit': LIMIT, 'cpus': None,
    }
    assert server_models.build_nginx({}, None).hard_nofile_limit is None


@pytest.mark.parametrize('variables, limit, field, value', [
    ({'nginx_worker_processes': '8'}, LIMIT, 'worker_processes', 8),
    ({'nginx_worker_processes': 8}, LIMIT, 'worker_processes', 8),
    ({'nginx_worker_processes': 'auto'}, LIMIT, 'worker_processes', 2),  # the capacity needs 2 (one CPU)
    ({'nginx_websocket_capacity': '20000'}, LIMIT, 'worker_processes', 3),
    ({'nginx_websocket_capacity': '20000'}, LIMIT, 'worker_connections', 15680),
    ({'nginx_websocket_capacity': 20000, 'nginx_worker_processes': '4'}, LIMIT, 'worker_connections', 11767),
    ({'nginx_websocket_capacity': 20000, 'nginx_connections_per_websocket': '3'}, LIMIT, 'worker_processes', 4),
    ({'nginx_websocket_capacity': '100'}, LIMIT, 'worker_connections', 1024),  # the fewest a worker gets
    ({'nginx_worker_connections': 8192}, LIMIT, 'worker_rlimit_nofile', 8192 + 256),
    ({'nginx_worker_connections': 8192}, LIMIT, 'worker_processes', 3),
    ({'nginx_worker_rlimit_nofile': 8192}, LIMIT, 'worker_processes', 3),  # 7936 connections hold 3367 each
    ({'nginx_error_log_level': 'error'}, LIMIT, 'error_log_level', 'error'),
    ({'nginx_request_pool_size': '4k'}, LIMIT, 'request_pool_size', '4k'),
    ({'nginx_worker_connections': '4096'}, LIMIT, 'worker_connections', 4096),
    ({'nginx_worker_connections': 1048576, 'nginx_worker_rlimit_nofile': 2097152}, None, 'worker_rlimit_nofile',
     2097152),
    ({'nginx_worker_rlimit_nofile': LIMIT}, LIMIT, 'worker_rlimit_nofile', LIMIT),      # at the hard limit
    ({'nginx_worker_connections': 4096, 'nginx_worker_rlimit_nofile': 4096}, LIMIT, 'worker_rlimit_nofile', 4096),
    ({'nginx_worker_shutdown_timeout': ''}, LIMIT, 'worker_shutdown_timeout', None),   # waits for every connection
    ({'nginx_worker_shutdown_timeout': '1h30m'}, LIMIT, 'worker_shutdown_timeout', '1h30m'),
    ({'nginx_keepalive_timeout': '1h30m'}, LIMIT, 'keepalive_timeout', '1h30m'),
    ({'nginx_keepalive_timeout': '0'}, LIMIT, 'keepalive_timeout', '0'),
    ({'nginx_access_log': 'off'}, LIMIT, 'access_log', 'off'),
    ({'nginx_access_log': '/var/log/nginx/ws.log'}, LIMIT, 'access_log', '/var/log/nginx/ws.log'),
    ({'nginx_error_log': 'stderr'}, LIMIT, 'error_log', 'stderr'),
    ({}, LIMIT, 'status_listen', '127.0.0.1:8079'),
    ({'nginx_status_listen': '[::1]:9113'}, LIMIT, 'status_listen', '[::1]:9113'),
    ({'nginx_status_listen': '127.0.0.2:80'}, LIMIT, 'status_listen', '127.0.0.2:80'),
    ({'nginx_status_enabled': 'false', 'nginx_status_listen': '0.0.0.0:80'}, LIMIT, 'status_listen', None),
    ({'nginx_status_path': '/nginx/status'}, LIMIT, 'status_path', '/nginx/status'),
    ({'nginx_health_listen': '8078'}, LIMIT, 'health_listen', ['8078']),                  # -e gives a string
    ({'nginx_health_listen': '8078,10.0.0.5:8077'}, LIMIT, 'health_listen', ['8078', '10.0.0.5:8077']),
    ({'nginx_health_listen': [8078]}, LIMIT, 'health_listen', ['8078']),                  # a YAML number
    ({'nginx_health_listen': ['08078']}, LIMIT, 'health_listen', ['8078']),
    ({'nginx_health_listen': ['[::]:8078', '[0:0::1]:8078', '[2001:DB8::5]:80']}, LIMIT, 'health_listen',
     ['[::]:8078', '[::1]:8078', '[2001:db8::5]:80']),
    # A wildcard and one address of it on the same port are two sockets for nginx (it binds the wildcard only).
    ({'nginx_health_listen': ['8078', '127.0.0.1:8078']}, LIMIT, 'health_listen', ['8078', '127.0.0.1:8078']),
    ({'nginx_health_listen': ['8078', '127.0.0.1:8078', '0.0.0.0:8077']}, LIMIT, 'health_urls',
     ['http://127.0.0.1:8078/health', 'http://127.0.0.1:8077/health']),
    ({'nginx_health_listen': ['[::]:8078', '10.0.0.5:65535'], 'nginx_health_path': '/lb/health'}, LIMIT, 'health_urls',
     ['http://[::1]:8078/lb/health', 'http://10.0.0.5:65535/lb/health']),
    # The status server's port, once the status server is off.
    ({'nginx_health_listen': ['8079'], 'nginx_status_enabled': False}, LIMIT, 'health_listen', ['8079']),
    ({'nginx_health_path': '/'}, LIMIT, 'health_path', '/'),
    ({'nginx_health_path': '/a-b_c.d~e/'}, LIMIT, 'health_path', '/a-b_c.d~e/'),
    ({'nginx_multi_accept': 'yes'}, LIMIT, 'multi_accept', True),
    ({'nginx_server_tokens': 'false'}, LIMIT, 'server_tokens', False),
    ({'nginx_apt_cache_valid_time': '0'}, LIMIT, 'apt_cache_valid_time', 0),
    ({'nginx_package_name': 'nginx-light', 'nginx_package_state': 'latest'}, LIMIT, 'package_name', 'nginx-light'),
    ({'nginx_include_dir': '/etc/nginx/websocket.d/'}, LIMIT, 'include_dir', '/etc/nginx/websocket.d'),
    ({'nginx_http_extra_directives': ['client_max_body_size 10m;',
                                      '# comment\nmap $http_x $y {\n    default 1;\n}\n',
                                      'log_format ws \'$remote_addr "$request" {x}\';']}, LIMIT,
     'http_extra_directives', ['client_max_body_size 10m;', '# comment\nmap $http_x $y {\n    default 1;\n}',
                               'log_format ws \'$remote_addr "$request" {x}\';']),
    ({'nginx_http_extra_directives': 'client_max_body_size 10m;'}, LIMIT, 'http_extra_directives',
     ['client_max_body_size 10m;']),
])
def test_nginx_accepts(variables, limit, field, value):
    config = server_models.build_nginx(variables, limit)
    assert getattr(config, field) == value
    assert type(getattr(config, field)) is type(value)


@pytest.mark.parametrize('cpus, limit, capacity, workers', [
    (2, LIMIT, 10000, 2), (16, LIMIT, 10000, 16), (2, LIMIT, 20000, 3), (1, LIMIT, 100, 1), (4, 1024, 10000, 33),
    (2, None, 1000000, 3),  # no hard limit: 1048576 connections, 446836 WebSockets each
])
def test_auto_workers_are_one_per_cpu_or_what_the_capacity_needs(cpus, limit, capacity, workers):
    config = server_models.build_nginx({'nginx_websocket_capacity': capacity}, limit, cpus)
    assert (config.worker_processes, config.cpus) == (workers, cpus)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(capacity=st.integers(1, 600000), per_websocket=st.integers(1, 16), cpus=st.integers(1, 64),
       limit=st.one_of(st.none(), st.integers(300, 1048576)), processes=st.one_of(st.just('auto'), st.integers(1, 64)))
def test_a_derived_sizing_holds_the_capacity_within_the_limits(capacity, per_websocket, cpus, limit, processes):
    try:
        config = server_models.build_nginx({'nginx_websocket_capacity': capacity, 'nginx_worker_processes': processes,
                                            'nginx_connections_per_websocket': per_websocket}, limit, cpus)
    except ModelError as exc:
        (error,) = exc.errors
        assert error.startswith('nginx_websocket_capacity (%d) ' % capacity) or 'cannot be reached' in error, error
        return
    workers, connections = config.worker_processes, config.worker_connections
    assert workers == processes if processes != 'auto' else cpus <= workers <= server_models.MAX_WORKER_PROCESSES
    assert config.worker_rlimit_nofile == connections + server_models.FILES_BESIDES_CONNECTIONS
    assert limit is None or config.worker_rlimit_nofile <= limit
    # Every worker's even share, with the margin, fits below nginx's 1/16 reserve.
    share = -(-capacity // workers)
    assert connections - connections // 16 >= share * per_websocket * server_models.BALANCE_MARGIN + 32
    assert config.holds_websockets >= capacity


PROCESSES = "nginx_worker_processes must be 'auto' or a whole number >= 1, got %s"
HARD = ("nginx_worker_rlimit_nofile (%d) exceeds this host's hard open-files limit (%d); a process cannot raise it, "
        "so nginx would run with fewer files than configured. Lower it (and nginx_worker_connections with it), or "
        "leave both unset to have them derived from nginx_websocket_capacity.")
WHY = ("one worker holds %d WebSockets of %d connections (under %s, 256 files kept for logs and sockets, nginx's 1/16 "
       "reserve and a 10%% margin for an uneven spread)")
TIME = 'must be an nginx time such as 500ms, 60s, 5m or 1h30m, got %s'
CONTROL = 'must not contain control characters (newline, tab, NUL, ...), got %s'
SYNTAX = ('is not complete nginx syntax (%s): braces must balance, quotes close, and every directive end with ";" '
          'or a block')

LISTEN = 'must be a port such as 8078, or an IP address and a port such as 10.0.0.5:8078 or [::]:8078, got %s'
HOST_NAME = ('must be an IP address and a port, not a host name (nginx would listen on what the name resolves to when '
             'it starts), got %s')
HEALTH_START = 'nginx_health_path must start with "/", got %s'
HEALTH_CHARACTERS = 'nginx_health_path may only hold letters, digits and "/", ".", "_", "~", "-", got %s'
HEALTH_NORMALIZED = ('nginx_health_path must not hold "//", "." or ".." parts (nginx matches the request path once it '
                     'resolved them, so it would never be answered), got %s')
HEALTH_LISTEN_CASES = [
    ('port-0', '0', 'port must be a whole number from 1 to 65535, got "0"'),
    ('port-big', '65536', 'port must be a whole number from 1 to 65535, got "65536"'),
    ('port-word', '10.0.0.5:http', 'port must be a whole number from 1 to 65535, got "10.0.0.5:http"'),
    ('ipv6-port-empty', '[::]:', 'port must be a whole number from 1 to 65535, got "[::]:"'),
    ('host-name', 'proxy-1.example.com:8078', HOST_NAME % '"proxy-1.example.com:8078"'),
    ('localhost', 'localhost:8078', HOST_NAME % '"localhost:8078"'),
    ('no-port', '10.0.0.5', LISTEN % '"10.0.0.5"'),
    ('ipv6-no-port', '[::]', LISTEN % '"[::]"'),
    ('ipv6-no-brackets', '::1:8078', LISTEN % '"::1:8078"'),
    ('ipv6-scope', '[fe80::1%eth0]:8078', LISTEN % '"[fe80::1%eth0]:8078"'),
    ('bad-ipv4', '10.0.0.300:8078', LISTEN % '"10.0.0.300:8078"'),
    ('negative', '-1', LISTEN % '"-1"'),
    ('empty', '', LISTEN % '""'),
    ('space', '8078 default_server', LISTEN % '"8078 default_server"'),
    ('newline', '8078;\nuser root', LISTEN % '"8078;\\nuser root"'),
    ('status-port', '8079', '"8079" takes the port of nginx\'s status server (nginx_status_listen 127.0.0.1:8079); '
                            'choose another port'),
    ('status-port-loopback', '127.0.0.1:8079', '"127.0.0.1:8079" takes the port of nginx\'s status server '
                                               '(nginx_status_listen 127.0.0.1:8079); choose another port'),
    ('twice', '0.0.0.0:8078', '"0.0.0.0:8078" is the same address and port as nginx_health_listen[0] (nginx '
                              'listens on each once)'),
]
HEALTH_PATH_CASES = [
    ('relative', 'health', HEALTH_START, '"health"'), ('empty', '', HEALTH_START, '""'),
    ('space', '/a b', HEALTH_CHARACTERS, '"/a b"'), ('newline', '/health\n', HEALTH_CHARACTERS, '"/health\\n"'),
    ('variable', '/$uri', HEALTH_CHARACTERS, '"/$uri"'), ('brace', '/h{', HEALTH_CHARACTERS, '"/h{"'),
    ('semicolon', '/h;return', HEALTH_CHARACTERS, '"/h;return"'), ('query', '/h?x=1', HEALTH_CHARACTERS, '"/h?x=1"'),
    ('quote', '/h"', HEALTH_CHARACTERS, '"/h\\""'), ('non-ascii', '/h\u00e9', HEALTH_CHARACTERS, '"/h\\xe9"'),
    ('double-slash', '//health', HEALTH_NORMALIZED, '"//health"'),
    ('dot-dot', '/a/../health', HEALTH_NORMALIZED, '"/a/../health"'),
    ('dot', '/./health', HEALTH_NORMALIZED, '"/./health"'), ('trailing-dot', '/health/.', HEALTH_NORMALIZED, '"/health/."'),
]


NGINX_BAD = [
    pytest.param({'nginx_worker_processes': 0}, LIMIT, PROCESSES % '"0"', id='worker_processes-0'),
    pytest.param({'nginx_worker_processes': '0'}, LIMIT, PROCESSES % '"0"', id='worker_processes-"0"'),
    pytest.param({'nginx_worker_processes': -1}, LIMIT, PROCESSES % '"-1"', id='worker_processes-negative'),
    pytest.param({'nginx_worker_processes': 'lots'}, LIMIT, PROCESSES % '"lots"', id='worker_processes-lots'),
    pytest.param({'nginx_worker_processes': 'AUTO'}, LIMIT, PROCESSES % '"AUTO"', id='worker_processes-AUTO'),
    pytest.param({'nginx_worker_processes': True}, LIMIT, PROCESSES % '"True"', id='worker_processes-bool'),
    pytest.param({'nginx_worker_processes': '8; user root'}, LIMIT, PROCESSES % '"8; user root"',
                 id='worker_processes-hostile'),
    pytest.param({'nginx_worker_processes': '\u0663'}, LIMIT, PROCESSES % '"\\u0663"', id='worker_processes-unicode'),
    pytest.param({'nginx_worker_processes': '8\n'}, LIMIT, PROCESSES % '"8\\n"', id='worker_processes-newline'),
    pytest.param({'nginx_worker_connections': 0}, LIMIT, 'nginx_worker_connections must be >= 1 and <= 1048576, got 0',
                 id='worker_connections-0'),
    pytest.param({'nginx_worker_connections': 1048577, 'nginx_worker_rlimit_nofile': 2097152}, None,
                 'nginx_worker_connections must be >= 1 and <= 1048576, got 1048577', id='worker_connections-big'),
    pytest.param({'nginx_worker_connections': 'many'}, LIMIT,
                 Contains("argument 'nginx_worker_connections' is of type str and we were unable to convert to int"),
                 id='worker_connections-word'),
    pytest.param({'nginx_worker_connections': 4096, 'nginx_worker_rlimit_nofile': 1024}, LIMIT,
                 'nginx_worker_rlimit_nofile (1024) must be at least nginx_worker_connections (4096): every connection '
                 'is an open file.', id='rlimit-below-connections'),
    pytest.param({'nginx_worker_rlimit_nofile': 20001}, LIMIT, HARD % (20001, LIMIT), id='rlimit-above-hard-limit'),
    pytest.param({'nginx_worker_connections': 4096, 'nginx_worker_rlimit_nofile': 10000000}, LIMIT,
                 HARD % (10000000, LIMIT), id='rlimit-far-above-hard-limit'),
    pytest.param({'nginx_websocket_capacity': 0}, LIMIT, 'nginx_websocket_capacity must be 1 or more, got 0',
                 id='capacity-0'),
    pytest.param({'nginx_websocket_capacity': 'lots'}, LIMIT,
                 Contains("argument 'nginx_websocket_capacity' is of type str and we were unable to convert to int"),
                 id='capacity-word'),
    pytest.param({'nginx_connections_per_websocket': '0'}, LIMIT,
                 'nginx_connections_per_websocket must be 1 or more, got 0', id='per-websocket-0'),
    pytest.param({'nginx_connections_per_websocket': 17}, LIMIT,
                 'nginx_connections_per_websocket must be 16 or less, got 17', id='per-websocket-17'),
    pytest.param({'nginx_websocket_capacity': 600000}, LIMIT,
                 'nginx_websocket_capacity (600000) is more than this host allows: at most 537536 WebSockets with 64 '
                 'worker processes, the most this role runs; ' + WHY % (8399, 2, 'the hard open-files limit of 20000')
                 + '. Lower nginx_websocket_capacity.', id='capacity-above-the-host'),
    pytest.param({'nginx_websocket_capacity': 20000, 'nginx_worker_processes': '2'}, LIMIT,
                 'nginx_websocket_capacity (20000) needs 3 worker processes here, and nginx_worker_processes is 2 (at '
                 'most 16798 WebSockets); ' + WHY % (8399, 2, 'the hard open-files limit of 20000') + '. Set '
                 'nginx_worker_processes to auto or at least 3, or lower nginx_websocket_capacity.',
                 id='capacity-above-the-workers'),
    pytest.param({'nginx_worker_processes': 2, 'nginx_worker_connections': 4096}, LIMIT,
                 'nginx_websocket_capacity (10000) needs 6 worker processes here, and nginx_worker_processes is 2 (at '
                 'most 3460 WebSockets); ' + WHY % (1730, 2, 'nginx_worker_connections 4096 and the hard open-files '
                                                    'limit of 20000') + '. Set nginx_worker_processes to auto or at '
                 'least 6, or lower nginx_websocket_capacity.', id='capacity-above-the-connections'),
    pytest.param({}, 256, 'nginx_websocket_capacity cannot be reached: ' + WHY % (0, 2, 'the hard open-files limit of 256')
                 + '.', id='hard-limit-too-low'),
    pytest.param({'nginx_request_pool_size': '256'}, LIMIT, 'nginx_request_pool_size must be from 512 to 64k, got "256"',
                 id='request-pool-small'),
    pytest.param({'nginx_request_pool_size': '4k;'}, LIMIT,
                 'nginx_request_pool_size must be an nginx size such as 512, 16k or 1m, got "4k;"', id='request-pool-hostile'),
    pytest.param({'nginx_error_log_level': 'verbose'}, LIMIT, Contains('nginx_error_log_level must be one of'),
                 id='error-log-level'),
    pytest.param({'nginx_worker_shutdown_timeout': 'forever'}, LIMIT, 'nginx_worker_shutdown_timeout ' + TIME
                 % '"forever"', id='shutdown_timeout-forever'),
    pytest.param({'nginx_worker_shutdown_timeout': '1h\n'}, LIMIT, 'nginx_worker_shutdown_timeout ' + TIME
                 % '"1h\\n"', id='shutdown_timeout-newline'),
    pytest.param({'nginx_worker_shutdown_timeout': '1y'}, LIMIT, 'nginx_worker_shutdown_timeout ' + TIME % '"1y"',
                 id='shutdown_timeout-years'),
    pytest.param({'nginx_keepalive_timeout': ''}, LIMIT, 'nginx_keepalive_timeout ' + TIME % '""',
                 id='keepalive_timeout-empty'),
    pytest.param({'nginx_keepalive_timeout': '65s 60s'}, LIMIT, 'nginx_keepalive_timeout ' + TIME % '"65s 60s"',
                 id='keepalive_timeout-two-values'),
    pytest.param({'nginx_user': 'www-data; include /etc/passwd'}, LIMIT,
                 'nginx_user must be a system user name (lower case letters, digits, "_" and "-"), got '
                 '"www-data; include /etc/passwd"', id='user-hostile'),
    pytest.param({'nginx_user': 'www-data\n'}, LIMIT,
                 'nginx_user must be a system user name (lower case letters, digits, "_" and "-"), got "www-data\\n"',
                 id='user-newline'),
    pytest.param({'nginx_user': 'www-data www-data'}, LIMIT,
                 'nginx_user must be a system user name (lower case letters, digits, "_" and "-"), got '
                 '"www-data www-data"', id='user-and-group'),
    pytest.param({'nginx_access_log': '/var/log/nginx/access.log\n'}, LIMIT,
                 'nginx_access_log (a path or "off") ' + CONTROL % '"/var/log/nginx/access.log\\n"',
                 id='access_log-newline'),
    pytest.param({'nginx_access_log': 'logs/access.log'}, LIMIT,
                 'nginx_access_log (a path or "off") must be an absolute path (start with "/"), got "logs/access.log"',
                 id='access_log-relative'),
    pytest.param({'nginx_access_log': '/var/log/../../etc/passwd'}, LIMIT,
                 'nginx_access_log (a path or "off") must be a normalized path without ".", ".." or "//", got '
                 '"/var/log/../../etc/passwd"', id='access_log-dotdot'),
    pytest.param({'nginx_access_log': '/var/log/nginx/access log'}, LIMIT,
                 Contains('nginx_access_log (a path or "off")'), id='access_log-space'),
    pytest.param({'nginx_error_log': '/var/log/nginx/error.log\n'}, LIMIT,
                 'nginx_error_log (a path or "stderr") ' + CONTROL % '"/var/log/nginx/error.log\\n"',
                 id='error_log-newline'),
    pytest.param({'nginx_error_log': 'error.log'}, LIMIT,
                 'nginx_error_log (a path or "stderr") must be an absolute path (start with "/"), got "error.log"',
                 id='error_log-relative'),
    *[pytest.param({'nginx_status_listen': listen}, LIMIT,
                   'nginx_status_listen must be a loopback address with a port, such as 127.0.0.1:8079 or [::1]:8079, '
                   'so that only this host can read the status (or set nginx_status_enabled: false), got %s' % shown,
                   id='status_listen-' + name)
      for name, listen, shown in [('public', '0.0.0.0:8079', '"0.0.0.0:8079"'), ('lan', '10.0.0.5:8079', '"10.0.0.5:8079"'),
                                  ('v6-any', '[::]:8079', '"[::]:8079"'), ('no-port', '127.0.0.1', '"127.0.0.1"'),
                                  ('name', 'localhost:8079', '"localhost:8079"'), ('unix', 'unix:/run/s.sock',
                                                                                   '"unix:/run/s.sock"'),
                                  ('port-0', '127.0.0.1:0', '"127.0.0.1:0"'),
                                  ('injection', '127.0.0.1:8079; allow all', '"127.0.0.1:8079; allow all"')]],
    *[pytest.param({'nginx_status_path': path}, LIMIT,
                   'nginx_status_path must be a URL path other than "/", starting with "/", without spaces or control '
                   'characters, got %s' % shown, id='status_path-' + name)
      for name, path, shown in [('root', '/', '"/"'), ('relative', 'status', '"status"'),
                                ('space', '/a b', '"/a b"'), ('newline', '/status\n', '"/status\\n"')]],
    *[pytest.param({'nginx_health_listen': ['8078', listen]}, LIMIT, 'nginx_health_listen[1]: ' + message,
                   id='health_listen-' + name)
      for name, listen, message in HEALTH_LISTEN_CASES],
    *[pytest.param({'nginx_health_path': path}, LIMIT, message % shown, id='health_path-' + name)
      for name, path, message, shown in HEALTH_PATH_CASES],
    pytest.param({'nginx_error_log': 'off'}, LIMIT,
                 'nginx_error_log (a path or "stderr") must be an absolute path (start with "/"), got "off"',
                 id='error_log-off'),     # nginx would write to a file called "off"
    pytest.param({'nginx_error_log': '/var/log/nginx/error.log warn'}, LIMIT,
                 Contains('nginx_error_log (a path or "stderr")'), id='error_log-space'),
    pytest.param({'nginx_http_extra_directives': ['client_max_body_size 10m']}, LIMIT,
                 'nginx_http_extra_directives[0]: ' + SYNTAX % "directive 'client_max_body_size' is not terminated by "
                 "';'", id='extra-unterminated'),
    pytest.param({'nginx_http_extra_directives': ['gzip on;', '} server { listen 81; } http {']}, LIMIT,
                 'nginx_http_extra_directives[1]: ' + SYNTAX % "unexpected '}'", id='extra-escapes-the-block'),
    pytest.param({'nginx_http_extra_directives': ['server {']}, LIMIT,
                 'nginx_http_extra_directives[0]: ' + SYNTAX % "block 'server' is not closed", id='extra-open-block'),
    pytest.param({'nginx_http_extra_directives': ['add_header X "a;']}, LIMIT,
                 'nginx_http_extra_directives[0]: ' + SYNTAX % 'unterminated quoted string', id='extra-open-quote'),
    pytest.param({'nginx_http_extra_directives': ['# nothing']}, LIMIT,
                 'nginx_http_extra_directives[0]: holds no directive (only comments or blanks)', id='extra-comment'),
    pytest.param({'nginx_http_extra_directives': ['']}, LIMIT,
                 'nginx_http_extra_directives[0]: must be a non-empty string of nginx directives', id='extra-empty'),
    pytest.param({'nginx_http_extra_directives': ['gzip on;\x00']}, LIMIT,
                 'nginx_http_extra_directives[0]: must not contain control characters other than newline, carriage return '
                 'and tab, got "gzip on;\\x00"', id='extra-nul'),
    pytest.param({'nginx_package_name': 'nginx; rm -rf /'}, LIMIT,
                 'nginx_package_name must be a Debian package name such as nginx or nginx-light, got '
                 '"nginx; rm -rf /"', id='package_name-hostile'),
    pytest.param({'nginx_package_state': 'removed'}, LIMIT,
                 Contains('value of nginx_package_state must be one of: present, latest, got: removed'),
                 id='package_state'),
    pytest.param({'nginx_binary': 'nginx'}, LIMIT, 'nginx_binary must be an absolute path (start with "/"), got '
                 '"nginx"', id='binary-relative'),
    pytest.param({'nginx_include_dir': '/'}, LIMIT,
                 'nginx_include_dir must not be "/" (that would serve the whole file system)', id='include_dir-slash'),
    pytest.param({'nginx_include_dir': '/etc/nginx/conf.d\n'}, LIMIT,
                 'nginx_include_dir ' + CONTROL % '"/etc/nginx/conf.d\\n"', id='include_dir-newline'),
    pytest.param({'nginx_include_dir': '/etc/nginx/$x'}, LIMIT,
                 'nginx_include_dir must not contain "$" (nginx would read it as a variable), got "/etc/nginx/$x"',
                 id='include_dir-variable'),
    pytest.param({'nginx_apt_cache_valid_time': -1}, LIMIT, 'nginx_apt_cache_valid_time must be 0 or more, got -1',
                 id='apt_cache_valid_time-negative'),
    pytest.param({'nginx_service_enabled': 'sometimes'}, LIMIT,
                 Contains("argument 'nginx_service_enabled' is of type str and we were unable to convert to bool"),
                 id='service_enabled-word'),
    pytest.param({'nginx_unknown': 1, 'nginx_worker_connections': 0}, LIMIT,
                 'nginx_worker_connections must be >= 1 and <= 1048576, got 0', id='unknown-variables-are-ignored'),
]


def test_an_rlimit_below_connections_and_above_the_hard_limit_gets_both_messages():
    with pytest.raises(ModelError) as exc:
        server_models.build_nginx({'nginx_worker_connections': 4096, 'nginx_worker_rlimit_nofile': 1024}, 512)
    assert exc.value.errors == [
        'nginx_worker_rlimit_nofile (1024) must be at least nginx_worker_connections (4096): every connection is an '
        'open file.', HARD % (1024, 512)]


@pytest.mark.parametrize('variables, limit, message', NGINX_BAD)
def test_nginx_bad_input_has_one_message(variables, limit, message):
    assert_one_error(server_models.build_nginx, variables, limit, message)


def test_each_bad_health_listen_gets_its_own_message():
    with pytest.raises(ModelError) as exc:
        server_models.build_nginx({'nginx_health_listen': ['99999', 'proxy:80', '8078', '8078'],
                                   'nginx_health_path': 'health'}, LIMIT)
    assert exc.value.errors == [
        'nginx_health_listen[0]: port must be a whole number from 1 to 65535, got "99999"',
        'nginx_health_listen[1]: ' + HOST_NAME % '"proxy:80"',
        'nginx_health_listen[3]: "8078" is the same address and port as nginx_health_listen[2] (nginx listens on each once)',
        HEALTH_START % '"health"',
    ]


def test_the_drain_flag_is_the_constant_unless_a_test_gives_another():
    assert server_models.build_nginx({}, LIMIT).drain_flag == server_models.DRAIN_FLAG == '/var/lib/websocket-nginx/draining'
    assert server_models.build_nginx({}, LIMIT, drain_flag='/tmp/x/draining').drain_flag == '/tmp/x/draining'
    with pytest.raises(ModelError) as exc:
        server_models.build_nginx({}, LIMIT, drain_flag='/tmp/$x')
    assert exc.value.errors == ['drain_flag must not contain "$" (nginx would read it as a variable), got "/tmp/$x"']


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(value=st.one_of(st.text(max_size=30), st.from_regex(r'\[?[0-9a-f:.]{0,12}\]?:[0-9]{1,6}', fullmatch=True),
                       st.integers(-5, 70000).map(str)))
def test_a_health_listen_is_refused_or_one_socket_with_a_port(value):
    try:
        config = server_models.build_nginx({'nginx_health_listen': [value], 'nginx_status_enabled': False}, LIMIT)
    except ModelError as exc:
        (error,) = exc.errors
        assert error.startswith('nginx_health_listen[0]: '), error
        return
    (listen,) = config.health_listen
    port = int(listen.rsplit(':', 1)[-1])
    assert 1 <= port <= 65535 and listen.rsplit(':', 1)[-1] == str(port)
    assert config.health_urls == ['http://%s%s' % (nv_local(listen), '/health')]


def nv_local(listen):
    """Where this host reaches a health listen (wildcards as loopback), worked out here independently."""
    if ':' not in listen:
        return '127.0.0.1:' + listen
    host, port = listen.rsplit(':', 1)
    return {'0.0.0.0': '127.0.0.1', '[::]': '[::1]'}.get(host, host) + ':' + port


def test_nginx_several_problems_are_all_reported():
    with pytest.raises(ModelError) as exc:
        server_models.build_nginx({'nginx_worker_processes': 'lots', 'nginx_user': 'root\n'}, LIMIT)
    assert exc.value.errors == [
        'nginx_user must be a system user name (lower case letters, digits, "_" and "-"), got "root\\n"',
        PROCESSES % '"lots"',
    ]


# ---------------------------------------------------------------------------
# echo_backend
# ---------------------------------------------------------------------------

# The play gives echo_backend_name templated ({{ inventory_hostname }}); here it is given as such.
ECHO = {'echo_backend_name': 'backend-1'}


def echo(**changes):
    return {**ECHO, **changes}


def test_echo_backend_defaults():
    config = server_models.build_echo_backend(ECHO, LIMIT)
    assert config.as_dict() == {
        'port': 8765, 'bind_address': '0.0.0.0', 'name': 'backend-1', 'health_path': '/healthz',
        'whoami_path': '/whoami', 'max_message_size': 16777216, 'ping_interval': 0, 'user': 'websocket-echo',
        'service_name': 'websocket-echo', 'install_dir': '/opt/websocket-echo', 'open_files_limit': 16384,
        'service_enabled': True, 'service_state': 'started', 'apt_cache_valid_time': 3600,
        'health_url': 'http://127.0.0.1:8765/healthz', 'privileged_port': False, 'packages': ['python3', 'python3-websockets'],
    }


@pytest.mark.parametrize('port, privileged', [(80, True), (1023, True), (1024, False), ('443', True)])
def test_echo_backend_privileged_port(port, privileged):
    assert server_models.build_echo_backend(echo(echo_backend_port=port), LIMIT).privileged_port is privileged


@pytest.mark.parametrize('bind_address, port, normalized, health_url', [
    ('0.0.0.0', 8765, '0.0.0.0', 'http://127.0.0.1:8765/healthz'),       # a wildcard is checked on loopback
    ('::', 8765, '::', 'http://[::1]:8765/healthz'),
    ('0:0::0', 8765, '::', 'http://[::1]:8765/healthz'),
    ('10.1.2.3', 9000, '10.1.2.3', 'http://10.1.2.3:9000/healthz'),
    ('fe80::1', 8765, 'fe80::1', 'http://[fe80::1]:8765/healthz'),
    ('2001:db8:0::5', 8765, '2001:db8::5', 'http://[2001:db8::5]:8765/healthz'),
    ('127.0.0.1', '8080', '127.0.0.1', 'http://127.0.0.1:8080/healthz'),   # "8080" from -e
    ('localhost', 1, 'localhost', 'http://localhost:1/healthz'),
])
def test_echo_backend_health_url(bind_address, port, normalized, health_url):
    config = server_models.build_echo_backend(echo(echo_backend_bind_address=bind_address, echo_backend_port=port),
                                              LIMIT)
    assert (config.bind_address, config.health_url) == (normalized, health_url)
    assert isinstance(config.port, int) and not isinstance(config.port, bool)


@pytest.mark.parametrize('variables, limit, field, value', [
    ({'echo_backend_port': 65535}, LIMIT, 'port', 65535),
    ({'echo_backend_name': 'backend 1 (blue)'}, LIMIT, 'name', 'backend 1 (blue)'),
    ({'echo_backend_health_path': '/', 'echo_backend_whoami_path': '/who/am/i'}, LIMIT, 'whoami_path', '/who/am/i'),
    ({'echo_backend_install_dir': '/opt/echo/'}, LIMIT, 'install_dir', '/opt/echo'),
    ({'echo_backend_install_dir': '/srv/echo_1.2+x@y:z'}, LIMIT, 'install_dir', '/srv/echo_1.2+x@y:z'),
    ({'echo_backend_user': 'a' * 32}, LIMIT, 'user', 'a' * 32),
    ({'echo_backend_service_name': 'echo-2.backend_x:y'}, LIMIT, 'service_name', 'echo-2.backend_x:y'),
    ({'echo_backend_open_files_limit': LIMIT}, LIMIT, 'open_files_limit', LIMIT),
    ({'echo_backend_open_files_limit': 10 ** 9}, None, 'open_files_limit', 10 ** 9),     # unlimited hard limit
    ({'echo_backend_ping_interval': '20'}, LIMIT, 'ping_interval', 20),
    ({'echo_backend_service_enabled': 'no', 'echo_backend_service_state': 'stopped'}, LIMIT, 'service_enabled',
     False),
])
def test_echo_backend_accepts(variables, limit, field, value):
    config = server_models.build_echo_backend(echo(**variables), limit)
    assert getattr(config, field) == value


PORT_RANGE = 'echo_backend_port must be %s, got %s'
NAME = ('echo_backend_name must be a non-empty string of printable ASCII without leading or trailing spaces (it is '
        'sent in the X-Echo-Backend header), got %s')
PATHS = ('echo_backend_health_path (%s) and echo_backend_whoami_path (%s) must be different URL paths starting with '
         '"/", without spaces, "?" or "#".')
SYSTEMD = 'echo_backend_install_dir may only hold letters, digits and "_.:@+/-" (it is written into a systemd unit), got %s'
USER = ('echo_backend_user must be a system user name (lower case letters, digits, "_" and "-", at most 32 '
        'characters), got %s')
SERVICE = 'echo_backend_service_name must be a systemd unit name without the ".service" suffix, got %s'
OPEN_FILES = ('echo_backend_open_files_limit is %d but must be from 1 to the hard open-files limit of PID 1 on this '
              'host, %s; systemd could not start the service.')

ECHO_BAD = [
    pytest.param({'echo_backend_port': 0}, LIMIT, PORT_RANGE % ('1 or more', 0), id='port-0'),
    pytest.param({'echo_backend_port': 70000}, LIMIT, PORT_RANGE % ('65535 or less', 70000), id='port-70000'),
    pytest.param({'echo_backend_port': -1}, LIMIT, PORT_RANGE % ('1 or more', -1), id='port-negative'),
    pytest.param({'echo_backend_port': 'abc'}, LIMIT,
                 Contains("argument 'echo_backend_port' is of type str and we were unable to convert to int"),
                 id='port-abc'),
    pytest.param({'echo_backend_bind_address': 'bad host'}, LIMIT,
                 'echo_backend_bind_address "bad host" is not a host name or IP address', id='bind-space'),
    pytest.param({'echo_backend_bind_address': '0.0.0.0\n'}, LIMIT,
                 'echo_backend_bind_address "0.0.0.0\\n" is not a host name or IP address', id='bind-newline'),
    pytest.param({'echo_backend_bind_address': '[::1]'}, LIMIT,
                 'echo_backend_bind_address "[::1]" is not an IPv6 address', id='bind-brackets'),
    pytest.param({'echo_backend_bind_address': '::g'}, LIMIT,
                 'echo_backend_bind_address "::g" is not an IPv6 address', id='bind-bad-ipv6'),
    pytest.param({'echo_backend_bind_address': ''}, LIMIT, 'echo_backend_bind_address must not be empty',
                 id='bind-empty'),
    pytest.param({'echo_backend_name': ''}, LIMIT, NAME % '""', id='name-empty'),
    pytest.param({'echo_backend_name': ' backend'}, LIMIT, NAME % '" backend"', id='name-leading-space'),
    pytest.param({'echo_backend_name': 'backend '}, LIMIT, NAME % '"backend "', id='name-trailing-space'),
    pytest.param({'echo_backend_name': 'backend\n'}, LIMIT, NAME % '"backend\\n"', id='name-newline'),
    pytest.param({'echo_backend_name': 'a\r\nX-Injected: 1'}, LIMIT, NAME % '"a\\r\\nX-Injected: 1"',
                 id='name-header-injection'),
    pytest.param({'echo_backend_name': 'b\u00e4ckend'}, LIMIT, NAME % '"b\\xe4ckend"', id='name-non-ascii'),
    pytest.param({'echo_backend_health_path': 'healthz'}, LIMIT, PATHS % ('"healthz"', '"/whoami"'),
                 id='health_path-relative'),
    pytest.param({'echo_backend_whoami_path': '/healthz'}, LIMIT, PATHS % ('"/healthz"', '"/healthz"'),
                 id='paths-equal'),
    pytest.param({'echo_backend_health_path': '/health z'}, LIMIT, PATHS % ('"/health z"', '"/whoami"'),
                 id='health_path-space'),
    pytest.param({'echo_backend_health_path': '/healthz?x=1'}, LIMIT, PATHS % ('"/healthz?x=1"', '"/whoami"'),
                 id='health_path-query'),
    pytest.param({'echo_backend_whoami_path': '/who#am'}, LIMIT, PATHS % ('"/healthz"', '"/who#am"'),
                 id='whoami_path-fragment'),
    pytest.param({'echo_backend_whoami_path': '/whoami\n'}, LIMIT, PATHS % ('"/healthz"', '"/whoami\\n"'),
                 id='whoami_path-newline'),
    pytest.param({'echo_backend_install_dir': 'opt/echo'}, LIMIT,
                 'echo_backend_install_dir must be an absolute path (start with "/"), got "opt/echo"',
                 id='install_dir-relative'),
    pytest.param({'echo_backend_install_dir': '/opt/my echo'}, LIMIT, SYSTEMD % '"/opt/my echo"',
                 id='install_dir-space'),
    pytest.param({'echo_backend_install_dir': '/opt/echo%i'}, LIMIT, SYSTEMD % '"/opt/echo%i"',
                 id='install_dir-percent'),
    pytest.param({'echo_backend_install_dir': '/opt/"echo"'}, LIMIT, SYSTEMD % '"/opt/\\"echo\\""',
                 id='install_dir-quote'),
    pytest.param({'echo_backend_install_dir': '/'}, LIMIT,
                 'echo_backend_install_dir must not be "/" (that would serve the whole file system)',
                 id='install_dir-slash'),
    pytest.param({'echo_backend_install_dir': '/opt/../etc'}, LIMIT,
                 'echo_backend_install_dir must be a normalized path without ".", ".." or "//", got "/opt/../etc"',
                 id='install_dir-dotdot'),
    pytest.param({'echo_backend_install_dir': '/opt/echo\n'}, LIMIT,
                 'echo_backend_install_dir ' + CONTROL % '"/opt/echo\\n"', id='install_dir-newline'),
    pytest.param({'echo_backend_user': 'Echo User'}, LIMIT, USER % '"Echo User"', id='user-space'),
    pytest.param({'echo_backend_user': 'a' * 33}, LIMIT, USER % ('"%s"' % ('a' * 33)), id='user-too-long'),
    pytest.param({'echo_backend_user': '-echo'}, LIMIT, USER % '"-echo"', id='user-dash'),
    pytest.param({'echo_backend_user': 'echo\n'}, LIMIT, USER % '"echo\\n"', id='user-newline'),
    pytest.param({'echo_backend_service_name': 'echo.service'}, LIMIT, SERVICE % '"echo.service"',
                 id='service-suffix'),
    pytest.param({'echo_backend_service_name': 'my echo'}, LIMIT, SERVICE % '"my echo"', id='service-space'),
    pytest.param({'echo_backend_service_name': '../echo'}, LIMIT, SERVICE % '"../echo"', id='service-path'),
    pytest.param({'echo_backend_service_name': 'echo@1'}, LIMIT, SERVICE % '"echo@1"', id='service-template'),
    pytest.param({'echo_backend_service_name': 'echo\n'}, LIMIT, SERVICE % '"echo\\n"', id='service-newline'),
    pytest.param({'echo_backend_service_name': ''}, LIMIT, SERVICE % '""', id='service-empty'),
    pytest.param({'echo_backend_open_files_limit': LIMIT + 1}, LIMIT, OPEN_FILES % (LIMIT + 1, LIMIT),
                 id='open_files-above-hard-limit'),
    pytest.param({'echo_backend_open_files_limit': 0}, LIMIT, OPEN_FILES % (0, LIMIT), id='open_files-0'),
    pytest.param({'echo_backend_open_files_limit': 0}, None, OPEN_FILES % (0, 'unlimited'),
                 id='open_files-0-unlimited'),
    pytest.param({'echo_backend_ping_interval': -1}, LIMIT,
                 'echo_backend_ping_interval must be 0 or more (0 disables pings), got -1', id='ping-negative'),
    pytest.param({'echo_backend_max_message_size': 0}, LIMIT, 'echo_backend_max_message_size must be 1 or more, got 0',
                 id='max_message_size-0'),
    pytest.param({'echo_backend_apt_cache_valid_time': -1}, LIMIT,
                 'echo_backend_apt_cache_valid_time must be 0 or more, got -1', id='apt_cache_valid_time-negative'),
    pytest.param({'echo_backend_service_state': 'restarted'}, LIMIT,
                 Contains('value of echo_backend_service_state must be one of: started, stopped, got: restarted'),
                 id='service_state'),
]


@pytest.mark.parametrize('variables, limit, message', ECHO_BAD)
def test_echo_backend_bad_input_has_one_message(variables, limit, message):
    assert_one_error(server_models.build_echo_backend, echo(**variables), limit, message)


def test_echo_backend_several_problems_are_all_reported():
    with pytest.raises(ModelError) as exc:
        server_models.build_echo_backend(echo(echo_backend_port=0, echo_backend_user='Root'), LIMIT)
    assert exc.value.errors == [PORT_RANGE % ('1 or more', 0), USER % '"Root"']
