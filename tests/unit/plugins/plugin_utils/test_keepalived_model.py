# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The keepalived model: the defaults of a three-proxy group build, ``-e`` strings work, priorities and peers
follow the inventory, each bad input has exactly one message, and no value can put text of its own into
keepalived.conf (Hypothesis)."""

from __future__ import annotations

import json
import re

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.plugin_utils import keepalived_model as km
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import ModelError
from ansible_collections.websocket.nginx.tests.unit.helpers import ansible_wording
from ansible_collections.websocket.nginx.tests.unit.render_helpers import render
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import COLLECTION_ROOT

TEMPLATES = '%s/roles/keepalived/templates' % COLLECTION_ROOT
GROUPS = {'all': ['proxy1', 'proxy2', 'proxy3', 'backend1'], 'websocket_proxies': ['proxy1', 'proxy2', 'proxy3'],
          'backends': ['backend1']}
HOSTS = {'proxy1': {'ansible_host': '192.0.2.11'}, 'proxy2': {'ansible_host': '192.0.2.12'},
         # A peer reached by name by Ansible gives its VRRP address in keepalived_address.
         'proxy3': {'ansible_host': 'proxy3.example.com', 'keepalived_address': '192.0.2.13'},
         'backend1': {'ansible_host': '192.0.2.21'}}
INTERFACES = {'lo': {'ipv4': ['127.0.0.1/8'], 'ipv6': ['::1/128']},
              'eth0': {'ipv4': ['192.0.2.11/24'], 'ipv6': ['2001:db8::11/64', 'fe80::1/64']},
              'eth1': {'ipv4': ['198.51.100.11/24'], 'ipv6': []}}
PROXY_CHECKS = [{'site': 'chat', 'location': '/ws/', 'address': '127.0.0.1:80', 'path': '/ws/',
                 'host_header': 'chat.example.com', 'echo': True, 'subprotocols': None, 'timeout': 5.0, 'tls': False,
                 'ca_path': None, 'origin': None}]
VIP = {'keepalived_virtual_addresses': ['192.0.2.10/24']}


class Contains(str):
    """An expected message given by a distinctive part (ansible-core's own wording may change)."""


def build(variables=None, host='proxy1', groups=None, hosts=None, interfaces=None, proxy_checks=None,
          ansible_host='192.0.2.11'):
    return km.build_keepalived(dict(VIP, **(variables or {})), host, GROUPS if groups is None else groups,
                               HOSTS if hosts is None else hosts, INTERFACES if interfaces is None else interfaces,
                               PROXY_CHECKS if proxy_checks is None else proxy_checks, ansible_host=ansible_host)


def errors_of(**kwargs):
    with pytest.raises(ModelError) as exc:
        build(**kwargs)
    return exc.value.errors


def assert_one_error(variables, message, **kwargs):
    errors = errors_of(variables=variables, **kwargs)
    if isinstance(message, Contains):
        assert len(errors) == 1 and message in ansible_wording(errors[0]), errors
    else:
        assert errors == [message]


def test_defaults_of_the_first_proxy_of_three():
    config = build().as_dict()
    assert config == {
        'package': 'keepalived', 'service': 'keepalived', 'apt_cache_valid_time': 3600, 'service_enabled': True,
        'instance': 'websocket_nginx', 'script_name': 'websocket_nginx_check', 'group': 'websocket_proxies',
        'virtual_addresses': ['192.0.2.10/24'], 'family': 4, 'virtual_router_id': 51, 'priority': 150,
        'priority_from': 'auto', 'preempt': False, 'vrrp_version': 2, 'advert_int': '1', 'auth_pass': None,
        'interface': 'eth0', 'address': '192.0.2.11',
        'peers': [{'host': 'proxy2', 'address': '192.0.2.12'}, {'host': 'proxy3', 'address': '192.0.2.13'}],
        'check_interval': 1, 'check_fall': 2, 'check_rise': 2, 'check_timeout': 2,
        'track_checks_from': 'websocket_proxy',
        'track_checks': [{'site': 'chat', 'location': '/ws/', 'address': '127.0.0.1:80', 'path': '/ws/',
                          'host_header': 'chat.example.com', 'origin': None, 'subprotocols': None, 'echo': True,
                          'tls': False, 'ca_path': None, 'timeout': 5.0}],
        'track_settings_json': config['track_settings_json'],
        'track_command': '/usr/bin/python3 -I /usr/local/lib/websocket-nginx/keepalived_track.py '
                         '/etc/websocket-nginx/keepalived-track.json',
        'notify_command': '/usr/bin/python3 -I /usr/local/lib/websocket-nginx/keepalived_notify.py '
                          '/run/websocket-nginx-keepalived/state.json',
        'script_user': 'keepalived_script', 'config_file': '/etc/keepalived/keepalived.conf',
        'config_dir': '/etc/keepalived', 'install_dir': '/usr/local/lib/websocket-nginx',
        'track_script': '/usr/local/lib/websocket-nginx/keepalived_track.py',
        'notify_script': '/usr/local/lib/websocket-nginx/keepalived_notify.py',
        'client_module': '/usr/local/lib/websocket-nginx/websocket_client.py',
        'settings_dir': '/etc/websocket-nginx', 'track_settings_file': '/etc/websocket-nginx/keepalived-track.json',
        'drain_flag': '/var/lib/websocket-nginx/draining', 'drain_dir': '/var/lib/websocket-nginx',
        'state_dir': '/run/websocket-nginx-keepalived', 'state_file': '/run/websocket-nginx-keepalived/state.json',
        'tmpfiles_file': '/etc/tmpfiles.d/websocket-nginx-keepalived.conf',
        'tmpfiles_line': 'd /run/websocket-nginx-keepalived 0755 keepalived_script keepalived_script -\n',
    }
    assert json.loads(config['track_settings_json']) == {
        'instance': 'websocket_nginx', 'drain_flag': '/var/lib/websocket-nginx/draining', 'budget': 1.5,
        'checks': config['track_checks']}


def test_the_contract_constants():
    assert km.DRAIN_FLAG == '/var/lib/websocket-nginx/draining'
    assert km.STATE_FILE == '/run/websocket-nginx-keepalived/state.json'
    assert km.INSTANCE == 'websocket_nginx'
    assert km.TRACK_SCRIPT == '/usr/local/lib/websocket-nginx/keepalived_track.py'
    assert km.TRACK_SETTINGS == '/etc/websocket-nginx/keepalived-track.json'


def test_the_settings_json_never_reads_as_a_python_literal():
    """ansible-core before 2.19 turns templated text that literal_eval takes back into data: the settings always
    hold a JSON literal (true/false/null), which it does not take."""
    import ast
    for checks in (PROXY_CHECKS, [dict(PROXY_CHECKS[0], echo=True, tls=True, ca_path='/etc/ssl/ca.pem',
                                       subprotocols=['chat'], origin='https://a.example', timeout=1.0)]):
        text = build(proxy_checks=checks).track_settings_json
        with pytest.raises((ValueError, SyntaxError)):
            ast.literal_eval(text)


@pytest.mark.parametrize('host, priority', [('proxy1', 150), ('proxy2', 140), ('proxy3', 130)])
def test_priority_auto_follows_the_order_of_the_group(host, priority):
    own = {'proxy1': '192.0.2.11', 'proxy2': '192.0.2.12', 'proxy3': '192.0.2.13'}[host]
    interfaces = {'eth0': {'ipv4': ['%s/24' % own], 'ipv6': []}}
    config = build({'keepalived_address': own}, host=host, interfaces=interfaces)
    assert (config.priority, config.priority_from) == (priority, 'auto')
    assert [peer.host for peer in config.peers] == [name for name in GROUPS['websocket_proxies'] if name != host]


def test_priority_auto_never_goes_below_one():
    assert [km.auto_priority(index) for index in (0, 1, 14, 15, 20)] == [150, 140, 10, 1, 1]


@pytest.mark.parametrize('variables, field, value', [
    # -e gives strings.
    ({'keepalived_priority': '200'}, 'priority', 200),
    ({'keepalived_priority': 'AUTO'}, 'priority', 150),
    ({'keepalived_priority': 254}, 'priority_from', 'set'),
    ({'keepalived_virtual_router_id': '8'}, 'virtual_router_id', 8),
    ({'keepalived_preempt': 'true'}, 'preempt', True),
    ({'keepalived_service_enabled': 'false'}, 'service_enabled', False),
    ({'keepalived_vrrp_version': '3'}, 'vrrp_version', 3),
    ({'keepalived_advert_interval': '3'}, 'advert_int', '3'),
    ({'keepalived_advert_interval': 255}, 'advert_int', '255'),
    ({'keepalived_advert_interval': 2.0}, 'advert_int', '2'),
    ({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': '0.5'}, 'advert_int', '0.5'),
    ({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': 0.25}, 'advert_int', '0.25'),
    ({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': '0.01'}, 'advert_int', '0.01'),
    ({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': '40.95'}, 'advert_int', '40.95'),
    ({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': '1.50'}, 'advert_int', '1.5'),
    ({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': 1}, 'advert_int', '1'),
    ({'keepalived_auth_pass': 's3cr$t~X'}, 'auth_pass', 's3cr$t~X'),
    ({'keepalived_auth_pass': ''}, 'auth_pass', None),
    ({'keepalived_check_interval': '5', 'keepalived_check_timeout': '4'}, 'check_timeout', 4),
    ({'keepalived_check_fall': '3', 'keepalived_check_timeout': '3'}, 'check_fall', 3),
    ({'keepalived_check_rise': 10}, 'check_rise', 10),
    ({'keepalived_apt_cache_valid_time': '0'}, 'apt_cache_valid_time', 0),
    ({'keepalived_virtual_addresses': ['192.0.2.10/24', '192.0.2.20/24']}, 'virtual_addresses',
     ['192.0.2.10/24', '192.0.2.20/24']),
    ({'keepalived_virtual_addresses': '192.0.2.10/24,192.0.2.20/32'}, 'virtual_addresses',
     ['192.0.2.10/24', '192.0.2.20/32']),
    ({'keepalived_virtual_addresses': ['203.0.113.7/31']}, 'virtual_addresses', ['203.0.113.7/31']),
    ({'keepalived_virtual_addresses': ['203.0.113.6/31']}, 'virtual_addresses', ['203.0.113.6/31']),
    # An address on another network than the interface's (keepalived adds it with its own prefix).
    ({'keepalived_virtual_addresses': ['203.0.113.10/32']}, 'virtual_addresses', ['203.0.113.10/32']),
    ({'keepalived_interface': 'eth0'}, 'interface', 'eth0'),
    ({'keepalived_unicast_peers': ['proxy3']}, 'peers', [{'host': 'proxy3', 'address': '192.0.2.13'}]),
    ({'keepalived_unicast_peers': 'proxy3,proxy2'}, 'peers',
     [{'host': 'proxy3', 'address': '192.0.2.13'}, {'host': 'proxy2', 'address': '192.0.2.12'}]),
    ({'keepalived_track_checks': [{'address': '[::1]:8443', 'path': '/ws?x=1', 'tls': 'yes', 'ca_path': '/etc/ca.pem',
                                   'timeout': '1.5', 'echo': 'true', 'subprotocols': 'chat,v2'}]},
     'track_checks', [{'site': '', 'location': '', 'address': '[::1]:8443', 'path': '/ws?x=1', 'host_header': None,
                       'origin': None, 'subprotocols': ['chat', 'v2'], 'echo': True, 'tls': True,
                       'ca_path': '/etc/ca.pem', 'timeout': 1.5}]),
    ({'keepalived_track_checks': [{'address': 'localhost:80', 'path': '/'}]}, 'track_checks_from',
     'keepalived_track_checks'),
])
def test_accepts(variables, field, value):
    config = build(variables).as_dict()
    assert config[field] == value


HOSTS6 = {'proxy2': {'ansible_host': '2001:db8::12'}, 'proxy3': {'keepalived_address': '2001:db8:0:0::13'}}
IPV6 = {'keepalived_virtual_addresses': ['2001:db8:0::10/64'], 'keepalived_address': '2001:db8::11'}


def test_ipv6_with_version_3():
    config = build(dict(IPV6, keepalived_vrrp_version=3), hosts=HOSTS6)
    assert (config.virtual_addresses, config.family, config.interface) == (['2001:db8::10/64'], 6, 'eth0')
    assert [peer.address for peer in config.peers] == ['2001:db8::12', '2001:db8::13']


def test_ipv6_with_version_2():
    assert_one_error(IPV6, 'keepalived_virtual_addresses: "2001:db8::10/64" is an IPv6 address, which VRRP version 2 '
                           'cannot carry: set keepalived_vrrp_version to 3', hosts=HOSTS6)


def test_own_address_from_keepalived_address_on_another_interface():
    config = build({'keepalived_address': '198.51.100.11'},
                   hosts=dict(HOSTS, proxy2={'ansible_host': '198.51.100.12'},
                              proxy3={'keepalived_address': '198.51.100.13'}))
    assert (config.address, config.interface) == ('198.51.100.11', 'eth1')
    assert [peer.address for peer in config.peers] == ['198.51.100.12', '198.51.100.13']


def test_checks_given_win_over_the_websocket_proxy_ones():
    config = build({'keepalived_track_checks': [{'address': '127.0.0.1:8080', 'path': '/socket'}]})
    assert [check['address'] for check in config.track_checks] == ['127.0.0.1:8080']


def test_a_peer_outside_the_group_is_named_even_if_it_has_an_address():
    assert_one_error({'keepalived_unicast_peers': ['backend1']},
                     'keepalived_unicast_peers: "backend1" is not a proxy of the group "websocket_proxies" '
                     '(keepalived_group)')


BAD = [
    pytest.param({'keepalived_virtual_addresses': []}, km.VIP_EMPTY, id='vip-none'),
    pytest.param({'keepalived_virtual_addresses': ['vip.example.com/24']},
                 'keepalived_virtual_addresses: "vip.example.com/24" must be an IP address with its prefix length, '
                 'such as 192.0.2.10/24 or 2001:db8::10/64 (a host name is not taken)', id='vip-host-name'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10']},
                 Contains('"192.0.2.10" must be an IP address with its prefix length'), id='vip-no-prefix'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10/33']},
                 'keepalived_virtual_addresses: the prefix length of "192.0.2.10/33" must be from 1 to 32 for IPv4, '
                 '1 to 128 for IPv6 (that of the network it is on)', id='vip-prefix-too-long'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10/0']},
                 Contains('the prefix length of "192.0.2.10/0"'), id='vip-prefix-zero'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10/2x']},
                 Contains('the prefix length of "192.0.2.10/2x"'), id='vip-prefix-not-a-number'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.0/24']},
                 'keepalived_virtual_addresses: "192.0.2.0/24" is the network address of its prefix, which no host '
                 'may take; choose another address', id='vip-network'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.255/24']},
                 'keepalived_virtual_addresses: "192.0.2.255/24" is the broadcast address of its prefix, which no '
                 'host may take; choose another address', id='vip-broadcast'),
    pytest.param({'keepalived_virtual_addresses': ['127.0.0.2/8']},
                 Contains('"127.0.0.2/8" is a loopback, multicast'), id='vip-loopback'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10/24', '192.0.2.10/25']},
                 'keepalived_virtual_addresses lists "192.0.2.10" more than once', id='vip-duplicate'),
    pytest.param({'keepalived_vrrp_version': 3, 'keepalived_virtual_addresses': ['192.0.2.10/24', '2001:db8::10/64']},
                 'keepalived_virtual_addresses mixes IPv4 and IPv6 ("192.0.2.10/24" and "2001:db8::10/64"): one VRRP '
                 'instance carries addresses of one family', id='vip-mixed'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.12/24']},
                 'keepalived_virtual_addresses: "192.0.2.12/24" is the own address of "proxy2"; the floating address '
                 'must be one that no proxy holds as its own', id='vip-is-a-proxy'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10/24\n}\nglobal_defs {']},
                 Contains('the prefix length of "192.0.2.10/24\\n}\\nglobal_defs {" must be'), id='vip-injection'),
    pytest.param({'keepalived_virtual_addresses': ['192.0.2.10 dev lo/24']},
                 Contains('"192.0.2.10 dev lo/24" must be an IP address with its prefix length'), id='vip-words'),
    pytest.param({'keepalived_virtual_router_id': 256},
                 'keepalived_virtual_router_id must be a number from 1 to 255 (the same on every proxy of the group, '
                 'used by no other VRRP router on the network), got "256"', id='router-id-high'),
    pytest.param({'keepalived_virtual_router_id': '0'}, Contains('keepalived_virtual_router_id must be a number from '
                                                                 '1 to 255'), id='router-id-zero'),
    pytest.param({'keepalived_group': 'proxies'},
                 'keepalived_group "proxies" is not a group of the inventory (the group of the proxies that share the '
                 'address)', id='group-missing'),
    pytest.param({'keepalived_group': 'backends'},
                 'this host ("proxy1") is not in keepalived_group "backends": the role runs on the proxies of that '
                 'group, which share the address', id='host-not-in-group'),
    pytest.param({'keepalived_address': 'proxy1.example.com'},
                 "keepalived_address must be this host's own IP address on the network the proxies share (a host "
                 'name is not taken), got "proxy1.example.com"', id='address-host-name'),
    pytest.param({'keepalived_address': '127.0.0.1'},
                 'keepalived_address "127.0.0.1" is a loopback, multicast, unspecified or link-local address; VRRP '
                 'adverts need an address the other proxies reach', id='address-loopback'),
    pytest.param({'keepalived_address': '2001:db8::11'},
                 'keepalived_address "2001:db8::11" is not of the family of keepalived_virtual_addresses (IPv4): '
                 'VRRP adverts go out in the family of the addresses they carry', id='address-family'),
    pytest.param({'keepalived_address': '192.0.2.99'},
                 'no interface of this host holds keepalived_address "192.0.2.99" (its addresses: eth0 192.0.2.11/24, '
                 '2001:db8::11/64, fe80::1/64; eth1 198.51.100.11/24; lo 127.0.0.1/8, ::1/128): set '
                 'keepalived_address to one of them, or give the host that address', id='address-not-on-host'),
    pytest.param({'keepalived_unicast_peers': ['proxy9']},
                 'keepalived_unicast_peers: "proxy9" is not a proxy of the group "websocket_proxies" (keepalived_group)',
                 id='peer-not-in-group'),
    pytest.param({'keepalived_unicast_peers': ['proxy1']},
                 'keepalived_unicast_peers: "proxy1" is this host; list the other proxies', id='peer-self'),
    pytest.param({'keepalived_unicast_peers': ['proxy2', 'proxy2']},
                 'keepalived_unicast_peers lists "proxy2" more than once', id='peer-duplicate'),
    pytest.param({'keepalived_interface': 'eth9'},
                 'keepalived_interface "eth9" is not an interface of this host; it has: eth0, eth1, lo',
                 id='interface-missing'),
    pytest.param({'keepalived_interface': 'eth1'},
                 'keepalived_interface "eth1" does not hold keepalived_address "192.0.2.11" (it holds: '
                 '198.51.100.11/24); VRRP adverts go out from the interface that has the address',
                 id='interface-without-address'),
    pytest.param({'keepalived_interface': 'lo'},
                 'keepalived_interface "lo" is a loopback interface, which keepalived cannot use for VRRP',
                 id='interface-loopback'),
    pytest.param({'keepalived_interface': 'eth0 dev lo'},
                 'keepalived_interface must be a network interface name (1 to 15 letters, digits, "_", "." or "-"), '
                 'got "eth0 dev lo"', id='interface-injection'),
    pytest.param({'keepalived_priority': 255},
                 'keepalived_priority must be auto or a number from 1 to 254 (255 is for an address owner), got "255"',
                 id='priority-high'),
    pytest.param({'keepalived_priority': 'high'}, Contains('keepalived_priority must be auto or a number'),
                 id='priority-word'),
    pytest.param({'keepalived_vrrp_version': 4}, 'keepalived_vrrp_version must be 2 or 3, got "4"', id='version'),
    pytest.param({'keepalived_advert_interval': '0.5'},
                 'keepalived_advert_interval must be a whole number of seconds from 1 to 255 with VRRP version 2, '
                 'got "0.5"', id='advert-fraction-v2'),
    pytest.param({'keepalived_advert_interval': 256}, Contains('from 1 to 255 with VRRP version 2, got "256"'),
                 id='advert-high-v2'),
    pytest.param({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': '0.005'},
                 'keepalived_advert_interval must be from 0.01 to 40.95 seconds, in hundredths, with VRRP version 3, '
                 'got "0.005"', id='advert-thousandths-v3'),
    pytest.param({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': '41'},
                 Contains('from 0.01 to 40.95 seconds'), id='advert-high-v3'),
    pytest.param({'keepalived_advert_interval': '1e0'}, Contains('whole number of seconds'), id='advert-exponent'),
    pytest.param({'keepalived_advert_interval': True}, Contains('whole number of seconds'), id='advert-bool'),
    pytest.param({'keepalived_auth_pass': 'toolongpassword'},
                 'keepalived_auth_pass must be 1 to 8 printable ASCII characters without spaces, quotes, "\\", "#", '
                 '"!", "{" or "}" (VRRPv2 PASS authentication); the value given (15 characters) is not',
                 id='auth-pass-long'),
    pytest.param({'keepalived_auth_pass': 'a}b'}, Contains('the value given (3 characters) is not'),
                 id='auth-pass-brace'),
    pytest.param({'keepalived_auth_pass': 'a b'}, Contains('the value given (3 characters) is not'),
                 id='auth-pass-space'),
    pytest.param({'keepalived_vrrp_version': 3, 'keepalived_auth_pass': 'secret'},
                 'keepalived_auth_pass is set, but VRRP version 3 (keepalived_vrrp_version) has no authentication: '
                 'leave keepalived_auth_pass empty, or use version 2', id='auth-pass-v3'),
    pytest.param({'keepalived_check_interval': 0},
                 'keepalived_check_interval must be a number of seconds from 1 to 3600, got "0"', id='interval'),
    pytest.param({'keepalived_check_fall': 0},
                 'keepalived_check_fall must be a number from 1 to 255 (failed checks in a row before FAULT), got "0"',
                 id='fall'),
    pytest.param({'keepalived_check_rise': 256},
                 'keepalived_check_rise must be a number from 1 to 255 (passed checks in a row to leave FAULT), '
                 'got "256"', id='rise'),
    pytest.param({'keepalived_check_timeout': 0},
                 'keepalived_check_timeout must be a number of seconds from 1 to 3600, got "0"', id='timeout'),
    pytest.param({'keepalived_check_timeout': 3},
                 'keepalived_check_timeout (3 s) must be at most keepalived_check_interval x keepalived_check_fall '
                 '(2 s): a check that hangs longer would keep a failed proxy MASTER longer than the failures it takes '
                 'to give the address away', id='timeout-longer-than-fall'),
    pytest.param({'keepalived_apt_cache_valid_time': -1},
                 'keepalived_apt_cache_valid_time must be 0 or more seconds, got "-1"', id='apt-cache'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1', 'path': '/ws/'}]},
                 'keepalived_track_checks[0]: address must be host:port with a port from 1 to 65535, such as '
                 '127.0.0.1:80 or [::1]:443 (where the local nginx listens), got "127.0.0.1"', id='check-no-port'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:99999', 'path': '/ws/'}]},
                 Contains('keepalived_track_checks[0]: address must be host:port'), id='check-bad-port'),
    pytest.param({'keepalived_track_checks': [{'address': 'bad host:80', 'path': '/ws/'}]},
                 Contains('keepalived_track_checks[0]: address must be host:port'), id='check-bad-host'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': 'ws/'}]},
                 'keepalived_track_checks[0]: path must start with "/" and hold no spaces or control characters, got '
                 '"ws/"', id='check-relative-path'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/ws/\r\nX: 1'}]},
                 Contains('keepalived_track_checks[0]: path must start with "/"'), id='check-path-control'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'host_header': 'a b'}]},
                 Contains('keepalived_track_checks[0]: host_header'), id='check-host-header'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'origin': 'ftp://x'}]},
                 Contains('keepalived_track_checks[0]: origin must be scheme://host'), id='check-origin'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'subprotocols': ['a b']}]},
                 Contains('keepalived_track_checks[0]: subprotocols must be HTTP tokens'), id='check-subprotocol'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'tls': True,
                                               'ca_path': 'ca.pem'}]},
                 Contains('keepalived_track_checks[0]: ca_path must be an absolute path'), id='check-ca-relative'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'ca_path': '/etc/ca.pem'}]},
                 'keepalived_track_checks[0]: ca_path is only used with tls: true', id='check-ca-without-tls'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'timeout': 0}]},
                 'keepalived_track_checks[0]: timeout must be more than 0 and at most 60 seconds, got "0.0"',
                 id='check-timeout'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'site': 'a\nb'}]},
                 Contains('keepalived_track_checks[0]: site must not contain control characters'), id='check-site'),
    pytest.param({'keepalived_track_checks': [{'path': '/'}]},
                 Contains('missing required arguments: address'), id='check-no-address'),
    pytest.param({'keepalived_track_checks': [{'address': '127.0.0.1:80', 'path': '/', 'url': '/'}]},
                 Contains('url'), id='check-unknown-key'),
]


@pytest.mark.parametrize('variables, message', BAD)
def test_each_bad_variable_has_its_own_message(variables, message):
    assert_one_error(variables, message)


def test_type_errors_come_from_the_argument_spec():
    assert_one_error({'keepalived_virtual_router_id': 'fifty'}, Contains("keepalived_virtual_router_id"))


def test_no_checks_at_all():
    assert_one_error({}, km.NO_CHECKS, proxy_checks=[])


def test_a_bad_websocket_proxy_check_is_named_as_such():
    assert_one_error({}, Contains('websocket_proxy check 0: path must start with "/"'),
                     proxy_checks=[dict(PROXY_CHECKS[0], path='ws')])


def test_own_address_missing_when_ansible_host_is_a_name():
    assert_one_error({}, 'keepalived_address is empty and ansible_host "proxy1.example.com" is not an IP address: set '
                         "keepalived_address to this host's own address on the network the proxies share",
                     ansible_host='proxy1.example.com')


def test_a_peer_without_an_address():
    hosts = dict(HOSTS, proxy2={'ansible_host': 'proxy2.example.com'})
    assert_one_error({}, 'keepalived_unicast_peers: "proxy2" has no usable address: set keepalived_address for it in '
                         'the inventory (its keepalived_address or ansible_host "proxy2.example.com" is not an IP '
                         'address)', hosts=hosts)


def test_two_hosts_with_the_same_address():
    hosts = dict(HOSTS, proxy3={'keepalived_address': '192.0.2.12'})
    assert_one_error({}, '"proxy2" and "proxy3" have the same address "192.0.2.12" (keepalived_address or ansible_host);'
                         ' each proxy needs its own', hosts=hosts)


def test_a_peer_with_this_hosts_address():
    hosts = dict(HOSTS, proxy2={'ansible_host': '192.0.2.11'})
    assert_one_error({}, Contains('"proxy1" and "proxy2" have the same address "192.0.2.11"'), hosts=hosts)


def test_a_peer_of_the_other_family():
    hosts = dict(HOSTS, proxy2={'ansible_host': '2001:db8::12'})
    assert_one_error({}, 'keepalived_unicast_peers: the address "2001:db8::12" of "proxy2" is not of the family of '
                         'keepalived_address "192.0.2.11"', hosts=hosts)


def test_fewer_than_one_peer():
    groups = dict(GROUPS, websocket_proxies=['proxy1'])
    assert_one_error({}, 'keepalived needs at least one peer: keepalived_group "websocket_proxies" has no other host '
                         '(add the other proxies to it, or set keepalived_unicast_peers)', groups=groups)


def test_every_problem_is_reported_at_once():
    errors = errors_of(variables={'keepalived_virtual_router_id': 0, 'keepalived_priority': 0,
                                  'keepalived_check_rise': 0, 'keepalived_unicast_peers': ['proxy9']})
    assert len(errors) == 4, errors


def test_the_password_never_shows_in_a_message():
    errors = errors_of(variables={'keepalived_auth_pass': 'hunter2 is long'})
    assert 'hunter2' not in ' '.join(errors)


# ---------------------------------------------------------------------------
# Properties: whatever the values, keepalived.conf holds only checked text
# ---------------------------------------------------------------------------

# What keepalived reads specially: line ends, block braces, comments, quotes, and whitespace that splits words.
HOSTILE = st.sampled_from(['\n', '\r', '}', '{', '#', '!', '"', "'", ' ', '\t', '\\', '\x00', '\x0b', '\x85', '$'])
hostile_text = st.lists(st.one_of(st.text(min_size=0, max_size=6), HOSTILE), max_size=6).map(''.join)
PROPERTY_SETTINGS = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                             suppress_health_check=[HealthCheck.too_slow])
# One line of keepalived.conf as the template writes it: indentation, then words of the checked alphabets.
SAFE_LINE = re.compile(r'( *[A-Za-z0-9_./:-]+( [A-Za-z0-9_./:$~%&()*+,;<=>?@^`|\[\]-]+)*)?|'
                       r' *(script|notify) "[A-Za-z0-9_./ -]+"|.* \{|\s*\}|\s*#[^\n]*')


def rendered(config):
    return render(TEMPLATES, 'keepalived.conf.j2', {'keepalived_model': {'config': config.as_dict()}})


def assert_only_checked_text(config):
    text = rendered(config)
    for line in text.splitlines():
        assert SAFE_LINE.fullmatch(line), line
    # The structure is that of the template: the same blocks, opened and closed, whatever the values.
    assert text.count('{') == text.count('}')
    assert [line.strip() for line in text.splitlines() if line.rstrip().endswith('{')] == [
        line for line in ['global_defs {', 'vrrp_script websocket_nginx_check {', 'vrrp_instance websocket_nginx {',
                          'unicast_peer {', 'authentication {' if config.auth_pass else None,
                          'virtual_ipaddress {', 'track_script {'] if line]


FIELDS = {
    'keepalived_virtual_addresses': st.lists(hostile_text, min_size=1, max_size=3),
    'keepalived_interface': hostile_text,
    'keepalived_address': hostile_text,
    'keepalived_auth_pass': hostile_text,
    'keepalived_advert_interval': st.one_of(hostile_text, st.floats(allow_nan=True), st.integers()),
    'keepalived_priority': st.one_of(hostile_text, st.integers()),
    'keepalived_unicast_peers': st.lists(hostile_text, max_size=3),
}


@pytest.mark.parametrize('field', sorted(FIELDS))
def test_no_value_adds_text_to_the_config(field):
    @PROPERTY_SETTINGS
    @given(value=FIELDS[field])
    def check(value):
        try:
            config = build({field: value})
        except ModelError:
            return
        assert_only_checked_text(config)

    check()


@PROPERTY_SETTINGS
@given(name=hostile_text, address=hostile_text)
def test_no_inventory_value_adds_text_to_the_config(name, address):
    """Peers' names and addresses come from the inventory, not the role's variables: the same holds."""
    groups = dict(GROUPS, websocket_proxies=['proxy1', name or 'x'])
    hosts = dict(HOSTS, **{name or 'x': {'ansible_host': address}})
    try:
        config = build(groups=groups, hosts=hosts)
    except ModelError:
        return
    assert_only_checked_text(config)


@PROPERTY_SETTINGS
@given(address=st.ip_addresses(v=4), prefix=st.integers(1, 32))
def test_every_valid_ipv4_address_renders_as_ipaddress_prints_it(address, prefix):
    value = '%s/%d' % (address, prefix)
    try:
        config = build({'keepalived_virtual_addresses': [value]})
    except ModelError:
        return
    assert config.virtual_addresses == [value]
    assert '        %s dev eth0\n' % value in rendered(config)


@PROPERTY_SETTINGS
@given(password=st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8))
def test_a_password_is_taken_exactly_when_it_has_no_special_character(password):
    special = set(password) & set('"\'\\#!{}')
    try:
        config = build({'keepalived_auth_pass': password})
    except ModelError:
        assert special
        return
    assert not special
    assert '        auth_pass %s\n' % password in rendered(config)


@PROPERTY_SETTINGS
@given(hundredths=st.integers(1, 4095))
def test_every_hundredth_of_version_3_renders_as_a_plain_decimal(hundredths):
    text = '%d.%02d' % divmod(hundredths, 100)
    config = build({'keepalived_vrrp_version': 3, 'keepalived_advert_interval': text})
    assert float(config.advert_int) * 100 == pytest.approx(hundredths)
    assert re.fullmatch(r'[0-9]+(\.[0-9]*[1-9])?', config.advert_int)
