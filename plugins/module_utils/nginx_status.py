# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""How busy nginx is on this host: its stub_status, its processes and its TCP connections.

* stub_status: active connections, accepts, handled, requests, reading, writing, waiting;
  accepts - handled are the connections nginx dropped since it started.
* nginx's processes, from /proc: the master(s), the workers, and the old workers still draining
  after reloads (titled "nginx: worker process is shutting down"), with their memory (RSS).
* nginx's established TCP connections (/proc/net/tcp and tcp6, IPv4, IPv6 and v4-mapped), matched
  to the socket inodes in /proc/PID/fd of nginx's processes: those whose local address is one of
  nginx's listening sockets are client connections, the others go to upstream servers, counted
  per server address and per whether a current or a draining worker holds them.

The nginx is the one that serves the status URL: the master process holding its listening socket,
and that master's children. Reading other processes' /proc/PID/fd needs root.

Standard library only and no other module_utils: besides websocket.nginx.proxy_status, this file
runs as a plain script on the hosts (see main()):

    python3 nginx_status.py --status-url URL [--capacity N] [--upstreams-file FILE]
                            [--format json|prometheus|table]
"""

from __future__ import annotations

import argparse
import http.client
import ipaddress
import json
import math
import os
import re
import socket
import sys
import urllib.parse

DEFAULT_STATUS_URL = 'http://127.0.0.1:8079/stub_status'
DEFAULT_TIMEOUT = 5.0
MAX_TIMEOUT = 300
DEFAULT_WARN_PERCENT = 80.0
# A stub_status page is about 100 bytes; anything much larger is not one.
MAX_BODY = 65536
MASTER_TITLE = 'nginx: master process'
WORKER_TITLE = 'nginx: worker process'
OLD_WORKER_TITLE = 'nginx: worker process is shutting down'
# Bytes asked for in one read of /proc/net/tcp: a line is 150 (tcp6: 178) bytes, 20000 WebSockets are 40000 lines.
TABLE_READ_SIZE = 8 << 20
# TCP states as /proc/net/tcp writes them (include/net/tcp_states.h).
TCP_ESTABLISHED = '01'
TCP_LISTEN = '0A'
STUB_STATUS = re.compile(
    r'\s*Active connections:\s*(\d+)\s+server accepts handled requests\s+(\d+)\s+(\d+)\s+(\d+)\s+'
    r'Reading:\s*(\d+)\s+Writing:\s*(\d+)\s+Waiting:\s*(\d+)\s*')
STUB_STATUS_FIELDS = ('active_connections', 'accepts', 'handled', 'requests', 'reading', 'writing', 'waiting')
_LABEL = r'[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?'
HOST_NAME = re.compile(r'%s(\.%s)*\.?' % (_LABEL, _LABEL))
WHERE_IT_IS = ('The nginx role serves it on nginx_status_listen (default 127.0.0.1:8079) at nginx_status_path '
               '(default /stub_status)')


class StatusError(Exception):
    """The status cannot be read; ``details`` go with the failure."""

    def __init__(self, msg, **details):
        super(StatusError, self).__init__(msg)
        self.msg = msg
        self.details = details


# ---------------------------------------------------------------------------
# Argument checks (shared by the module and the command line)
# ---------------------------------------------------------------------------

def _shown(value):
    return repr(value) if isinstance(value, str) else str(value)


def parse_status_url(url):
    """``(host, port, path)`` of an ``http://`` status URL; ValueError says what is wrong with it."""
    example = 'such as %s' % DEFAULT_STATUS_URL
    if not isinstance(url, str) or not url:
        raise ValueError('status_url must be an http:// URL %s, got %s' % (example, _shown(url)))
    if any(char.isspace() or ord(char) < 32 or ord(char) == 127 for char in url):
        raise ValueError('status_url must not contain spaces or control characters, got %s' % _shown(url))
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError('status_url must be an http:// URL %s, got %s (%s)' % (example, _shown(url), exc))
    if parts.scheme.lower() != 'http':
        raise ValueError('status_url must start with http:// (nginx serves stub_status in plain HTTP, on a loopback '
                         'address), got %s' % _shown(url))
    if not parts.hostname:
        raise ValueError('status_url must name a host, %s, got %s' % (example, _shown(url)))
    if parts.username is not None or parts.password is not None:
        raise ValueError('status_url must not hold a user name or password, got %s' % _shown(url))
    if port == 0:
        raise ValueError('status_url port must be from 1 to 65535, got %s' % _shown(url))
    path = parts.path or '/'
    if parts.query:
        path += '?' + parts.query
    return parts.hostname, port or 80, path


def check_capacity(capacity):
    """None, or the WebSockets the proxy is sized for: a whole number >= 1."""
    if capacity is None:
        return None
    if isinstance(capacity, bool) or not isinstance(capacity, int) or capacity < 1:
        raise ValueError('capacity must be a whole number of WebSockets, at least 1 (the nginx role\'s '
                         'nginx_websocket_capacity), got %s' % _shown(capacity))
    return capacity


def check_percent(name, value):
    """None, or a finite share of the capacity in percent, greater than 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ValueError('%s must be a number greater than 0 (a share of the capacity in percent), got %s'
                         % (name, _shown(value)))
    return float(value)


def check_timeout(timeout):
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (
            math.isfinite(timeout) and 0 < timeout <= MAX_TIMEOUT):
        raise ValueError('timeout must be a number of seconds greater than 0 and at most %d, got %s'
                         % (MAX_TIMEOUT, _shown(timeout)))
    return float(timeout)


def parse_server_address(address, what='server'):
    """An upstream server as nginx writes it: ``host:port``, ``[v6]:port``, ``host`` or ``[v6]`` (port 80) or
    ``unix:/path``. Returns ``(host, port)``, or ``('unix', path)``; ValueError says what is wrong."""
    wanted = '%s must be host:port, [IPv6]:port, host (port 80) or unix:/path, got %s' % (what, _shown(address))
    if not isinstance(address, str) or not address or any(char.isspace() or ord(char) < 32 for char in address):
        raise ValueError(wanted)
    if address.startswith('unix:'):
        if not address[len('unix:'):].startswith('/'):
            raise ValueError('%s unix socket path must be absolute, got %s' % (what, _shown(address)))
        return 'unix', address[len('unix:'):]
    if address.startswith('['):
        host, bracket, rest = address[1:].partition(']')
        if not bracket or (rest and not rest.startswith(':')):
            raise ValueError(wanted)
        try:
            if ipaddress.ip_address(host.split('%', 1)[0]).version != 6:
                raise ValueError(wanted)
        except ValueError:
            raise ValueError(wanted)
        port = rest[1:] if rest else '80'
    else:
        host, colon, port = address.partition(':')
        if not colon:
            port = '80'
        if not HOST_NAME.fullmatch(host) or ':' in port:
            raise ValueError(wanted)
    if not port.isdigit() or not port.isascii() or not 1 <= int(port) <= 65535:
        raise ValueError('%s port must be from 1 to 65535, got %s' % (what, _shown(address)))
    return host, int(port)


def check_upstreams(upstreams):
    """The upstreams as ``[{name, servers: [address, ...], websocket}]``, checked: a message per mistake."""
    if upstreams is None:
        return []
    if not isinstance(upstreams, list):
        raise ValueError('upstreams must be a list of {name, servers, websocket}, got %s' % type(upstreams).__name__)
    checked = []
    names = {}
    for index, upstream in enumerate(upstreams):
        where = 'upstreams[%d]:' % index
        if not isinstance(upstream, dict):
            raise ValueError('%s must be a dictionary with name, servers and websocket, got %s'
                             % (where, _shown(upstream)))
        unknown = sorted(set(upstream) - {'name', 'servers', 'websocket'})
        if unknown:
            raise ValueError('%s unknown keys %s (only name, servers and websocket)' % (where, ', '.join(unknown)))
        name = upstream.get('name')
        if not isinstance(name, str) or not name.strip():
            raise ValueError('%s name must be a non-empty string, got %s' % (where, _shown(name)))
        if name in names:
            raise ValueError('%s name %s is given twice (also upstreams[%d])' % (where, _shown(name), names[name]))
        names[name] = index
        where = 'upstreams[%d] (%s):' % (index, name)
        servers = upstream.get('servers')
        if not isinstance(servers, list) or not servers:
            raise ValueError('%s servers must be a non-empty list of addresses, got %s' % (where, _shown(servers)))
        for position, server in enumerate(servers):
            parse_server_address(server, '%s servers[%d]' % (where, position))
        websocket = upstream.get('websocket', True)
        if not isinstance(websocket, bool):
            raise ValueError('%s websocket must be true or false, got %s' % (where, _shown(websocket)))
        checked.append({'name': name, 'servers': list(servers), 'websocket': websocket})
    return checked


# ---------------------------------------------------------------------------
# stub_status
# ---------------------------------------------------------------------------

def parse_stub_status(text):
    """The numbers of a stub_status page, with ``dropped`` (accepts - handled); None when it is not one."""
    match = STUB_STATUS.fullmatch(text)
    if match is None:
        return None
    numbers = dict(zip(STUB_STATUS_FIELDS, (int(value) for value in match.groups())))
    numbers['dropped'] = numbers['accepts'] - numbers['handled']
    return numbers


def fetch_stub_status(url, timeout=DEFAULT_TIMEOUT):
    """GET the status page (no proxy, no redirect) and parse it; StatusError says why it could not."""
    host, port, path = parse_status_url(url)
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request('GET', path, headers={'Connection': 'close', 'User-Agent': 'websocket.nginx nginx_status'})
        response = connection.getresponse()
        body = response.read(MAX_BODY)
    except (OSError, UnicodeError, http.client.HTTPException) as exc:
        raise StatusError("cannot read nginx's status at %s: %s. %s: is nginx running, and is nginx_status_enabled "
                          "true?" % (url, str(exc) or type(exc).__name__, WHERE_IT_IS), status_url=url)
    finally:
        connection.close()
    text = body.decode('utf-8', 'replace')
    if response.status != 200:
        raise StatusError("nginx's status at %s answered HTTP %d, not the stub_status page. %s: is the URL's path "
                          "nginx_status_path?" % (url, response.status, WHERE_IT_IS),
                          status_url=url, http_status=response.status)
    numbers = parse_stub_status(text)
    if numbers is None:
        raise StatusError("the page at %s is not nginx's stub_status (it starts with %s). %s: is the URL "
                          "nginx_status_listen and nginx_status_path?" % (url, _shown(text[:60]), WHERE_IT_IS),
                          status_url=url)
    return numbers


# ---------------------------------------------------------------------------
# /proc/net/tcp and tcp6
# ---------------------------------------------------------------------------

def parse_proc_address(text, byteorder=sys.byteorder):
    """``(address, port)`` of a /proc/net/tcp[6] address such as ``0100007F:1F90``; a v4-mapped IPv6 address
    (``::ffff:127.0.0.1``) comes back as the IPv4 address, so that both spellings of a server match."""
    hex_address, hex_port = text.split(':')
    # The kernel prints each 32-bit word of the address as a number, in the host's byte order.
    packed = b''.join(int(hex_address[start:start + 8], 16).to_bytes(4, byteorder)
                      for start in range(0, len(hex_address), 8))
    address = ipaddress.ip_address(packed)
    if address.version == 6 and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address, int(hex_port, 16)


def parse_proc_net_tcp(text, byteorder=sys.byteorder, inodes=None, listening_only=False):
    """``[(state, local, remote, inode)]`` of the ESTABLISHED and LISTEN sockets of a /proc/net/tcp[6] text
    (``state`` is ``'established'`` or ``'listen'``; ``local`` and ``remote`` are ``(address, port)``), only
    those whose inode is in ``inodes`` when it is given, only LISTEN ones with ``listening_only``."""
    states = (TCP_LISTEN,) if listening_only else (TCP_ESTABLISHED, TCP_LISTEN)
    sockets = []
    seen = set()
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10 or fields[3] not in states:
            continue
        inode = int(fields[9])
        # The kernel writes the table in pieces, one per read: a socket can come twice when the table changed
        # between two of them.
        if inode == 0 or inode in seen or (inodes is not None and inode not in inodes):
            continue
        seen.add(inode)
        state = 'established' if fields[3] == TCP_ESTABLISHED else 'listen'
        sockets.append((state, parse_proc_address(fields[1], byteorder), parse_proc_address(fields[2], byteorder),
                        inode))
    return sockets


def format_endpoint(address, port):
    """``10.0.0.5:8765``, ``[::1]:8765``."""
    return ('[%s]:%d' if address.version == 6 else '%s:%d') % (address, port)


def _normalized(address):
    address = ipaddress.ip_address(address.split('%', 1)[0])
    if address.version == 6 and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def resolve(host, port):
    """The ``(address, port)`` endpoints nginx connects to for ``host``, as nginx resolves a name at start."""
    try:
        return {(_normalized(host), port)}
    except ValueError:
        pass
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    return {(_normalized(info[4][0]), port) for info in infos if info[0] in (socket.AF_INET, socket.AF_INET6)}


# ---------------------------------------------------------------------------
# nginx's processes, from /proc
# ---------------------------------------------------------------------------

def _read(path):
    with open(path, 'rb') as handle:
        return handle.read()


def process_title(proc, pid):
    """The command line of ``pid`` as one string (nginx writes its title over it), None when it is gone."""
    try:
        data = _read('%s/%d/cmdline' % (proc, pid))
    except OSError:
        return None
    return data.strip(b'\0 ').replace(b'\0', b' ').decode('utf-8', 'replace').strip()


def parent_pid(proc, pid):
    """The parent of ``pid``, None when it is gone or a zombie."""
    try:
        data = _read('%s/%d/stat' % (proc, pid))
    except OSError:
        return None
    # "pid (comm) state ppid ...": comm may hold spaces and parentheses, the last ")" ends it.
    fields = data[data.rfind(b')') + 2:].split()
    if len(fields) < 2 or fields[0] in (b'Z', b'X', b'x'):
        return None
    return int(fields[1])


def resident_bytes(proc, pid):
    """Resident memory (RSS) of ``pid`` in bytes; 0 when it is gone."""
    try:
        return int(_read('%s/%d/statm' % (proc, pid)).split()[1]) * os.sysconf('SC_PAGE_SIZE')
    except (OSError, IndexError, ValueError):
        return 0


def _unreadable(pid, directory):
    return ("cannot read the open files of nginx's process %d (%s): the report needs root (become: true) with "
            "CAP_SYS_PTRACE, which root has unless a container drops it" % (pid, directory))


def socket_inodes(proc, pid):
    """Inodes of the sockets ``pid`` has open (empty when it is gone); StatusError when /proc/PID/fd cannot be
    read (it needs root for another user's processes)."""
    directory = '%s/%d/fd' % (proc, pid)
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return set()
    except PermissionError:
        raise StatusError(_unreadable(pid, directory))
    inodes = set()
    for name in names:
        try:
            target = os.readlink('%s/%s' % (directory, name))
        except FileNotFoundError:
            continue  # closed meanwhile
        except PermissionError:
            # Root without CAP_SYS_PTRACE (a container that drops it) may list another user's fds but not read
            # them: counting on would report 0 connections.
            raise StatusError(_unreadable(pid, directory))
        if target.startswith('socket:['):
            inodes.add(int(target[len('socket:['):-1]))
    return inodes


def process_kind(title):
    if title.startswith(MASTER_TITLE):
        return 'master'
    if title == WORKER_TITLE:
        return 'worker'
    if title == OLD_WORKER_TITLE:
        return 'old_worker'
    return 'helper'  # cache manager, cache loader


def nginx_processes(proc='/proc'):
    """``{pid: {pid, ppid, kind}}`` of every process titled ``nginx: ...``."""
    found = {}
    try:
        names = os.listdir(proc)
    except OSError as exc:
        raise StatusError('cannot list %s (the report needs Linux): %s' % (proc, exc))
    for name in names:
        if not name.isdigit():
            continue
        pid = int(name)
        title = process_title(proc, pid)
        if not title or not title.startswith('nginx: '):
            continue
        ppid = parent_pid(proc, pid)
        if ppid is not None:
            found[pid] = {'pid': pid, 'ppid': ppid, 'kind': process_kind(title)}
    return found


def _read_whole(path):
    """A /proc file in as few reads as possible: the kernel writes what changed between two reads (a socket opened
    or closed) into the next one, so that a socket can be missed or come twice."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        parts = []
        while True:
            data = os.read(descriptor, TABLE_READ_SIZE)
            if not data:
                return b''.join(parts)
            parts.append(data)
    finally:
        os.close(descriptor)


def read_tcp_tables(proc='/proc'):
    """The text of /proc/net/tcp and /proc/net/tcp6 (tcp6 is missing without IPv6)."""
    texts = []
    for name in ('tcp', 'tcp6'):
        try:
            texts.append(_read_whole('%s/net/%s' % (proc, name)).decode('ascii', 'replace'))
        except FileNotFoundError:
            continue
        except OSError as exc:
            raise StatusError('cannot read %s/net/%s: %s' % (proc, name, exc))
    return texts


def _listens_for(listen, endpoints):
    """Whether a listening socket ``(address, port)`` accepts connections to one of ``endpoints``."""
    address, port = listen
    return any(port == wanted_port and (address.is_unspecified or address == wanted)
               for wanted, wanted_port in endpoints)


def snapshot(status_url, proc='/proc', byteorder=sys.byteorder):
    """nginx's processes and TCP sockets as /proc has them now, for the nginx that listens on ``status_url``.

    Returns ``{processes: [{pid, kind, rss_bytes, inodes}], listening: [(address, port)],
    established: [(local, remote, inode)]}``; ``processes`` is empty when no nginx on this host listens there.
    """
    host, port, _path = parse_status_url(status_url)
    try:
        status_endpoints = resolve(host, port)
    except (OSError, UnicodeError) as exc:
        raise StatusError('cannot resolve the host of status_url %s: %s' % (status_url, exc), status_url=status_url)
    processes = nginx_processes(proc)
    texts = read_tcp_tables(proc)
    status_inodes = set()
    for text in texts:
        listeners = parse_proc_net_tcp(text, byteorder, listening_only=True)
        status_inodes |= {inode for _state, local, _remote, inode in listeners if _listens_for(local, status_endpoints)}
    # The masters holding the status socket (two during a binary upgrade: the new one is the old one's child),
    # and every descendant of them. Another nginx's master that cannot be read only matters when none is found.
    inodes, unreadable = {}, None
    for pid, info in processes.items():
        if info['kind'] == 'master':
            try:
                inodes[pid] = socket_inodes(proc, pid)
            except StatusError as exc:
                unreadable = exc
    family = [pid for pid, held in inodes.items() if held & status_inodes]
    if not family and unreadable is not None:
        raise unreadable
    queue = list(family)
    while queue:
        parent = queue.pop()
        for pid, info in processes.items():
            if info['ppid'] == parent and pid not in family:
                family.append(pid)
                queue.append(pid)
    found = []
    for pid in sorted(family):
        held = inodes[pid] if pid in inodes else socket_inodes(proc, pid)
        found.append({'pid': pid, 'kind': processes[pid]['kind'], 'rss_bytes': resident_bytes(proc, pid),
                      'inodes': held})
    every_inode = set().union(*(item['inodes'] for item in found)) if found else set()
    listening, established = [], []
    for text in texts:
        for state, local, remote, inode in parse_proc_net_tcp(text, byteorder, every_inode):
            if state == 'listen':
                listening.append(local)
            else:
                established.append((local, remote, inode))
    return {'processes': found, 'listening': listening, 'established': established}


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

def _endpoint_order(endpoint):
    address, port = endpoint
    return address.version, address, port


def build_report(stub, found, upstreams=(), capacity=None, status_url=None, resolver=resolve):
    """The report from the stub_status numbers and a snapshot() of /proc; ``upstreams`` as check_upstreams()
    returns them. Without upstreams, every connection to an upstream server is taken for a WebSocket.

    ``notes`` holds what could not be counted (a server name that does not resolve), one sentence each.
    """
    processes = found['processes']
    # A connection is on an old worker when only old workers hold its socket.
    current_inodes = set().union(*(item['inodes'] for item in processes if item['kind'] != 'old_worker'))
    listening_by_port = {}
    for address, port in found['listening']:
        listening_by_port.setdefault(port, set()).add(address)
    clients = {'current': 0, 'old': 0}
    by_endpoint = {}
    for local, remote, inode in found['established']:
        holder = 'current' if inode in current_inodes else 'old'
        addresses = listening_by_port.get(local[1], ())
        if local[0] in addresses or any(address.is_unspecified for address in addresses):
            clients[holder] += 1
        else:
            by_endpoint.setdefault(remote, {'current': 0, 'old': 0})[holder] += 1

    def counted(endpoints):
        """``(connections, on old workers)`` to these endpoints."""
        counts = [by_endpoint[endpoint] for endpoint in endpoints if endpoint in by_endpoint]
        return sum(item['current'] + item['old'] for item in counts), sum(item['old'] for item in counts)

    notes = []
    resolved = []
    owners = {}
    for upstream in upstreams:
        servers = []
        for address in upstream['servers']:
            host, port = parse_server_address(address)
            endpoints, error = set(), None
            if host == 'unix':
                error = 'a unix socket: not counted'
            else:
                try:
                    endpoints = resolver(host, port)
                except (OSError, UnicodeError) as exc:
                    error = 'cannot resolve %s: %s' % (host, exc)
                    notes.append('upstream %s, server %s: cannot resolve %s (%s), its connections are not counted'
                                 % (upstream['name'], address, host, exc))
            for endpoint in endpoints:
                names = owners.setdefault(endpoint, [])
                if upstream['name'] not in names:
                    names.append(upstream['name'])
            servers.append((address, endpoints, error))
        resolved.append((upstream, servers))

    reported = []
    for upstream, servers in resolved:
        entries = []
        for address, endpoints, error in servers:
            connections, old = counted(endpoints)
            entries.append({
                'address': address,
                'endpoints': [format_endpoint(*endpoint) for endpoint in sorted(endpoints, key=_endpoint_order)],
                'connections': None if error else connections,
                'on_old_workers': None if error else old,
                'shared_with': sorted({name for endpoint in endpoints for name in owners[endpoint]} - {upstream['name']}),
                'error': error,
            })
        # A server listed twice (or two names of one address) is counted once.
        connections, old = counted(set().union(*(endpoints for _address, endpoints, _error in servers)))
        reported.append({'name': upstream['name'], 'websocket': upstream['websocket'], 'connections': connections,
                         'on_old_workers': old, 'servers': entries})
    if upstreams:
        websocket_endpoints = {endpoint for upstream, servers in resolved if upstream['websocket']
                               for _address, endpoints, _error in servers for endpoint in endpoints}
    else:
        websocket_endpoints = set(by_endpoint)
    websockets, websockets_old = counted(websocket_endpoints)
    others = [{'address': format_endpoint(*endpoint), 'connections': counts['current'] + counts['old'],
               'on_old_workers': counts['old']}
              for endpoint, counts in sorted(by_endpoint.items(), key=lambda item: _endpoint_order(item[0]))
              if endpoint not in owners]

    def group(kind):
        members = [item for item in processes if item['kind'] == kind]
        return {'count': len(members), 'pids': [item['pid'] for item in members],
                'rss_bytes': sum(item['rss_bytes'] for item in members)}

    old_workers = group('old_worker')
    old_workers.update(client_connections=clients['old'], upstream_connections=counted(by_endpoint)[1],
                       websockets=websockets_old)
    report = dict(stub)
    report.update(
        status_url=status_url,
        capacity=capacity,
        websockets=websockets,
        capacity_percent=None if capacity is None else round(100.0 * websockets / capacity, 1),
        client_connections=clients['current'] + clients['old'],
        upstream_connections=counted(by_endpoint)[0],
        masters=[{'pid': item['pid'], 'rss_bytes': item['rss_bytes']} for item in processes if item['kind'] == 'master'],
        workers=group('worker'),
        old_workers=old_workers,
        helpers=group('helper'),
        rss_bytes=sum(item['rss_bytes'] for item in processes),
        upstreams=reported,
        other_servers=others,
        notes=notes,
    )
    return report


def capacity_verdict(report, warn_percent=DEFAULT_WARN_PERCENT, fail_percent=None):
    """``(warning, failure)``: a sentence each when the capacity share reaches ``warn_percent`` or ``fail_percent``,
    else None. Nothing without a capacity."""
    percent = report['capacity_percent']
    if percent is None:
        return None, None
    use = ('%d open WebSockets use %s%% of the capacity of %d (the nginx role\'s nginx_websocket_capacity)'
           % (report['websockets'], _number(percent), report['capacity']))
    warning = failure = None
    if warn_percent is not None and percent >= warn_percent:
        warning = '%s, at or above warn_percent %s' % (use, _number(warn_percent))
    if fail_percent is not None and percent >= fail_percent:
        failure = '%s, at or above fail_percent %s' % (use, _number(fail_percent))
    return warning, failure


def _number(value):
    return '%g' % value


def status_report(status_url=DEFAULT_STATUS_URL, capacity=None, upstreams=None, timeout=DEFAULT_TIMEOUT,
                  proc='/proc'):
    """Check the arguments, read /proc and then the status page (so that its own connection is not among the
    ones counted), and build the report. ValueError for a bad argument, StatusError when nginx cannot be read."""
    parse_status_url(status_url)
    check_capacity(capacity)
    check_timeout(timeout)
    upstreams = check_upstreams(upstreams)
    try:
        found = snapshot(status_url, proc)
    except StatusError as exc:
        found = exc  # said after what is wrong with the status URL, if anything
    stub = fetch_stub_status(status_url, timeout)
    if isinstance(found, StatusError):
        raise found
    if not found['processes']:
        raise StatusError('%s answers with a stub_status page, but no nginx master process on this host holds a '
                          "socket listening on its address: the report counts the connections of the nginx on this "
                          'host that serves the status URL' % status_url, status_url=status_url, **stub)
    return build_report(stub, found, upstreams, capacity, status_url)


# ---------------------------------------------------------------------------
# Output: lines of text, Prometheus' text format
# ---------------------------------------------------------------------------

def _mib(size):
    return '%.1f MiB' % (size / 1048576.0)


def _plural(count, word):
    return '%d %s%s' % (count, word, '' if count == 1 else 's')


def format_table(report):
    """The report as lines of text."""
    old = report['old_workers']
    share = ''
    if report['capacity'] is not None:
        share = ' of a capacity of %d (%s%%)' % (report['capacity'], _number(report['capacity_percent']))
    lines = [
        'WebSockets open: %d%s, %d of them on old workers' % (report['websockets'], share, old['websockets']),
        'client connections: %d active (reading %d, writing %d, waiting %d); %d to upstream servers'
        % (report['active_connections'], report['reading'], report['writing'], report['waiting'],
           report['upstream_connections']),
        'since nginx started: %d accepted, %d handled, %d dropped (no free worker_connections); %d requests'
        % (report['accepts'], report['handled'], report['dropped'], report['requests']),
        'processes: %s (%s), %s (%s), %s' % (
            _plural(len(report['masters']), 'master'), _mib(sum(item['rss_bytes'] for item in report['masters'])),
            _plural(report['workers']['count'], 'worker'), _mib(report['workers']['rss_bytes']),
            '%s draining (%s, holding %d client and %d upstream connections)' % (
                _plural(old['count'], 'old worker'), _mib(old['rss_bytes']), old['client_connections'],
                old['upstream_connections']) if old['count'] else 'no old workers'),
    ]
    rows = []
    for upstream in report['upstreams']:
        for server in upstream['servers']:
            note = server['error'] or ('also in ' + ', '.join(server['shared_with']) if server['shared_with'] else '')
            rows.append([upstream['name'], 'websocket' if upstream['websocket'] else 'http', server['address'],
                         '-' if server['connections'] is None else str(server['connections']),
                         '-' if server['on_old_workers'] is None else str(server['on_old_workers']), note])
    for server in report['other_servers']:
        rows.append(['-', '-', server['address'], str(server['connections']), str(server['on_old_workers']),
                     'in no upstream given' if report['upstreams'] else ''])
    if not rows:
        return lines + ['no upstream servers given, and no connections to any']
    header = ['upstream', 'carries', 'server', 'open', 'on old workers', '']
    widths = [max(len(row[column]) for row in [header] + rows) for column in range(len(header))]
    for row in [header] + rows:
        cells = [row[column].rjust(widths[column]) if column in (3, 4) else row[column].ljust(widths[column])
                 for column in range(len(header))]
        lines.append('  '.join(cells).rstrip())
    return lines


def _labels(labels):
    if not labels:
        return ''
    escaped = ('%s="%s"' % (name, str(value).replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n'))
               for name, value in labels)
    return '{%s}' % ','.join(escaped)


def format_prometheus(report):
    """The report in Prometheus' text exposition format (for node_exporter's textfile collector)."""
    old = report['old_workers']
    metrics = [
        ('active_connections', 'gauge', 'Client connections open now (stub_status).',
         [((), report['active_connections'])]),
        ('connections', 'gauge', 'Client connections by state (stub_status); open WebSockets are writing.',
         [((('state', state),), report[state]) for state in ('reading', 'writing', 'waiting')]),
        ('accepts_total', 'counter', 'Client connections accepted since nginx started.', [((), report['accepts'])]),
        ('handled_total', 'counter', 'Client connections handled since nginx started.', [((), report['handled'])]),
        ('dropped_total', 'counter', 'Client connections accepted but dropped (no free worker_connections).',
         [((), report['dropped'])]),
        ('requests_total', 'counter', 'Client requests since nginx started.', [((), report['requests'])]),
        ('websockets', 'gauge', 'Open WebSockets: established connections to servers of WebSocket upstreams.',
         [((('workers', 'current'),), report['websockets'] - old['websockets']),
          ((('workers', 'old'),), old['websockets'])]),
        ('processes', 'gauge', 'nginx processes by kind (old_worker: draining after a reload).',
         [((('kind', 'master'),), len(report['masters'])), ((('kind', 'worker'),), report['workers']['count']),
          ((('kind', 'old_worker'),), old['count']), ((('kind', 'helper'),), report['helpers']['count'])]),
        ('memory_bytes', 'gauge', 'Resident memory (RSS) of nginx processes by kind.',
         [((('kind', 'master'),), sum(item['rss_bytes'] for item in report['masters'])),
          ((('kind', 'worker'),), report['workers']['rss_bytes']), ((('kind', 'old_worker'),), old['rss_bytes']),
          ((('kind', 'helper'),), report['helpers']['rss_bytes'])]),
    ]
    if report['capacity'] is not None:
        metrics.append(('websocket_capacity', 'gauge', 'WebSockets the proxy is sized for (nginx_websocket_capacity).',
                        [((), report['capacity'])]))
        metrics.append(('capacity_used_percent', 'gauge', 'Open WebSockets in percent of the capacity.',
                        [((), report['capacity_percent'])]))
    servers = []
    for upstream in report['upstreams']:
        for server in upstream['servers']:
            if server['connections'] is not None:
                labels = (('upstream', upstream['name']), ('server', server['address']))
                servers.append((labels + (('workers', 'current'),), server['connections'] - server['on_old_workers']))
                servers.append((labels + (('workers', 'old'),), server['on_old_workers']))
    for server in report['other_servers']:
        labels = (('upstream', ''), ('server', server['address']))
        servers.append((labels + (('workers', 'current'),), server['connections'] - server['on_old_workers']))
        servers.append((labels + (('workers', 'old'),), server['on_old_workers']))
    metrics.append(('upstream_connections', 'gauge', 'Established connections to each upstream server.', servers))
    lines = []
    for name, kind, description, samples in metrics:
        lines.append('# HELP nginx_status_%s %s' % (name, description))
        lines.append('# TYPE nginx_status_%s %s' % (name, kind))
        lines.extend('nginx_status_%s%s %s' % (name, _labels(labels), value) for labels, value in samples)
    return '\n'.join(lines) + '\n'


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------

def main(argv=None):
    parser = argparse.ArgumentParser(
        prog='nginx_status.py', description="How busy this host's nginx is: stub_status, processes, connections.")
    parser.add_argument('--status-url', default=DEFAULT_STATUS_URL, help='its stub_status (default %(default)s)')
    parser.add_argument('--capacity', type=int, help="WebSockets it is sized for (the nginx role's "
                                                     'nginx_websocket_capacity)')
    parser.add_argument('--upstreams-file', help='JSON list of {"name", "servers": [addresses], "websocket": bool}; '
                                                 'without it every upstream connection counts as a WebSocket')
    parser.add_argument('--timeout', type=float, default=DEFAULT_TIMEOUT, help='seconds (default %(default)s)')
    parser.add_argument('--format', choices=('json', 'prometheus', 'table'), default='json')
    args = parser.parse_args(argv)
    try:
        upstreams = None
        if args.upstreams_file:
            with open(args.upstreams_file, encoding='utf-8') as handle:
                upstreams = json.load(handle)
        report = status_report(args.status_url, args.capacity, upstreams, args.timeout)
    except (OSError, ValueError, StatusError) as exc:
        parser.exit(1, '%s: %s\n' % (parser.prog, exc))
    if args.format == 'prometheus':
        sys.stdout.write(format_prometheus(report))
    elif args.format == 'table':
        sys.stdout.write('\n'.join(format_table(report)) + '\n')
    else:
        sys.stdout.write(json.dumps(report, indent=2, sort_keys=True) + '\n')
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
