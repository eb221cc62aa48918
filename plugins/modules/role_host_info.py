#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: role_host_info
short_description: Read what the roles' configuration model needs to know about a host, in one call
version_added: "1.0.0"
description:
  - Internal to this collection; M(websocket.nginx.role_config) calls it once per role run, asking only for what
    that role's model needs. Not meant to be called from playbooks, though it is harmless there.
  - Reads the hard open-files limit of PID 1 (the limit services get), the CPUs the kernel has online (what
    nginx counts for C(worker_processes auto)), C(VERSION_ID) of C(/etc/os-release), the output of
    C(nginx -V), and the SHA-1 of certificate files.
  - Only reads; it never changes anything, so it returns C(changed=false) and runs the same in check mode.
  - Paths are data. Each certificate file is opened by Python, and C(nginx -V) runs without a shell.
  - Needs only the Python standard library on the host.
author:
  - websocket.nginx maintainers (!UNKNOWN)
options:
  nofile_limit:
    description:
      - Read the hard open-files limit of PID 1 from C(/proc/1/limits) (RV(hard_nofile_limit)).
      - Fails when that file cannot be read or has no C(Max open files) line.
    type: bool
    default: false
  cpus:
    description:
      - Count the online CPUs in C(/sys/devices/system/cpu/online) (RV(cpus)).
      - Fails when that file cannot be read or is not a CPU list.
    type: bool
    default: false
  os_release:
    description:
      - Read C(VERSION_ID) from C(/etc/os-release) (RV(os_version_id)); null when the file or the line is missing.
    type: bool
    default: false
  nginx_binary:
    description:
      - Absolute path of an nginx executable to run with C(-V) (RV(nginx)). A missing file (or one that is not
        executable) means nginx is not installed, which is not an error.
    type: path
  certificates:
    description:
      - Files whose SHA-1 is returned in RV(certificate_sha1). Symbolic links are followed, as nginx follows them.
    type: list
    elements: path
    default: []
  packages:
    description:
      - Debian packages whose installed version is returned in RV(packages) (C(dpkg-query), no shell), so that a role
        skips apt when what it needs is installed.
    type: list
    elements: str
    default: []
  services:
    description:
      - systemd services (unit names without C(.service)) whose state is returned in RV(services) (C(systemctl show), no
        shell), so that a role leaves alone a service that already runs as it should.
    type: list
    elements: str
    default: []
  interfaces:
    description:
      - List the host's network interfaces and the IPv4 and IPv6 addresses each holds (RV(interfaces)), with
        C(getifaddrs(3)) through Python's C(ctypes); where that is not available, from C(/sys/class/net), the
        C(SIOCGIFADDR) ioctl (the primary IPv4 address only) and C(/proc/net/if_inet6). Needs no C(ip) command.
    type: bool
    default: false
    version_added: "1.1.0"
  nginx_upgrade:
    description:
      - Whether the nginx master named in C(/run/nginx.pid) runs the file O(nginx_binary), and the state of
        M(websocket.nginx.nginx_upgrade)'s hooks (RV(nginx_upgrade)). Needs O(nginx_binary).
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: The module only reads; check mode reads the same.
  diff_mode:
    support: none
  platform:
    platforms: posix
notes:
  - Reading certificate files usually needs root (C(become)).
seealso:
  - module: websocket.nginx.role_config
"""

EXAMPLES = r"""
- name: What the nginx role's model needs from the host
  websocket.nginx.role_host_info:
    nofile_limit: true
    cpus: true
    nginx_binary: /usr/sbin/nginx
  register: host_info

- name: The nginx build and the checksum of a certificate renewed on the host (certbot)
  websocket.nginx.role_host_info:
    os_release: true
    nginx_binary: /usr/sbin/nginx
    certificates: [/etc/letsencrypt/live/chat.example.com/fullchain.pem]
  become: true
  register: host_info
"""

RETURN = r"""
hard_nofile_limit:
  description: The hard open-files limit of PID 1; null when it is unlimited.
  returned: when O(nofile_limit=true)
  type: int
  sample: 20000
cpus:
  description: How many CPUs are online.
  returned: when O(cpus=true)
  type: int
  sample: 2
os_version_id:
  description: C(VERSION_ID) of C(/etc/os-release) without its quotes; null when there is none.
  returned: when O(os_release=true)
  type: str
  sample: "12"
nginx:
  description: What C(nginx -V) said.
  returned: when O(nginx_binary) is set
  type: dict
  contains:
    installed:
      description: Whether O(nginx_binary) is an executable file. When it is not, nothing was run.
      type: bool
      sample: true
    rc:
      description: The exit status of C(nginx -V); null when nothing was run.
      type: int
      sample: 0
    output:
      description: What it wrote (nginx writes its version to standard error), standard error first; empty when nothing was run.
      type: str
      sample: "nginx version: nginx/1.22.1\nbuilt with OpenSSL 3.0.15 3 Sep 2024\n..."
certificate_sha1:
  description: Each file of O(certificates) and the SHA-1 of its content (lower-case hex); null when it is missing or
    not a regular file that can be read.
  returned: when O(certificates) is not empty
  type: dict
  sample: {"/etc/ssl/certs/chat.pem": "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"}
packages:
  description: Each package of O(packages) and its installed version; null when it is not installed.
  returned: when O(packages) is not empty
  type: dict
  sample: {"nginx": "1.22.1-9+deb12u3", "python3-websockets": null}
services:
  description:
    - Each service of O(services) with its C(load) state (V(loaded), V(not-found), ...), whether it is C(active)
      (V(active), V(inactive), V(failed), ...) and C(enabled) (V(enabled), V(disabled), ..., null when systemd has no
      unit file for it); null for each when systemd does not run.
  returned: when O(services) is not empty
  type: dict
  sample: {"nginx": {"load": "loaded", "active": "active", "enabled": "enabled"}}
interfaces:
  description:
    - Each network interface of the host (also those without an address, such as a link that is down) with its
      addresses as C(address/prefix); IPv6 addresses without a zone.
  returned: when O(interfaces=true)
  type: dict
  sample: {"lo": {"ipv4": ["127.0.0.1/8"], "ipv6": ["::1/128"]}, "eth0": {"ipv4": ["192.0.2.5/24"], "ipv6": []}}
nginx_upgrade:
  description: What M(websocket.nginx.nginx_upgrade) would find.
  returned: when O(nginx_upgrade=true)
  type: dict
  contains:
    master_pid:
      description: The running nginx master; null when nginx is not running.
      type: int
    current:
      description: Whether it runs the installed binary; null when nginx is not running or not installed.
      type: bool
    hooks:
      description: V(installed) (as the module writes them), V(outdated) (some differ or are missing) or V(absent).
      type: str
"""

import ctypes
import ctypes.util
import fcntl
import hashlib
import ipaddress
import os
import re
import socket
import stat
import struct

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_upgrade
from ansible_collections.websocket.nginx.plugins.module_utils.systemd_units import SERVICE_NAME, service_states

PROC_LIMITS = '/proc/1/limits'
SYS_CLASS_NET = '/sys/class/net'
PROC_IF_INET6 = '/proc/net/if_inet6'
SIOCGIFADDR = 0x8915
SIOCGIFNETMASK = 0x891b
CPU_ONLINE = '/sys/devices/system/cpu/online'
OS_RELEASE = '/etc/os-release'
CHUNK = 65536
# Debian policy: lower case letters, digits, + - . ; at least two characters, starting alphanumeric.
PACKAGE_NAME = re.compile(r'[a-z0-9][a-z0-9+.-]+')


def parse_proc_limits(text):
    """The hard open-files limit in the text of ``/proc/<pid>/limits`` (None when unlimited)."""
    for line in text.splitlines():
        if line.startswith('Max open files'):
            fields = line[len('Max open files'):].split()
            if len(fields) >= 2:
                return None if fields[1] == 'unlimited' else int(fields[1])
    raise ValueError('no "Max open files" line in the limits file')


def parse_cpu_list(text):
    """How many CPUs a kernel CPU list such as ``/sys/devices/system/cpu/online`` names (``0-3,6`` is 5)."""
    count = 0
    for part in text.strip().split(','):
        if not re.fullmatch(r'[0-9]+(-[0-9]+)?', part):
            raise ValueError('not a CPU list: %r' % text)
        first, _dash, last = part.partition('-')
        count += int(last or first) - int(first) + 1
    return count


def parse_os_release(text):
    """``VERSION_ID`` of an os-release file, unquoted; None when it has none."""
    for line in text.splitlines():
        if line.startswith('VERSION_ID='):
            return line.split('=', 1)[1].strip().strip('"\'')
    return None


def sha1_of(path):
    """SHA-1 (hex) of a regular file's content, following symbolic links; None when there is none to read."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        digest = hashlib.sha1()
        with open(path, 'rb') as handle:
            for chunk in iter(lambda: handle.read(CHUNK), b''):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def _read(module, path, parse):
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return parse(handle.read())
    except (OSError, ValueError) as exc:
        module.fail_json(msg='cannot read %s on the host: %s' % (path, to_native(exc)))


def nginx_build(module, binary):
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return {'installed': False, 'rc': None, 'output': ''}
    rc, out, err = module.run_command([binary, '-V'], check_rc=False)
    return {'installed': True, 'rc': rc, 'output': err + out}


def installed_versions(module, names):
    """``{name: version}`` of the Debian packages ``names``; None for one that is not installed (or no dpkg)."""
    versions = dict((name, None) for name in names)
    dpkg_query = module.get_bin_path('dpkg-query')
    if dpkg_query is None:
        return versions
    # One line per package dpkg knows; unknown names only go to stderr (rc 1), which is fine.
    rc, out, err = module.run_command([dpkg_query, '--show', '--showformat=${Package}\t${db:Status-Status}\t${Version}\n']
                                      + list(names), check_rc=False)
    del rc, err
    for line in out.splitlines():
        fields = line.split('\t')
        if len(fields) == 3 and fields[0] in versions and fields[1] == 'installed':
            versions[fields[0]] = fields[2]
    return versions


class _SockAddr(ctypes.Structure):
    _fields_ = [('family', ctypes.c_ushort), ('data', ctypes.c_ubyte * 14)]


class _SockAddrIn6(ctypes.Structure):
    _fields_ = [('family', ctypes.c_ushort), ('port', ctypes.c_ushort), ('flowinfo', ctypes.c_uint32),
                ('address', ctypes.c_ubyte * 16), ('scope_id', ctypes.c_uint32)]


class _IfAddrs(ctypes.Structure):
    # "next" points to another _IfAddrs: declared untyped here (the class is not defined yet), cast where read.
    _fields_ = [('next', ctypes.c_void_p), ('name', ctypes.c_char_p), ('flags', ctypes.c_uint),
                ('address', ctypes.POINTER(_SockAddr)), ('netmask', ctypes.POINTER(_SockAddr)),
                ('broadcast', ctypes.POINTER(_SockAddr)), ('data', ctypes.c_void_p)]


def _packed_address(pointer):
    """``(family, packed address bytes)`` of a ``struct sockaddr *`` of AF_INET or AF_INET6; None for others."""
    if not pointer:
        return None
    family = pointer.contents.family
    if family == socket.AF_INET:
        return family, bytes(pointer.contents.data[2:6])
    if family == socket.AF_INET6:
        return family, bytes(ctypes.cast(pointer, ctypes.POINTER(_SockAddrIn6)).contents.address)
    return None


def _prefix_length(packed):
    return sum(bin(byte).count('1') for byte in bytearray(packed))


def _empty_interfaces(names):
    return dict((name, {'ipv4': [], 'ipv6': []}) for name in names)


def interfaces_getifaddrs():
    """``{name: {'ipv4': [...], 'ipv6': [...]}}`` from the C library's getifaddrs(3); None when it is not there."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library('c') or 'libc.so.6', use_errno=True)
        getifaddrs, freeifaddrs = libc.getifaddrs, libc.freeifaddrs
    except (OSError, AttributeError):
        return None
    getifaddrs.argtypes = [ctypes.POINTER(ctypes.POINTER(_IfAddrs))]
    getifaddrs.restype = ctypes.c_int
    freeifaddrs.argtypes = [ctypes.POINTER(_IfAddrs)]
    freeifaddrs.restype = None
    head = ctypes.POINTER(_IfAddrs)()
    if getifaddrs(ctypes.byref(head)) != 0:
        return None
    found = _empty_interfaces(name for _index, name in socket.if_nameindex())
    try:
        entry = head
        while entry:
            item = entry.contents
            entry = ctypes.cast(item.next, ctypes.POINTER(_IfAddrs))
            name = item.name.decode('utf-8', 'replace')
            # An alias label (eth0:1) names its addresses, which belong to the link eth0.
            addresses = found.setdefault(name.split(':', 1)[0], {'ipv4': [], 'ipv6': []})
            address, netmask = _packed_address(item.address), _packed_address(item.netmask)
            if address is None:
                continue
            family, packed = address
            prefix = _prefix_length(netmask[1]) if netmask is not None and netmask[0] == family else len(packed) * 8
            text = '%s/%d' % (ipaddress.ip_address(packed), prefix)
            key = 'ipv4' if family == socket.AF_INET else 'ipv6'
            if text not in addresses[key]:
                addresses[key].append(text)
    finally:
        freeifaddrs(head)
    return found


def _ioctl_ipv4(name):
    """The primary IPv4 address/prefix of an interface (SIOCGIFADDR, SIOCGIFNETMASK); None without one."""
    request = struct.pack('256s', name.encode('utf-8')[:15])
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            address = fcntl.ioctl(sock.fileno(), SIOCGIFADDR, request)[20:24]
            netmask = fcntl.ioctl(sock.fileno(), SIOCGIFNETMASK, request)[20:24]
        except OSError:
            return None
    return '%s/%d' % (socket.inet_ntoa(address), _prefix_length(netmask))


def parse_if_inet6(text):
    """``[(interface, 'address/prefix'), ...]`` of the text of /proc/net/if_inet6."""
    found = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) == 6 and len(fields[0]) == 32:
            address = ipaddress.IPv6Address(bytes.fromhex(fields[0]))
            found.append((fields[5], '%s/%d' % (address, int(fields[2], 16))))
    return found


def interfaces_proc():
    """The same as interfaces_getifaddrs from /sys/class/net, ioctls and /proc/net/if_inet6 (primary IPv4 only)."""
    try:
        names = sorted(os.listdir(SYS_CLASS_NET))
    except OSError:
        names = [name for _index, name in socket.if_nameindex()]
    found = _empty_interfaces(names)
    for name in names:
        address = _ioctl_ipv4(name)
        if address:
            found[name]['ipv4'].append(address)
    try:
        with open(PROC_IF_INET6, encoding='ascii', errors='replace') as handle:
            text = handle.read()
    except OSError:
        text = ''  # no IPv6 in this kernel
    for name, address in parse_if_inet6(text):
        found.setdefault(name, {'ipv4': [], 'ipv6': []})['ipv6'].append(address)
    return found


def network_interfaces():
    found = interfaces_getifaddrs()
    return interfaces_proc() if found is None else found


def upgrade_state(module, binary):
    try:
        running = nginx_upgrade.running_binary(nginx_upgrade.DEFAULT_PID_FILE, binary)
    except nginx_upgrade.ReloadError as exc:
        module.fail_json(msg=exc.msg)
    return {'master_pid': running['master_pid'], 'current': running['current'],
            'hooks': nginx_upgrade.hooks_state(nginx_upgrade.own_sources())['state']}


def main():
    module = AnsibleModule(
        argument_spec=dict(
            nofile_limit=dict(type='bool', default=False),
            cpus=dict(type='bool', default=False),
            os_release=dict(type='bool', default=False),
            nginx_binary=dict(type='path'),
            certificates=dict(type='list', elements='path', default=[]),
            packages=dict(type='list', elements='str', default=[]),
            services=dict(type='list', elements='str', default=[]),
            nginx_upgrade=dict(type='bool', default=False),
            interfaces=dict(type='bool', default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    result = {'changed': False}
    if params['nofile_limit']:
        result['hard_nofile_limit'] = _read(module, PROC_LIMITS, parse_proc_limits)
    if params['cpus']:
        result['cpus'] = _read(module, CPU_ONLINE, parse_cpu_list)
    if params['os_release']:
        try:
            with open(OS_RELEASE, encoding='utf-8', errors='replace') as handle:
                result['os_version_id'] = parse_os_release(handle.read())
        except OSError:
            result['os_version_id'] = None
    if params['nginx_binary']:
        result['nginx'] = nginx_build(module, params['nginx_binary'])
    if params['certificates']:
        result['certificate_sha1'] = {path: sha1_of(path) for path in params['certificates']}
    if params['packages']:
        bad = [name for name in params['packages'] if not PACKAGE_NAME.fullmatch(name)]
        if bad:
            module.fail_json(msg='packages must be Debian package names, got %s' % ', '.join(repr(name) for name in bad))
        result['packages'] = installed_versions(module, params['packages'])
    if params['services']:
        bad = [name for name in params['services'] if not SERVICE_NAME.fullmatch(name)]
        if bad:
            module.fail_json(msg='services must be systemd unit names without .service, got %s'
                                 % ', '.join(repr(name) for name in bad))
        result['services'] = service_states(module, params['services'])
    if params['nginx_upgrade']:
        if not params['nginx_binary']:
            module.fail_json(msg='nginx_upgrade needs nginx_binary')
        result['nginx_upgrade'] = upgrade_state(module, params['nginx_binary'])
    if params['interfaces']:
        result['interfaces'] = network_interfaces()
    module.exit_json(**result)


if __name__ == '__main__':
    main()
