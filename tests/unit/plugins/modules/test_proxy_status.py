# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.proxy_status against a real nginx on loopback (tests/unit/status_proxy.py), with real
WebSockets through it to loopback echo servers: what it returns, its capacity thresholds, and one message per bad
argument. The counting itself is tested in tests/unit/plugins/module_utils/test_nginx_status.py."""

from __future__ import annotations

import contextlib

import pytest

from ansible_collections.websocket.nginx.plugins.modules import proxy_status

from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, ansible_wording, free_closed_port, run_module
from ansible_collections.websocket.nginx.tests.unit.status_proxy import StatusProxy, cannot_run_live, live, open_websockets, running


@pytest.fixture
def proxy(tmp_path, ws_servers, http_server):
    """An nginx of the test's own: WebSockets a test closed may take a moment to leave nginx."""
    if cannot_run_live():
        pytest.skip(cannot_run_live())
    with running(StatusProxy(tmp_path, ws_servers, http_server)) as started:
        yield started


def run(proxy, check_mode=False, **args):
    return run_module(proxy_status.main, dict({'status_url': proxy.status_url}, **args), check_mode=check_mode)


def four_websockets(stack, proxy):
    """Three WebSockets to ws_a, one to ws_b."""
    open_websockets(stack, proxy.url('/a/'), 3)
    open_websockets(stack, proxy.url('/b/'), 1)


# ---------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------

@live
@pytest.mark.parametrize('check_mode', [False, True])
def test_the_report_of_a_proxy_with_open_websockets(proxy, check_mode):
    with contextlib.ExitStack() as stack:
        four_websockets(stack, proxy)
        # As -e gives them: strings.
        result = run(proxy, check_mode, capacity='10', warn_percent='90', timeout='5',
                     upstreams=[dict(item, websocket=str(item['websocket']).lower()) for item in proxy.upstreams()])
    assert result['failed'] is False and result['changed'] is False, result
    assert result['warnings'] == []
    assert (result['websockets'], result['capacity'], result['capacity_percent']) == (4, 10, 40.0)
    assert {item['name']: item['connections'] for item in result['upstreams']} == {
        name: {'ws_a': 3, 'ws_b': 1}.get(name, 0) for name in proxy.servers}
    assert [item['websocket'] for item in result['upstreams']] == [name != 'plain' for name in proxy.servers]
    assert (result['client_connections'], result['upstream_connections']) == (4, 4)
    assert result['active_connections'] == 5 and result['dropped'] == 0
    assert result['old_workers']['count'] == 0 and result['workers']['count'] == 2
    assert result['msg'] == '4 open WebSockets (40% of a capacity of 10), 0 of them on 0 old workers'
    assert result['table'][0] == 'WebSockets open: 4 of a capacity of 10 (40%), 0 of them on old workers'
    assert result['table'][4].split() == ['upstream', 'carries', 'server', 'open', 'on', 'old', 'workers']
    assert result['table'][5].split() == ['ws_a', 'websocket', proxy.servers['ws_a'], '3', '0']
    assert 'notes' not in result  # given as warnings


@live
def test_the_upstreams_default_to_websocket_and_to_none(proxy):
    with contextlib.ExitStack() as stack:
        four_websockets(stack, proxy)
        named = run(proxy, upstreams=[{'name': 'a', 'servers': [proxy.servers['ws_a']]}])
        bare = run(proxy)
    assert named['upstreams'][0]['websocket'] is True and named['websockets'] == 3
    assert named['other_servers'] == [{'address': proxy.servers['ws_b'], 'connections': 1, 'on_old_workers': 0}]
    assert named['table'][-1].split() == ['-', '-', proxy.servers['ws_b'], '1', '0', 'in', 'no', 'upstream', 'given']
    # Without upstreams every upstream connection counts, and without capacity there is no share and no warning.
    assert (bare['websockets'], bare['capacity_percent'], bare['warnings']) == (4, None, [])


@live
def test_a_server_name_is_resolved_and_one_that_does_not_resolve_is_a_warning(proxy):
    port = proxy.servers['ws_a'].rsplit(':', 1)[1]
    with contextlib.ExitStack() as stack:
        four_websockets(stack, proxy)
        servers = ['localhost:%s' % port, 'no-such-host.invalid:80', 'unix:/run/app.sock']
        result = run(proxy, upstreams=[{'name': 'a', 'servers': servers}])
    assert result['failed'] is False, result
    servers = result['upstreams'][0]['servers']
    assert servers[0]['connections'] == 3 and '127.0.0.1:%s' % port in servers[0]['endpoints']
    assert servers[1]['connections'] is None and servers[1]['error'].startswith('cannot resolve no-such-host.invalid: ')
    assert (servers[2]['connections'], servers[2]['error']) == (None, 'a unix socket: not counted')
    assert result['upstreams'][0]['connections'] == 3 and result['websockets'] == 3
    assert len(result['warnings']) == 1 and result['warnings'][0].startswith(
        'upstream a, server no-such-host.invalid:80: cannot resolve no-such-host.invalid (')
    assert result['warnings'][0].endswith('), its connections are not counted')


# ---------------------------------------------------------------------------
# Capacity thresholds
# ---------------------------------------------------------------------------

@live
def test_a_warning_from_warn_percent_of_the_capacity(proxy):
    with contextlib.ExitStack() as stack:
        four_websockets(stack, proxy)
        at_default = run(proxy, capacity=5, upstreams=proxy.upstreams())  # 80%, the default warn_percent
        below = run(proxy, capacity='5', warn_percent='80.1', upstreams=proxy.upstreams())
    assert at_default['failed'] is False and at_default['capacity_percent'] == 80.0
    assert at_default['warnings'] == [
        "4 open WebSockets use 80% of the capacity of 5 (the nginx role's nginx_websocket_capacity), at or above "
        'warn_percent 80']
    assert below['failed'] is False and below['warnings'] == []


@live
def test_a_failure_from_fail_percent_of_the_capacity_with_the_report(proxy):
    with contextlib.ExitStack() as stack:
        four_websockets(stack, proxy)
        failed = run(proxy, capacity=4, fail_percent='100', upstreams=proxy.upstreams())
        below = run(proxy, capacity=4, warn_percent=101, fail_percent=100.5, upstreams=proxy.upstreams())
    assert failed['failed'] is True and failed['changed'] is False
    assert failed['msg'] == (
        "4 open WebSockets use 100% of the capacity of 4 (the nginx role's nginx_websocket_capacity), at or above "
        'fail_percent 100')
    assert (failed['websockets'], failed['capacity_percent']) == (4, 100.0)
    assert failed['table'][0] == 'WebSockets open: 4 of a capacity of 4 (100%), 0 of them on old workers'
    assert below['failed'] is False and below['warnings'] == []


# ---------------------------------------------------------------------------
# What cannot be read
# ---------------------------------------------------------------------------

@live
def test_an_unreachable_status_endpoint(proxy):  # pylint: disable=unused-argument
    url = 'http://%s:%d/stub_status' % (LOOPBACK, free_closed_port())
    result = run_module(proxy_status.main, {'status_url': url})
    assert result['failed'] is True
    assert result['msg'] == (
        "cannot read nginx's status at %s: [Errno 111] Connection refused. The nginx role serves it on "
        'nginx_status_listen (default 127.0.0.1:8079) at nginx_status_path (default /stub_status): is nginx running, '
        'and is nginx_status_enabled true?' % url)
    assert result['status_url'] == url


@live
def test_a_page_that_is_not_stub_status(proxy):
    url = 'http://%s:%d/' % (proxy.address, proxy.nginx.port)
    result = run_module(proxy_status.main, {'status_url': url})
    assert result['failed'] is True
    assert result['msg'] == (
        "the page at %s is not nginx's stub_status (it starts with 'not the status page'). The nginx role serves it on "
        'nginx_status_listen (default 127.0.0.1:8079) at nginx_status_path (default /stub_status): is the URL '
        'nginx_status_listen and nginx_status_path?' % url)


# ---------------------------------------------------------------------------
# Bad arguments: one message each, before anything is read
# ---------------------------------------------------------------------------

URL_EXAMPLE = 'http://127.0.0.1:8079/stub_status'
SHARE = 'must be a number greater than 0 (a share of the capacity in percent), got %s'
TIMEOUT = 'timeout must be a number of seconds greater than 0 and at most 300, got %s'
CAPACITY = "capacity must be a whole number of WebSockets, at least 1 (the nginx role's nginx_websocket_capacity), got %s"
ADDRESS = 'upstreams[0] (a): servers[0] must be host:port, [IPv6]:port, host (port 80) or unix:/path, got %s'


class Prefix(str):
    """The start of the message."""


def upstream(*servers, **changes):
    return {'upstreams': [dict({'name': 'a', 'servers': list(servers)}, **changes)]}


@pytest.mark.parametrize('args, message', [
    ({'status_url': ''}, 'status_url must be an http:// URL such as %s, got \'\'' % URL_EXAMPLE),
    ({'status_url': 'https://127.0.0.1:8079/stub_status'},
     "status_url must start with http:// (nginx serves stub_status in plain HTTP, on a loopback address), got "
     "'https://127.0.0.1:8079/stub_status'"),
    ({'status_url': '127.0.0.1:8079/stub_status'},
     "status_url must start with http:// (nginx serves stub_status in plain HTTP, on a loopback address), got "
     "'127.0.0.1:8079/stub_status'"),
    ({'status_url': 'http:///stub_status'},
     "status_url must name a host, such as %s, got 'http:///stub_status'" % URL_EXAMPLE),
    ({'status_url': 'http://127.0.0.1:99999/stub_status'},
     "status_url must be an http:// URL such as %s, got 'http://127.0.0.1:99999/stub_status' (Port out of range "
     "0-65535)" % URL_EXAMPLE),
    ({'status_url': 'http://127.0.0.1:0/stub_status'},
     "status_url port must be from 1 to 65535, got 'http://127.0.0.1:0/stub_status'"),
    ({'status_url': 'http://[::1/stub_status'},
     "status_url must be an http:// URL such as %s, got 'http://[::1/stub_status' (Invalid IPv6 URL)" % URL_EXAMPLE),
    ({'status_url': 'http://admin:secret@127.0.0.1:8079/stub_status'},
     "status_url must not hold a user name or password, got 'http://admin:secret@127.0.0.1:8079/stub_status'"),
    ({'status_url': 'http://127.0.0.1:8079/stub status'},
     "status_url must not contain spaces or control characters, got 'http://127.0.0.1:8079/stub status'"),
    ({'capacity': 0}, CAPACITY % 0),
    ({'capacity': '-5'}, CAPACITY % -5),
    # ansible-core's own words, which go on differently from version to version.
    ({'capacity': 'many'}, Prefix("argument 'capacity' is of type str and we were unable to convert to int: ")),
    ({'warn_percent': 0}, 'warn_percent ' + SHARE % '0.0'),
    ({'warn_percent': '-10'}, 'warn_percent ' + SHARE % '-10.0'),
    ({'warn_percent': 'inf'}, 'warn_percent ' + SHARE % 'inf'),
    ({'warn_percent': 'nan'}, 'warn_percent ' + SHARE % 'nan'),
    ({'capacity': 10, 'fail_percent': 0}, 'fail_percent ' + SHARE % '0.0'),
    ({'capacity': 10, 'fail_percent': '-1'}, 'fail_percent ' + SHARE % '-1.0'),
    ({'fail_percent': 90}, "fail_percent needs capacity (the number of WebSockets the proxy is sized for, the nginx "
                           "role's nginx_websocket_capacity): without it there is no share to compare"),
    ({'timeout': 0}, TIMEOUT % '0.0'),
    ({'timeout': '301'}, TIMEOUT % '301.0'),
    ({'timeout': 'inf'}, TIMEOUT % 'inf'),
    (upstream('10.0.0.5:8765', name=''), "upstreams[0]: name must be a non-empty string, got ''"),
    ({'upstreams': [{'name': 'a', 'servers': ['10.0.0.5:8765']}, {'name': 'b', 'servers': ['10.0.0.6:8765']},
                    {'name': 'a', 'servers': ['10.0.0.7:8765']}]},
     "upstreams[2]: name 'a' is given twice (also upstreams[0])"),
    (upstream(), 'upstreams[0] (a): servers must be a non-empty list of addresses, got []'),
    (upstream('10.0.0.5 8765'), ADDRESS % "'10.0.0.5 8765'"),
    (upstream('http://10.0.0.5:8765'), ADDRESS % "'http://10.0.0.5:8765'"),
    (upstream('[::1'), ADDRESS % "'[::1'"),
    (upstream('[10.0.0.5]:8765'), ADDRESS % "'[10.0.0.5]:8765'"),
    (upstream('::1'), ADDRESS % "'::1'"),
    (upstream('a..b:8765'), ADDRESS % "'a..b:8765'"),
    (upstream('10.0.0.5:0'), "upstreams[0] (a): servers[0] port must be from 1 to 65535, got '10.0.0.5:0'"),
    (upstream('10.0.0.5:70000'), "upstreams[0] (a): servers[0] port must be from 1 to 65535, got '10.0.0.5:70000'"),
    (upstream('10.0.0.5:http'), "upstreams[0] (a): servers[0] port must be from 1 to 65535, got '10.0.0.5:http'"),
    (upstream('unix:run/app.sock'), "upstreams[0] (a): servers[0] unix socket path must be absolute, got 'unix:run/app.sock'"),
    ({'upstreams': [{'servers': ['10.0.0.5:8765']}]}, 'missing required arguments: name found in upstreams'),
    (upstream('10.0.0.5:8765', websocket='maybe'),
     Prefix("argument 'websocket' is of type str found in 'upstreams'. and we were unable to convert to bool: The "
            "value 'maybe' is not a valid boolean.")),
])
def test_every_bad_argument_has_its_own_message(args, message):
    # Nothing listens at this address: a bad argument is reported before anything is read.
    args = dict({'status_url': 'http://%s:%d/stub_status' % (LOOPBACK, free_closed_port())}, **args)
    result = run_module(proxy_status.main, args)
    assert result['failed'] is True, result
    if isinstance(message, Prefix):
        assert ansible_wording(result['msg']).startswith(message), result['msg']
    else:
        assert result['msg'] == message
