# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The keepalived role's templates: golden renders of representative setups (``UPDATE_GOLDEN=1`` rewrites them:
review the diff), each checked by the real ``keepalived -t`` (config test) of this machine.

keepalived 2.2.7 (Debian 12) kills itself with SIGTERM at the end of a config test whenever scripts run as a
script_user (acassen/keepalived#2587, fixed in 2.2.8): there a passed test is a SIGTERM with nothing printed,
and the control below shows that a broken configuration still fails with keepalived's own words.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import signal
import subprocess

from pathlib import Path

import pytest

from ansible_collections.websocket.nginx.plugins.modules.role_host_info import network_interfaces
from ansible_collections.websocket.nginx.plugins.plugin_utils import keepalived_model as km
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import COLLECTION_ROOT
from ansible_collections.websocket.nginx.tests.unit.render_helpers import render

TEMPLATES = Path(COLLECTION_ROOT) / 'roles' / 'keepalived' / 'templates'
GOLDEN_DIR = Path(__file__).resolve().parent / 'golden'
UPDATE_GOLDEN = os.environ.get('UPDATE_GOLDEN') == '1'
KEEPALIVED = shutil.which('keepalived') or '/usr/sbin/keepalived'

GROUPS = {'websocket_proxies': ['proxy1', 'proxy2', 'proxy3']}
HOSTS = {'proxy1': {'ansible_host': '192.0.2.11'}, 'proxy2': {'ansible_host': '192.0.2.12'},
         'proxy3': {'ansible_host': 'proxy3.example.com', 'keepalived_address': '192.0.2.13'}}
HOSTS6 = {'proxy1': {'ansible_host': '2001:db8::11'}, 'proxy2': {'ansible_host': '2001:db8::12'},
          'proxy3': {'ansible_host': '2001:db8::13'}}
INTERFACES = {'lo': {'ipv4': ['127.0.0.1/8'], 'ipv6': ['::1/128']},
              'eth0': {'ipv4': ['192.0.2.11/24', '192.0.2.12/24'], 'ipv6': ['2001:db8::11/64', '2001:db8::12/64']}}
PROXY_CHECKS = [{'site': 'chat', 'location': '/ws/', 'address': '127.0.0.1:80', 'path': '/ws/',
                 'host_header': 'chat.example.com', 'echo': True, 'subprotocols': None, 'timeout': 5.0, 'tls': False,
                 'ca_path': None, 'origin': None}]

# name: (variables, this host, inventory hosts, ansible_host)
SETUPS = {
    # The README's example: the first of three proxies, every default.
    'keepalived-three-proxies': ({'keepalived_virtual_addresses': ['192.0.2.10/24']}, 'proxy1', HOSTS, '192.0.2.11'),
    # The second proxy, taking the address back, with a password, two addresses and one peer.
    'keepalived-preempt-auth': ({'keepalived_virtual_addresses': ['192.0.2.10/24', '192.0.2.20/32'],
                                 'keepalived_preempt': True, 'keepalived_auth_pass': 'Pa$$w0rd',
                                 'keepalived_priority': 200, 'keepalived_advert_interval': 2,
                                 'keepalived_virtual_router_id': 77, 'keepalived_unicast_peers': ['proxy1'],
                                 'keepalived_check_interval': 3, 'keepalived_check_fall': 3,
                                 'keepalived_check_rise': 1, 'keepalived_check_timeout': 5}, 'proxy2', HOSTS,
                                '192.0.2.12'),
    # IPv6 with VRRP version 3 and adverts every half second.
    'keepalived-ipv6-v3': ({'keepalived_virtual_addresses': ['2001:db8::10/64'], 'keepalived_vrrp_version': 3,
                            'keepalived_advert_interval': '0.5'}, 'proxy3', HOSTS6, '2001:db8::13'),
}


def model(name):
    variables, host, hosts, ansible_host = SETUPS[name]
    interfaces = dict(INTERFACES)
    if host == 'proxy3':
        interfaces['eth0'] = {'ipv4': [], 'ipv6': ['2001:db8::13/64']}
    return km.build_keepalived(variables, host, GROUPS, hosts, interfaces, PROXY_CHECKS, ansible_host=ansible_host)


def rendered(config, template='keepalived.conf.j2'):
    return render(TEMPLATES, template, {'keepalived_model': {'config': config.as_dict()}})


@pytest.mark.parametrize('name', sorted(SETUPS))
def test_golden(name):
    text = rendered(model(name))
    golden = GOLDEN_DIR / ('%s.conf' % name)
    if UPDATE_GOLDEN:
        golden.write_text(text, encoding='utf-8')
    assert text == golden.read_text(encoding='utf-8')


def test_tmpfiles_entry_is_the_directory_the_role_creates():
    text = rendered(model('keepalived-three-proxies'), 'websocket-nginx-keepalived.tmpfiles.j2')
    assert text.startswith('#\n# Ansible managed\n#\n')
    lines = [line for line in text.splitlines() if line and not line.startswith('#')]
    assert lines == ['d /run/websocket-nginx-keepalived 0755 keepalived_script keepalived_script -']
    assert lines[0].split()[1] == os.path.dirname(km.STATE_FILE)


# ---------------------------------------------------------------------------
# keepalived -t
# ---------------------------------------------------------------------------

def _test_interface():
    """A non-loopback interface of this machine (keepalived refuses lo for VRRP); None when there is none."""
    names = sorted(name for name in network_interfaces() if name != 'lo')
    return next((name for name in names if name.startswith(('eth', 'en'))), names[0] if names else None)


def _version():
    done = subprocess.run([KEEPALIVED, '--version'], capture_output=True, text=True, check=False, timeout=30)
    match = re.search(r'Keepalived v([0-9.]+)', done.stdout + done.stderr)
    return tuple(int(part) for part in match.group(1).split('.')) if match else None


def config_test(tmp_path, text):
    """``keepalived -t -f`` of ``text`` as this machine can test it: the interface is one this machine has, and
    the script user one it has when keepalived_script is missing. ``(passed, what keepalived said)``."""
    interface = _test_interface()
    if interface is None:
        pytest.skip('this machine has no network interface but lo, which keepalived refuses for VRRP')
    text = re.sub(r'\b(interface|dev) eth0\b', r'\1 %s' % interface, text)
    try:
        pwd.getpwnam(km.SCRIPT_USER)
    except KeyError:
        text = text.replace('script_user %s' % km.SCRIPT_USER, 'script_user nobody')
    passed, said = _run_config_test(tmp_path / 'keepalived.conf', text)
    if passed is None:
        # keepalived 2.2.7 stopped before it checked the instance (acassen/keepalived#2587): the same config
        # without the scripts (no vrrp_script, track_script or notify) gets the instance's checks.
        passed, said = _run_config_test(tmp_path / 'keepalived-without-scripts.conf', without_scripts(text))
        assert passed is not None, 'keepalived -t was killed by SIGTERM also without scripts'
    return passed, said


def without_scripts(text):
    text = re.sub(r'(?ms)^vrrp_script [^\n]* \{\n.*?^\}\n', '', text)
    text = re.sub(r'(?ms)^    track_script \{\n.*?^    \}\n', '', text)
    return re.sub(r'(?m)^    notify .*\n', '', text)


def _run_config_test(path, text):
    """``(passed, output)``; passed is None when keepalived 2.2.7 killed itself without a word (#2587)."""
    path.write_text(text, encoding='utf-8')
    done = subprocess.run([KEEPALIVED, '-t', '-f', str(path)], capture_output=True, text=True, check=False, timeout=60)
    said = (done.stdout + done.stderr).strip()
    if done.returncode == -signal.SIGTERM and not said and _version() is not None and _version() < (2, 2, 8):
        return None, said
    return done.returncode == 0 and not said, said


needs_keepalived = pytest.mark.skipif(
    not os.path.exists(KEEPALIVED),
    reason='keepalived is not installed (scripts/setup-test-tools.sh installs it): its config test cannot run')


@needs_keepalived
@pytest.mark.parametrize('name', sorted(SETUPS))
def test_keepalived_accepts_the_golden_configs(name, tmp_path):
    passed, said = config_test(tmp_path, rendered(model(name)))
    assert passed, said


def test_without_scripts_leaves_the_rest():
    text = rendered(model('keepalived-three-proxies'))
    stripped = without_scripts(text)
    assert not re.search(r'(?m)^\s*(vrrp_script|track_script|notify) ', stripped), stripped
    assert stripped.count('{') == stripped.count('}') == text.count('{') - 2
    assert 'virtual_ipaddress {' in stripped and 'unicast_peer {' in stripped


@needs_keepalived
@pytest.mark.parametrize('change, words', [
    # What the model refuses, written anyway: keepalived's config test finds each.
    (('advert_int 1', 'advert_int 0.5'), 'must be an integer'),
    (('unicast_peer {\n        192.0.2.12', 'unicast_peer {\n        2001:db8::12'), 'same family'),
    (('    state BACKUP\n', '    state BACKUP\n    no_such_keyword 1\n'), "Unknown keyword 'no_such_keyword'"),
    (('interface eth0', 'interface lo'), 'loopback interface'),
])
def test_the_config_test_fails_on_a_broken_config(change, words, tmp_path):
    """The control: the same check refuses what keepalived refuses, also on 2.2.7."""
    text = rendered(model('keepalived-three-proxies'))
    assert change[0] in text
    passed, said = config_test(tmp_path, text.replace(change[0], change[1], 1))
    assert not passed and words in said, said
