# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Golden renderings of the roles' templates, each checked by the real ``nginx -t``.

Representative sites go through site_model.build and site.conf.j2; nginx.conf.j2
goes through server_models.build_nginx. Each result is compared with
``golden/<name>.conf`` (``UPDATE_GOLDEN=1`` rewrites them: review the diff) and
tested with ``nginx -t -c``. One ansible-playbook run renders the same models
with ansible.builtin.template, to show that the plain-Jinja rendering the tests
use (render_helpers) is byte for byte what the roles write.
"""

from __future__ import annotations

import copy
import difflib
import json
import os
import shutil
import subprocess
import sys

from pathlib import Path

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config
from ansible_collections.websocket.nginx.plugins.modules import role_host_info
from ansible_collections.websocket.nginx.plugins.plugin_utils import server_models, site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh
from ansible_collections.websocket.nginx.tests.unit.helpers import run_module

GOLDEN_DIR = Path(__file__).resolve().parent / 'golden'
UPDATE_GOLDEN = os.environ.get('UPDATE_GOLDEN') == '1'
NGINX_AVAILABLE = os.access(rh.NGINX, os.X_OK)
needs_nginx = pytest.mark.skipif(not NGINX_AVAILABLE, reason='needs %s (make test-tools)' % rh.NGINX)

# Each site listens on its own loopback ports, so that they can all be deployed together.
GOLDEN_SITES = {
    'minimal': {
        'name': 'minimal',
        'listen': ['127.0.0.1:18101'],
        'upstreams': [{'name': 'minimal_app', 'servers': [{'address': '127.0.0.1:18201'}]}],
        'websocket_locations': [{'path': '/ws/', 'upstream': 'minimal_app'}],
    },
    'balancing': {
        'name': 'balancing',
        'listen': [18102],
        'server_name': ['balancing.example.com'],
        'upstreams': [
            {'name': 'rr', 'keepalive': 0, 'servers': [
                {'address': '127.0.0.1:18211', 'weight': 3},
                {'address': '[::1]:18212', 'weight': 2, 'max_fails': 0, 'fail_timeout': '30s'},
                {'address': 'localhost:18213', 'down': True},
                {'address': '127.0.0.1:18214', 'backup': True},
            ]},
            {'name': 'lc', 'method': 'least_conn', 'keepalive': 8, 'servers': [
                {'address': '127.0.0.1:18221', 'max_fails': 3, 'fail_timeout': '1m30s'},
                {'address': 'unix:/run/wsn-render/lc.sock', 'backup': True},
            ]},
            {'name': 'iph', 'method': 'ip_hash', 'servers': [
                {'address': '127.0.0.1:18231'}, {'address': '127.0.0.1:18232', 'down': True},
            ]},
            {'name': 'hsh', 'method': 'hash', 'hash_key': '$request_uri', 'hash_consistent': True, 'servers': [
                {'address': '127.0.0.1:18241', 'weight': 5}, {'address': '127.0.0.1'},
            ]},
            {'name': 'rnd', 'method': 'random', 'keepalive': 1, 'servers': [
                {'address': '127.0.0.1:18251'}, {'address': '127.0.0.1:18252', 'weight': 10},
            ]},
        ],
        'websocket_locations': [
            {'path': '/rr/', 'upstream': 'rr'},
            {'path': '/lc/', 'upstream': 'lc', 'read_timeout': '1d', 'buffer_size': '4k', 'send_timeout': '12h', 'connect_timeout': '500ms',
             'next_upstream': 'error timeout http_502 http_503'},
            # In nginx's access log, not the session log.
            {'path': '/rnd/', 'upstream': 'rnd', 'next_upstream': 'off', 'session_log': False},
        ],
        'proxy_locations': [
            {'path': '/iph/', 'upstream': 'iph'},
            # A plain HTTP location in the session log.
            {'path': '/hsh/', 'upstream': 'hsh', 'read_timeout': '90s', 'connect_timeout': '2s',
             'next_upstream': 'error timeout non_idempotent', 'session_log': True},
        ],
    },
    'listeners': {
        'name': 'listeners',
        'listen': ['[::1]:18443 http2 backlog=511', '127.0.0.1:18443 reuseport',
                   '[::]:18103 ipv6only=on', 'unix:/tmp/wsn-render-listeners.sock', '127.0.0.1:18103 so_keepalive=on'],
        'default_server': True,
        'server_name': ['ws.example.com', '*.ws.example.com', 'ws.example.*', '.ws.example.org',
                        r'~^ws\d+\.example\.com$', 'localhost'],
        'upstreams': [{'name': 'listeners_app',
                       'servers': [{'address': '[2001:db8::10]:8765'}, {'address': '192.0.2.10:8765'}]}],
        'websocket_locations': [{'path': '/', 'upstream': 'listeners_app'}],
    },
    # TLS termination (Debian 12's nginx 1.22.1 / OpenSSL 3.0: the default build), wss upstream, Origin
    # allowlist, per-client limits. The /etc/wsn-render/ files are a test PKI's when nginx -t runs.
    'tls': {
        'name': 'tls',
        'listen': ['127.0.0.1:18106', '[::1]:18106 reuseport'],
        'server_name': ['tls.example.com'],
        'tls': {'certificate': '/etc/wsn-render/tls.crt', 'certificate_key': '/etc/wsn-render/tls.key', 'hsts': True,
                'hsts_include_subdomains': True, 'redirect_http': ['127.0.0.1:18107', '[::1]:18107']},
        'upstreams': [{'name': 'tls_app', 'tls': {'server_name': 'app.internal', 'ca_path': '/etc/wsn-render/ca.crt'},
                       'servers': [{'address': '127.0.0.1:18271', 'max_conns': 500}, {'address': '127.0.0.1:18272'}]}],
        'websocket_locations': [
            {'path': '/ws/', 'upstream': 'tls_app', 'allowed_origins': ['https://tls.example.com', 'HTTP://[::1]:18107'],
             'allow_missing_origin': False,
             'client_limits': {'connections': 10, 'rate': '5r/s', 'burst': 10, 'status': 503}},
            {'path': '/ws-open/', 'upstream': 'tls_app', 'allowed_origins': ['https://tls.example.com'],
             'client_limits': {'rate': '30r/m'}},
        ],
        'static_locations': [{'path': '/', 'root': '/srv/www/tls', 'cache_control': 'public'}],
    },
    # A certificate from ACME (tls.acme): rendered without certificate_sha1 (the host has none yet), the file
    # holds only the plain-HTTP server, with the HTTP-01 challenge location; test_acme_site_golden_once_issued
    # renders it as it is once the host has the certificate.
    'acme': {
        'name': 'acme',
        'listen': ['127.0.0.1:18108', '[::1]:18108'],
        'server_name': ['acme.example.com', 'www.acme.example.com', '_'],
        'tls': {'acme': {'contact': 'admin@example.com'}, 'hsts': True, 'redirect_http': ['127.0.0.1:80', '[::1]:80']},
        'upstreams': [{'name': 'acme_app', 'servers': [{'address': '127.0.0.1:18281'}]}],
        'websocket_locations': [{'path': '/ws/', 'upstream': 'acme_app'}],
        'static_locations': [{'path': '/', 'root': '/srv/www/acme'}],
    },
    'static': {
        'name': 'static',
        'listen': ['127.0.0.1:18104'],
        'server_name': ['static.example.com'],
        # cache_control with expires: one Cache-Control header, expires off (1h30m, max, epoch, -1, off).
        'static_locations': [
            {'path': '/', 'root': '/srv/www/static/', 'expires': '1h30m', 'cache_control': 'public'},
            {'path': '/assets/', 'alias': '/srv/assets', 'expires': 'max',
             'cache_control': 'public, immutable', 'index': ['index.html', 'index.htm']},
            {'path': '/downloads/', 'alias': '/srv/downloads/', 'expires': 'off', 'gzip': False, 'session_log': True},
            {'path': '/live/', 'root': '/srv/live', 'expires': 'off', 'cache_control': 'no-cache, max-age=0'},
            {'path': '/daily/', 'root': '/srv/daily', 'expires': '@15h30m'},
            {'path': '/modified/', 'root': '/srv/modified', 'expires': 'modified +1h'},
            {'path': '/never/', 'root': '/srv/never', 'expires': 'epoch'},
            {'path': '/private/', 'root': '/srv/private', 'expires': 'epoch', 'cache_control': 'private'},
            {'path': '/forever/', 'root': '/srv/forever', 'expires': 'max'},
            {'path': '/past/', 'root': '/srv/past', 'expires': '-1', 'cache_control': 'public'},
        ],
    },
    'extra_directives': {
        'name': 'extra_directives',
        'listen': ['127.0.0.1:18105'],
        'server_name': ['extra.example.com'],
        'upstreams': [{'name': 'extra_app', 'keepalive': 4, 'servers': [{'address': '127.0.0.1:18261'}]}],
        'websocket_locations': [{'path': '/ws/', 'upstream': 'extra_app'}],
        # Repeats the server's X-Frame-Options, not its X-Content-Type-Options (it sets its own).
        'static_locations': [{'path': '/files/', 'root': '/srv/extra'}],
        'extra_directives': [
            'client_max_body_size 10m;',
            'add_header X-Frame-Options "SAMEORIGIN" always;\nadd_header X-Content-Type-Options nosniff always;',
            # A block nested two levels deep, quotes, escapes, a variable and a comment.
            'location = /healthz {\n'
            '    access_log off;\n'
            '    default_type text/plain;\n'
            '    if ($request_method !~ ^(GET|HEAD)$) {\n'
            '        return 405;  # only GET and HEAD\n'
            '    }\n'
            '    return 200 "ok\\n";\n'
            '}',
        ],
    },
    'quoting': {
        'name': 'quoting',
        'listen': ['127.0.0.1:18106'],
        'server_name': ['quoting.example.com', r'~^(?<sub>[a-z]+)\.quoting\.example\.com$', ''],
        'upstreams': [{'name': 'quoting_app', 'method': 'hash', 'hash_key': '$cookie_user${arg_x}',
                       'hash_consistent': True,
                       'servers': [{'address': 'unix:/run/wsn render/app.sock'}, {'address': '127.0.0.1:18271'}]}],
        # "$" in a path: its session log set value names $websocket_proxy_dollar for each.
        'websocket_locations': [{'path': '/chat room/', 'upstream': 'quoting_app', 'read_timeout': '1h 30m'},
                                {'path': '/cost$/${x}/', 'upstream': 'quoting_app'}],
        'proxy_locations': [{'path': '/a;b{c}#d/', 'upstream': 'quoting_app', 'session_log': True},
                            {'path': '/it\'s "quoted"\\/', 'upstream': 'quoting_app'}],
        'static_locations': [
            {'path': '/my files/', 'alias': '/srv/my files', 'index': ['index page.html', "it's.html"]},
            {'path': '/caf\u00e9/', 'root': '/srv/caf\u00e9 \u2603', 'cache_control': "x-o'k, a=b"},
        ],
    },
}

NGINX_VARIANTS = {
    'defaults': {},
    'no-status': {'nginx_status_enabled': False},
    # The health server for external load balancers, on every IPv4 and IPv6 address and on a loopback one (nginx -t binds).
    'health': {'nginx_health_listen': ['8078', '[::]:8078', '127.0.0.1:8077'], 'nginx_health_path': '/lb/health'},
    'variant': {
        'nginx_user': 'www-data',
        'nginx_websocket_capacity': 800,
        'nginx_connections_per_websocket': 2,
        'nginx_worker_processes': 2,
        'nginx_worker_connections': 1024,
        'nginx_worker_rlimit_nofile': 4096,
        'nginx_worker_shutdown_timeout': '',
        'nginx_multi_accept': True,
        'nginx_keepalive_timeout': '75s',
        'nginx_server_tokens': True,
        'nginx_access_log': 'off',
        'nginx_error_log': 'stderr',
        'nginx_error_log_level': 'notice',
        'nginx_include_dir': '/etc/nginx/conf.d',
        'nginx_status_listen': '[::1]:9113',
        'nginx_status_path': '/nginx/status',
        'nginx_http_extra_directives': [
            'client_max_body_size 10m;',
            "log_format websocket '$remote_addr [$time_local] \"$request\" $status ${request_time}s';",
            'map $http_x_forwarded_proto $wsn_forwarded_proto {\n    default $scheme;\n    https https;\n}',
        ],
    },
}


def site_variables(*names):
    return {'websocket_proxy_sites': [copy.deepcopy(GOLDEN_SITES[name]) for name in names]}


def built_site(name):
    config = site_model.build(site_variables(name)).as_dict()
    assert len(config['sites']) == 1
    return config['sites'][0]


# The golden nginx.conf files are sized for a host like the test machines: 2 CPUs, a hard
# open-files limit of 20000.
GOLDEN_HOST = {'hard_nofile_limit': 20000, 'cpus': 2}


def nginx_model(name, host=None, **changes):
    host = host or GOLDEN_HOST
    variables = dict(NGINX_VARIANTS[name], **changes)
    return server_models.build_nginx(variables, host['hard_nofile_limit'], host['cpus']).as_dict()


def this_host():
    """What role_config reads on this machine (the Ansible run below renders for it), read the same way."""
    result = run_module(role_host_info.main, {'nofile_limit': True, 'cpus': True})
    assert not result['failed'], result
    return {'hard_nofile_limit': result['hard_nofile_limit'], 'cpus': result['cpus']}


def check_golden(filename, text):
    path = GOLDEN_DIR / filename
    if UPDATE_GOLDEN:
        GOLDEN_DIR.mkdir(exist_ok=True)
        path.write_bytes(text.encode('utf-8'))
        return
    assert path.exists(), '%s is missing: run the tests once with UPDATE_GOLDEN=1 and review it' % path
    expected = path.read_bytes().decode('utf-8')
    if text != expected:
        diff = ''.join(difflib.unified_diff(expected.splitlines(True), text.splitlines(True),
                                            'golden/' + filename, 'rendered'))
        pytest.fail('rendering differs from golden/%s (UPDATE_GOLDEN=1 rewrites it):\n%s' % (filename, diff))


def http_extra_for(pki):
    return rh.ssl_directives(pki)


TLS_RENDER_FILES = {'/etc/wsn-render/tls.crt': 'cert_path', '/etc/wsn-render/tls.key': 'key_path',
                    '/etc/wsn-render/ca.crt': 'ca_path',
                    # Where the ACME site's certificate is put (websocket_proxy_tls_dir, the site's name).
                    '/etc/nginx/websocket-proxy-tls/acme.crt': 'cert_path',
                    '/etc/nginx/websocket-proxy-tls/acme.key': 'key_path'}
ACME_CERTIFICATE = '/etc/nginx/websocket-proxy-tls/acme.crt'


def with_pki(text, pki):
    """A rendering with the golden sites' certificate paths pointing at the test PKI, for nginx -t."""
    for path, attribute in TLS_RENDER_FILES.items():
        text = text.replace(path, getattr(pki, attribute))
    return text


# ---------------------------------------------------------------------------
# Sites
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(GOLDEN_SITES))
def test_site_golden(name, tmp_path, pki):
    site = built_site(name)
    text = rh.render_site(site)
    assert_blocks(site, text)
    check_golden('site-%s.conf' % name, text)
    if NGINX_AVAILABLE:
        rh.assert_nginx_accepts(rh.nginx_t({'map': rh.render_upgrade_map(), name: with_pki(text, pki)}, tmp_path,
                                           http_extra_for(pki)))


def assert_blocks(site, text):
    """Whatever the values hold, the rendered file parses into the origin maps, limit zones, upstreams, the
    server block and the redirect server; only the redirect server for an ACME site still without its certificate."""
    top = [(d.name, d.args[:1]) for d in nginx_config.parse(text)]
    pending = bool(site['tls'] and site['tls']['acme_pending'])
    assert top == ([('map', ['$http_origin'])] * len(site['origin_maps'])
                   + [(zone['directive'], ['$binary_remote_addr']) for zone in site['limit_zones']]
                   + [('upstream', [u['name']]) for u in site['upstreams']]
                   + [('log_format', [site['session_log_format']])] * bool(site['session_log_format'])
                   + [('server', [])]) * (not pending) + [('server', [])] * bool(site['tls'] and site['tls']['redirect_listen'])


def test_acme_site_golden_once_issued(tmp_path, pki):
    """The ACME site once the host has its certificate: the TLS server too, and no checksum in the file."""
    config = site_model.build(site_variables('acme'), certificate_sha1={ACME_CERTIFICATE: 'a' * 40}).as_dict()
    (site,) = config['sites']
    assert site['tls']['acme_pending'] is False
    text = rh.render_site(site)
    assert_blocks(site, text)
    check_golden('site-acme-issued.conf', text)
    pending = rh.render_site(built_site('acme'))
    # The plain-HTTP server is the same in both.
    assert rh.parse_tree(text)[-1] == rh.parse_tree(pending)[-1]
    if NGINX_AVAILABLE:
        rh.assert_nginx_accepts(rh.nginx_t({'map': rh.render_upgrade_map(), 'acme': with_pki(text, pki)}, tmp_path))


def test_tls_site_for_each_debian_nginx():
    """Mozilla intermediate written the way each nginx takes it: Debian 12 (nginx 1.22.1, OpenSSL 3.0) and
    Debian 13 (nginx 1.26.3, OpenSSL 3.5)."""
    def server(build):
        text = rh.render_site(site_model.build(site_variables('tls'), nginx_build=build).as_dict()['sites'][0])
        return nginx_config.parse(text)[-2]

    def directives(node, name):
        return [d.args for d in node.children if d.name == name]

    bookworm = server(((1, 22, 1), (3, 0, 17)))
    assert directives(bookworm, 'listen') == [['127.0.0.1:18106', 'ssl', 'http2', 'reuseport'],
                                              ['[::1]:18106', 'reuseport', 'ssl', 'http2']]
    assert directives(bookworm, 'http2') == []
    assert directives(bookworm, 'ssl_session_tickets') == [['off']]
    assert directives(bookworm, 'ssl_ecdh_curve') == [['X25519:prime256v1:secp384r1']]
    trixie = server(((1, 26, 3), (3, 5, 1)))
    assert directives(trixie, 'listen') == [['127.0.0.1:18106', 'ssl', 'reuseport'], ['[::1]:18106', 'reuseport', 'ssl']]
    assert directives(trixie, 'http2') == [['on']]
    assert directives(trixie, 'ssl_session_tickets') == []
    assert directives(trixie, 'ssl_ecdh_curve') == [['X25519MLKEM768:X25519:prime256v1:secp384r1']]
    for node in (bookworm, trixie):
        assert directives(node, 'ssl_protocols') == [['TLSv1.2', 'TLSv1.3']]
        assert directives(node, 'ssl_ciphers') == [[':'.join(site_model.TLS_CIPHERS)]]
        assert directives(node, 'ssl_session_cache') == [['shared:MozSSL:10m']]
        assert directives(node, 'add_header') == [['Strict-Transport-Security', 'max-age=63072000; includeSubDomains',
                                                   'always']]


def test_upgrade_map_golden(tmp_path):
    text = rh.render_upgrade_map()
    check_golden('upgrade-map.conf', text)
    if NGINX_AVAILABLE:
        rh.assert_nginx_accepts(rh.nginx_t({'map': text}, tmp_path))


@needs_nginx
def test_all_golden_sites_together(tmp_path, pki):
    """The sites are one valid deployment: one model, one nginx, no clash between them."""
    config = site_model.build(site_variables(*GOLDEN_SITES)).as_dict()
    files = {'map': rh.render_upgrade_map()}
    files.update((site['name'], with_pki(rh.render_site(site), pki)) for site in config['sites'])
    for site in config['sites']:
        # Alone or together, the same file, but for reuseport, which goes on one listen per address.
        alone = with_pki(rh.render_site(built_site(site['name'])), pki)
        assert files[site['name']].replace(' reuseport', '') == alone.replace(' reuseport', '')
    listens = [d.args for site in config['sites'] for d in nginx_config.parse(files[site['name']]) if d.name == 'server'
               for d in d.children if d.name == 'listen']
    with_reuseport = sorted(args[0] for args in listens if 'reuseport' in args)
    assert with_reuseport == sorted({args[0] for args in listens if not args[0].startswith('unix:')})
    rh.assert_nginx_accepts(rh.nginx_t(files, tmp_path, http_extra_for(pki)))


def test_golden_values_reach_the_config_as_given():
    """Spot checks that the values needing quotes were written as one argument each."""
    directives = nginx_config.parse(rh.render_site(built_site('quoting')))
    server = directives[-1]
    locations = [d.args for d in server.children if d.name == 'location']
    assert ['/chat room/'] in locations
    assert ['/a;b{c}#d/'] in locations
    assert ['/it\'s "quoted"\\/'] in locations
    assert ['/my files/'] in locations
    # The session log's set values are scripts: each "$" of a path is $websocket_proxy_dollar, braced.
    sets = {tuple(d.args[:1]): [s.args for s in d.children if s.name == 'set'] for d in server.children
            if d.name == 'location'}
    assert sets[('/cost$/${x}/',)] == [['$websocket_proxy_session_site', 'quoting'], [
        '$websocket_proxy_session_location', '/cost${websocket_proxy_dollar}/${websocket_proxy_dollar}{x}/']]
    assert sets[('/a;b{c}#d/',)] == [['$websocket_proxy_session_site', 'quoting'],
                                     ['$websocket_proxy_session_location', '/a;b{c}#d/']]
    assert sets[('/my files/',)] == []  # static: nginx's access log
    assert next(d.args for d in server.children if d.name == 'server_name') == [
        'quoting.example.com', r'~^(?<sub>[a-z]+)\.quoting\.example\.com$', '']
    upstream = directives[0]
    assert next(d.args for d in upstream.children if d.name == 'hash') == ['$cookie_user${arg_x}', 'consistent']
    assert next(d.args for d in upstream.children if d.name == 'server')[0] == 'unix:/run/wsn render/app.sock'


# ---------------------------------------------------------------------------
# nginx.conf
# ---------------------------------------------------------------------------

@pytest.mark.parametrize('name', sorted(NGINX_VARIANTS))
def test_nginx_conf_golden(name, tmp_path):
    text = rh.render_nginx_conf(nginx_model(name))
    check_golden('nginx-%s.conf' % name, text)
    if NGINX_AVAILABLE:
        path = tmp_path / 'nginx.conf'
        path.write_text(text, encoding='utf-8')
        rh.assert_nginx_accepts(rh.nginx_t_file(path))


@needs_nginx
def test_nginx_conf_with_every_golden_site(tmp_path, pki):
    """nginx.conf including a directory with the upgrade map and every golden site, as deployed."""
    include_dir = tmp_path / 'conf.d'
    include_dir.mkdir()
    (include_dir / '00-certificate.conf').write_text('\n'.join(rh.ssl_directives(pki)) + '\n', encoding='utf-8')
    (include_dir / 'websocket-proxy-upgrade-map.conf').write_text(rh.render_upgrade_map(), encoding='utf-8')
    config = site_model.build(site_variables(*GOLDEN_SITES)).as_dict()
    for site in config['sites']:
        text = with_pki(rh.render_site(site), pki)
        (include_dir / ('websocket-proxy-%s.conf' % site['name'])).write_text(text, encoding='utf-8')
    for name in NGINX_VARIANTS:
        path = tmp_path / ('nginx-%s.conf' % name)
        path.write_text(rh.render_nginx_conf(nginx_model(name, nginx_include_dir=str(include_dir))), encoding='utf-8')
        rh.assert_nginx_accepts(rh.nginx_t_file(path))


# ---------------------------------------------------------------------------
# The same rendering through Ansible
# ---------------------------------------------------------------------------

def _ansible_playbook():
    """role_config builds each model as the roles do; the template lookup renders the role templates.

    The lookup runs the same templating engine with the same options as ansible.builtin.template
    (trim_blocks, no backslash escaping, trailing newlines kept) on the controller, so nothing but
    role_config's reading of /proc/1/limits runs as a module: one run stays within a few seconds. The
    json stdout callback returns the texts.
    """
    def lookup(path):
        return "lookup('ansible.builtin.template', %s)" % json.dumps(str(path))

    def add(key, path):
        return '{{ rendered | default({}) | combine({%s: %s}) }}' % (key, lookup(path))

    tasks = [
        {'name': 'Site model', 'websocket.nginx.role_config': {'role': 'websocket_proxy'},
         'register': 'websocket_proxy_model'},
        {'name': 'Sites', 'ansible.builtin.set_fact': {
            'rendered': add("'site-' ~ site.name ~ '.conf'", rh.PROXY_TEMPLATES / 'site.conf.j2')},
         'loop': '{{ websocket_proxy_model.config.sites }}', 'loop_control': {'loop_var': 'site'}},
        {'name': 'Upgrade map', 'ansible.builtin.set_fact': {
            'rendered': add("'upgrade-map.conf'", rh.PROXY_TEMPLATES / 'upgrade_map.conf.j2')}},
    ]
    for name, variables in sorted(NGINX_VARIANTS.items()):
        tasks += [
            {'name': 'nginx model %s' % name, 'websocket.nginx.role_config': {'role': 'nginx'},
             'vars': variables, 'register': 'nginx_model'},
            {'name': 'nginx.conf %s' % name, 'ansible.builtin.set_fact': {
                'rendered': add("'nginx-%s.conf'" % name, rh.NGINX_TEMPLATES / 'nginx.conf.j2')}},
        ]
    tasks.append({'name': 'Show what was rendered', 'ansible.builtin.debug': {'var': 'rendered'}})
    return [{'name': 'Render the role templates from the models, as the roles do', 'hosts': 'localhost',
             'gather_facts': False, 'vars_files': ['vars.json'], 'tasks': tasks}]


def _no_jinja(value):
    """Values from vars files are templated by Ansible; the golden data must not look like Jinja."""
    if isinstance(value, str):
        return not any(marker in value for marker in ('{{', '{%', '{#'))
    if isinstance(value, dict):
        return all(_no_jinja(item) for item in value.values())
    if isinstance(value, list):
        return all(_no_jinja(item) for item in value)
    return True


def test_plain_jinja_rendering_is_what_ansible_writes(tmp_path, module_env):
    """One ansible-playbook run: role_config + Ansible's templating give the same text as render_helpers."""
    variables = site_variables(*GOLDEN_SITES)
    assert _no_jinja(variables) and _no_jinja(NGINX_VARIANTS)
    (tmp_path / 'vars.json').write_text(json.dumps(variables), encoding='utf-8')
    (tmp_path / 'playbook.yml').write_text(json.dumps(_ansible_playbook(), indent=1), encoding='utf-8')
    env = {key: value for key, value in module_env.items() if key not in ('ANSIBLE_CONFIG',)}
    venv_bin = str(Path(sys.executable).parent)
    # Only the one next to this Python: ansible-test units puts a stand-in on PATH that cannot run plays.
    playbook = shutil.which('ansible-playbook', path=venv_bin)
    if playbook is None:
        pytest.skip('ansible-playbook is not installed next to %s (ansible-test units)' % sys.executable)
    env.update(
        PATH=os.pathsep.join([venv_bin, env.get('PATH', '')]),
        ANSIBLE_HOME=str(tmp_path / 'ansible-home'),
        ANSIBLE_LOCAL_TEMP=str(tmp_path / 'ansible-local'),
        ANSIBLE_REMOTE_TEMP=str(tmp_path / 'ansible-remote'),
        ANSIBLE_STDOUT_CALLBACK='ansible.builtin.json', ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', ANSIBLE_RETRY_FILES_ENABLED='0',
        ANSIBLE_LOCALHOST_WARNING='0', ANSIBLE_INVENTORY_UNPARSED_WARNING='0', ANSIBLE_DEPRECATION_WARNINGS='0',
    )
    result = subprocess.run(
        [playbook, '-i', 'localhost,', '-c', 'local',
         '-e', 'ansible_python_interpreter=%s' % sys.executable, 'playbook.yml'],
        cwd=str(tmp_path), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300,
        check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    tasks = json.loads(result.stdout)['plays'][0]['tasks']
    assert tasks[-1]['task']['name'] == 'Show what was rendered'
    rendered = tasks[-1]['hosts']['localhost']['rendered']

    # The TLS site is written for the nginx on this machine (nginx -V), or its Debian release's, with the
    # checksum of its certificate (not on this machine): what role_config read in its one module call. The
    # ACME site's certificate is not on this machine either: it is written pending.
    host = tasks[0]['hosts']['localhost']['host']
    assert host['certificate_sha1'] == {ACME_CERTIFICATE: None, '/etc/wsn-render/tls.crt': None}
    nginx_build = tuple(tuple(part) if part else None for part in host['nginx_build']) if host['nginx_build'] else None
    config = site_model.build(variables, nginx_build=nginx_build).as_dict()
    expected = {'site-%s.conf' % site['name']: rh.render_site(site) for site in config['sites']}
    expected['upgrade-map.conf'] = rh.render_upgrade_map()
    for name in NGINX_VARIANTS:
        expected['nginx-%s.conf' % name] = rh.render_nginx_conf(nginx_model(name, this_host()))
    assert sorted(rendered) == sorted(expected)
    for filename, text in sorted(expected.items()):
        written = rendered[filename]
        assert written == text, 'Ansible rendered %s differently:\n%s' % (filename, ''.join(
            difflib.unified_diff(text.splitlines(True), written.splitlines(True), 'render_helpers', 'ansible')))


def test_a_renewed_certificate_on_the_host_changes_the_site_file():
    """The checksum of a certificate already on the host is written in its site file: when certbot (or
    anyone) renews it, the file changes, so the role tests, reloads and checks as for any change."""
    def rendered(sums):
        config = site_model.build(site_variables('tls'), certificate_sha1=sums).as_dict()
        return rh.render_site(config['sites'][0])

    before = rendered({'/etc/wsn-render/tls.crt': 'a' * 40})
    renewed = rendered({'/etc/wsn-render/tls.crt': 'b' * 40})
    assert '# ' + 'a' * 40 + '\n' in before and '# ' + 'b' * 40 + '\n' in renewed
    # Only that comment differs: the configuration nginx reads is the same.
    assert rh.parse_tree(before) == rh.parse_tree(renewed)
    assert [line for line in before.splitlines() if 'a' * 40 not in line] == [
        line for line in renewed.splitlines() if 'b' * 40 not in line]
    assert '# "not on the host"\n' in rendered({})


def test_a_renewed_acme_certificate_leaves_the_site_file_as_it_is():
    """The renewal on the host reloads nginx itself: the site file has no checksum to change, and the role
    does not reload for a renewal it did not make."""
    def rendered(sums):
        return rh.render_site(site_model.build(site_variables('acme'), certificate_sha1=sums).as_dict()['sites'][0])

    before = rendered({ACME_CERTIFICATE: 'a' * 40})
    assert rendered({ACME_CERTIFICATE: 'b' * 40}) == before
    assert 'a' * 40 not in before
    assert '# Certificate from an ACME server (certbot on the host), renewed on the host, which reloads nginx itself.\n' in before
    assert 'Not on the host yet' in rendered({}) and 'Not on the host yet' not in before
