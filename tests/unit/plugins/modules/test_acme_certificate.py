# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Tests of websocket.nginx.acme_certificate and its renewal script against a real ACME CA on loopback.

Debian's pebble is the CA (started once per module and test worker), pebble-challtestsrv its DNS, which
answers every name with 127.0.0.1, so that pebble proves HTTP-01 against the test's nginx, which serves
the webroot on pebble's HTTP-01 port. certbot is Debian's, run by the module as on a host. Each test has
its own certbot directories (and so its own ACME account), its own names and its own nginx.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import sys
import time
import urllib.request

from pathlib import Path

import pytest

from cryptography import x509

from ansible_collections.websocket.nginx.plugins.module_utils import acme_certbot, nginx_reload
from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import make_ssl_context
from ansible_collections.websocket.nginx.plugins.modules import acme_certificate

from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, TestPKI, free_closed_port, run_module
from ansible_collections.websocket.nginx.tests.unit.nginx_process import NGINX, Nginx, silent_upstream

PEBBLE = '/usr/bin/pebble'
CHALLTESTSRV = '/usr/bin/pebble-challtestsrv'
CERTBOT = '/usr/bin/certbot'
SYSTEM_PYTHON = '/usr/bin/python3'
START_TIMEOUT = 15.0

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith('linux'), reason='reads /proc to reload nginx (Linux only)'),
    pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX),
    pytest.mark.skipif(os.geteuid() != 0, reason='runs nginx and certbot as root, as the module does'),
    pytest.mark.skipif(not all(os.access(path, os.X_OK) for path in (PEBBLE, CHALLTESTSRV, CERTBOT)),
                       reason="needs Debian's pebble and certbot packages (%s, %s, %s: make test-tools)"
                              % (PEBBLE, CHALLTESTSRV, CERTBOT)),
]

PROXY_VARIABLES = ('http_proxy', 'https_proxy', 'all_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY')


def _environment(**extra):
    env = dict((key, value) for key, value in os.environ.items() if key not in PROXY_VARIABLES)
    env.update(extra)
    return env


class AcmeCA(object):
    """pebble and pebble-challtestsrv on loopback ports; ``directory`` is the ACME directory URL."""

    def __init__(self, directory):
        self.directory_path = Path(directory)
        self.listener = TestPKI(self.directory_path / 'listener')  # pebble's own HTTPS certificate, for 127.0.0.1
        self.dns_port = free_closed_port()
        self.dns_management = free_closed_port()
        self.api_port = free_closed_port()
        self.management_port = free_closed_port()
        self.challenge_port = free_closed_port()  # where pebble asks for HTTP-01: the tests' nginx listens there
        self.directory = 'https://%s:%d/dir' % (LOOPBACK, self.api_port)
        self.processes = []
        self.root_path = self.directory_path / 'pebble-root.pem'

    def start(self):
        config = self.directory_path / 'pebble.json'
        config.write_text(json.dumps({'pebble': {
            'listenAddress': '%s:%d' % (LOOPBACK, self.api_port),
            'managementListenAddress': '%s:%d' % (LOOPBACK, self.management_port),
            'certificate': self.listener.cert_path, 'privateKey': self.listener.key_path,
            'httpPort': self.challenge_port, 'tlsPort': free_closed_port(),
            'ocspResponderURL': '', 'externalAccountBindingRequired': False}}))
        self._spawn('challtestsrv', [CHALLTESTSRV, '-defaultIPv4', LOOPBACK, '-defaultIPv6', '',
                                     '-dns01', '%s:%d' % (LOOPBACK, self.dns_port), '-http01', '', '-https01', '',
                                     '-tlsalpn01', '', '-management', '%s:%d' % (LOOPBACK, self.dns_management)])
        # PEBBLE_AUTHZREUSE=0: every order proves its names again (but see refused_renewal).
        self._spawn('pebble', [PEBBLE, '-config', str(config), '-strict=false',
                               '-dnsserver', '%s:%d' % (LOOPBACK, self.dns_port)],
                    PEBBLE_VA_NOSLEEP='1', PEBBLE_WFE_NONCEREJECT='0', PEBBLE_AUTHZREUSE='0')
        context = ssl.create_default_context(cafile=self.listener.ca_path)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                with urllib.request.urlopen(self.directory, context=context, timeout=2):  # nosec: loopback
                    pass
                with urllib.request.urlopen('https://%s:%d/roots/0' % (LOOPBACK, self.management_port), context=context,
                                            timeout=2) as response:
                    self.root_path.write_bytes(response.read())
                self.dns('set-default-ipv4', ip=LOOPBACK)
                return self
            except OSError:
                if time.monotonic() >= deadline or any(process.poll() is not None for process, _log in self.processes):
                    raise RuntimeError('pebble did not start: %s' % self.logs())
                time.sleep(0.1)

    def _spawn(self, name, command, **env):
        log = open(self.directory_path / ('%s.log' % name), 'wb')  # pylint: disable=consider-using-with
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                   env=_environment(**env), start_new_session=True)
        self.processes.append((process, log))

    def dns(self, action, **body):
        """pebble-challtestsrv's management API: ``add-a`` (host, addresses), ``clear-a`` (host), ..."""
        request = urllib.request.Request('http://%s:%d/%s' % (LOOPBACK, self.dns_management, action),
                                         data=json.dumps(body).encode('ascii'), method='POST')
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=5) as response:
            assert response.status == 200, response.status

    def logs(self):
        return '\n'.join((self.directory_path / name).read_text(errors='replace')
                         for name in ('challtestsrv.log', 'pebble.log') if (self.directory_path / name).exists())

    def stop(self):
        for process, log in self.processes:
            process.terminate()
            try:
                process.wait(5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
            log.close()


@pytest.fixture(scope='module')
def acme_ca(tmp_path_factory):
    ca = AcmeCA(tmp_path_factory.mktemp('pebble'))
    try:
        yield ca.start()
    finally:
        ca.stop()


class Host(object):
    """What a host has: certbot's directories, the webroot, the TLS directory and an nginx (``start``) that answers
    the challenge on pebble's HTTP-01 port and serves the live sites over TLS on ``tls_port``."""

    def __init__(self, directory, ca, pki):
        self.directory = Path(directory)
        self.ca = ca
        self.pki = pki
        self.webroot = self.directory / 'acme-challenge'
        self.webroot.mkdir()
        self.tls_dir = self.directory / 'tls'
        (self.directory / 'nginx').mkdir()
        self.nginx = Nginx(self.directory / 'nginx')
        self.tls_port = free_closed_port()
        self.upstream = self.upstream_port = None

    def site(self, name, pending=False):
        host_name = '%s.%s.acme.test' % (name, self.directory.name.replace('_', '-').lower()[-40:].strip('-'))
        return {'name': name, 'names': [host_name, 'www.' + host_name], 'contact': 'admin@example.com',
                'directory': self.ca.directory, 'directory_ca_path': self.ca.listener.ca_path, 'key_type': 'ecdsa',
                'certificate': str(self.tls_dir / ('%s.crt' % name)), 'certificate_key': str(self.tls_dir / ('%s.key' % name)),
                'pending': pending, 'check_address': None if pending else '%s:%d' % (LOOPBACK, self.tls_port),
                'server_name': host_name}

    def args(self, sites, **extra):
        args = {'sites': sites, 'config_dir': str(self.directory / 'certbot' / 'config'),
                'work_dir': str(self.directory / 'certbot' / 'work'), 'logs_dir': str(self.directory / 'certbot' / 'logs'),
                'webroot': str(self.webroot), 'certbot': CERTBOT, 'nginx_binary': NGINX, 'nginx_config': str(self.nginx.conf),
                'pid_file': str(self.nginx.pid_file), 'state_dir': str(self.directory / 'transaction')}
        args.update(extra)
        return args

    def start(self, live=()):
        """nginx with a TLS server for each site of ``live``, which starts with the test CA's certificate."""
        self.render(live)
        self.nginx.start()
        return self

    def render(self, live=()):
        """Write nginx.conf (``nginx -t`` must accept it), as the role does."""
        servers = []
        if live and self.upstream is None:
            self.tls_dir.mkdir(mode=0o700, exist_ok=True)
            self.upstream_port, accepted, stop = silent_upstream()
            self.upstream = (accepted, stop)
        for site in live:
            if not os.path.exists(site['certificate']):
                shutil.copyfile(self.pki.cert_path, site['certificate'])
                shutil.copyfile(self.pki.key_path, site['certificate_key'])
                os.chmod(site['certificate_key'], 0o600)
            servers += [
                '    server {',
                '        listen %s:%d ssl;' % (LOOPBACK, self.tls_port),
                '        server_name %s;' % ' '.join(site['names']),
                '        ssl_certificate %s;' % site['certificate'],
                '        ssl_certificate_key %s;' % site['certificate_key'],
                '        location / { return 200 "%s"; }' % site['name'],
                '        location /slow { proxy_pass http://%s:%d; proxy_read_timeout 60s; }' % (LOOPBACK, self.upstream_port),
                '    }']
        temp = ['    %s %s;' % (name, self.nginx.temp / name) for name in (
            'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path')]
        lines = ['pid %s;' % self.nginx.pid_file, 'worker_processes 2;', 'error_log %s;' % self.nginx.error_log,
                 'user root;', 'events {', '    worker_connections 64;', '}', 'http {', '    access_log off;',
                 '    default_type text/plain;'] + temp + [
            '    server {',
            '        listen %s:%d;' % (LOOPBACK, self.nginx.port),
            '        listen %s:%d;' % (LOOPBACK, self.ca.challenge_port),
            '        location ^~ /.well-known/acme-challenge/ { root %s; }' % self.webroot,
            '        location / { return 200 "plain"; }',
            '    }'] + servers + ['}', '']
        self.nginx.conf.write_text('\n'.join(lines))
        test = subprocess.run([NGINX, '-t', '-c', str(self.nginx.conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=30, check=False)
        assert test.returncode == 0, test.stdout

    def stop(self):
        self.nginx.stop()
        if self.upstream is not None:
            self.upstream[1]()

    def lineage(self, site):
        return Path(self.directory / 'certbot' / 'config' / 'live' / site['name'])

    def certbot_log(self):
        """(size, mtime) of certbot's log: the same when certbot did not run."""
        path = self.directory / 'certbot' / 'logs' / 'letsencrypt.log'
        if not path.exists():
            return None
        info = path.stat()
        return info.st_size, info.st_mtime_ns


@pytest.fixture
def host(tmp_path, acme_ca, pki, monkeypatch):
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    machine = Host(tmp_path, acme_ca, pki)
    try:
        yield machine
    finally:
        machine.stop()


def handshake(site, cafile=None, port=None):
    """The certificate nginx serves for the site: verified against ``cafile`` (pebble's root) when given."""
    context = make_ssl_context(validate_certs=bool(cafile), ca_path=cafile)
    host, _colon, default_port = site['check_address'].rpartition(':')
    with socket.create_connection((host, port or int(default_port)), timeout=5) as sock:
        with context.wrap_socket(sock, server_hostname=site['server_name']) as tls:
            return x509.load_der_x509_certificate(tls.getpeercert(binary_form=True))


def serial(path_or_cert):
    cert = path_or_cert
    if not isinstance(cert, x509.Certificate):
        cert = x509.load_pem_x509_certificate(Path(path_or_cert).read_bytes())
    return format(cert.serial_number, 'x')


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def script(host, *args):
    """The renewal script as the timer's service runs it: the host's python3, from the files the module installed,
    without ansible (no PYTHONPATH)."""
    directory = host.directory / 'lib'
    env = dict((key, value) for key, value in _environment().items() if not key.startswith('PYTHON'))
    return subprocess.run([SYSTEM_PYTHON, str(directory / 'acme_certbot.py')] + list(args), stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=300, check=False)


def refused_renewal(call, site):
    """``call()`` (a renewal that pebble must refuse) until it fails: pebble reuses a valid authorization even with
    PEBBLE_AUTHZREUSE=0 about 1 time in 100 (it makes a new one when rand.Intn(100) > 0), and then renews without
    asking for the challenge. Returns the failed call's result and the serial served before it."""
    for _attempt in range(3):
        before = serial(handshake(site))
        result = call()
        failed = result['failed'] if isinstance(result, dict) else result.returncode != 0
        if failed:
            return result, before
    raise AssertionError('pebble renewed 3 times without the challenge it cannot get: %s' % result)


# ---------------------------------------------------------------------------
# Issuance and deploy
# ---------------------------------------------------------------------------

def test_first_issuance_for_a_pending_site_writes_its_files_and_reloads_nothing(host, acme_ca):
    site = host.site('pending', pending=True)
    host.start()
    workers = host.nginx.workers()

    result = run_module(acme_certificate.main, host.args([site], install_dir=str(host.directory / 'lib')))

    assert result['failed'] is False and result['changed'] is True, result
    assert result['now_issued'] == ['pending'], result
    # The role renders its TLS server next: the renewal timer's settings have it live.
    written = json.loads((host.directory / 'lib' / 'settings.json').read_text())
    assert [item['pending'] for item in written['sites']] == [False], written
    [report] = result['sites']
    assert report['issued'] is True and report['deployed'] is True and report['pending'] is True, report
    assert report['renewed'] is False and report['failed'] is False and report['serial_before'] is None, report
    assert 'nginx serves the site over TLS once its server is rendered' in report['msg'], report
    # The lineage's files, the key first written 0600 in a directory made 0700.
    lineage = host.lineage(site)
    assert Path(site['certificate']).read_bytes() == (lineage / 'fullchain.pem').read_bytes()
    assert Path(site['certificate_key']).read_bytes() == (lineage / 'privkey.pem').read_bytes()
    assert mode(site['certificate_key']) == 0o600 and mode(site['certificate']) == 0o644 and mode(host.tls_dir) == 0o700
    cert = x509.load_pem_x509_certificate(Path(site['certificate']).read_bytes())
    assert serial(cert) == report['serial'] and report['not_after'].endswith('Z')
    assert sorted(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(
        x509.DNSName)) == sorted(site['names'])
    assert 'Pebble' in cert.issuer.rfc4514_string()
    # Not reloaded: nginx does not serve the site over TLS yet.
    assert host.nginx.workers() == workers
    assert not list(host.tls_dir.glob('.*.tmp'))

    # The role renders the site's TLS server and reloads. The renewal service's settings, if they were written before
    # (the site still pending there), make no difference: its renewal goes live.
    host.render([dict(site, pending=False)])
    nginx_reload.reload_and_wait(str(host.nginx.pid_file), 10)
    live = dict(site, pending=False, check_address='%s:%d' % (LOOPBACK, host.tls_port))
    assert serial(handshake(live, cafile=str(acme_ca.root_path))) == report['serial']
    settings = host.directory / 'lib' / 'settings.json'
    settings.write_text(json.dumps(dict(host.args([dict(site, check_address=live['check_address'])]))))
    workers = host.nginx.workers()
    done = script(host, 'renew', '--settings', str(settings), '--force')
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout.startswith('websocket.nginx: site pending: renewed; deployed, nginx reloaded'), done.stdout
    assert serial(handshake(live, cafile=str(acme_ca.root_path))) not in (report['serial'], None)
    assert serial(handshake(live)) == serial(site['certificate']) and host.nginx.workers() != workers


def test_issue_and_deploy_for_a_live_site_then_nothing_to_do(host, acme_ca, pki):
    site = host.site('live')
    host.start([site])
    assert serial(handshake(site)) == serial(pki.cert_path)
    workers = host.nginx.workers()

    result = run_module(acme_certificate.main, host.args([site], install_dir=str(host.directory / 'lib')))

    assert result['failed'] is False and result['changed'] is True, result
    [report] = result['sites']
    assert report['issued'] is True and report['deployed'] is True and report['pending'] is False, report
    assert report['serial_before'] == serial(pki.cert_path) and report['serial'] != report['serial_before'], report
    assert 'nginx serves it at %s for %s' % (site['check_address'], site['server_name']) in report['msg'], report
    assert result['now_issued'] == []
    # A new connection gets the new certificate, which pebble's root vouches for, from new workers.
    assert serial(handshake(site, cafile=str(acme_ca.root_path))) == report['serial']
    assert host.nginx.workers() != workers
    print(result['msg'])
    assert sorted(result['installed']) == sorted('create %s' % (host.directory / 'lib' / name)
                                                 for name in ('acme_certbot.py', 'nginx_reload.py', 'settings.json'))
    assert mode(host.directory / 'lib' / 'settings.json') == 0o600

    # Again: the lineage is the site's and nginx has it, certbot is not even run.
    log, workers = host.certbot_log(), host.nginx.workers()
    again = run_module(acme_certificate.main, host.args([site], install_dir=str(host.directory / 'lib')))
    assert again['failed'] is False and again['changed'] is False and again['installed'] == [], again
    assert again['sites'][0]['msg'] == 'up to date' and again['sites'][0]['serial'] == report['serial'], again
    assert host.certbot_log() == log and host.nginx.workers() == workers

    # Check mode of a forced renewal says so and runs nothing.
    checked = run_module(acme_certificate.main, host.args([site], force_renewal=True), check_mode=True)
    assert checked['failed'] is False and checked['changed'] is True, checked
    assert checked['sites'][0]['renewed'] is True and checked['sites'][0]['msg'].startswith('certbot renew would renew it')
    # Other names, another key type: a new certificate (certbot certonly, which replaces the lineage's).
    changed = dict(site, names=site['names'][:1], key_type='rsa')
    checked = run_module(acme_certificate.main, host.args([changed]), check_mode=True)
    assert checked['sites'][0]['issued'] is True and checked['changed'] is True, checked
    assert checked['sites'][0]['msg'] == (
        'would issue anew a certificate for %s (certbot certonly): its names are %s instead of %s; its key is ecdsa '
        'instead of rsa' % (site['names'][0], ', '.join(sorted(site['names'])), site['names'][0])), checked
    assert host.certbot_log() == log and host.nginx.workers() == workers

    # The timer's script: certbot renew finds it not due.
    done = script(host, 'renew', '--settings', str(host.directory / 'lib' / 'settings.json'))
    assert done.returncode == 0, (done.stdout, done.stderr)
    assert done.stdout.startswith('websocket.nginx: site live: not due for renewal (it expires '), done.stdout
    assert host.certbot_log() != log and host.nginx.workers() == workers
    assert serial(handshake(site)) == report['serial']


def test_forced_renewal_under_an_open_connection(host, acme_ca):
    site = host.site('renewed')
    host.start([site])
    first = run_module(acme_certificate.main, host.args([site]))
    assert first['failed'] is False, first
    accepted, _stop = host.upstream
    context = ssl.create_default_context(cafile=str(acme_ca.root_path))
    client = context.wrap_socket(socket.create_connection((LOOPBACK, host.tls_port), timeout=5),
                                 server_hostname=site['server_name'])
    try:
        # A request in flight in a worker (its upstream never answers), over TLS with the first certificate.
        client.sendall(b'GET /slow HTTP/1.1\r\nHost: %s\r\n\r\n' % site['server_name'].encode('ascii'))
        assert accepted.wait(5), 'nginx did not pass the request on'

        result = run_module(acme_certificate.main, host.args([site], force_renewal=True))

        assert result['failed'] is False and result['changed'] is True, result
        [report] = result['sites']
        assert report['renewed'] is True and report['issued'] is False and report['deployed'] is True, report
        assert report['serial_before'] == first['sites'][0]['serial'] != report['serial'], report
        assert serial(handshake(site, cafile=str(acme_ca.root_path))) == report['serial']
        # The open connection stays, with its worker shutting down after it.
        client.settimeout(0.3)
        with pytest.raises(socket.timeout):
            client.recv(1)
        assert serial(x509.load_der_x509_certificate(client.getpeercert(binary_form=True))) == first['sites'][0]['serial']
    finally:
        client.close()


# ---------------------------------------------------------------------------
# Failures
# ---------------------------------------------------------------------------

def test_a_renewal_the_ca_refuses_keeps_the_served_certificate_and_others_go_on(host, acme_ca):
    site, other = host.site('refused'), host.site('other', pending=True)
    host.start([site])
    first = run_module(acme_certificate.main, host.args([site], install_dir=str(host.directory / 'lib')))
    assert first['failed'] is False, first
    files = {path: Path(path).read_bytes() for path in (site['certificate'], site['certificate_key'])}
    fullchain = (host.lineage(site) / 'fullchain.pem').read_bytes()
    # The CA looks for the challenge of the first name at 127.0.0.2, where nothing listens.
    acme_ca.dns('add-a', host=site['names'][0], addresses=['127.0.0.2'])
    try:
        result, before = refused_renewal(
            lambda: run_module(acme_certificate.main, host.args([site, other], force_renewal=True)), site)

        assert result['failed'] is True and result['changed'] is True, result
        refused, issued = result['sites']
        assert refused['failed'] is True and refused['renewed'] is False and refused['deployed'] is False, refused
        assert refused['msg'].startswith('certbot could not renew its certificate, which stays as it was: '), refused
        # certbot's words, with the CA's.
        assert 'Domain: %s' % site['names'][0] in refused['msg'] and '127.0.0.2' in refused['msg'], refused['msg']
        assert 'Some challenges have failed' in refused['msg'], refused['msg']
        print(result['msg'])
        assert result['msg'].startswith('1 site of 2 failed: site refused: certbot could not renew'), result['msg']
        # The other site got its certificate all the same.
        assert issued['failed'] is False and result['now_issued'] == ['other'], issued
        assert Path(other['certificate']).read_bytes() == (host.lineage(other) / 'fullchain.pem').read_bytes()
        # Nothing changed for the refused one.
        assert serial(handshake(site)) == before == first['sites'][0]['serial']
        assert {path: Path(path).read_bytes() for path in files} == files
        assert (host.lineage(site) / 'fullchain.pem').read_bytes() == fullchain

        # The timer's script says it on its standard error and exits with 1.
        done, before = refused_renewal(
            lambda: script(host, 'renew', '--settings', str(host.directory / 'lib' / 'settings.json'), '--force'), site)
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert done.stderr.startswith('websocket.nginx: site refused: certbot could not renew its certificate'), done.stderr
        assert 'Domain: %s' % site['names'][0] in done.stderr and done.stdout == '', done
        assert serial(handshake(site)) == before
        print(done.stderr)
    finally:
        acme_ca.dns('clear-a', host=site['names'][0])


def test_a_deploy_nginx_refuses_or_that_fails_its_check_puts_the_previous_files_back(host, acme_ca, pki):
    site = host.site('refusing')
    host.start([site])
    first = run_module(acme_certificate.main, host.args([site]))
    assert first['failed'] is False, first
    served = first['sites'][0]['serial']
    files = {path: (Path(path).read_bytes(), mode(path)) for path in (site['certificate'], site['certificate_key'])}
    workers = host.nginx.workers()
    # The lineage's key no longer matches its certificate.
    privkey = (host.lineage(site) / 'privkey.pem').resolve()
    genuine = privkey.read_bytes()
    privkey.write_bytes(Path(pki.other_key_path).read_bytes())

    result = run_module(acme_certificate.main, host.args([site]))

    assert result['failed'] is True and result['changed'] is False, result
    [report] = result['sites']
    assert report['failed'] is True and report['deployed'] is False, report
    assert report['msg'].startswith('nginx -t refused the new certificate of site refusing, the previous files are '
                                    'back: '), report['msg']
    assert 'key values mismatch' in report['msg'], report['msg']
    print(report['msg'])
    assert {path: (Path(path).read_bytes(), mode(path)) for path in files} == files
    assert host.nginx.workers() == workers and serial(handshake(site)) == served

    # A certificate nginx takes, but the check through nginx does not find (it asks the plain-HTTP port): the
    # previous files are back, and nginx reloaded with them.
    privkey.write_bytes(genuine)
    lineage = {'fullchain.pem': pki.renewed_cert_path, 'privkey.pem': pki.renewed_key_path}
    for name, source in lineage.items():
        (host.lineage(site) / name).resolve().write_bytes(Path(source).read_bytes())
    wrong = dict(site, check_address='%s:%d' % (LOOPBACK, host.nginx.port))

    result = run_module(acme_certificate.main, host.args([wrong]))

    assert result['failed'] is True, result
    message = result['sites'][0]['msg']
    assert message.startswith('the check through nginx failed after the new certificate of site refusing: a TLS '
                              'handshake with %s' % wrong['check_address']), message
    assert message.endswith('the previous files are back and nginx serves them again'), message
    print(message)
    assert {path: (Path(path).read_bytes(), mode(path)) for path in files} == files
    assert serial(handshake(site)) == served and host.nginx.workers() != workers


def test_check_mode_runs_nothing(host):
    site = host.site('checked')
    result = run_module(acme_certificate.main, host.args([site], install_dir=str(host.directory / 'lib')), check_mode=True)
    assert result['failed'] is False and result['changed'] is True, result
    [report] = result['sites']
    assert report['issued'] is True and report['deployed'] is True, report
    assert report['msg'].startswith('would issue a certificate for %s (certbot certonly): there is no certificate for '
                                    'it yet' % ', '.join(site['names'])), report
    assert len(result['installed']) == 3 and not (host.directory / 'lib').exists()
    assert not (host.directory / 'certbot').exists() and not host.tls_dir.exists()


# ---------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('change, message', [
    ({'names': ['-d.example.com']}, "names must be a non-empty list of lower-case host names with a dot"),
    ({'names': ['a.example.com', 'a.example.com']}, 'names must not repeat a name'),
    ({'name': '--server'}, "sites[0].name must be letters, digits"),
    ({'contact': 'a@example.com --server x'}, 'contact must be one email address'),
    ({'directory': 'http://acme.example.com/dir'}, 'directory must be an https:// URL'),
    ({'certificate': 'tls/a.crt'}, 'certificate must be a normalized absolute path'),
    ({'key_type': 'dsa'}, 'key_type must be one of ecdsa, rsa'),
    ({'check_address': '127.0.0.1'}, 'check_address must be host:port'),
])
def test_settings_are_checked_before_anything_runs(tmp_path, change, message):
    site = dict({'name': 'a', 'names': ['a.example.com'], 'contact': 'a@example.com',
                 'directory': 'https://acme.example.com/dir', 'certificate': '/etc/tls/a.crt',
                 'certificate_key': '/etc/tls/a.key'}, **change)
    settings = {'sites': [site], 'config_dir': str(tmp_path / 'config'), 'certbot': '/nonexistent/certbot'}
    # The renewal script's settings are checked as the module's (key_type's choices by ansible there).
    with pytest.raises(acme_certbot.AcmeError) as refused:
        acme_certbot.ensure(settings)
    assert refused.value.msg.startswith('invalid settings: ') and message in refused.value.msg, refused.value.msg
    result = run_module(acme_certificate.main, settings)
    assert result['failed'] is True and result.get('sites', []) == [], result
    assert not (tmp_path / 'config').exists()


def test_the_script_refuses_settings_it_cannot_use(tmp_path):
    directory = tmp_path / 'lib'
    directory.mkdir()
    for name, content in acme_certbot.own_sources().items():
        (directory / name).write_bytes(content)
    settings = tmp_path / 'settings.json'
    settings.write_text(json.dumps({'sites': [], 'config_dir': 'relative'}))
    env = dict((key, value) for key, value in os.environ.items() if not key.startswith('PYTHON'))
    command = [SYSTEM_PYTHON, str(directory / 'acme_certbot.py'), 'renew', '--settings']
    done = subprocess.run(command + [str(settings)], capture_output=True, text=True, env=env, timeout=30, check=False)
    assert done.returncode == 2 and 'config_dir must be a normalized absolute path' in done.stderr, done
    done = subprocess.run(command + [str(tmp_path / 'missing.json')], capture_output=True, text=True, env=env, timeout=30,
                          check=False)
    assert done.returncode == 2 and 'cannot read the settings' in done.stderr, done
    settings.write_text(json.dumps({'sites': []}))
    done = subprocess.run(command + [str(settings)], capture_output=True, text=True, env=env, timeout=30, check=False)
    assert done.returncode == 0 and 'no site gets its certificate from an ACME CA' in done.stdout, done
