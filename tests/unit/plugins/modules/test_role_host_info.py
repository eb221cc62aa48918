# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.role_host_info on this machine's real files, programs and a temporary directory."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import systemd_units
from ansible_collections.websocket.nginx.plugins.modules import role_host_info
from ansible_collections.websocket.nginx.tests.unit.helpers import run_module

NGINX = '/usr/sbin/nginx'


def run(args, check_mode=False):
    result = run_module(role_host_info.main, args, check_mode=check_mode)
    # The harness may add an empty "warnings" list: the module itself warns about nothing.
    assert not result.pop('warnings', []), result
    return result


def sha1(data):
    return hashlib.sha1(data).hexdigest()


def fake_nginx(tmp_path, name='nginx'):
    """An executable that answers -V like nginx (on standard error) and writes its arguments to argv.txt."""
    path = tmp_path / name
    record = tmp_path / 'argv.txt'
    path.write_text(
        '#!/bin/sh\n'
        'printf "%%s\\n" "$@" > "%s"\n'
        'echo "nginx version: nginx/1.26.3" >&2\n'
        'echo "built with OpenSSL 3.5.1 1 Jul 2025" >&2\n'
        'echo "configure arguments: --with-http_ssl_module"\n' % record,
        encoding='utf-8')
    path.chmod(0o755)
    return path, record


# ---------------------------------------------------------------------------
# The parsers
# ---------------------------------------------------------------------------

LIMITS = ('Limit                     Soft Limit           Hard Limit           Units     \n'
          'Max cpu time              unlimited            unlimited            seconds   \n'
          'Max open files            1024                 %s               files     \n'
          'Max locked memory         unlimited            unlimited            bytes     \n')


@pytest.mark.parametrize('text, limit', [
    (LIMITS % '524288', 524288),
    (LIMITS % 'unlimited', None),
])
def test_parse_proc_limits(text, limit):
    assert role_host_info.parse_proc_limits(text) == limit


@pytest.mark.parametrize('text', ['', 'Max cpu time unlimited unlimited seconds\n', 'Max open files            1024'])
def test_parse_proc_limits_refuses(text):
    with pytest.raises(ValueError, match='^no "Max open files" line in the limits file$'):
        role_host_info.parse_proc_limits(text)


@pytest.mark.parametrize('text, count', [('0\n', 1), ('0-1\n', 2), ('0-3,6\n', 5), ('0,2,4-7', 6)])
def test_parse_cpu_list(text, count):
    assert role_host_info.parse_cpu_list(text) == count


@pytest.mark.parametrize('text', ['', 'all', '0-', '0,,1', '١'])
def test_parse_cpu_list_refuses(text):
    with pytest.raises(ValueError, match='^not a CPU list: '):
        role_host_info.parse_cpu_list(text)


@pytest.mark.parametrize('text, version', [
    ('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nVERSION_ID="12"\nID=debian\n', '12'),
    ('ID=alpine\nVERSION_ID=3.20.1\n', '3.20.1'),
    ("VERSION_ID='13'\n", '13'),
    ('PRETTY_NAME="Debian GNU/Linux trixie/sid"\nID=debian\n', None),
])
def test_parse_os_release(text, version):
    assert role_host_info.parse_os_release(text) == version


# ---------------------------------------------------------------------------
# The module on this machine
# ---------------------------------------------------------------------------

def test_nothing_asked_reads_nothing():
    result = run({})
    assert result == {'changed': False, 'failed': False}


def test_limits_and_cpus_of_this_machine():
    result = run({'nofile_limit': True, 'cpus': True})
    assert not result['failed'], result
    with open(role_host_info.PROC_LIMITS, encoding='ascii') as limits:
        line = next(line for line in limits if line.startswith('Max open files'))
    hard = line.split()[4]
    assert result['hard_nofile_limit'] == (None if hard == 'unlimited' else int(hard))
    with open(role_host_info.CPU_ONLINE, encoding='ascii') as online:
        assert result['cpus'] == role_host_info.parse_cpu_list(online.read()) >= 1
    assert result['changed'] is False
    assert 'os_version_id' not in result and 'nginx' not in result and 'certificate_sha1' not in result


def test_os_release_of_this_machine():
    result = run({'os_release': True})
    with open(role_host_info.OS_RELEASE, encoding='utf-8') as release:
        lines = [line for line in release.read().splitlines() if line.startswith('VERSION_ID=')]
    assert result['os_version_id'] == (lines[0].split('=', 1)[1].strip('"') if lines else None)


def test_an_unreadable_limits_file_fails_saying_which(tmp_path, monkeypatch):
    """The hard limit sizes nginx: without it the role must not guess. (The path is pointed at a real file.)"""
    missing = tmp_path / 'limits'
    monkeypatch.setattr(role_host_info, 'PROC_LIMITS', str(missing))
    result = run({'nofile_limit': True})
    assert result['failed']
    assert result['msg'].startswith('cannot read %s on the host: ' % missing), result
    missing.write_text('Max cpu time unlimited unlimited seconds\n', encoding='ascii')
    result = run({'nofile_limit': True})
    assert result['msg'] == 'cannot read %s on the host: no "Max open files" line in the limits file' % missing


def test_a_missing_os_release_is_no_version(tmp_path, monkeypatch):
    """Not an error: the TLS settings then assume the default build. (The path is pointed at a real file.)"""
    monkeypatch.setattr(role_host_info, 'OS_RELEASE', str(tmp_path / 'os-release'))
    assert run({'os_release': True}) == {'changed': False, 'failed': False, 'os_version_id': None}


@pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX)
def test_nginx_version_of_this_machine():
    result = run({'nginx_binary': NGINX})
    assert result['nginx']['installed'] is True and result['nginx']['rc'] == 0
    assert result['nginx']['output'].startswith('nginx version: nginx/'), result


def test_nginx_is_run_with_exactly_one_argument_and_no_shell(tmp_path):
    """A path full of shell syntax is just a file name: no shell reads it, so nothing else runs."""
    (tmp_path / 'bin').mkdir()
    name = 'nginx; touch pwned $(touch pwned2) `touch pwned3` "q" \'s\''
    binary, record = fake_nginx(tmp_path / 'bin', name)
    result = run({'nginx_binary': str(binary)})
    assert result['nginx'] == {
        'installed': True, 'rc': 0,
        'output': 'nginx version: nginx/1.26.3\nbuilt with OpenSSL 3.5.1 1 Jul 2025\n'
                  'configure arguments: --with-http_ssl_module\n'}
    assert record.read_text(encoding='utf-8') == '-V\n'
    assert sorted(path.name for path in (tmp_path / 'bin').iterdir()) == sorted([name, 'argv.txt'])
    assert not any(tmp_path.glob('pwned*')) and not any(os.path.exists(p) for p in ('pwned', 'pwned2', 'pwned3'))


@pytest.mark.parametrize('what', ['missing', 'directory', 'not executable'])
def test_no_nginx_is_not_installed_and_runs_nothing(tmp_path, what):
    binary, record = fake_nginx(tmp_path)
    if what == 'missing':
        binary.unlink()
    elif what == 'directory':
        binary.unlink()
        binary.mkdir()
    else:
        binary.chmod(0o644)
    result = run({'nginx_binary': str(binary)})
    assert not result['failed'], result
    assert result['nginx'] == {'installed': False, 'rc': None, 'output': ''}
    assert not record.exists()


def test_certificate_checksums(tmp_path):
    certificate = tmp_path / 'chat.pem'
    certificate.write_bytes(b'-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n')
    renewed = tmp_path / 'archive' / 'fullchain2.pem'
    renewed.parent.mkdir()
    renewed.write_bytes(b'renewed\n' * 20000)  # more than one read
    live = tmp_path / 'live.pem'
    live.symlink_to(renewed)
    dangling = tmp_path / 'dangling.pem'
    dangling.symlink_to(tmp_path / 'nowhere.pem')
    fifo = tmp_path / 'fifo.pem'
    os.mkfifo(fifo)
    odd = tmp_path / 'a "b"; c\n$(d) \'e\'.pem'
    odd.write_bytes(b'odd')
    paths = [certificate, live, renewed, dangling, fifo, tmp_path, tmp_path / 'missing.pem', odd]
    result = run({'certificates': [str(path) for path in paths]})
    assert not result['failed'], result
    assert result['certificate_sha1'] == {
        str(certificate): sha1(certificate.read_bytes()),
        # A link (certbot's live/ files) is read through, as nginx reads it.
        str(live): sha1(b'renewed\n' * 20000),
        str(renewed): sha1(b'renewed\n' * 20000),
        str(dangling): None,
        # Never opened: reading a FIFO would wait for a writer.
        str(fifo): None,
        str(tmp_path): None,
        str(tmp_path / 'missing.pem'): None,
        str(odd): sha1(b'odd'),
    }


@pytest.mark.skipif(os.geteuid() == 0, reason='root reads any file')
def test_an_unreadable_certificate_has_no_checksum(tmp_path):
    private = tmp_path / 'private.pem'
    private.write_bytes(b'x')
    private.chmod(0)
    assert run({'certificates': [str(private)]})['certificate_sha1'] == {str(private): None}


def test_check_mode_reads_the_same_and_changes_nothing(tmp_path):
    certificate = tmp_path / 'chat.pem'
    certificate.write_bytes(b'certificate')
    binary, record = fake_nginx(tmp_path)
    args = {'nofile_limit': True, 'cpus': True, 'os_release': True, 'nginx_binary': str(binary),
            'certificates': [str(certificate)]}
    before = {path.name: (path.stat().st_mtime_ns, stat.S_IMODE(path.stat().st_mode)) for path in (certificate, binary)}
    checked = run(args, check_mode=True)
    assert record.read_text(encoding='utf-8') == '-V\n'
    assert {path.name: (path.stat().st_mtime_ns, stat.S_IMODE(path.stat().st_mode))
            for path in (certificate, binary)} == before
    assert checked == run(args)
    assert checked['changed'] is False and checked['certificate_sha1'] == {str(certificate): sha1(b'certificate')}


@pytest.mark.skipif(not os.path.exists('/usr/bin/dpkg-query'), reason='needs dpkg-query (Debian)')
def test_installed_package_versions_of_this_machine():
    """dpkg itself is installed wherever dpkg-query is; a name no archive has is not."""
    result = run_module(role_host_info.main, {'packages': ['dpkg', 'websocket-nginx-no-such-package']})
    assert result['failed'] is False, result
    version = result['packages']['dpkg']
    assert version and version[0].isdigit(), result['packages']
    assert result['packages']['websocket-nginx-no-such-package'] is None


@pytest.mark.parametrize('name', ['', 'Nginx', 'nginx; rm -rf /', '-nginx', 'n'])
def test_package_names_are_checked_before_dpkg_runs(name):
    result = run_module(role_host_info.main, {'packages': ['dpkg', name]})
    assert result['failed'] is True and 'packages must be Debian package names' in result['msg'], result


def systemd_runs():
    return os.path.isdir('/run/systemd/system')


def test_service_states_of_this_machine():
    """Under systemd, a unit that exists nowhere is not-found; without systemd (a plain container, CI's
    machine may be one) each service is None and the roles ask systemd themselves."""
    result = run_module(role_host_info.main, {'services': ['websocket-nginx-no-such-unit']})
    assert result['failed'] is False, result
    state = result['services']['websocket-nginx-no-such-unit']
    if systemd_runs():
        assert state['load'] == 'not-found' and state['active'] == 'inactive', state
    else:
        assert state is None


@pytest.mark.parametrize('name', ['', '-nginx', 'nginx service', 'nginx;reboot'])
def test_service_names_are_checked_before_systemctl_runs(name):
    result = run_module(role_host_info.main, {'services': [name]})
    assert result['failed'] is True and 'services must be systemd unit names' in result['msg'], result


SYSTEMCTL_SHOW = '''Id=nginx.service
LoadState=loaded
ActiveState=active
UnitFileState=enabled

Id=websocket-echo.service
LoadState=not-found
ActiveState=inactive
UnitFileState=
'''


def test_systemctl_show_is_read_block_by_block():
    """What systemctl 252 (Debian 12) prints for a running enabled unit and a missing one."""
    assert systemd_units.parse_systemctl_show(SYSTEMCTL_SHOW, ['nginx', 'websocket-echo', 'other']) == {
        'nginx': {'load': 'loaded', 'active': 'active', 'enabled': 'enabled'},
        'websocket-echo': {'load': 'not-found', 'active': 'inactive', 'enabled': None},
        'other': None,
    }


# ---------------------------------------------------------------------------
# interfaces: the host's network interfaces and their addresses (the keepalived role)
# ---------------------------------------------------------------------------

def _ip_command_addresses():
    """``{interface: set of address/prefix}`` as iproute2 reports them; None without the ip command."""
    import json
    import shutil
    import subprocess
    ip = shutil.which('ip')
    if ip is None:
        return None
    done = subprocess.run([ip, '-json', 'address', 'show'], capture_output=True, text=True, check=True, timeout=30)
    return {link['ifname']: {'%s/%d' % (item['local'].split('%')[0], item['prefixlen'])
                             for item in link.get('addr_info', []) if item['family'] in ('inet', 'inet6')}
            for link in json.loads(done.stdout)}


def test_interfaces_of_this_host():
    result = run({'interfaces': True})
    interfaces = result['interfaces']
    assert set(result) == {'changed', 'failed', 'interfaces'} and result['changed'] is False
    assert '127.0.0.1/8' in interfaces['lo']['ipv4']
    for name, addresses in interfaces.items():
        assert set(addresses) == {'ipv4', 'ipv6'}, name
        assert os.path.isdir('/sys/class/net/%s' % name), name
    assert set(interfaces) == set(os.listdir('/sys/class/net'))
    # IPv6 addresses without a zone, as keepalived.conf takes them.
    assert not any('%' in address for addresses in interfaces.values() for address in addresses['ipv6'])


def test_interfaces_are_those_iproute2_reports():
    """The control: the same interfaces and addresses as ``ip -json address`` (where iproute2 is installed)."""
    expected = _ip_command_addresses()
    if expected is None:
        pytest.skip('no ip command here to compare with')
    found = role_host_info.network_interfaces()
    assert {name: set(item['ipv4'] + item['ipv6']) for name, item in found.items()} == expected


def test_the_fallback_reads_the_same_primary_addresses():
    """Without getifaddrs (/proc, /sys and ioctls): the same interfaces, the same IPv6 addresses, and each
    interface's primary IPv4 address."""
    full, fallback = role_host_info.interfaces_getifaddrs(), role_host_info.interfaces_proc()
    assert full is not None and set(full) == set(fallback)
    for name in full:
        assert set(fallback[name]['ipv6']) == set(full[name]['ipv6']), name
        assert set(fallback[name]['ipv4']) <= set(full[name]['ipv4']), name
        assert bool(fallback[name]['ipv4']) is bool(full[name]['ipv4']), name


def test_if_inet6_lines_are_parsed():
    text = ('00000000000000000000000000000001 01 80 10 80       lo\n'
            'fe800000000000000000000000000001 02 40 20 80     eth0\n'
            '20010db8000000000000000000000011 02 40 00 80     eth0\n')
    assert role_host_info.parse_if_inet6(text) == [('lo', '::1/128'), ('eth0', 'fe80::1/64'),
                                                   ('eth0', '2001:db8::11/64')]


def test_interfaces_are_read_in_check_mode_too():
    assert run({'interfaces': True}, check_mode=True)['interfaces']['lo']['ipv4'] == ['127.0.0.1/8']
