# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of module_utils/nginx_status.py: /proc/net/tcp lines captured on a test machine, stub_status pages, and a
real nginx on loopback (tests/unit/status_proxy.py) with real WebSockets through it to loopback echo servers, each
test knowing where each of its WebSockets went. Nothing is mocked: the code reads the real /proc."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import re
import subprocess
import sys

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_status as ns
from ansible_collections.websocket.nginx.plugins.module_utils.nginx_reload import reload_and_wait

from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port, ipv6_available
from ansible_collections.websocket.nginx.tests.unit.nginx_process import children_of, title, wait_for
from ansible_collections.websocket.nginx.tests.unit.status_proxy import StatusProxy, live, open_websockets, running


ipv6 = pytest.mark.skipif(not ipv6_available(), reason='the machine has no ::1')

# Captured on a little-endian test machine (x86_64) with a listener on 127.0.0.1:34845, a connection to it from
# 127.0.0.1:46268 (both ends), a listener on [::1]:54763 with a connection from [::1]:35922 (both ends), and an
# IPv6 socket connected from ::ffff:127.0.0.1 port 46280 to the IPv4 listener (v4-mapped; its accepted end is line 17).
PROC_NET_TCP = '\n'.join([
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   7: 0100007F:881D 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0'
    ' 7289516 1 000000007837758e 100 0 0 10 0',
    '   9: 0100007F:881D 0100007F:B4BC 01 00000000:00000000 00:00000000 00000000     0        0'
    ' 7289518 1 00000000c69c55e0 20 0 0 10 -1',
    '  17: 0100007F:881D 0100007F:B4C8 01 00000000:00000000 00:00000000 00000000     0        0'
    ' 7289523 1 00000000d45c3e4a 20 0 0 10 -1',
    '  21: 0100007F:B4BC 0100007F:881D 01 00000000:00000000 00:00000000 00000000     0        0'
    ' 7289517 2 0000000075e0c27f 20 0 0 10 -1',
    '  22: 0100007F:B4BE 0100007F:881D 06 00000000:00000000 03:00001652 00000000     0        0'
    ' 0 3 00000000ea8e1eb8',
]) + '\n'
PROC_NET_TCP6 = '\n'.join([
    '  sl  local_address                         remote_address                        st tx_queue'
    ' rx_queue tr tm->when retrnsmt   uid  timeout inode',
    '   0: 00000000000000000000000001000000:D5EB 00000000000000000000000000000000:0000 0A 00000000:00000000'
    ' 00:00000000 00000000     0        0 7289519 1 000000005e90885b 100 0 0 10 0',
    '   1: 00000000000000000000000001000000:8C52 00000000000000000000000001000000:D5EB 01 00000000:00000000'
    ' 00:00000000 00000000     0        0 7289520 2 000000007a18e4d4 20 0 0 10 -1',
    '   2: 00000000000000000000000001000000:D5EB 00000000000000000000000001000000:8C52 01 00000000:00000000'
    ' 00:00000000 00000000     0        0 7289521 1 00000000f2905ee4 20 0 0 10 -1',
    '   3: 0000000000000000FFFF00000100007F:B4C8 0000000000000000FFFF00000100007F:881D 01 00000000:00000000'
    ' 00:00000000 00000000     0        0 7289522 2 00000000bddcba64 20 0 0 10 -1',
]) + '\n'
V4 = ipaddress.ip_address('127.0.0.1')
V6 = ipaddress.ip_address('::1')
ANY4 = ipaddress.ip_address('0.0.0.0')


# ---------------------------------------------------------------------------
# /proc/net/tcp and tcp6 lines
# ---------------------------------------------------------------------------

def test_proc_net_tcp_lines_give_listening_and_established_sockets():
    assert ns.parse_proc_net_tcp(PROC_NET_TCP, 'little') == [
        ('listen', (V4, 34845), (ANY4, 0), 7289516),
        ('established', (V4, 34845), (V4, 46268), 7289518),
        ('established', (V4, 34845), (V4, 46280), 7289523),
        ('established', (V4, 46268), (V4, 34845), 7289517),
        # line 22 is TIME_WAIT (06), without a socket of any process: left out
    ]


def test_proc_net_tcp6_lines_give_ipv6_and_v4_mapped_sockets():
    assert ns.parse_proc_net_tcp(PROC_NET_TCP6, 'little') == [
        ('listen', (V6, 54763), (ipaddress.ip_address('::'), 0), 7289519),
        ('established', (V6, 35922), (V6, 54763), 7289520),
        ('established', (V6, 54763), (V6, 35922), 7289521),
        # The v4-mapped connection is the IPv4 address, so that it matches a server written either way.
        ('established', (V4, 46280), (V4, 34845), 7289522),
    ]


def test_only_the_inodes_asked_for_or_the_listening_sockets():
    assert [item[3] for item in ns.parse_proc_net_tcp(PROC_NET_TCP6, 'little', inodes={7289521, 7289522, 1})] == [
        7289521, 7289522]
    assert ns.parse_proc_net_tcp(PROC_NET_TCP + PROC_NET_TCP6.split('\n', 1)[1], 'little', listening_only=True) == [
        ('listen', (V4, 34845), (ANY4, 0), 7289516), ('listen', (V6, 54763), (ipaddress.ip_address('::'), 0), 7289519)]


def test_a_socket_that_comes_twice_counts_once():
    """The kernel writes the table in pieces: a line comes again when the table changed between two reads."""
    lines = PROC_NET_TCP.splitlines(True)
    assert ns.parse_proc_net_tcp(''.join(lines[:3] + lines[2:]), 'little') == ns.parse_proc_net_tcp(PROC_NET_TCP, 'little')
    assert [item[3] for item in ns.parse_proc_net_tcp(''.join(lines + lines[1:3]), 'little')] == [
        7289516, 7289518, 7289523, 7289517]


def test_the_address_words_are_read_in_the_hosts_byte_order():
    # A big-endian kernel prints 127.0.0.1 as 7F000001 and ::1 as 00000000000000000000000000000001.
    assert ns.parse_proc_address('7F000001:1F90', 'big') == (V4, 8080)
    assert ns.parse_proc_address('00000000000000000000000000000001:1F90', 'big') == (V6, 8080)
    assert ns.parse_proc_address('0000000000000000FFFF00000100007F:0050', 'little') == (V4, 80)
    assert ns.parse_proc_address('B80D0120000000000000000005000000:1F90', 'little') == (
        ipaddress.ip_address('2001:db8::5'), 8080)


@pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads /proc (Linux only)')
def test_this_machines_own_table_has_a_listener_of_this_test():
    """The parser on this machine's live table: a listener the test opens is there, at its address and port."""
    import socket  # pylint: disable=import-outside-toplevel
    with socket.socket() as listener:
        listener.bind((LOOPBACK, 0))
        listener.listen(1)
        inode = os.fstat(listener.fileno()).st_ino
        port = listener.getsockname()[1]
        with open('/proc/net/tcp', encoding='ascii') as handle:
            found = ns.parse_proc_net_tcp(handle.read(), inodes={inode})
    assert found == [('listen', (V4, port), (ANY4, 0), inode)]


# ---------------------------------------------------------------------------
# stub_status pages and arguments
# ---------------------------------------------------------------------------

def test_a_stub_status_page_gives_its_numbers_and_the_dropped_connections():
    page = 'Active connections: 291 \nserver accepts handled requests\n 16630948 16630940 31070465 \nReading: 6 Writing: 179 Waiting: 106 \n'
    assert ns.parse_stub_status(page) == {
        'active_connections': 291, 'accepts': 16630948, 'handled': 16630940, 'requests': 31070465,
        'reading': 6, 'writing': 179, 'waiting': 106, 'dropped': 8}


@pytest.mark.parametrize('page', [
    '', 'ok', '<html>Active connections: 1</html>',
    'Active connections: 1 \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 \n',
    'Active connections: 1 \nserver accepts handled requests\n 1 1 1 \nReading: 0 Writing: 1 Waiting: 0 \nmore',
])
def test_other_pages_are_not_stub_status(page):
    assert ns.parse_stub_status(page) is None


@pytest.mark.parametrize('url, parsed', [
    ('http://127.0.0.1:8079/stub_status', ('127.0.0.1', 8079, '/stub_status')),
    ('http://[::1]:8079/stub_status', ('::1', 8079, '/stub_status')),
    ('http://localhost/status?full', ('localhost', 80, '/status?full')),
    ('HTTP://127.0.0.1:8079', ('127.0.0.1', 8079, '/')),
])
def test_status_urls(url, parsed):
    assert ns.parse_status_url(url) == parsed


@pytest.mark.parametrize('address, parsed', [
    ('10.0.0.5:8765', ('10.0.0.5', 8765)), ('backend-1:8765', ('backend-1', 8765)), ('backend-1', ('backend-1', 80)),
    ('[2001:db8::5]:8765', ('2001:db8::5', 8765)), ('[::1]', ('::1', 80)), ('unix:/run/app.sock', ('unix', '/run/app.sock')),
])
def test_server_addresses(address, parsed):
    assert ns.parse_server_address(address) == parsed


def test_a_name_resolves_to_every_address_it_has():
    assert ns.resolve('localhost', 8765) >= {(V4, 8765)}
    assert ns.resolve('::ffff:127.0.0.1', 80) == {(V4, 80)}


# ---------------------------------------------------------------------------
# A real nginx
# ---------------------------------------------------------------------------

@pytest.fixture
def proxy(tmp_path, ws_servers, http_server):
    with running(StatusProxy(tmp_path, ws_servers, http_server)) as started:
        yield started


def old_workers_alive(nginx):
    return sorted(pid for pid in children_of(nginx.master) if title(pid) == 'nginx: worker process is shutting down')


def by_server(report):
    return {upstream['name']: (upstream['servers'][0]['connections'], upstream['servers'][0]['on_old_workers'])
            for upstream in report['upstreams']}


@live
def test_stub_status_numbers_of_a_real_nginx(proxy):
    # Three requests and the second report's own, each on a connection of its own. Another test running beside
    # this one may connect here once (a probe of a loopback port it found free a moment before nginx took it): the
    # numbers are read again then; a count that is wrong every time still fails.
    for _attempt in range(3):
        first = ns.status_report(proxy.status_url)
        for _request in range(3):
            assert proxy.nginx.get() == (200, b'not the status page')
        second = ns.status_report(proxy.status_url)
        if second['accepts'] == first['accepts'] + 4:
            break
    assert second['accepts'] == first['accepts'] + 4
    assert second['handled'] == second['accepts'] and second['dropped'] == 0
    assert second['requests'] == first['requests'] + 4
    # The report's own request is the one being answered (writing), and the only open connection.
    assert (second['active_connections'], second['reading'], second['writing'], second['waiting']) == (1, 0, 1, 0)
    assert second['status_url'] == proxy.status_url
    assert [item['pid'] for item in second['masters']] == [proxy.nginx.master]
    assert sorted(second['workers']['pids']) == proxy.nginx.workers() and second['workers']['count'] == 2
    assert second['old_workers']['count'] == 0 and second['helpers']['count'] == 0
    for pid, rss in [(item['pid'], item['rss_bytes']) for item in second['masters']]:
        assert abs(rss - vm_rss(pid)) < 1 << 20, (rss, vm_rss(pid))
    assert second['rss_bytes'] >= second['masters'][0]['rss_bytes'] + second['workers']['rss_bytes'] > 0
    table = ns.format_table(second)
    assert table[:3] == [
        'WebSockets open: 0, 0 of them on old workers',
        'client connections: 1 active (reading 0, writing 1, waiting 0); 0 to upstream servers',
        'since nginx started: %d accepted, %d handled, 0 dropped (no free worker_connections); %d requests'
        % (second['accepts'], second['handled'], second['requests'])]
    assert re.fullmatch(r'processes: 1 master \([0-9.]+ MiB\), 2 workers \([0-9.]+ MiB\), no old workers', table[3])
    assert table[4:] == ['no upstream servers given, and no connections to any']


def vm_rss(pid):
    with open('/proc/%d/status' % pid, encoding='ascii') as handle:
        return next(int(line.split()[1]) * 1024 for line in handle if line.startswith('VmRSS:'))


@live
def test_websockets_are_counted_per_server_where_the_test_sent_them(proxy):
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url('/a/'), 3)
        open_websockets(stack, proxy.url('/b/'), 2)
        assert proxy.get('/plain/')[0] == 200  # leaves one idle keep-alive connection upstream
        report = ns.status_report(proxy.status_url, capacity=10, upstreams=proxy.upstreams())
    counts = by_server(report)
    assert (counts['ws_a'], counts['ws_b'], counts['plain']) == ((3, 0), (2, 0), (1, 0)), report['upstreams']
    # The keep-alive connection is not a WebSocket: plain is not a WebSocket upstream.
    assert report['websockets'] == 5 and report['capacity_percent'] == 50.0
    assert report['upstream_connections'] == 6
    assert report['client_connections'] == 5  # the GET's connection is closed
    assert report['active_connections'] == 6  # and stub_status counts its own
    assert report['writing'] >= 6  # every open WebSocket is a request being answered
    assert report['other_servers'] == []
    server = report['upstreams'][0]['servers'][0]
    assert server == {'address': proxy.servers['ws_a'], 'endpoints': [proxy.servers['ws_a']], 'connections': 3,
                      'on_old_workers': 0, 'shared_with': [], 'error': None}


@live
def test_without_upstreams_every_upstream_connection_is_a_websocket(proxy):
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url('/a/'), 2)
        assert proxy.get('/plain/')[0] == 200
        report = ns.status_report(proxy.status_url)
    assert report['websockets'] == 3 and report['upstreams'] == []
    assert report['capacity'] is None and report['capacity_percent'] is None
    assert sorted((item['address'], item['connections']) for item in report['other_servers']) == sorted(
        [(proxy.servers['ws_a'], 2), (proxy.servers['plain'], 1)])


@live
@ipv6
def test_ipv6_and_v4_mapped_connections(proxy):
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url('/v6/', ipv6=True), 2)  # client over [::1], upstream over [::1]
        open_websockets(stack, proxy.url('/mapped/'), 1)  # client over IPv4, upstream [::ffff:127.0.0.1]
        open_websockets(stack, proxy.url('/a/', ipv6=True), 1)  # client over [::1], upstream over IPv4
        report = ns.status_report(proxy.status_url, upstreams=proxy.upstreams())
        # The v4-mapped server written as IPv4 is the same server: its connection counts in both upstreams, once
        # among the WebSockets.
        ipv4 = '127.0.0.1:%s' % proxy.servers['ws_mapped'].rsplit(':', 1)[1]
        shared = ns.status_report(proxy.status_url, upstreams=[
            {'name': 'mapped', 'servers': [proxy.servers['ws_mapped']]}, {'name': 'four', 'servers': [ipv4]}])
    counts = by_server(report)
    assert (counts['ws_v6'], counts['ws_mapped'], counts['ws_a'], counts['ws_b']) == ((2, 0), (1, 0), (1, 0), (0, 0))
    assert report['client_connections'] == 4 and report['websockets'] == 4
    mapped = next(item for item in report['upstreams'] if item['name'] == 'ws_mapped')['servers'][0]
    assert mapped['endpoints'] == [ipv4]
    assert [(item['connections'], item['servers'][0]['shared_with']) for item in shared['upstreams']] == [
        (1, ['four']), (1, ['mapped'])]
    assert shared['websockets'] == 1
    assert [item['address'] for item in shared['other_servers']] == sorted(
        [proxy.servers['ws_v6'], proxy.servers['ws_a']], key=lambda address: address.startswith('['))


@live
@ipv6
def test_a_status_url_on_ipv6_loopback(tmp_path, ws_servers, http_server):
    with running(StatusProxy(tmp_path, ws_servers, http_server, status_host='::1')) as proxy:
        assert proxy.status_url == 'http://[::1]:%d/stub_status' % proxy.status_port
        with contextlib.ExitStack() as stack:
            open_websockets(stack, proxy.url('/b/'), 2)
            report = ns.status_report(proxy.status_url, upstreams=proxy.upstreams())
    assert by_server(report)['ws_b'] == (2, 0) and report['active_connections'] == 3


@live
def test_after_a_reload_the_old_workers_drain_with_their_websockets(proxy):
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url('/a/'), 3)
        open_websockets(stack, proxy.url('/b/'), 1)
        before = ns.status_report(proxy.status_url, capacity=100, upstreams=proxy.upstreams())
        assert before['old_workers']['count'] == 0 and before['old_workers']['websockets'] == 0
        workers_before = proxy.nginx.workers()
        reload_and_wait(str(proxy.nginx.pid_file), 10)
        # Old workers without connections exit; those holding the WebSockets stay, titled as shutting down.
        wait_for(lambda: len(proxy.nginx.workers()) == 2 and not set(proxy.nginx.workers()) & set(workers_before)
                 and old_workers_alive(proxy.nginx), what='two new workers, and old workers draining')
        open_websockets(stack, proxy.url('/b/'), 2)  # on the new workers
        report = ns.status_report(proxy.status_url, capacity=100, upstreams=proxy.upstreams())
        draining = old_workers_alive(proxy.nginx)
    counts = by_server(report)
    assert (counts['ws_a'], counts['ws_b']) == ((3, 3), (3, 1)), report['upstreams']
    old = report['old_workers']
    # (An old worker without connections may exit meanwhile.)
    assert set(draining) <= set(old['pids']) <= set(workers_before) and old['count'] == len(old['pids']) >= 1
    assert (old['websockets'], old['client_connections'], old['upstream_connections']) == (4, 4, 4)
    assert old['rss_bytes'] >= old['count'] * (1 << 20)  # a worker holds at least a MiB
    assert report['websockets'] == 6 and report['capacity_percent'] == 6.0
    assert re.fullmatch(r'processes: 1 master \([0-9.]+ MiB\), 2 workers \([0-9.]+ MiB\), %d old workers? draining '
                        r'\([0-9.]+ MiB, holding 4 client and 4 upstream connections\)' % old['count'],
                        ns.format_table(report)[3])
    assert sorted(report['workers']['pids']) == proxy.nginx.workers() and report['workers']['count'] == 2
    assert [item['pid'] for item in report['masters']] == [proxy.nginx.master]
    # Once they are closed, the old workers exit.
    wait_for(lambda: not old_workers_alive(proxy.nginx), what='old workers gone')
    assert ns.status_report(proxy.status_url)['old_workers'] == {
        'count': 0, 'pids': [], 'rss_bytes': 0, 'client_connections': 0, 'upstream_connections': 0, 'websockets': 0}


# ---------------------------------------------------------------------------
# A status URL that is not nginx's stub_status on this host
# ---------------------------------------------------------------------------

@live
def test_an_unreachable_status_endpoint_names_the_nginx_role_setting():
    url = 'http://%s:%d/stub_status' % (LOOPBACK, free_closed_port())
    with pytest.raises(ns.StatusError) as caught:
        ns.status_report(url)
    assert caught.value.msg == (
        "cannot read nginx's status at %s: [Errno 111] Connection refused. The nginx role serves it on "
        'nginx_status_listen (default 127.0.0.1:8079) at nginx_status_path (default /stub_status): is nginx running, '
        'and is nginx_status_enabled true?' % url)


@live
def test_a_page_that_is_not_stub_status(proxy):
    url = 'http://%s:%d/' % (proxy.address, proxy.nginx.port)
    with pytest.raises(ns.StatusError) as caught:
        ns.status_report(url)
    assert caught.value.msg == (
        "the page at %s is not nginx's stub_status (it starts with 'not the status page'). The nginx role serves it on "
        'nginx_status_listen (default 127.0.0.1:8079) at nginx_status_path (default /stub_status): is the URL '
        'nginx_status_listen and nginx_status_path?' % url)


@live
def test_a_status_path_that_answers_404(proxy):
    url = proxy.status_url.replace('/stub_status', '/status')
    with pytest.raises(ns.StatusError) as caught:
        ns.status_report(url)
    assert caught.value.msg == (
        "nginx's status at %s answered HTTP 404, not the stub_status page. The nginx role serves it on "
        'nginx_status_listen (default 127.0.0.1:8079) at nginx_status_path (default /stub_status): is the URL\'s path '
        'nginx_status_path?' % url)
    assert caught.value.details == {'status_url': url, 'http_status': 404}


@live
def test_a_stub_status_page_that_no_nginx_on_this_host_serves(raw_server):
    """A server that answers like stub_status, but is not nginx: there are no nginx connections to count."""
    page = b'Active connections: 1 \nserver accepts handled requests\n 5 5 5 \nReading: 0 Writing: 1 Waiting: 0 \n'

    def handler(conn, _server):
        from ansible_collections.websocket.nginx.tests.unit.helpers import read_head  # pylint: disable=import-outside-toplevel
        read_head(conn)
        conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s' % (len(page), page))

    server = raw_server(handler)
    url = 'http://%s:%d/stub_status' % (LOOPBACK, server.port)
    with pytest.raises(ns.StatusError) as caught:
        ns.status_report(url)
    assert caught.value.msg == (
        '%s answers with a stub_status page, but no nginx master process on this host holds a socket listening on its '
        'address: the report counts the connections of the nginx on this host that serves the status URL' % url)
    assert caught.value.details['accepts'] == 5


# ---------------------------------------------------------------------------
# The command line: the file alone, standard library only
# ---------------------------------------------------------------------------

# The hosts' Python: Debian 12's python3 is 3.11, the oldest the script must run on.
SYSTEM_PYTHON = '/usr/bin/python3'
INTERPRETERS = [sys.executable] + ([SYSTEM_PYTHON] if os.access(SYSTEM_PYTHON, os.X_OK) else [])


def run_script(*args, python=sys.executable, user=None, prefix=()):
    """nginx_status.py as a host runs it: a plain script, without site-packages (-S) or this checkout (-I), read
    from standard input (so that ``user`` needs no access to this checkout); ``prefix``: a command that runs it."""
    with open(ns.__file__, encoding='utf-8') as handle:
        source = handle.read()
    return subprocess.run(list(prefix) + [python, '-I', '-S', '-'] + list(args), input=source, capture_output=True,
                          text=True, timeout=60, check=False, user=user)


@live
@pytest.mark.parametrize('python', INTERPRETERS)
def test_the_script_prints_json_prometheus_and_a_table(proxy, tmp_path, python):
    upstreams = tmp_path / 'upstreams.json'
    upstreams.write_text(json.dumps(proxy.upstreams()), encoding='utf-8')
    common = ['--status-url', proxy.status_url, '--capacity', '8', '--upstreams-file', str(upstreams)]
    with contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url('/a/'), 2)
        as_json = run_script(*common, python=python)
        prometheus = run_script(*common + ['--format', 'prometheus'], python=python)
        table = run_script(*common + ['--format', 'table'], python=python)
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert (report['websockets'], report['capacity_percent'], by_server(report)['ws_a']) == (2, 25.0, (2, 0))
    assert prometheus.returncode == 0, prometheus.stderr
    lines = prometheus.stdout.splitlines()
    assert 'nginx_status_websockets{workers="current"} 2' in lines
    assert 'nginx_status_capacity_used_percent 25.0' in lines
    assert 'nginx_status_upstream_connections{upstream="ws_a",server="%s",workers="current"} 2' % proxy.servers['ws_a'] in lines
    assert '# TYPE nginx_status_dropped_total counter' in lines
    assert table.returncode == 0, table.stderr
    assert table.stdout.startswith('WebSockets open: 2 of a capacity of 8 (25%), 0 of them on old workers\n'), table.stdout


@live
def test_the_script_says_what_is_wrong(tmp_path):
    closed = run_script('--status-url', 'http://%s:%d/stub_status' % (LOOPBACK, free_closed_port()))
    assert closed.returncode == 1 and closed.stdout == ''
    assert closed.stderr.startswith("nginx_status.py: cannot read nginx's status at http://127.0.0.1:"), closed.stderr
    bad = tmp_path / 'upstreams.json'
    bad.write_text('[{"name": "a", "servers": []}]', encoding='utf-8')
    refused = run_script('--upstreams-file', str(bad))
    assert (refused.returncode, refused.stderr) == (
        1, 'nginx_status.py: upstreams[0] (a): servers must be a non-empty list of addresses, got []\n')


@live
@pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason='needs %s for a user other than root' % SYSTEM_PYTHON)
def test_without_root_the_script_says_it_needs_it(proxy):
    """nginx runs as root here: another user cannot read its sockets, and is told so (after the status page)."""
    refused = run_script('--status-url', proxy.status_url, python=SYSTEM_PYTHON, user='nobody')
    assert refused.returncode == 1 and refused.stdout == '', refused
    assert re.fullmatch(r"nginx_status.py: cannot read the open files of nginx's process ([0-9]+) \(/proc/\1/fd\): "
                        r'the report needs root \(become: true\) with CAP_SYS_PTRACE, which root has unless a container '
                        r'drops it\n', refused.stderr), refused.stderr


@live
@pytest.mark.skipif(not os.access('/usr/sbin/capsh', os.X_OK), reason='needs capsh (libcap2-bin)')
def test_root_without_cap_sys_ptrace_is_told_so_instead_of_counting_nothing(tmp_path, ws_servers, http_server):
    """As in a container that drops CAP_SYS_PTRACE: root lists the fds of workers running as another user but
    cannot read them. Counting on would report 0 WebSockets."""
    proxy = StatusProxy(tmp_path, ws_servers, http_server)
    proxy.nginx.worker_user = 'nobody nogroup'
    proxy.configure()
    with running(proxy), contextlib.ExitStack() as stack:
        open_websockets(stack, proxy.url('/a/'), 1)
        counted = run_script('--status-url', proxy.status_url)
        refused = run_script('--status-url', proxy.status_url, prefix=('/usr/sbin/capsh', '--drop=cap_sys_ptrace', '--', '-c', 'exec "$0" "$@"'))
    assert counted.returncode == 0 and json.loads(counted.stdout)['websockets'] == 1, counted
    assert refused.returncode == 1 and refused.stdout == '', refused
    assert re.fullmatch(r"nginx_status.py: cannot read the open files of nginx's process ([0-9]+) \(/proc/\1/fd\): "
                        r'the report needs root \(become: true\) with CAP_SYS_PTRACE, .*\n', refused.stderr), refused.stderr
