# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The keepalived role's variables: validated once, normalized, typed.

Like :mod:`.exporter_model`, :func:`build_keepalived` returns a dataclass of checked values or raises
:class:`.role_spec.ModelError` with one message per problem. Besides the role's own variables it reads the
inventory (the hosts of ``keepalived_group``, their ``keepalived_address`` or ``ansible_host``), the host's
network interfaces (role_config's one call of role_host_info), and the checks through nginx that the
websocket_proxy role registered in the same play (used when ``keepalived_track_checks`` is empty).

Every value that reaches keepalived.conf is an IP address or prefix that :mod:`ipaddress` parsed and printed
again, a number, an interface name of letters, digits and "_.-", a password of checked characters, or one of
this module's constants: none can end a line, open or close a block, start a comment or quote. The checks go
into a JSON file (json.dumps), never into keepalived.conf.
"""

from __future__ import annotations

import dataclasses
import decimal
import ipaddress
import json
import re

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import format_address, split_host_port
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values as nv
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import (
    Problems, argument_spec, validate_role_variables)

ROLE = 'keepalived'
PACKAGE = 'keepalived'
SERVICE = 'keepalived'
# The contract with the other parts of the collection (the drain and status playbooks read these).
INSTANCE = 'websocket_nginx'
SCRIPT_NAME = 'websocket_nginx_check'
DRAIN_FLAG = '/var/lib/websocket-nginx/draining'
STATE_DIR = '/run/websocket-nginx-keepalived'
STATE_FILE = STATE_DIR + '/state.json'
# Where the role puts its files.
CONFIG_FILE = '/etc/keepalived/keepalived.conf'
CONFIG_DIR = '/etc/keepalived'
INSTALL_DIR = '/usr/local/lib/websocket-nginx'
TRACK_SCRIPT = INSTALL_DIR + '/keepalived_track.py'
NOTIFY_SCRIPT = INSTALL_DIR + '/keepalived_notify.py'
CLIENT_MODULE = INSTALL_DIR + '/websocket_client.py'
SETTINGS_DIR = '/etc/websocket-nginx'
TRACK_SETTINGS = SETTINGS_DIR + '/keepalived-track.json'
DRAIN_DIR = '/var/lib/websocket-nginx'
TMPFILES_FILE = '/etc/tmpfiles.d/websocket-nginx-keepalived.conf'
# keepalived runs the scripts as this system user (global_defs script_user), never as root; it is the name
# keepalived itself looks for when script_user is not set.
SCRIPT_USER = 'keepalived_script'
PYTHON = '/usr/bin/python3'
# The track script stops its checks this long before keepalived's timeout would kill it, to say why.
TRACK_MARGIN = 0.5
MAX_CHECK_TIMEOUT = 60.0
MAX_INTERVAL = 3600
# Priorities by position in keepalived_group: the first host 150, then 140, 130, ... never below 1.
AUTO_PRIORITY_FIRST = 150
AUTO_PRIORITY_STEP = 10

# A Linux interface name (IFNAMSIZ - 1 characters) as keepalived.conf takes it bare.
INTERFACE_NAME = re.compile(r'[A-Za-z0-9_.-]{1,15}')
IP_TEXT = re.compile(r'[0-9A-Fa-f:.]+')
PREFIX_TEXT = re.compile(r'[0-9]{1,3}')
# VRRPv2 simple password: printable ASCII without what keepalived's parser reads specially.
AUTH_PASS = re.compile(r'[!-~]{1,8}')
AUTH_PASS_FORBIDDEN = set('"\'\\#!{}')
ADVERT_TEXT = re.compile(r'[0-9]+(\.[0-9]+)?')

VIP_EMPTY = ('keepalived_virtual_addresses must list at least one address with its prefix length, such as '
             '192.0.2.10/24: the floating address the proxies share')
VIP_FORM = ('keepalived_virtual_addresses: %s must be an IP address with its prefix length, such as 192.0.2.10/24 or '
            '2001:db8::10/64 (a host name is not taken)')
VIP_PREFIX = ('keepalived_virtual_addresses: the prefix length of %s must be from 1 to 32 for IPv4, 1 to 128 for '
              'IPv6 (that of the network it is on)')
VIP_NETWORK = ('keepalived_virtual_addresses: %s is the network address of its prefix, which no host may take; '
               'choose another address')
VIP_BROADCAST = ('keepalived_virtual_addresses: %s is the broadcast address of its prefix, which no host may take; '
                 'choose another address')
VIP_SPECIAL = ('keepalived_virtual_addresses: %s is a loopback, multicast, unspecified or reserved address, which '
               'cannot float between hosts')
VIP_DUPLICATE = 'keepalived_virtual_addresses lists %s more than once'
VIP_MIXED = ('keepalived_virtual_addresses mixes IPv4 and IPv6 (%s and %s): one VRRP instance carries addresses of '
             'one family')
VIP_IPV6_V2 = ('keepalived_virtual_addresses: %s is an IPv6 address, which VRRP version 2 cannot carry: set '
               'keepalived_vrrp_version to 3')
VIP_TAKEN = ('keepalived_virtual_addresses: %s is the own address of %s; the floating address must be one that no '
             'proxy holds as its own')
ROUTER_ID = ('keepalived_virtual_router_id must be a number from 1 to 255 (the same on every proxy of the group, '
             'used by no other VRRP router on the network), got %s')
GROUP_MISSING = 'keepalived_group %s is not a group of the inventory (the group of the proxies that share the address)'
HOST_NOT_IN_GROUP = ('this host (%s) is not in keepalived_group %s: the role runs on the proxies of that group, which '
                     'share the address')
ADDRESS_FORM = ("keepalived_address must be this host's own IP address on the network the proxies share (a host "
                'name is not taken), got %s')
ADDRESS_SPECIAL = ('keepalived_address %s is a loopback, multicast, unspecified or link-local address; VRRP adverts '
                   'need an address the other proxies reach')
ADDRESS_MISSING = ('keepalived_address is empty and ansible_host %s is not an IP address: set keepalived_address to '
                   "this host's own address on the network the proxies share")
ADDRESS_FAMILY = ('keepalived_address %s is not of the family of keepalived_virtual_addresses (%s): VRRP adverts '
                  'go out in the family of the addresses they carry')
PEER_NOT_IN_GROUP = 'keepalived_unicast_peers: %s is not a proxy of the group %s (keepalived_group)'
PEER_SELF = 'keepalived_unicast_peers: %s is this host; list the other proxies'
PEER_DUPLICATE = 'keepalived_unicast_peers lists %s more than once'
PEER_NAME = 'keepalived_unicast_peers must hold inventory host names, got %s'
PEER_NO_ADDRESS = ('keepalived_unicast_peers: %s has no usable address: set keepalived_address for it in the '
                   'inventory (its keepalived_address or ansible_host %s is not an IP address)')
PEER_SPECIAL = ('keepalived_unicast_peers: the address %s of %s is a loopback, multicast, unspecified or '
                'link-local address')
PEER_FAMILY = 'keepalived_unicast_peers: the address %s of %s is not of the family of keepalived_address %s'
SAME_ADDRESS = '%s and %s have the same address %s (keepalived_address or ansible_host); each proxy needs its own'
NO_PEERS = ('keepalived needs at least one peer: keepalived_group %s has no other host (add the other proxies to it, '
            'or set keepalived_unicast_peers)')
INTERFACE_FORM = ('keepalived_interface must be a network interface name (1 to 15 letters, digits, "_", "." or "-"), '
                  'got %s')
INTERFACE_MISSING = 'keepalived_interface %s is not an interface of this host; it has: %s'
INTERFACE_LOOPBACK = 'keepalived_interface %s is a loopback interface, which keepalived cannot use for VRRP'
INTERFACE_WITHOUT_ADDRESS = ('keepalived_interface %s does not hold keepalived_address %s (it holds: %s); VRRP '
                             'adverts go out from the interface that has the address')
NO_INTERFACE = ('no interface of this host holds keepalived_address %s (its addresses: %s): set keepalived_address '
                'to one of them, or give the host that address')
PRIORITY = 'keepalived_priority must be auto or a number from 1 to 254 (255 is for an address owner), got %s'
VRRP_VERSION = 'keepalived_vrrp_version must be 2 or 3, got %s'
ADVERT_V2 = 'keepalived_advert_interval must be a whole number of seconds from 1 to 255 with VRRP version 2, got %s'
ADVERT_V3 = ('keepalived_advert_interval must be from 0.01 to 40.95 seconds, in hundredths, with VRRP version 3, '
             'got %s')
AUTH_PASS_FORM = ('keepalived_auth_pass must be 1 to 8 printable ASCII characters without spaces, quotes, "\\", "#", '
                  '"!", "{" or "}" (VRRPv2 PASS authentication); the value given (%d characters) is not')
AUTH_PASS_V3 = ('keepalived_auth_pass is set, but VRRP version 3 (keepalived_vrrp_version) has no authentication: '
                'leave keepalived_auth_pass empty, or use version 2')
CHECK_INTERVAL = 'keepalived_check_interval must be a number of seconds from 1 to 3600, got %s'
CHECK_FALL = 'keepalived_check_fall must be a number from 1 to 255 (failed checks in a row before FAULT), got %s'
CHECK_RISE = 'keepalived_check_rise must be a number from 1 to 255 (passed checks in a row to leave FAULT), got %s'
CHECK_TIMEOUT = 'keepalived_check_timeout must be a number of seconds from 1 to 3600, got %s'
CHECK_TIMEOUT_LONG = ('keepalived_check_timeout (%d s) must be at most keepalived_check_interval x '
                      'keepalived_check_fall (%d s): a check that hangs longer would keep a failed proxy MASTER '
                      'longer than the failures it takes to give the address away')
APT_CACHE = 'keepalived_apt_cache_valid_time must be 0 or more seconds, got %s'
NO_CHECKS = ('keepalived_track_checks is empty and this host has no checks through nginx from the websocket_proxy '
             'role: run websocket.nginx.websocket_proxy before this role in the same play (its WebSocket locations '
             'with a check are checked), or set keepalived_track_checks')
CHECK_ADDRESS = ('%s: address must be host:port with a port from 1 to 65535, such as 127.0.0.1:80 or [::1]:443 (where '
                 'the local nginx listens), got %s')
CHECK_TIMEOUT_VALUE = '%s: timeout must be more than 0 and at most %g seconds, got %s'
CHECK_CA_WITHOUT_TLS = '%s: ca_path is only used with tls: true'


@dataclasses.dataclass
class Peer:
    host: str
    address: str


@dataclasses.dataclass
class KeepalivedConfig:
    package: str
    service: str
    apt_cache_valid_time: int
    service_enabled: bool
    instance: str
    script_name: str
    group: str
    virtual_addresses: list
    # The family of the addresses: 4 or 6.
    family: int
    virtual_router_id: int
    priority: int
    # "auto" (by the host's position in the group) or "set".
    priority_from: str
    preempt: bool
    vrrp_version: int
    # As keepalived.conf takes it: "1", "0.5".
    advert_int: str
    # None: no authentication.
    auth_pass: str | None
    interface: str
    address: str
    peers: list
    check_interval: int
    check_fall: int
    check_rise: int
    check_timeout: int
    # "keepalived_track_checks" or "websocket_proxy" (the checks that role registered in this play).
    track_checks_from: str
    track_checks: list
    # The track script's settings file, as written (JSON).
    track_settings_json: str
    track_command: str
    notify_command: str
    script_user: str
    config_file: str
    config_dir: str
    install_dir: str
    track_script: str
    notify_script: str
    client_module: str
    settings_dir: str
    track_settings_file: str
    drain_flag: str
    drain_dir: str
    state_dir: str
    state_file: str
    tmpfiles_file: str
    tmpfiles_line: str

    def as_dict(self):
        return dataclasses.asdict(self)


def host_request():
    """What role_config's one role_host_info call reads for this role: the interfaces and their addresses (the
    interface that holds keepalived_address), and whether keepalived is installed."""
    return {'interfaces': True, 'packages': [PACKAGE]}


def _ip(value):
    """An IP address from text of digits, hex, "." and ":" only (no host names, zones or spaces); ValueError."""
    if not isinstance(value, str) or not IP_TEXT.fullmatch(value):
        raise ValueError(value)
    return ipaddress.ip_address(value)


def _special(address):
    return address.is_loopback or address.is_multicast or address.is_unspecified or address.is_reserved


def parse_virtual_address(value):
    """``ipaddress`` interface of one ``IP/prefix``; ValueError with the message for it."""
    if not isinstance(value, str) or '/' not in value:
        raise ValueError(VIP_FORM % nv.show(value))
    text, _slash, prefix = value.partition('/')
    try:
        address = _ip(text)
    except ValueError:
        raise ValueError(VIP_FORM % nv.show(value))
    if not PREFIX_TEXT.fullmatch(prefix) or not 1 <= int(prefix) <= address.max_prefixlen:
        raise ValueError(VIP_PREFIX % nv.show(value))
    interface = ipaddress.ip_interface('%s/%d' % (address, int(prefix)))
    if _special(address) or (address.version == 6 and address.is_link_local):
        raise ValueError(VIP_SPECIAL % nv.show(value))
    network = interface.network
    # /31 and /32 (IPv4), /127 and /128 (IPv6) have no network or broadcast address to avoid (RFC 3021, 6164).
    if network.num_addresses > 2:
        if address == network.network_address:
            raise ValueError(VIP_NETWORK % nv.show(value))
        if address.version == 4 and address == network.broadcast_address:
            raise ValueError(VIP_BROADCAST % nv.show(value))
    return interface


def check_virtual_addresses(values, version, problems):
    """The normalized ``IP/prefix`` texts and their family; problems noted."""
    if not values:
        problems.add('', VIP_EMPTY)
        return [], None
    found = []
    seen = set()
    for value in values:
        interface = problems.check('', parse_virtual_address, value)
        if interface is None:
            continue
        if interface.ip in seen:
            problems.add('', VIP_DUPLICATE % nv.show(str(interface.ip)))
            continue
        seen.add(interface.ip)
        found.append(interface)
    families = sorted({interface.version for interface in found})
    if len(families) > 1:
        first4 = next(str(item) for item in found if item.version == 4)
        first6 = next(str(item) for item in found if item.version == 6)
        problems.add('', VIP_MIXED % (nv.show(first4), nv.show(first6)))
    elif families == [6] and version == 2:
        problems.add('', VIP_IPV6_V2 % nv.show(str(found[0])))
    return found, families[0] if len(families) == 1 else None


def _int_in(value, minimum, maximum, message):
    try:
        number = nv.check_int(value, 'value', minimum, maximum)
    except ValueError:
        raise ValueError(message % nv.show(value))
    return number


def check_priority(value):
    """``(priority or None for auto, 'auto' or 'set')``."""
    if isinstance(value, str) and value.strip().lower() == 'auto':
        return None
    return _int_in(value, 1, 254, PRIORITY)


def auto_priority(position):
    """The priority of the host at ``position`` (0 first) of keepalived_group: 150, 140, ... at least 1."""
    return max(1, AUTO_PRIORITY_FIRST - AUTO_PRIORITY_STEP * position)


def check_advert_interval(value, version):
    """The advert interval as keepalived.conf takes it ("1", "0.5"): whole seconds for VRRPv2, hundredths for v3."""
    message = ADVERT_V2 if version == 2 else ADVERT_V3
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValueError(message % nv.show(value))
    text = value.strip() if isinstance(value, str) else repr(value)
    if not ADVERT_TEXT.fullmatch(text):
        raise ValueError(message % nv.show(value))
    number = decimal.Decimal(text)
    if version == 2:
        if number != number.to_integral_value() or not 1 <= number <= 255:
            raise ValueError(message % nv.show(value))
        return str(int(number))
    hundredths = number * 100
    if hundredths != hundredths.to_integral_value() or not 1 <= hundredths <= 4095:
        raise ValueError(message % nv.show(value))
    if number == number.to_integral_value():
        return str(int(number))
    return format(number.normalize(), 'f')


def check_auth_pass(value, version):
    """None (no authentication) or the password; its text is never put in a message."""
    if value in (None, ''):
        return None
    if version == 3:
        raise ValueError(AUTH_PASS_V3)
    if not isinstance(value, str) or not AUTH_PASS.fullmatch(value) or AUTH_PASS_FORBIDDEN & set(value):
        raise ValueError(AUTH_PASS_FORM % len(value if isinstance(value, str) else str(value)))
    return value


def _host_address(variables):
    """The address a host's inventory variables give it: keepalived_address when set, else ansible_host;
    ``(ip or None, the text it came from)``."""
    text = (variables or {}).get('keepalived_address') or (variables or {}).get('ansible_host')
    if text in (None, ''):
        return None, ''
    try:
        return _ip(str(text)), str(text)
    except ValueError:
        return None, str(text)


def own_address(value, ansible_host, problems):
    """This host's address for VRRP: keepalived_address, else ansible_host when it is an IP address."""
    if value:
        try:
            address = _ip(value)
        except ValueError:
            problems.add('', ADDRESS_FORM % nv.show(value))
            return None
    else:
        try:
            address = _ip(str(ansible_host)) if ansible_host not in (None, '') else None
        except ValueError:
            address = None
        if address is None:
            problems.add('', ADDRESS_MISSING % nv.show(str(ansible_host if ansible_host is not None else '')))
            return None
    if _special(address) or address.is_link_local:
        problems.add('', ADDRESS_SPECIAL % nv.show(str(address)))
        return None
    return address


def _describe_interfaces(interfaces):
    parts = []
    for name in sorted(interfaces):
        addresses = interfaces[name].get('ipv4', []) + interfaces[name].get('ipv6', [])
        parts.append('%s %s' % (name, ', '.join(addresses)) if addresses else '%s (none)' % name)
    return '; '.join(parts) or 'none'


def _holds(interfaces, name, address):
    for text in interfaces.get(name, {}).get('ipv%d' % address.version, []):
        try:
            if ipaddress.ip_interface(text).ip == address:
                return True
        except ValueError:
            continue
    return False


def find_interface(value, address, interfaces, problems):
    """keepalived_interface checked against the host's, or the interface that holds ``address``."""
    interfaces = interfaces or {}
    if value:
        if not isinstance(value, str) or not INTERFACE_NAME.fullmatch(value):
            problems.add('', INTERFACE_FORM % nv.show(value))
            return None
        if value == 'lo':
            problems.add('', INTERFACE_LOOPBACK % nv.show(value))
            return None
        if value not in interfaces:
            problems.add('', INTERFACE_MISSING % (nv.show(value), ', '.join(sorted(interfaces)) or 'none'))
            return None
        if address is not None and not _holds(interfaces, value, address):
            holds = interfaces[value].get('ipv4', []) + interfaces[value].get('ipv6', [])
            problems.add('', INTERFACE_WITHOUT_ADDRESS % (nv.show(value), nv.show(str(address)),
                                                          ', '.join(holds) or 'no address'))
            return None
        return value
    if address is None:
        return None
    holding = [name for name in sorted(interfaces) if _holds(interfaces, name, address)]
    usable = [name for name in holding if INTERFACE_NAME.fullmatch(name)]
    if not usable:
        problems.add('', NO_INTERFACE % (nv.show(str(address)), _describe_interfaces(interfaces)))
        return None
    return usable[0]


def check_peers(requested, host, group, group_hosts, hosts, address, problems):
    """The peers (Peer list) and the checked addresses; problems noted."""
    names = requested if requested else [name for name in group_hosts if name != host]
    if requested:
        seen = set()
        checked = []
        for name in requested:
            if not isinstance(name, str) or not name or nv.CONTROL.search(name):
                problems.add('', PEER_NAME % nv.show(name))
            elif name in seen:
                problems.add('', PEER_DUPLICATE % nv.show(name))
            elif name == host:
                problems.add('', PEER_SELF % nv.show(name))
            elif name not in group_hosts:
                problems.add('', PEER_NOT_IN_GROUP % (nv.show(name), nv.show(group)))
            else:
                checked.append(name)
            if isinstance(name, str):
                seen.add(name)
        names = checked
    elif not names and group_hosts:
        problems.add('', NO_PEERS % nv.show(group))
        return []
    peers = []
    by_address = {} if address is None else {address: host}
    for name in names:
        peer_address, text = _host_address(hosts.get(name))
        if peer_address is None:
            problems.add('', PEER_NO_ADDRESS % (nv.show(name), nv.show(text)))
            continue
        if _special(peer_address) or peer_address.is_link_local:
            problems.add('', PEER_SPECIAL % (nv.show(str(peer_address)), nv.show(name)))
            continue
        if address is not None and peer_address.version != address.version:
            problems.add('', PEER_FAMILY % (nv.show(str(peer_address)), nv.show(name), nv.show(str(address))))
            continue
        if peer_address in by_address:
            problems.add('', SAME_ADDRESS % (nv.show(by_address[peer_address]), nv.show(name),
                                             nv.show(str(peer_address))))
            continue
        by_address[peer_address] = name
        peers.append(Peer(host=name, address=str(peer_address)))
    return peers


def check_track_check(where, item):
    """One check through nginx (a dict with the argument spec's keys, typed): the settings the track script reads."""
    item = dict(item)
    address = item.get('address')
    try:
        nv.check_text(address, 'address')
        host, port = split_host_port(address)
        nv.check_host(host, 'address')
        if port is None:
            raise ValueError(address)
    except (ValueError, TypeError):
        raise ValueError(CHECK_ADDRESS % (where, nv.show(address)))
    nv.check_request_path(item.get('path'), '%s: path' % where)
    host_header = item.get('host_header') or None
    if host_header is not None:
        nv.check_host_header(host_header, '%s: host_header' % where)
    origin = item.get('origin') or None
    if origin is not None:
        origin = nv.check_origin(origin, '%s: origin' % where)
    subprotocols = item.get('subprotocols')
    if subprotocols is not None:
        subprotocols = list(nv.check_subprotocols(subprotocols, '%s: subprotocols' % where))
    tls = bool(item.get('tls'))
    ca_path = item.get('ca_path') or None
    if ca_path is not None:
        ca_path = nv.check_absolute_path(ca_path, '%s: ca_path' % where, allow_root=False)
        if not tls:
            raise ValueError(CHECK_CA_WITHOUT_TLS % where)
    timeout = item.get('timeout')
    if timeout is not None:
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_CHECK_TIMEOUT:
            raise ValueError(CHECK_TIMEOUT_VALUE % (where, MAX_CHECK_TIMEOUT, nv.show(timeout)))
        timeout = float(timeout)
    site = nv.check_text(item.get('site') or '', '%s: site' % where, allow_empty=True)
    location = nv.check_text(item.get('location') or '', '%s: location' % where, allow_empty=True)
    return {'site': site, 'location': location, 'address': format_address(host, port), 'path': item['path'],
            'host_header': host_header, 'origin': origin, 'subprotocols': subprotocols, 'echo': bool(item.get('echo')),
            'tls': tls, 'ca_path': ca_path, 'timeout': timeout}


def check_track_checks(own, proxy_checks, problems):
    """``(source, checks)``: keepalived_track_checks, else the websocket_proxy role's checks of this host."""
    if own:
        source, items, label = 'keepalived_track_checks', own, 'keepalived_track_checks[%d]'
    elif proxy_checks:
        source, label = 'websocket_proxy', 'websocket_proxy check %d'
        # The websocket_proxy role's checks, typed and checked as keepalived_track_checks are.
        spec = {'keepalived_track_checks': argument_spec(ROLE)['keepalived_track_checks']}
        result = ArgumentSpecValidator(spec).validate({'keepalived_track_checks': list(proxy_checks)})
        if result.error_messages:
            for message in result.error_messages:
                problems.add('', 'the websocket_proxy checks of this host: %s' % message)
            return source, []
        items = result.validated_parameters['keepalived_track_checks']
    else:
        problems.add('', NO_CHECKS)
        return None, []
    checks = []
    for index, item in enumerate(items):
        checked = problems.check('', check_track_check, label % index, item)
        if checked is not None:
            checks.append(checked)
    return source, checks


def track_settings(checks, check_timeout):
    """The track script's settings file: JSON with sorted keys, one key a line at most two levels deep.

    It always holds JSON literals (true, false, null), which Python's literal_eval does not take: ansible-core
    before 2.19 would otherwise turn the templated text back into a dict.
    """
    budget = round(max(check_timeout - TRACK_MARGIN, 0.5), 3)
    settings = {'instance': INSTANCE, 'drain_flag': DRAIN_FLAG, 'budget': budget, 'checks': checks}
    return json.dumps(settings, indent=2, sort_keys=True) + '\n'


def build_keepalived(variables, host, groups, hosts, interfaces, proxy_checks=None, ansible_host=None):
    """The keepalived role's configuration.

    ``variables``: the role's variables as the play has them. ``host``: this host's inventory name;
    ``groups``: the inventory's groups (name: host names in order); ``hosts``: for other inventory hosts, their
    ``keepalived_address`` and ``ansible_host``; ``interfaces``: role_host_info's ``interfaces`` of this host;
    ``proxy_checks``: the websocket_proxy role's checks through nginx on this host (its registered
    ``websocket_proxy_model.config.proxy_checks``), used when keepalived_track_checks is empty; ``ansible_host``:
    this host's.
    """
    p = validate_role_variables(ROLE, variables)
    problems = Problems()
    check = problems.check
    apt_cache_valid_time = check('', _int_in, p['keepalived_apt_cache_valid_time'], 0, None, APT_CACHE)
    version = p['keepalived_vrrp_version']
    if version not in (2, 3):
        problems.add('', VRRP_VERSION % nv.show(version))
        version = None
    found, family = check_virtual_addresses(p['keepalived_virtual_addresses'], version, problems)
    router_id = check('', _int_in, p['keepalived_virtual_router_id'], 1, 255, ROUTER_ID)
    priority = check('', check_priority, p['keepalived_priority'])
    advert_int = check('', check_advert_interval, p['keepalived_advert_interval'], version) if version else None
    auth_pass = check('', check_auth_pass, p['keepalived_auth_pass'], version) if version else None
    interval = check('', _int_in, p['keepalived_check_interval'], 1, MAX_INTERVAL, CHECK_INTERVAL)
    fall = check('', _int_in, p['keepalived_check_fall'], 1, 255, CHECK_FALL)
    rise = check('', _int_in, p['keepalived_check_rise'], 1, 255, CHECK_RISE)
    timeout = check('', _int_in, p['keepalived_check_timeout'], 1, MAX_INTERVAL, CHECK_TIMEOUT)
    if None not in (interval, fall, timeout) and timeout > interval * fall:
        problems.add('', CHECK_TIMEOUT_LONG % (timeout, interval * fall))

    group = p['keepalived_group']
    groups = groups or {}
    group_hosts = list(groups.get(group) or []) if isinstance(group, str) else []
    if not isinstance(group, str) or group not in groups:
        problems.add('', GROUP_MISSING % nv.show(group))
    elif host not in group_hosts:
        problems.add('', HOST_NOT_IN_GROUP % (nv.show(host), nv.show(group)))
    address = own_address(p['keepalived_address'], ansible_host, problems)
    if address is not None and family is not None and address.version != family:
        problems.add('', ADDRESS_FAMILY % (nv.show(str(address)), 'IPv%d' % family))
        address = None
    peers = check_peers(p['keepalived_unicast_peers'], host, group, group_hosts, hosts or {}, address, problems)
    interface = find_interface(p['keepalived_interface'], address, interfaces, problems)
    owners = dict((ipaddress.ip_address(peer.address), peer.host) for peer in peers)
    if address is not None:
        owners[address] = host
    for item in found:
        if item.ip in owners:
            problems.add('', VIP_TAKEN % (nv.show(str(item)), nv.show(owners[item.ip])))
    source, checks = check_track_checks(p['keepalived_track_checks'], proxy_checks, problems)
    problems.raise_if_any()

    priority_from = 'set'
    if priority is None:
        priority_from = 'auto'
        priority = auto_priority(group_hosts.index(host))
    track_command = '%s -I %s %s' % (PYTHON, TRACK_SCRIPT, TRACK_SETTINGS)
    notify_command = '%s -I %s %s' % (PYTHON, NOTIFY_SCRIPT, STATE_FILE)
    return KeepalivedConfig(
        package=PACKAGE, service=SERVICE, apt_cache_valid_time=apt_cache_valid_time,
        service_enabled=p['keepalived_service_enabled'],
        instance=INSTANCE, script_name=SCRIPT_NAME, group=group,
        virtual_addresses=[str(item) for item in found], family=family, virtual_router_id=router_id,
        priority=priority, priority_from=priority_from, preempt=p['keepalived_preempt'], vrrp_version=version,
        advert_int=advert_int, auth_pass=auth_pass, interface=interface, address=str(address), peers=peers,
        check_interval=interval, check_fall=fall, check_rise=rise, check_timeout=timeout,
        track_checks_from=source, track_checks=checks, track_settings_json=track_settings(checks, timeout),
        track_command=track_command, notify_command=notify_command, script_user=SCRIPT_USER,
        config_file=CONFIG_FILE, config_dir=CONFIG_DIR, install_dir=INSTALL_DIR, track_script=TRACK_SCRIPT,
        notify_script=NOTIFY_SCRIPT, client_module=CLIENT_MODULE, settings_dir=SETTINGS_DIR,
        track_settings_file=TRACK_SETTINGS, drain_flag=DRAIN_FLAG, drain_dir=DRAIN_DIR, state_dir=STATE_DIR,
        state_file=STATE_FILE, tmpfiles_file=TMPFILES_FILE,
        tmpfiles_line='d %s 0755 %s %s -\n' % (STATE_DIR, SCRIPT_USER, SCRIPT_USER),
    )
