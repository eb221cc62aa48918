# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""What the models accept, nginx must accept, with the structure that was meant.

Edge values of single fields, each built with the model, rendered and given to the
real ``nginx -t``. The bugs the property tests found are pinned here with the
smallest input, as regression tests.
"""

from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config
from ansible_collections.websocket.nginx.plugins.modules import role_host_info
from ansible_collections.websocket.nginx.plugins.plugin_utils import role_spec, server_models, site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh

needs_nginx = pytest.mark.skipif(not os.access(rh.NGINX, os.X_OK), reason='needs %s (make test-tools)' % rh.NGINX)


def site(**changes):
    value = {
        'name': 'edge',
        'listen': ['127.0.0.1:18090'],
        'server_name': ['edge.example.com'],
        'upstreams': [{'name': 'edge_app', 'servers': [{'address': '127.0.0.1:18091'}]}],
        'websocket_locations': [{'path': '/ws/', 'upstream': 'edge_app'}],
        'static_locations': [{'path': '/', 'root': '/srv/www'}],
    }
    value.update(changes)
    return value


def build_site(**changes):
    return site_model.build({'websocket_proxy_sites': [site(**changes)]}).as_dict()['sites'][0]


def render_and_test(site_dict, tmp_path):
    text = rh.render_site(site_dict)
    result = rh.nginx_t({'map': rh.render_upgrade_map(), 'site': text}, tmp_path)
    return text, result


def server_directive(text):
    upstream = nginx_config.parse(text)[0]
    return next(d for d in upstream.children if d.name == 'server')


def build_or_skip(**changes):
    """The built site, or None when the model refuses the value (always an acceptable answer here)."""
    try:
        return build_site(**changes)
    except role_spec.ModelError as exc:
        assert exc.errors and all(isinstance(error, str) and error for error in exc.errors)
        return None


@needs_nginx
@pytest.mark.parametrize('field, value', [
    # "y" and "M" are refused by ngx_parse_time for millisecond directives: the model must refuse them too.
    (field, value)
    for field in ('read_timeout', 'send_timeout', 'connect_timeout')
    for value in ('500ms', '1h 30m', '2d12h', '52w', '1000d', '1M', '1y', '1y 2d', '90', '1h30')
])
def test_proxy_times_the_model_accepts_nginx_accepts(field, value, tmp_path):
    built = build_or_skip(websocket_locations=[{'path': '/ws/', 'upstream': 'edge_app', field: value}])
    if built is not None:
        rh.assert_nginx_accepts(render_and_test(built, tmp_path)[1])


@needs_nginx
@pytest.mark.parametrize('value', [
    '1h30m', '1h 30m', 'modified +1h', 'modified -1h', '@15h30m', '@1d', '@24h', '-1', '+1y', '68y', 'epoch', 'max',
    '0', '1M', 'modified  +1h', '@ 1h',
    '@25h', '@1d1s', 'modified @1h',
])
def test_expires_the_model_accepts_nginx_accepts(value, tmp_path):
    built = build_or_skip(static_locations=[{'path': '/', 'root': '/srv/www', 'expires': value}])
    if built is not None:
        rh.assert_nginx_accepts(render_and_test(built, tmp_path)[1])


@needs_nginx
@pytest.mark.parametrize('webroot', ['/var/lib/websocket-nginx/acme-challenge', '/srv/a b', '/srv/caf\u00e9;#{}',
                                     '/srv/it\'s "x"\\'])
def test_acme_sites_the_model_accepts_nginx_accepts(webroot, tmp_path, pki):
    """An ACME site before and after the host has its certificate, as role_config learns it: host_needs names the
    file, role_host_info reads its SHA-1 (none while missing). Pending, nginx -t needs no certificate; issued, it
    loads the one in websocket_proxy_tls_dir."""
    tls_dir = tmp_path / 'tls'
    tls_dir.mkdir()
    variables = {'websocket_proxy_tls_dir': str(tls_dir), 'websocket_proxy_acme_webroot': webroot, 'websocket_proxy_sites': [
        site(listen=['127.0.0.1:18090', '[::1]:18090'],
             tls={'acme': {'contact': 'admin@example.com'}, 'redirect_http': ['127.0.0.1:80']})]}
    for state in ('pending', 'issued'):
        if state == 'issued':
            shutil.copyfile(pki.cert_path, tls_dir / 'edge.crt')
            shutil.copyfile(pki.key_path, tls_dir / 'edge.key')
        needs = site_model.host_needs(variables)
        assert needs['certificates'] == [str(tls_dir / 'edge.crt')]
        sums = {path: role_host_info.sha1_of(path) for path in needs['certificates']}
        built = site_model.build(variables, certificate_sha1=sums).as_dict()['sites'][0]
        assert built['tls']['acme_pending'] is (state == 'pending')
        (tmp_path / state).mkdir()
        text, result = render_and_test(built, tmp_path / state)
        rh.assert_nginx_accepts(result)
        servers = [d for d in nginx_config.parse(text) if d.name == 'server']
        assert len(servers) == (1 if state == 'pending' else 2)
        challenge = next(d for d in servers[-1].children if d.name == 'location' and d.args[0] == '^~')
        assert challenge.args == ['^~', '/.well-known/acme-challenge/']
        assert [(d.name, d.args) for d in challenge.children] == [('root', [webroot]), ('default_type', ['text/plain'])]


@pytest.mark.parametrize('value', ['10s', '1m30s', '0', '1m 30s'])
def test_fail_timeout_is_one_argument(value, tmp_path):
    server = {'address': '127.0.0.1:18091', 'fail_timeout': value}
    built = build_site(upstreams=[{'name': 'edge_app', 'servers': [server]}])
    text = rh.render_site(built)
    assert server_directive(text).args == ['127.0.0.1:18091', 'weight=1', 'max_fails=1', 'fail_timeout=' + value]
    if os.access(rh.NGINX, os.X_OK):
        rh.assert_nginx_accepts(rh.nginx_t({'map': rh.render_upgrade_map(), 'site': text}, tmp_path))


@pytest.mark.parametrize('separator', ['\n', '\t', '\r\n', '\x0b', '\x1c', '\x85', '\u2028'], ids=repr)
def test_cache_control_with_other_whitespace_is_refused(separator):
    """Control characters would only fail later, in nginx_arg; the model refuses them first."""
    location = {'path': '/', 'root': '/srv/www', 'expires': 'off', 'cache_control': 'no-cache,%smax-age=0' % separator}
    built = build_or_skip(static_locations=[location])
    if built is not None:
        rh.render_site(built)


@pytest.mark.parametrize('separator', [' ', '  ', ''])
def test_cache_control_with_spaces_renders(separator):
    built = build_site(static_locations=[{'path': '/', 'root': '/srv/www', 'expires': 'off',
                                          'cache_control': 'no-cache,%smax-age=0' % separator}])
    server = nginx_config.parse(rh.render_site(built))[-1]
    location = next(d for d in server.children if d.name == 'location' and d.args == ['/'])
    assert [d.args for d in location.children if d.name == 'add_header'] == [
        ['Cache-Control', 'no-cache,%smax-age=0' % separator], ['X-Content-Type-Options', 'nosniff', 'always']]


# As checked: one directive named "\x0c#" with a quoted argument. As stored (str.strip() removed the
# form feed): a comment, then "}" that closes the server block, and "server {" that opens a new one
# for the rest of the site (its locations), listening on the default *:80.
BLOCK_ESCAPE = '\x0c# "\n} server {\n#" ;'


def test_extra_directives_cannot_close_the_server_block():
    try:
        built = build_site(extra_directives=[BLOCK_ESCAPE])
    except role_spec.ModelError:
        return
    directives = nginx_config.parse(rh.render_site(built))
    assert [d.name for d in directives] == ['upstream', 'log_format', 'server']


def test_http_extra_directives_cannot_close_the_http_block():
    try:
        config = server_models.build_nginx({'nginx_http_extra_directives': ['\x0c# "\n}\nhttp {\n#" ;']}, None)
    except role_spec.ModelError:
        return
    directives = nginx_config.parse(rh.render_nginx_conf(config.as_dict()))
    assert [d.name for d in directives if d.children is not None] == ['events', 'http']


@needs_nginx
def test_the_block_escape_without_its_form_feed_would_be_accepted_by_nginx(tmp_path):
    """Why the model keeps exactly the text it checked: stripped, the escape closes the server block and nginx
    takes it without complaint. (The model refuses the form feed itself too.)"""
    with pytest.raises(role_spec.ModelError, match='control characters other than newline'):
        build_site(extra_directives=[BLOCK_ESCAPE])
    built = build_site()
    built['extra_directives'] = [BLOCK_ESCAPE.strip()]
    text, result = render_and_test(built, tmp_path)
    rh.assert_nginx_accepts(result)
    directives = nginx_config.parse(text)
    assert [d.name for d in directives] == ['upstream', 'log_format', 'server', 'server']  # the site's own block is cut short
    assert [d.name for d in directives[2].children] == ['listen', 'server_name']


@pytest.mark.parametrize('text', ['client_max_body_size 1m;\n', '  gzip off;  ', '\tetag off;'])
def test_extra_directives_lose_only_nginx_whitespace(text):
    built = build_site(extra_directives=[text])
    directives = nginx_config.parse(rh.render_site(built))
    assert [d.name for d in directives] == ['upstream', 'log_format', 'server']
    assert text.strip(' \t\r\n') in built['extra_directives']


@pytest.mark.parametrize('which', ['site', 'nginx'])
def test_header_comment_ends_its_line(which):
    if which == 'site':
        text = rh.render_site(build_site())
    else:
        text = rh.render_nginx_conf(server_models.build_nginx({}, None).as_dict())
    assert text.splitlines()[:3] == ['#', '# ' + rh.ANSIBLE_MANAGED, '#']
