# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nginx and echo_backend roles' variables: validated once, normalized, typed.

Like :mod:`.site_model`, each ``build_*`` returns a dataclass of checked values
or raises :class:`.role_spec.ModelError` with one message per problem. Both
take the host's open-files hard limit (``/proc/1/limits`` of PID 1; None when
unlimited), which no process there can raise.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import re

from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import format_address, split_host_port
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values as nv
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import Problems, validate_role_variables

DEBIAN_PACKAGE = re.compile(r'[a-z0-9][a-z0-9+.-]+')
# A systemd unit name without its ".service" suffix.
SERVICE_NAME = re.compile(r'[A-Za-z0-9_.:-]+')
# What the echo backend runs on (Debian's packages).
ECHO_BACKEND_PACKAGES = ('python3', 'python3-websockets')
SYSTEM_USER = re.compile(r'[a-z_][a-z0-9_-]{0,31}')
HEADER_TEXT = re.compile(r'[!-~]([ -~]*[!-~])?')
URL_PATH = re.compile(r'/[!-~]*')
MAX_WORKER_CONNECTIONS = 1048576
# While this file exists the health server answers 503 "draining" (websocket.nginx.drain_proxy creates it, and
# the keepalived role's track script fails on it). Fixed: the playbook, the keepalived role and nginx agree on it.
DRAIN_FLAG = '/var/lib/websocket-nginx/draining'
# What a load balancer may send as the health path: letters, digits and "/._~-" (nothing to quote or escape).
HEALTH_PATH_CHARACTERS = re.compile(r'[A-Za-z0-9/._~-]*')
# nginx_health_listen: a port alone, or an IPv4 address or an IPv6 address in brackets, ":" and a port.
_HEALTH_LISTEN = re.compile(r'(?P<port>[^\[\]:]+)|(?:\[(?P<ipv6>[^\[\]]*)\]|(?P<host>[^\[\]:]*)):(?P<host_port>[^\[\]:]*)')

# Sizing the workers for a number of concurrent WebSockets (nginx_websocket_capacity).
# Files a worker holds besides its connections: log files, listening sockets, channels to the
# other processes, temporary files of buffered responses.
FILES_BESIDES_CONNECTIONS = 256
# Connections a worker holds besides its clients' and upstreams': one per listening socket and
# its channel to the master.
CONNECTIONS_BESIDES_CLIENTS = 32
# reuseport spreads new connections over the workers by a hash of their addresses: evenly, but
# not exactly; each worker is sized for its even share and this much more.
BALANCE_MARGIN = 1.10
# Workers beyond the core count are allowed (they add connections, not speed), up to this many.
MAX_WORKER_PROCESSES = 64
# Fewest connections a derived worker gets, for the plain HTTP and static traffic besides WebSockets.
MIN_WORKER_CONNECTIONS = 1024


def _limit_text(limit):
    return 'unlimited' if limit is None else str(limit)


def usable_connections(worker_connections):
    """Connections a worker serves before nginx starts closing not-yet-served ones.

    When fewer than 1/16 of worker_connections are free, nginx closes idle and not-yet-served
    connections to make room, and new clients see their connection closed without a response.
    """
    return worker_connections - worker_connections // 16 - CONNECTIONS_BESIDES_CLIENTS


def websockets_per_worker(worker_connections, per_websocket):
    """WebSockets one worker holds with that many connections (its share of an even spread, see BALANCE_MARGIN)."""
    return max(0, int(usable_connections(worker_connections) / (per_websocket * BALANCE_MARGIN)))


@dataclasses.dataclass
class WorkerSizing:
    processes: int
    connections: int
    rlimit_nofile: int
    # WebSockets this sizing holds (at least the capacity asked for).
    holds: int


def size_workers(capacity, per_websocket, processes, connections, rlimit, hard_limit, cpus):
    """Worker processes, connections and open-files limit for ``capacity`` concurrent WebSockets.

    ``processes`` is 'auto' (at least one per core, more when the capacity needs them) or a
    number; ``connections`` and ``rlimit`` are the user's numbers or None (derived). Raises
    ValueError saying what this host allows when the capacity cannot be reached.
    """
    files = MAX_WORKER_CONNECTIONS + FILES_BESIDES_CONNECTIONS if hard_limit is None else hard_limit
    if rlimit is not None:
        files = min(files, rlimit)
    room = files - FILES_BESIDES_CONNECTIONS
    largest = min(connections, room) if connections is not None else min(room, MAX_WORKER_CONNECTIONS)
    per_worker = websockets_per_worker(largest, per_websocket)
    limits = ('the hard open-files limit of %s' % _limit_text(hard_limit) if rlimit is None
              else 'nginx_worker_rlimit_nofile %d' % rlimit)
    if connections is not None:
        limits = 'nginx_worker_connections %d and %s' % (connections, limits)
    why = ('one worker holds %d WebSockets of %d connections (under %s, %d files kept for logs and sockets, '
           "nginx's 1/16 reserve and a %d%% margin for an uneven spread)"
           % (per_worker, per_websocket, limits, FILES_BESIDES_CONNECTIONS, round((BALANCE_MARGIN - 1) * 100)))
    if per_worker < 1:
        raise ValueError('nginx_websocket_capacity cannot be reached: %s.' % why)
    needed = -(-capacity // per_worker)
    if processes == 'auto':
        if needed > MAX_WORKER_PROCESSES:
            raise ValueError('nginx_websocket_capacity (%d) is more than this host allows: at most %d WebSockets with '
                             '%d worker processes, the most this role runs; %s. Lower nginx_websocket_capacity.'
                             % (capacity, MAX_WORKER_PROCESSES * per_worker, MAX_WORKER_PROCESSES, why))
        workers = max(needed, cpus or 1)
    else:
        workers = processes
        if workers < needed:
            raise ValueError('nginx_websocket_capacity (%d) needs %d worker processes here, and nginx_worker_processes '
                             'is %d (at most %d WebSockets); %s. Set nginx_worker_processes to auto or at least %d, or '
                             'lower nginx_websocket_capacity.'
                             % (capacity, needed, workers, workers * per_worker, why, needed))
    if connections is None:
        # The fewest connections whose usable part holds this worker's share, within the host's limit.
        share = -(-capacity // workers)
        wanted = math.ceil(share * per_websocket * BALANCE_MARGIN) + CONNECTIONS_BESIDES_CLIENTS
        connections = wanted + wanted // 15
        while websockets_per_worker(connections, per_websocket) < share:
            connections += 1
        connections = min(max(connections, MIN_WORKER_CONNECTIONS), largest)
    if rlimit is None:
        rlimit = min(connections + FILES_BESIDES_CONNECTIONS, files)
    holds = workers * websockets_per_worker(min(connections, rlimit - FILES_BESIDES_CONNECTIONS), per_websocket)
    return WorkerSizing(processes=workers, connections=connections, rlimit_nofile=rlimit, holds=holds)


@dataclasses.dataclass
class NginxConfig:
    package_name: str
    package_state: str
    apt_cache_valid_time: int
    binary: str
    include_dir: str
    user: str
    # Concurrent WebSockets the workers are sized for, and the connections each holds.
    websocket_capacity: int
    connections_per_websocket: int
    worker_processes: int
    worker_connections: int
    worker_rlimit_nofile: int
    # WebSockets this sizing holds (at least websocket_capacity).
    holds_websockets: int
    worker_shutdown_timeout: str | None
    multi_accept: bool
    request_pool_size: str
    keepalive_timeout: str
    server_tokens: bool
    access_log: str
    error_log: str
    error_log_level: str
    http_extra_directives: list
    # stub_status on a loopback address (None: off) and its path.
    status_listen: str | None
    status_path: str
    # The health server for external load balancers ([]: none): its listen addresses, its path, the URLs this
    # host checks it on (wildcard addresses as loopback) and the drain flag it answers 503 to.
    health_listen: list
    health_path: str
    health_urls: list
    drain_flag: str
    remove_default_site: bool
    service_enabled: bool
    # Package upgrades (by the role, apt, unattended-upgrades) move nginx to the new binary on the fly.
    graceful_upgrades: bool
    hard_nofile_limit: int | None
    cpus: int | None

    def as_dict(self):
        return dataclasses.asdict(self)


def _log_path(value, what):
    """A log file: an absolute path without spaces (a level or format is not set in this variable)."""
    path = nv.check_absolute_path(value, what, allow_root=False)
    if ' ' in path:
        raise ValueError('%s must be a file path without spaces, got %s' % (what, nv.show(value)))
    return path


def check_status_listen(value, what='nginx_status_listen'):
    """Where stub_status listens: a loopback address with a port, so that only this host can read it."""
    wanted = ('%s must be a loopback address with a port, such as 127.0.0.1:8079 or [::1]:8079, so that only this '
              'host can read the status (or set nginx_status_enabled: false), got %s' % (what, nv.show(value)))
    try:
        host, port = split_host_port(nv.check_text(value, what, allow_dollar=False))
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(wanted)
    if port is None or not address.is_loopback:
        raise ValueError(wanted)
    return format_address(host, nv.check_int(port, what + ' port', 1, 65535))


HEALTH_LISTEN_WANTED = 'must be a port such as 8078, or an IP address and a port such as 10.0.0.5:8078 or [::]:8078, got %s'


def parse_health_listen(value):
    """``(listen as rendered, (address, port) of its socket, address this host checks it on)``; ValueError."""
    match = _HEALTH_LISTEN.fullmatch(value)
    if not match:
        raise ValueError(HEALTH_LISTEN_WANTED % nv.show(value))
    port = match.group('port') or match.group('host_port')
    if match.group('port') is None and match.group('ipv6') is None:
        host = match.group('host')
        try:
            address = ipaddress.IPv4Address(host)
        except ValueError:
            if nv.HOST_NAME.fullmatch(host) and not re.fullmatch(r'[0-9.]+', host):
                raise ValueError('must be an IP address and a port, not a host name (nginx would listen on what the name '
                                 'resolves to when it starts), got %s' % nv.show(value))
            raise ValueError(HEALTH_LISTEN_WANTED % nv.show(value))
    elif match.group('ipv6') is not None:
        try:
            address = ipaddress.IPv6Address(match.group('ipv6'))
        except ValueError:
            raise ValueError(HEALTH_LISTEN_WANTED % nv.show(value))
        if address.scope_id:
            raise ValueError(HEALTH_LISTEN_WANTED % nv.show(value))
    else:
        address = None
    if not re.fullmatch(r'[0-9]{1,5}', port) or not 1 <= int(port) <= 65535:
        if not re.fullmatch(r'[0-9]+', port) and address is None:
            raise ValueError(HEALTH_LISTEN_WANTED % nv.show(value))
        raise ValueError('port must be a whole number from 1 to 65535, got %s' % nv.show(value))
    port = int(port)
    if address is None:
        return str(port), ('0.0.0.0', port), format_address('127.0.0.1', port)
    return (format_address(str(address), port), (str(address), port),
            format_address(nv.local_host(str(address)), port))


def check_health_path(value, what='nginx_health_path'):
    """The health server's path: starting with "/", characters a load balancer sends as they are, normalized."""
    if not isinstance(value, str) or not value.startswith('/'):
        raise ValueError('%s must start with "/", got %s' % (what, nv.show(value)))
    if not HEALTH_PATH_CHARACTERS.fullmatch(value):
        raise ValueError('%s may only hold letters, digits and "/", ".", "_", "~", "-", got %s' % (what, nv.show(value)))
    if '//' in value or any(part in ('.', '..') for part in value.split('/')):
        raise ValueError('%s must not hold "//", "." or ".." parts (nginx matches the request path once it resolved '
                         'them, so it would never be answered), got %s' % (what, nv.show(value)))
    return value


def _port(address):
    return int(address.rsplit(':', 1)[1])


def build_nginx(variables, hard_nofile_limit, cpus=None, drain_flag=DRAIN_FLAG):
    """The nginx role's configuration. ``cpus``: the host's online CPUs (None: unknown, taken as 1).

    ``drain_flag``: the file whose existence makes the health server answer 503 (DRAIN_FLAG; tests give another).
    """
    p = validate_role_variables('nginx', variables)
    problems = Problems()
    check = problems.check
    if not DEBIAN_PACKAGE.fullmatch(p['nginx_package_name']):
        problems.add('', 'nginx_package_name must be a Debian package name such as nginx or nginx-light, got %s'
                     % nv.show(p['nginx_package_name']))
    check('', nv.check_int, p['nginx_apt_cache_valid_time'], 'nginx_apt_cache_valid_time', 0)
    binary = check('', nv.check_absolute_path, p['nginx_binary'], 'nginx_binary', allow_root=False)
    include_dir = check('', nv.check_absolute_path, p['nginx_include_dir'], 'nginx_include_dir', allow_root=False)
    if not SYSTEM_USER.fullmatch(p['nginx_user']):
        problems.add('', 'nginx_user must be a system user name (lower case letters, digits, "_" and "-"), got %s'
                     % nv.show(p['nginx_user']))
    processes = p['nginx_worker_processes']
    if str(processes) != 'auto':
        try:
            processes = nv.check_int(processes, 'nginx_worker_processes', 1)
        except ValueError:
            problems.add('', "nginx_worker_processes must be 'auto' or a whole number >= 1, got %s" % nv.show(processes))
            processes = None
    else:
        processes = 'auto'
    capacity = check('', nv.check_int, p['nginx_websocket_capacity'], 'nginx_websocket_capacity', 1)
    per_websocket = check('', nv.check_int, p['nginx_connections_per_websocket'], 'nginx_connections_per_websocket',
                          1, 16)
    connections = p['nginx_worker_connections']
    if connections is not None and not 1 <= connections <= MAX_WORKER_CONNECTIONS:
        problems.add('', 'nginx_worker_connections must be >= 1 and <= %d, got %d' % (MAX_WORKER_CONNECTIONS, connections))
        connections = False
    rlimit = p['nginx_worker_rlimit_nofile']
    if rlimit is not None:
        below_connections = connections and rlimit < connections
        if below_connections:
            problems.add('', 'nginx_worker_rlimit_nofile (%d) must be at least nginx_worker_connections (%d): every '
                             'connection is an open file.' % (rlimit, connections))
        above_hard_limit = hard_nofile_limit is not None and rlimit > hard_nofile_limit
        if above_hard_limit:
            problems.add('', "nginx_worker_rlimit_nofile (%d) exceeds this host's hard open-files limit (%d); a process "
                             'cannot raise it, so nginx would run with fewer files than configured. Lower it (and '
                             'nginx_worker_connections with it), or leave both unset to have them derived from '
                             'nginx_websocket_capacity.' % (rlimit, hard_nofile_limit))
        if below_connections or above_hard_limit:
            rlimit = False
    sizing = None
    if None not in (processes, capacity, per_websocket) and connections is not False and rlimit is not False:
        sizing = check('', size_workers, capacity, per_websocket, processes, connections, rlimit, hard_nofile_limit,
                       cpus)
    pool = p['nginx_request_pool_size']
    check('', nv.check_size_range, pool, 'nginx_request_pool_size', 512, 65536, 'from 512 to 64k')
    shutdown = p['nginx_worker_shutdown_timeout']
    if shutdown != '':
        check('', nv.check_time, shutdown, 'nginx_worker_shutdown_timeout')
    check('', nv.check_time, p['nginx_keepalive_timeout'], 'nginx_keepalive_timeout')
    access_log = p['nginx_access_log']
    if access_log != 'off':
        check('', _log_path, access_log, 'nginx_access_log (a path or "off")')
    error_log = p['nginx_error_log']
    if error_log != 'stderr':
        check('', _log_path, error_log, 'nginx_error_log (a path or "stderr")')
    extra = []
    for index, text in enumerate(p['nginx_http_extra_directives']):
        if check('nginx_http_extra_directives[%d]' % index, nv.check_raw_directives, text) is not None:
            extra.append(text.strip(nv.NGINX_WHITESPACE))  # nginx's own whitespace only, see site_model
    status_listen = None
    if p['nginx_status_enabled']:
        status_listen = check('', check_status_listen, p['nginx_status_listen'])
    status_path = p['nginx_status_path']
    if not URL_PATH.fullmatch(status_path) or status_path == '/':
        problems.add('', 'nginx_status_path must be a URL path other than "/", starting with "/", without spaces or '
                         'control characters, got %s' % nv.show(status_path))
    health_listen, health_urls, sockets = [], [], {}
    for index, value in enumerate(p['nginx_health_listen']):
        where = 'nginx_health_listen[%d]' % index
        parsed = check(where, parse_health_listen, value)
        if parsed is None:
            continue
        listen, socket_key, local = parsed
        if status_listen and socket_key[1] == _port(status_listen):
            problems.add(where, "%s takes the port of nginx's status server (nginx_status_listen %s); choose another "
                                'port' % (nv.show(value), status_listen))
        elif socket_key in sockets:
            problems.add(where, '%s is the same address and port as nginx_health_listen[%d] (nginx listens on each '
                                'once)' % (nv.show(value), sockets[socket_key]))
        else:
            sockets[socket_key] = index
            health_listen.append(listen)
            if local not in health_urls:
                health_urls.append(local)
    health_path = check('', check_health_path, p['nginx_health_path'])
    check('', nv.check_absolute_path, drain_flag, 'drain_flag', allow_root=False)
    problems.raise_if_any()
    return NginxConfig(
        package_name=p['nginx_package_name'], package_state=p['nginx_package_state'],
        apt_cache_valid_time=p['nginx_apt_cache_valid_time'], binary=binary, include_dir=include_dir,
        user=p['nginx_user'], websocket_capacity=capacity, connections_per_websocket=per_websocket,
        worker_processes=sizing.processes, worker_connections=sizing.connections,
        worker_rlimit_nofile=sizing.rlimit_nofile, holds_websockets=sizing.holds,
        worker_shutdown_timeout=shutdown or None, multi_accept=p['nginx_multi_accept'], request_pool_size=pool,
        keepalive_timeout=p['nginx_keepalive_timeout'], server_tokens=p['nginx_server_tokens'],
        access_log=access_log if access_log == 'off' else access_log.rstrip('/'), error_log=error_log,
        error_log_level=p['nginx_error_log_level'],
        http_extra_directives=extra, status_listen=status_listen, status_path=status_path,
        health_listen=health_listen, health_path=health_path,
        health_urls=['http://%s%s' % (address, health_path) for address in health_urls], drain_flag=drain_flag,
        remove_default_site=p['nginx_remove_default_site'],
        service_enabled=p['nginx_service_enabled'], graceful_upgrades=p['nginx_graceful_upgrades'],
        hard_nofile_limit=hard_nofile_limit, cpus=cpus,
    )


@dataclasses.dataclass
class EchoBackendConfig:
    port: int
    bind_address: str
    name: str
    health_path: str
    whoami_path: str
    max_message_size: int
    ping_interval: int
    user: str
    service_name: str
    install_dir: str
    open_files_limit: int
    service_enabled: bool
    service_state: str
    apt_cache_valid_time: int
    health_url: str
    packages: list
    # A port below 1024 needs CAP_NET_BIND_SERVICE for the unprivileged user.
    privileged_port: bool

    def as_dict(self):
        return dataclasses.asdict(self)


def build_echo_backend(variables, hard_nofile_limit):
    p = validate_role_variables('echo_backend', variables)
    problems = Problems()
    check = problems.check
    port = check('', nv.check_int, p['echo_backend_port'], 'echo_backend_port', 1, 65535)
    bind_address = p['echo_backend_bind_address']
    try:
        bind_address = str(ipaddress.ip_address(bind_address))
    except ValueError:
        if check('', nv.check_host, bind_address, 'echo_backend_bind_address') is None:
            bind_address = None
    if not HEADER_TEXT.fullmatch(p['echo_backend_name']):
        problems.add('', 'echo_backend_name must be a non-empty string of printable ASCII without leading or trailing '
                         'spaces (it is sent in the X-Echo-Backend header), got %s' % nv.show(p['echo_backend_name']))
    paths = (p['echo_backend_health_path'], p['echo_backend_whoami_path'])
    if not all(URL_PATH.fullmatch(path) and '?' not in path and '#' not in path for path in paths) or paths[0] == paths[1]:
        problems.add('', 'echo_backend_health_path (%s) and echo_backend_whoami_path (%s) must be different URL paths '
                         'starting with "/", without spaces, "?" or "#".' % (nv.show(paths[0]), nv.show(paths[1])))
    install_dir = check('', nv.check_absolute_path, p['echo_backend_install_dir'], 'echo_backend_install_dir',
                        allow_root=False)
    if install_dir is not None:
        check('', nv.check_systemd_word, install_dir, 'echo_backend_install_dir')
    if not SYSTEM_USER.fullmatch(p['echo_backend_user']):
        problems.add('', 'echo_backend_user must be a system user name (lower case letters, digits, "_" and "-", at '
                         'most 32 characters), got %s' % nv.show(p['echo_backend_user']))
    service = p['echo_backend_service_name']
    if not SERVICE_NAME.fullmatch(service) or service.endswith('.service'):
        problems.add('', 'echo_backend_service_name must be a systemd unit name without the ".service" suffix, got %s'
                     % nv.show(service))
    check('', nv.check_int, p['echo_backend_max_message_size'], 'echo_backend_max_message_size', 1)
    ping = p['echo_backend_ping_interval']
    if ping < 0:
        problems.add('', 'echo_backend_ping_interval must be 0 or more (0 disables pings), got %d' % ping)
    check('', nv.check_int, p['echo_backend_apt_cache_valid_time'], 'echo_backend_apt_cache_valid_time', 0)
    limit = p['echo_backend_open_files_limit']
    if limit < 1 or (hard_nofile_limit is not None and limit > hard_nofile_limit):
        problems.add('', 'echo_backend_open_files_limit is %d but must be from 1 to the hard open-files limit of PID 1 '
                         'on this host, %s; systemd could not start the service.' % (limit, _limit_text(hard_nofile_limit)))
    problems.raise_if_any()
    return EchoBackendConfig(
        port=port, bind_address=bind_address, name=p['echo_backend_name'], health_path=paths[0], whoami_path=paths[1],
        max_message_size=p['echo_backend_max_message_size'], ping_interval=ping, user=p['echo_backend_user'],
        service_name=service, install_dir=install_dir, open_files_limit=limit,
        service_enabled=p['echo_backend_service_enabled'], service_state=p['echo_backend_service_state'],
        apt_cache_valid_time=p['echo_backend_apt_cache_valid_time'],
        health_url='http://%s%s' % (format_address(nv.local_host(bind_address), port), paths[0]),
        packages=list(ECHO_BACKEND_PACKAGES),
        privileged_port=port < 1024,
    )
