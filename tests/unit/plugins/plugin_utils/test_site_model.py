# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The websocket_proxy site model: one good site, and every way to get it wrong.

``GOOD_SITE`` builds; each case of ``BAD`` changes one thing and must be refused
with exactly one message (the exact text, or ``Contains(...)`` for messages that
ansible-core words).
"""

from __future__ import annotations

import copy
import json
import math
import os
import re

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config as nc
from ansible_collections.websocket.nginx.plugins.modules import upstream_health
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values as nv
from ansible_collections.websocket.nginx.plugins.plugin_utils import role_spec, site_model
from ansible_collections.websocket.nginx.plugins.plugin_utils.role_spec import ModelError
from ansible_collections.websocket.nginx.tests.unit.helpers import ansible_wording


class Contains(str):
    """An expected message given by a distinctive part (ansible-core's own wording may change)."""


HOSTILE = ('$remote_addr; } server { listen 81; location / { alias /etc/; autoindex on; } } '
           'upstream x { hash $remote_addr')

GOOD_SITE = {
    'name': 'demo',
    'upstreams': [{'name': 'echo', 'servers': [{'address': '127.0.0.1:8765'}]}],
    'websocket_locations': [{'path': '/ws/', 'upstream': 'echo'}],
    'static_locations': [{'path': '/', 'root': '/var/www/demo'}],
}


HEALTH = 'site "demo", upstream "echo", health_check: '
TLS = 'site "demo", tls: '
WS = 'site "demo", location "/ws/": '
LIMITS = 'site "demo", location "/ws/", client_limits: '
UPSTREAM_TLS = 'site "demo", upstream "echo", tls: '
ORIGIN = WS + ('allowed_origins item must be scheme://host or scheme://host:port with scheme http or https and no '
               'path, such as https://app.example.com, got %s')
TLS_FILES = {'certificate': '/etc/ssl/demo.pem', 'certificate_key': '/etc/ssl/private/demo.key'}
LOCATION_CHECK = 'site "demo", location "/ws/", check: '
ACME = 'site "demo", tls, acme: '
ACME_CONTACT = ACME + ('contact must be one email address such as admin@example.com (no "mailto:", spaces, commas or '
                       'control characters), got %s')
ACME_NAME = ACME + 'names item %s is not a host name such as chat.example.com (with a dot; an IP address is not one here)'
ACME_WILDCARD = ACME + ('names item %s is a wildcard name, which the HTTP-01 challenge cannot prove (wildcard certificates '
                        'need DNS-01): list each host name')
ACME_DIRECTORY = ACME + ('directory %s is not an https:// URL with a host: RFC 8555 directories are https:// URLs, such as '
                         'https://acme-v02.api.letsencrypt.org/directory')
ACME_CALENDAR = ('websocket_proxy_acme_renew_calendar must be a systemd calendar expression (OnCalendar=) such as daily or '
                 '"*-*-* 03,15:27:00": letters, digits, spaces and *-:,./~ only, got %s')
# Where an ACME site's certificate and key are (websocket_proxy_tls_dir, the site's name).
ACME_CERTIFICATE = '/etc/nginx/websocket-proxy-tls/demo.crt'
ACME_KEY = '/etc/nginx/websocket-proxy-tls/demo.key'


def site(**changes):
    return [{**copy.deepcopy(GOOD_SITE), **changes}]


def other_site(**changes):
    """A second good site that clashes with GOOD_SITE in nothing."""
    return [{
        'name': 'other',
        'server_name': ['other.test'],
        'upstreams': [{'name': 'other', 'servers': [{'address': '127.0.0.1:9000'}]}],
        'websocket_locations': [{'path': '/ws/', 'upstream': 'other'}],
        **changes,
    }]


def upstream(**changes):
    return [{**copy.deepcopy(GOOD_SITE['upstreams'][0]), **changes}]


def servers(*items):
    return upstream(servers=list(items))


def static(**changes):
    return [{'path': '/', 'root': '/var/www/demo', **changes}]


def ws_location(**changes):
    return [{'path': '/ws/', 'upstream': 'echo', **changes}]


def sites(*lists):
    return {'websocket_proxy_sites': [item for items in lists for item in items]}


def acme_site(acme=None, **tls):
    """GOOD_SITE with its certificate from ACME: TLS on 443, the HTTP-01 challenge on port 80."""
    return site(listen=[443], server_name=['chat.example.com'],
                tls={'acme': {'contact': 'admin@example.com', **(acme or {})}, 'redirect_http': [80], **tls})


def build(variables, hostvars=None, groups=None):
    return site_model.build(variables, hostvars=hostvars, groups=groups)


def errors_of(variables, hostvars=None, groups=None):
    with pytest.raises(ModelError) as exc:
        build(variables, hostvars, groups)
    return exc.value.errors


# ---------------------------------------------------------------------------
# The good site
# ---------------------------------------------------------------------------

def test_good_site_builds():
    config = build(sites(site()))
    assert config.config_dir == '/etc/nginx/conf.d'
    assert config.map_file == '/etc/nginx/conf.d/websocket-proxy-upgrade-map.conf'
    assert config.removed_sites == []
    (demo,) = config.sites
    assert demo.file == '/etc/nginx/conf.d/websocket-proxy-demo.conf'
    assert [(item.key, item.address, item.params) for item in demo.listen] == [('*:80', '80', ['reuseport'])]
    assert demo.server_name == ['_']
    (echo,) = demo.upstreams
    assert (echo.name, echo.method, echo.hash_key, echo.keepalive) == ('echo', 'round_robin', None, 16)
    assert [(s.address, s.weight, s.max_fails, s.fail_timeout, s.backup, s.down) for s in echo.servers] == [
        ('127.0.0.1:8765', 1, 1, '10s', False, False)]
    (ws,) = demo.websocket_locations
    assert (ws.path, ws.upstream, ws.read_timeout, ws.send_timeout, ws.connect_timeout, ws.next_upstream,
            ws.buffer_size) == ('/ws/', 'echo', '3600s', '3600s', '5s', ['error', 'timeout'], '1k')
    (files,) = demo.static_locations
    assert (files.path, files.root, files.alias, files.index, files.expires) == (
        '/', '/var/www/demo', None, ['index.html'], ['1h'])
    assert [(u.upstream, u.servers) for u in config.upstream_checks] == [('echo', ['127.0.0.1:8765'])]
    assert [(c.site, c.path, c.address, c.host_header) for c in config.proxy_checks] == [
        ('demo', '/ws/', '127.0.0.1:80', None)]
    assert config.as_dict()['sites'][0]['upstreams'][0]['servers'][0]['address'] == '127.0.0.1:8765'


def test_no_sites_builds():
    config = build({})
    assert (config.sites, config.removed_sites, config.upstream_checks, config.proxy_checks) == ([], [], [], [])


# ---------------------------------------------------------------------------
# Every bad input: exactly one message each
# ---------------------------------------------------------------------------

SERVER_NAME = ('site "demo": server_name %s must be a host name such as example.com, *.example.com, example.*, "_" '
               'or a regex starting with "~"')
CONTROL = 'must not contain control characters (newline, tab, NUL, ...), got %s'
NOT_NORMAL = 'must be a normalized path without ".", ".." or "//", got %s'
STATIC = 'site "demo", static location "/": '
FILES = 'site "demo", static location "/files/": '
UPSTREAM = 'site "demo", upstream "echo": '
CONDITIONS = ('error, timeout, invalid_header, http_500, http_502, http_503, http_504, http_403, http_404, '
              'http_429, non_idempotent, off')
LISTEN_PARAMS = ('ssl, http2, quic, proxy_protocol, reuseport, deferred, bind, or backlog=..., rcvbuf=..., '
                 'sndbuf=..., ipv6only=..., so_keepalive=..., fastopen=..., setfib=..., accept_filter=value')
TIME = 'must be an nginx time such as 500ms, 60s, 5m or 1h30m, got %s'
TIME_S = 'must be an nginx time such as 60s, 5m or 1h30m, got %s'
SESSION_FILE = 'websocket_proxy_session_log_file '
BACKENDS = {'websocket_backends': ['backend-1']}

BAD = [
    # -- hostile values where only a name, a file name or a MIME type belongs
    pytest.param(sites(site(static_locations=static(index=[HOSTILE]))), None, None,
                 STATIC + 'index file must not contain "$" (nginx would read it as a variable), got %s'
                 % nv.show(HOSTILE), id='index-hostile'),
    pytest.param(sites(site(static_locations=static(index=['../secret.html']))), None, None,
                 STATIC + 'index file "../secret.html" must be a file name, not a path', id='index-path'),
    pytest.param(sites(site(static_locations=static(index=['index.html\n']))), None, None,
                 STATIC + 'index file ' + CONTROL % '"index.html\\n"', id='index-newline'),
    pytest.param(sites(site(static_locations=static(index=[]))), None, None,
                 STATIC + 'index needs at least one file name, such as index.html', id='index-empty'),
    pytest.param({**sites(site()), 'websocket_proxy_gzip_types': ['text/css', HOSTILE]}, None, None,
                 'websocket_proxy_gzip_types item must be a MIME type such as text/css, got %s' % nv.show(HOSTILE),
                 id='gzip_types-hostile'),
    pytest.param({**sites(site()), 'websocket_proxy_gzip_types': ['text/css\n']}, None, None,
                 'websocket_proxy_gzip_types item must be a MIME type such as text/css, got "text/css\\n"',
                 id='gzip_types-newline'),
    pytest.param(sites(site(server_name=[HOSTILE])), None, None, SERVER_NAME % nv.show(HOSTILE),
                 id='server_name-hostile'),
    pytest.param(sites(site(server_name=['#x'])), None, None, SERVER_NAME % '"#x"', id='server_name-comment'),
    pytest.param(sites(site(server_name=['a.test;'])), None, None, SERVER_NAME % '"a.test;"',
                 id='server_name-semicolon'),
    pytest.param(sites(site(server_name=['a test'])), None, None, SERVER_NAME % '"a test"', id='server_name-space'),
    pytest.param(sites(site(server_name=['a.test\n'])), None, None,
                 'site "demo": server_name ' + CONTROL % '"a.test\\n"', id='server_name-newline'),
    pytest.param(sites(site(server_name=['~^a$\n'])), None, None,
                 'site "demo": server_name ' + CONTROL % '"~^a$\\n"', id='server_name-regex-newline'),
    pytest.param(sites(site(server_name=['~^a b$'])), None, None,
                 'site "demo": server_name regex "~^a b$" must not contain spaces', id='server_name-regex-space'),
    # -- root and alias
    pytest.param(sites(site(static_locations=static(root='/'))), None, None,
                 STATIC + 'root must not be "/" (that would serve the whole file system)', id='root-slash'),
    pytest.param(sites(site(static_locations=static(root='/var/www/../../etc'))), None, None,
                 STATIC + 'root ' + NOT_NORMAL % '"/var/www/../../etc"', id='root-dotdot'),
    pytest.param(sites(site(static_locations=static(root='/var/www/./demo'))), None, None,
                 STATIC + 'root ' + NOT_NORMAL % '"/var/www/./demo"', id='root-dot'),
    pytest.param(sites(site(static_locations=static(root='/var//www'))), None, None,
                 STATIC + 'root ' + NOT_NORMAL % '"/var//www"', id='root-double-slash'),
    pytest.param(sites(site(static_locations=static(root='$document_root/x'))), None, None,
                 STATIC + 'root must not contain "$" (nginx would read it as a variable), got "$document_root/x"',
                 id='root-variable'),
    pytest.param(sites(site(static_locations=static(root='var/www'))), None, None,
                 STATIC + 'root must be an absolute path (start with "/"), got "var/www"', id='root-relative'),
    pytest.param(sites(site(static_locations=static(root='/srv\n'))), None, None,
                 STATIC + 'root ' + CONTROL % '"/srv\\n"', id='root-newline'),
    pytest.param(sites(site(static_locations=[{'path': '/files/', 'alias': '/srv/../etc/'}])), None, None,
                 FILES + 'alias ' + NOT_NORMAL % '"/srv/../etc/"', id='alias-dotdot'),
    pytest.param(sites(site(static_locations=[{'path': '/files/', 'alias': '//srv/files/'}])), None, None,
                 FILES + 'alias ' + NOT_NORMAL % '"//srv/files/"', id='alias-double-slash'),
    pytest.param(sites(site(static_locations=[{'path': '/files/', 'alias': '$document_root/'}])), None, None,
                 FILES + 'alias must not contain "$" (nginx would read it as a variable), got "$document_root/"',
                 id='alias-variable'),
    pytest.param(sites(site(static_locations=[{'path': '/files/', 'alias': 'srv/files/'}])), None, None,
                 FILES + 'alias must be an absolute path (start with "/"), got "srv/files/"', id='alias-relative'),
    pytest.param(sites(site(static_locations=[{'path': '/files/', 'alias': '/'}])), None, None,
                 FILES + 'alias must not be "/" (that would serve the whole file system)', id='alias-slash'),
    pytest.param(sites(site(static_locations=[{'path': '/files', 'alias': '/srv/files/'}])), None, None,
                 'site "demo", static location "/files": an alias location path must end with "/" (/files/), or a '
                 'request such as /files../x would reach outside the alias directory', id='alias-path-no-slash'),
    pytest.param(sites(site(static_locations=static(alias='/srv/'))), None, None,
                 STATIC + 'set exactly one of root and alias', id='root-and-alias'),
    pytest.param(sites(site(static_locations=[{'path': '/'}])), None, None,
                 STATIC + 'set exactly one of root and alias', id='neither-root-nor-alias'),
    # -- files and directories of the role
    pytest.param({**sites(site()), 'websocket_proxy_file_prefix': '../../x'}, None, None,
                 'websocket_proxy_file_prefix may only hold letters, digits, ".", "_" and "-", starting with a letter '
                 'or digit, got "../../x"', id='file_prefix-traversal'),
    pytest.param({**sites(site()), 'websocket_proxy_config_dir': '/'}, None, None,
                 'websocket_proxy_config_dir must not be "/" (that would serve the whole file system)',
                 id='config_dir-slash'),
    pytest.param({**sites(site()), 'websocket_proxy_config_dir': 'conf.d'}, None, None,
                 'websocket_proxy_config_dir must be an absolute path (start with "/"), got "conf.d"',
                 id='config_dir-relative'),
    pytest.param({**sites(site()), 'websocket_proxy_config_dir': '/etc/nginx/conf.d\n'}, None, None,
                 Contains('websocket_proxy_config_dir must not contain control characters'), id='config_dir-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_nginx_binary': '/usr/sbin/nginx\n'}, None, None,
                 'websocket_proxy_nginx_binary ' + CONTROL % '"/usr/sbin/nginx\\n"', id='nginx_binary-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_nginx_binary': 'nginx'}, None, None,
                 Contains('websocket_proxy_nginx_binary must be an absolute path (start with "/"), got "nginx"'),
                 id='nginx_binary-relative'),
    pytest.param(sites(site(name='../demo')), None, None,
                 'site "../demo": name may only hold letters, digits, ".", "_" and "-", starting with a letter or '
                 'digit, got "../demo"', id='site-name-traversal'),
    pytest.param(sites(site(name='demo\n')), None, None,
                 'site "demo\\n": name may only hold letters, digits, ".", "_" and "-", starting with a letter or '
                 'digit, got "demo\\n"', id='site-name-newline'),
    # -- sites and upstreams that clash
    pytest.param(sites(site(), site(upstreams=upstream(name='echo2'), websocket_locations=ws_location(upstream='echo2'))),
                 None, None, 'site "demo": defined more than once', id='duplicate-site'),
    pytest.param(sites(site(), other_site(upstreams=upstream(), websocket_locations=ws_location())), None, None,
                 'upstream "echo" is defined more than once; upstream names must be unique across all sites',
                 id='duplicate-upstream-across-sites'),
    pytest.param(sites(site(upstreams=upstream() + upstream())), None, None,
                 'upstream "echo" is defined more than once; upstream names must be unique across all sites',
                 id='duplicate-upstream-in-site'),
    pytest.param(sites(site(websocket_locations=ws_location(upstream='nowhere'))), None, None,
                 'site "demo", location "/ws/": upstream "nowhere" is not an upstream of this site (echo)',
                 id='upstream-missing'),
    pytest.param(sites(other_site(), site(websocket_locations=ws_location(upstream='other'))), None, None,
                 'site "demo", location "/ws/": upstream "other" is not an upstream of this site (echo)',
                 id='upstream-of-another-site'),
    pytest.param(sites(site(upstreams=[], proxy_locations=[{'path': '/api/', 'upstream': 'echo'}],
                            websocket_locations=[])), None, None,
                 'site "demo", location "/api/": upstream "echo" is not an upstream of this site (it has none)',
                 id='upstream-none'),
    pytest.param(sites(site(upstreams=upstream(name='my upstream'), websocket_locations=[])), None, None,
                 'site "demo", upstream "my upstream": name may only hold letters, digits, ".", "_" and "-", starting '
                 'with a letter or digit, got "my upstream"', id='upstream-name'),
    pytest.param(sites(site(upstreams=upstream(name='my upstream'),
                            websocket_locations=ws_location(upstream='my upstream'))), None, None,
                 'site "demo", upstream "my upstream": name may only hold letters, digits, ".", "_" and "-", starting '
                 'with a letter or digit, got "my upstream"', id='upstream-name-referenced'),
    # -- balancing methods
    pytest.param(sites(site(upstreams=upstream(method='hash'))), None, None,
                 UPSTREAM + 'method "hash" needs hash_key, such as $remote_addr', id='hash-without-key'),
    pytest.param(sites(site(upstreams=upstream(hash_key='$remote_addr'))), None, None,
                 UPSTREAM + 'hash_key is only used with method "hash" (method is round_robin)', id='key-without-hash'),
    pytest.param(sites(site(upstreams=upstream(method='ip_hash', hash_key='$remote_addr'))), None, None,
                 UPSTREAM + 'hash_key is only used with method "hash" (method is ip_hash)', id='key-with-ip_hash'),
    pytest.param(sites(site(upstreams=upstream(hash_consistent=True))), None, None,
                 UPSTREAM + 'hash_consistent is only used with method "hash" (method is round_robin)',
                 id='consistent-without-hash'),
    pytest.param(sites(site(upstreams=upstream(method='hash', hash_key='a$'))), None, None,
                 UPSTREAM + 'hash_key has a "$" that does not start a variable such as $remote_addr or ${cookie_id}, '
                 'got "a$"', id='hash_key-lone-dollar'),
    pytest.param(sites(site(upstreams=upstream(method='hash', hash_key='$remote_addr\n'))), None, None,
                 UPSTREAM + 'hash_key ' + CONTROL % '"$remote_addr\\n"', id='hash_key-newline'),
    pytest.param(sites(site(upstreams=upstream(method='fastest'))), None, None,
                 Contains('value of method must be one of: round_robin, least_conn, ip_hash, hash, random, '
                          'got: fastest'), id='method-unknown'),
] + [
    pytest.param(sites(site(upstreams=[{**upstream(method=method, hash_key=key)[0],
                                        'servers': [{'address': '127.0.0.1:1'},
                                                    {'address': '127.0.0.1:2', 'backup': True}]}])),
                 None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:2": backup servers work only with methods round_robin and '
                 'least_conn, not %s' % method, id='backup-with-%s' % method)
    for method, key in (('ip_hash', None), ('hash', '$remote_addr'), ('random', None))
] + [
    # -- servers
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:1', 'weight': 0}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:1": weight must be 1 or more, got 0', id='weight-0'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:1', 'weight': 'heavy'}))), None, None,
                 Contains("argument 'weight' is of type str"), id='weight-not-a-number'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:1', 'max_fails': -1}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:1": max_fails must be 0 or more, got -1', id='max_fails-negative'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:1', 'fail_timeout': 'soon'}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:1": fail_timeout ' + TIME_S % '"soon"', id='fail_timeout-bad'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:1', 'fail_timeout': '500ms'}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:1": fail_timeout ' + TIME_S % '"500ms"', id='fail_timeout-ms'),
    pytest.param(sites(site(upstreams=servers({'address': 'bad host:1'}))), None, None,
                 UPSTREAM[:-2] + ', server "bad host:1": address must be host:port, [v6]:port or unix:/path '
                 "(invalid host 'bad host' in 'bad host:1')", id='server-address-space'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:1; server 10.0.0.1'}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:1; server 10.0.0.1": address must be host:port, [v6]:port or '
                 "unix:/path (invalid port '1; server 10.0.0.1': must be an integer between 1 and 65535)",
                 id='server-address-hostile'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:8765\n'}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:8765\\n": address ' + CONTROL % '"127.0.0.1:8765\\n"',
                 id='server-address-newline'),
    pytest.param(sites(site(upstreams=servers({'weight': 2}))), None, None,
                 Contains('missing required arguments: address'), id='server-address-missing'),
    pytest.param(sites(site(upstreams=upstream(servers=[]))), None, None,
                 UPSTREAM + 'servers is empty; list at least one, or leave it out to use the inventory group',
                 id='servers-empty'),
    pytest.param(sites(site(upstreams=upstream(keepalive=-1))), None, None,
                 UPSTREAM + 'keepalive must be 0 or more, got -1', id='keepalive-negative'),
    # -- default servers and server names on a listen address
    pytest.param(sites(site(default_server=True), other_site(default_server=True, listen=['*:80'])), None, None,
                 'site "other": is the default server of *:80, and so is site "demo"; only one site may be',
                 id='two-default-servers-80-and-*:80'),
    pytest.param(sites(site(default_server=True, listen=['0.0.0.0:80']), other_site(default_server=True)),
                 None, None,
                 'site "other": is the default server of *:80, and so is site "demo"; only one site may be',
                 id='two-default-servers-0.0.0.0:80-and-80'),
    pytest.param(sites(site(default_server=True, listen=['[::]:8080']),
                       other_site(default_server=True, listen=['[0::0]:8080 ipv6only=on'])), None, None,
                 'site "other": is the default server of [::]:8080, and so is site "demo"; only one site may be',
                 id='two-default-servers-ipv6'),
    pytest.param(sites(site(server_name=['a.test']), other_site(server_name=['A.TEST'])), None, None,
                 'site "other": server_name "A.TEST" on *:80 is also served by site "demo"',
                 id='same-server_name-same-listen'),
    pytest.param(sites(site(), other_site(server_name=['_'], listen=['*:80'])), None, None,
                 'site "other": server_name "_" on *:80 is also served by site "demo"', id='same-catch-all-name'),
    # -- locations
    pytest.param(sites(site(proxy_locations=[{'path': '/ws/', 'upstream': 'echo'}])), None, None,
                 'site "demo": location path "/ws/" is used more than once', id='duplicate-location-ws-proxy'),
    pytest.param(sites(site(static_locations=static() + static(root='/srv'))), None, None,
                 'site "demo": location path "/" is used more than once', id='duplicate-location-static'),
    pytest.param(sites(site(websocket_locations=ws_location(path='ws'))), None, None,
                 'site "demo": location path "ws" must start with "/"', id='location-relative'),
    pytest.param(sites(site(websocket_locations=ws_location(path='/ws/\n'))), None, None,
                 'site "demo": location path ' + CONTROL % '"/ws/\\n"', id='location-newline'),
    pytest.param(sites(site(websocket_locations=ws_location(buffer_size='1k; proxy_pass http://evil'))), None, None,
                 WS + 'buffer_size must be an nginx size such as 512, 16k or 1m, got "1k; proxy_pass http://evil"',
                 id='buffer_size-hostile'),
    pytest.param(sites(site(websocket_locations=ws_location(buffer_size='128'))), None, None,
                 WS + 'buffer_size must be from 512 bytes to 1m (such as 1k or 4k), got "128"', id='buffer_size-small'),
    pytest.param({**sites(site()), 'websocket_proxy_buffer_size': '2m'}, None, None,
                 'websocket_proxy_buffer_size must be from 512 bytes to 1m (such as 1k or 4k), got "2m"',
                 id='websocket_proxy_buffer_size-big'),
    pytest.param(sites(site(websocket_locations=ws_location(read_timeout='forever'))), None, None,
                 'site "demo", location "/ws/": read_timeout ' + TIME % '"forever"', id='read_timeout-bad'),
    pytest.param(sites(site(websocket_locations=ws_location(read_timeout='1h\n'))), None, None,
                 'site "demo", location "/ws/": read_timeout ' + TIME % '"1h\\n"', id='read_timeout-newline'),
    pytest.param(sites(site(websocket_locations=ws_location(send_timeout='0'))), None, None,
                 'site "demo", location "/ws/": send_timeout must be longer than 0, got "0"', id='send_timeout-0'),
    pytest.param(sites(site(websocket_locations=ws_location(connect_timeout='1h1h'))), None, None,
                 'site "demo", location "/ws/": connect_timeout ' + TIME % '"1h1h"', id='connect_timeout-twice'),
    pytest.param(sites(site(websocket_locations=ws_location(read_timeout='1y'))), None, None,
                 'site "demo", location "/ws/": read_timeout ' + TIME % '"1y"', id='read_timeout-years'),
    pytest.param(sites(site(websocket_locations=ws_location(next_upstream='error sometimes'))), None, None,
                 'site "demo", location "/ws/": next_upstream must be nginx conditions such as "error timeout" '
                 '(%s), got "error sometimes"' % CONDITIONS, id='next_upstream-bad'),
    pytest.param(sites(site(websocket_locations=ws_location(next_upstream='off error'))), None, None,
                 'site "demo", location "/ws/": next_upstream "off" cannot be combined with other conditions',
                 id='next_upstream-off-and-more'),
    pytest.param(sites(site(static_locations=static(cache_control='public\n'))), None, None,
                 STATIC + 'cache_control must be comma-separated directives such as "public" or "no-cache, '
                 'max-age=0", got "public\\n"', id='cache_control-newline'),
    pytest.param(sites(site(static_locations=static(cache_control='a"b'))), None, None,
                 STATIC + 'cache_control must be comma-separated directives such as "public" or "no-cache, '
                 'max-age=0", got "a\\"b"', id='cache_control-quote'),
    pytest.param(sites(site(static_locations=static(cache_control='public,\r\nSet-Cookie: a=b'))), None, None,
                 STATIC + 'cache_control must be comma-separated directives such as "public" or "no-cache, '
                 'max-age=0", got "public,\\r\\nSet-Cookie: a=b"', id='cache_control-header-injection'),
    pytest.param(sites(site(static_locations=static(cache_control='public,\r\nno-store'))), None, None,
                 STATIC + 'cache_control must be comma-separated directives such as "public" or "no-cache, '
                 'max-age=0", got "public,\\r\\nno-store"', id='cache_control-crlf-between-tokens'),
    pytest.param(sites(site(static_locations=static(expires='later'))), None, None,
                 STATIC + 'expires ' + TIME_S % '"later"', id='expires-bad'),
    pytest.param(sites(site(static_locations=static(expires='500ms'))), None, None,
                 STATIC + 'expires ' + TIME_S % '"500ms"', id='expires-ms'),
    pytest.param(sites(site(static_locations=static(expires='1h\n'))), None, None,
                 STATIC + 'expires ' + TIME_S % '"1h\\n"', id='expires-newline'),
    pytest.param(sites(site(static_locations=static(expires='modified later'))), None, None,
                 STATIC + 'expires ' + TIME_S % '"later"', id='expires-modified-bad'),
    # -- cache_control with expires: one Cache-Control header
    pytest.param(sites(site(static_locations=static(expires='modified +1h', cache_control='public'))), None, None,
                 STATIC + 'expires "modified +1h" cannot be combined with cache_control "public": the max-age nginx '
                 "gives it changes with each file's modification time, and the location sends one Cache-Control "
                 'header written in advance; use a fixed time such as 1h, or expires: off to send cache_control as '
                 'it is', id='cache_control-expires-modified'),
    pytest.param(sites(site(static_locations=static(expires='@15h30m', cache_control='public'))), None, None,
                 STATIC + 'expires "@15h30m" cannot be combined with cache_control "public": the max-age nginx gives '
                 'it changes with the time of day, and the location sends one Cache-Control header written in '
                 'advance; use a fixed time such as 1h, or expires: off to send cache_control as it is',
                 id='cache_control-expires-daily'),
    pytest.param({**sites(site(static_locations=static(cache_control='private'))),
                  'websocket_proxy_static_expires': 'modified 1d'}, None, None,
                 STATIC + 'expires "modified 1d" (websocket_proxy_static_expires) cannot be combined with '
                 'cache_control "private": the max-age nginx gives it changes with each file\'s modification time, '
                 'and the location sends one Cache-Control header written in advance; use a fixed time such as 1h, '
                 'or expires: off to send cache_control as it is', id='cache_control-default-expires-modified'),
    pytest.param(sites(site(static_locations=static(cache_control='public, max-age=60'))), None, None,
                 STATIC + 'cache_control "public, max-age=60" has its own max-age, and expires "1h" '
                 '(websocket_proxy_static_expires) would add max-age=3600 to the same Cache-Control header; set '
                 'expires: off in this location to send cache_control as it is, or take max-age out of cache_control',
                 id='cache_control-own-max-age'),
    pytest.param(sites(site(static_locations=static(expires='epoch', cache_control='No-Store,no-cache'))), None, None,
                 STATIC + 'cache_control "No-Store,no-cache" has its own no-cache and no-store, and expires "epoch" '
                 'would add no-cache to the same Cache-Control header; set expires: off in this location to send '
                 'cache_control as it is, or take no-cache and no-store out of cache_control',
                 id='cache_control-own-no-store'),
    pytest.param(sites(site(extra_directives=['add_header X-Note "a\\nb" always;'])), None, None,
                 'site "demo", extra_directives[0]: add_header "X-Note" cannot be repeated in the static locations (a '
                 "location with add_header of its own does not inherit the server's): its arguments hold a control "
                 'character (an escape such as \\n), got "X-Note a\\nb always"', id='extra_directives-add_header-control'),
    # -- listen
    pytest.param(sites(site(listen=['80 default_server'])), None, None,
                 'site "demo": listen value "80 default_server": write default_server: true on the site instead of '
                 'in listen, got "80 default_server"', id='listen-default_server'),
    pytest.param(sites(site(listen=['80 sssl'])), None, None,
                 'site "demo": listen value "80 sssl" parameter "sssl" is not one nginx knows (%s)' % LISTEN_PARAMS,
                 id='listen-bad-param'),
    pytest.param(sites(site(listen=['80; include /etc/passwd'])), None, None,
                 'site "demo": listen value "80; include /etc/passwd" address "80;" is not a host name or IP address',
                 id='listen-hostile'),
    pytest.param(sites(site(listen=[70000])), None, None,
                 'site "demo": listen value "70000" port must be 65535 or less, got 70000', id='listen-port-range'),
    pytest.param(sites(site(listen=[])), None, None,
                 'site "demo": listen needs at least one value, such as 80 or 127.0.0.1:8080', id='listen-empty'),
    pytest.param(sites(site(listen=[''])), None, None,
                 'site "demo": listen value "" must not be empty', id='listen-empty-string'),
    pytest.param(sites(site(listen=['80\n'])), None, None,
                 'site "demo": listen value "80\\n" ' + CONTROL % '"80\\n"', id='listen-newline'),
    # -- unknown keys and types (ansible-core's validator words these)
    pytest.param(sites(site(websocket_location=[{'path': '/ws/', 'upstream': 'echo'}])), None, None,
                 Contains('websocket_location. Supported parameters include:'), id='unknown-key-in-site'),
    pytest.param(sites(site(upstreams=upstream(server=[{'address': '127.0.0.1:1'}]))), None, None,
                 Contains('server. Supported parameters include:'), id='unknown-key-in-upstream'),
    pytest.param(sites(site(state='gone')), None, None,
                 Contains('value of state must be one of: present, absent, got: gone'), id='state-unknown'),
    pytest.param(sites([{'upstreams': []}]), None, None,
                 Contains('missing required arguments: name'), id='site-without-name'),
    # -- role-wide settings
    pytest.param({**sites(site()), 'websocket_proxy_check_timeout': 0}, None, None,
                 'websocket_proxy_check_timeout must be greater than 0 and at most 3600 seconds, got 0.0',
                 id='check_timeout-0'),
    pytest.param({**sites(site()), 'websocket_proxy_check_timeout': 3601}, None, None,
                 'websocket_proxy_check_timeout must be greater than 0 and at most 3600 seconds, got 3601.0',
                 id='check_timeout-3601'),
    pytest.param({**sites(site()), 'websocket_proxy_check_timeout': 'nan'}, None, None,
                 'websocket_proxy_check_timeout must be greater than 0 and at most 3600 seconds, got nan',
                 id='check_timeout-nan'),
    pytest.param({**sites(site()), 'websocket_proxy_check_timeout': 'inf'}, None, None,
                 'websocket_proxy_check_timeout must be greater than 0 and at most 3600 seconds, got inf',
                 id='check_timeout-inf'),
    pytest.param({**sites(site()), 'websocket_proxy_check_path': 'healthz'}, None, None,
                 'websocket_proxy_check_path must start with "/" and hold no spaces or control characters, '
                 'got "healthz"', id='check_path-relative'),
    pytest.param({**sites(site()), 'websocket_proxy_check_path': '/\n'}, None, None,
                 'websocket_proxy_check_path must start with "/" and hold no spaces or control characters, '
                 'got "/\\n"', id='check_path-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_check_type': 'ping'}, None, None,
                 Contains('value of websocket_proxy_check_type must be one of: websocket, http, tcp, got: ping'),
                 id='check_type-unknown'),
    pytest.param({**sites(site()), 'websocket_proxy_rollback_on_failed_check': 'sometimes'}, None, None,
                 Contains("argument 'websocket_proxy_rollback_on_failed_check' is of type str"),
                 id='rollback-not-a-bool'),
    # -- an upstream's health_check
    pytest.param(sites(site(upstreams=upstream(health_check={'path': 'healthz'}))), None, None,
                 HEALTH + 'path must start with "/" and hold no spaces or control characters, got "healthz"',
                 id='health_check-path-relative'),
    pytest.param(sites(site(upstreams=upstream(health_check={'path': '/a b'}))), None, None,
                 HEALTH + 'path must start with "/" and hold no spaces or control characters, got "/a b"',
                 id='health_check-path-space'),
    pytest.param(sites(site(upstreams=upstream(health_check={'timeout': 0}))), None, None,
                 HEALTH + 'timeout must be greater than 0 and at most 3600 seconds, got 0.0', id='health_check-timeout-0'),
    pytest.param(sites(site(upstreams=upstream(health_check={'timeout': 'inf'}))), None, None,
                 HEALTH + 'timeout must be greater than 0 and at most 3600 seconds, got inf', id='health_check-timeout-inf'),
    pytest.param(sites(site(upstreams=upstream(health_check={'type': 'ping'}))), None, None,
                 Contains('value of type must be one of: websocket, http, tcp, got: ping'), id='health_check-type'),
    pytest.param(sites(site(upstreams=upstream(health_check={'host_header': 'a b'}))), None, None,
                 HEALTH + 'host_header must be a host name or address, optionally with ":port", got "a b"',
                 id='health_check-host_header-space'),
    pytest.param(sites(site(upstreams=upstream(health_check={'host_header': 'app.test\r\nX-Evil: 1'}))), None, None,
                 HEALTH + 'host_header ' + CONTROL % '"app.test\\r\\nX-Evil: 1"',
                 id='health_check-host_header-header-injection'),
    pytest.param(sites(site(upstreams=upstream(health_check={'type': 'http', 'expected_status': []}))), None, None,
                 HEALTH + 'expected_status needs at least one HTTP status, such as 200', id='health_check-status-empty'),
    pytest.param(sites(site(upstreams=upstream(health_check={'type': 'http', 'expected_status': [600]}))), None, None,
                 HEALTH + 'expected_status values must be HTTP statuses from 100 to 599, got 600', id='health_check-status-600'),
    pytest.param(sites(site(upstreams=upstream(health_check={'expected_status': [204]}))), None, None,
                 HEALTH + 'expected_status is not used by type websocket', id='health_check-status-with-websocket'),
    pytest.param(sites(site(upstreams=upstream(health_check={'type': 'http', 'subprotocols': ['chat']}))), None, None,
                 HEALTH + 'subprotocols is not used by type http', id='health_check-subprotocols-with-http'),
    pytest.param(sites(site(upstreams=upstream(health_check={'type': 'tcp', 'path': '/ws'}))), None, None,
                 HEALTH + 'path is not used by type tcp', id='health_check-path-with-tcp'),
    pytest.param(sites(site(upstreams=upstream(health_check={'subprotocols': []}))), None, None,
                 HEALTH + 'subprotocols must not be an empty list (leave it out to offer none)',
                 id='health_check-subprotocols-empty'),
    pytest.param(sites(site(upstreams=upstream(health_check={'subprotocols': ['chat, v2']}))), None, None,
                 HEALTH + 'subprotocols must be HTTP tokens (no spaces, commas, quotes or control characters), '
                          'got "chat, v2"', id='health_check-subprotocols-comma'),
    pytest.param(sites(site(upstreams=upstream(health_check={'tls': True, 'ca_path': 'ca.pem'}))), None, None,
                 HEALTH + 'ca_path must be an absolute path (start with "/"), got "ca.pem"', id='health_check-ca_path-relative'),
    pytest.param(sites(site(upstreams=upstream(health_check={'ca_path': '/etc/ssl/ca.pem'}))), None, None,
                 HEALTH + 'ca_path is only used with tls: true', id='health_check-ca_path-without-tls'),
    pytest.param(sites(site(upstreams=upstream(health_check={'validate_certs': False}))), None, None,
                 HEALTH + 'validate_certs is only used with tls: true', id='health_check-validate_certs-without-tls'),
    pytest.param(sites(site(upstreams=upstream(health_check={'interval': 5}))), None, None,
                 Contains('interval. Supported parameters include:'), id='health_check-unknown-key'),
    # -- a WebSocket location's check through nginx
    pytest.param(sites(site(websocket_locations=ws_location(check={'path': '/other/ws'}))), None, None,
                 LOCATION_CHECK + 'path "/other/ws" must start with the location path "/ws/", or it checks another location',
                 id='check-path-other-location'),
    pytest.param(sites(site(websocket_locations=ws_location(check={'path': '/ws/\n'}))), None, None,
                 LOCATION_CHECK + 'path must start with "/" and hold no spaces or control characters, got "/ws/\\n"',
                 id='check-path-newline'),
    pytest.param(sites(site(websocket_locations=ws_location(check={'subprotocols': ['a"b']}))), None, None,
                 LOCATION_CHECK + 'subprotocols must be HTTP tokens (no spaces, commas, quotes or control characters), '
                                  'got "a\\"b"', id='check-subprotocols-quote'),
    pytest.param(sites(site(websocket_locations=ws_location(check={'echo': 'sometimes'}))), None, None,
                 Contains("argument 'echo' is of type str"), id='check-echo-not-a-bool'),
    pytest.param(sites(site(proxy_locations=[{'path': '/api/', 'upstream': 'echo', 'check': {'path': '/api/'}}])), None, None,
                 Contains('check. Supported parameters include:'), id='check-on-a-plain-proxy-location'),
    # -- TLS termination, TLS upstreams, Origin allowlist, client limits, realip, max_conns (issue 9)
    pytest.param(sites(site(tls={'certificate_key': '/k.pem'})), None, None,
                 TLS + 'set exactly one of certificate (a file on the host) and certificate_src (a file on the '
                       'controller, copied to the host)', id='tls-no-certificate'),
    pytest.param(sites(site(tls={'certificate': '/c.pem', 'certificate_src': 'c.pem', 'certificate_key': '/k.pem'})),
                 None, None, TLS + 'set exactly one of certificate (a file on the host) and certificate_src (a file on '
                                   'the controller, copied to the host)', id='tls-certificate-twice'),
    pytest.param(sites(site(tls={'certificate': '/c.pem'})), None, None,
                 TLS + 'set exactly one of certificate_key (a file on the host) and certificate_key_src (a file on the '
                       'controller, copied to the host)', id='tls-no-key'),
    pytest.param(sites(site(tls={**TLS_FILES, 'certificate': 'c.pem'})), None, None,
                 TLS + 'certificate must be an absolute path (start with "/"), got "c.pem"', id='tls-certificate-relative'),
    pytest.param(sites(site(tls={**TLS_FILES, 'certificate_key': '/etc/ssl/$host.key'})), None, None,
                 TLS + 'certificate_key must not contain "$" (nginx would read it as a variable), got "/etc/ssl/$host.key"',
                 id='tls-key-variable'),
    pytest.param(sites(site(tls={'certificate_src': 'c.pem\n', 'certificate_key': '/k.pem'})), None, None,
                 TLS + 'certificate_src ' + CONTROL % '"c.pem\\n"', id='tls-certificate_src-newline'),
    pytest.param(sites(site(listen=['443 http2'], tls=TLS_FILES)), None, None,
                 TLS + 'listen "443 http2": leave "http2" out and use tls.http2, which is written the way this nginx '
                       'takes it', id='tls-http2-in-listen'),
    pytest.param(sites(site(listen=['443 ssl'])), None, None,
                 'site "demo": listen "443 ssl" has "ssl" but the site has no tls settings (certificate and key)',
                 id='ssl-listen-without-tls'),
    pytest.param(sites(site(listen=[443], tls={**TLS_FILES, 'redirect_http': ['80 ssl']})), None, None,
                 TLS + 'redirect_http value "80 ssl" is plain HTTP: no ssl, http2 or quic', id='tls-redirect-ssl'),
    pytest.param(sites(site(listen=[443], tls={**TLS_FILES, 'redirect_http': [443]})), None, None,
                 TLS + 'redirect_http "*:443" is also a TLS listen of this site', id='tls-redirect-same-port'),
    pytest.param(sites(site(tls={**TLS_FILES, 'redirect_http': ['80;']})), None, None,
                 TLS + 'redirect_http value "80;" address "80;" is not a host name or IP address', id='tls-redirect-injection'),
    pytest.param(sites(site(tls={**TLS_FILES, 'hsts': True, 'hsts_max_age': -1})), None, None,
                 TLS + 'hsts_max_age must be 0 or more, got -1', id='tls-hsts-negative'),
    pytest.param(sites(site(tls={**TLS_FILES, 'check_ca_path': 'ca.pem'})), None, None,
                 TLS + 'check_ca_path must be an absolute path (start with "/"), got "ca.pem"', id='tls-check_ca_path'),
    pytest.param(sites(site(tls={**TLS_FILES, 'http2': 'sometimes'})), None, None,
                 Contains("argument 'http2' is of type str"), id='tls-http2-not-a-bool'),
    pytest.param({**sites(site(tls={'certificate_src': 'c.pem', 'certificate_key_src': 'k.pem'})),
                  'websocket_proxy_tls_dir': 'tls'}, None, None,
                 'websocket_proxy_tls_dir must be an absolute path (start with "/"), got "tls"', id='tls_dir-relative'),
    pytest.param(sites(site(upstreams=upstream(tls={}))), None, None,
                 UPSTREAM_TLS + "server_name is needed when verify is on: nginx checks the servers' certificate against it "
                                '(and sends it as SNI); the upstream name is not a host name', id='upstream-tls-no-server_name'),
    pytest.param(sites(site(upstreams=upstream(tls={'server_name': 'app internal'}))), None, None,
                 UPSTREAM_TLS + 'server_name "app internal" is not a host name or IP address',
                 id='upstream-tls-server_name-space'),
    pytest.param(sites(site(upstreams=upstream(tls={'server_name': 'app', 'ca_path': 'ca.pem'}))), None, None,
                 UPSTREAM_TLS + 'ca_path must be an absolute path (start with "/"), got "ca.pem"', id='upstream-tls-ca_path'),
    pytest.param(sites(site(upstreams=servers({'address': '127.0.0.1:8765', 'max_conns': -1}))), None, None,
                 UPSTREAM[:-2] + ', server "127.0.0.1:8765": max_conns must be 0 or more, got -1', id='max_conns-negative'),
    pytest.param(sites(site(websocket_locations=ws_location(allowed_origins=['https://app.test/']))), None, None,
                 ORIGIN % '"https://app.test/"', id='origin-with-path'),
    pytest.param(sites(site(websocket_locations=ws_location(allowed_origins=['app.test']))), None, None,
                 ORIGIN % '"app.test"', id='origin-without-scheme'),
    pytest.param(sites(site(websocket_locations=ws_location(allowed_origins=['ftp://app.test']))), None, None,
                 ORIGIN % '"ftp://app.test"', id='origin-other-scheme'),
    pytest.param(sites(site(websocket_locations=ws_location(allowed_origins=['https://*.app.test']))), None, None,
                 ORIGIN % '"https://*.app.test"', id='origin-wildcard'),
    pytest.param(sites(site(websocket_locations=ws_location(allowed_origins=['https://app.test:99999']))), None, None,
                 WS + 'allowed_origins item port must be 65535 or less, got 99999', id='origin-port'),
    pytest.param(sites(site(websocket_locations=ws_location(allowed_origins=['https://a.test" 0; default 0; "x']))),
                 None, None, ORIGIN % '"https://a.test\\" 0; default 0; \\"x"', id='origin-injection'),
    pytest.param(sites(site(websocket_locations=ws_location(allow_missing_origin=False))), None, None,
                 WS + 'allow_missing_origin: false needs allowed_origins (the origins that may connect)',
                 id='origin-missing-refused-without-list'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={}))), None, None,
                 LIMITS + 'set connections, rate or both (or leave client_limits out)', id='limits-empty'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={'connections': 0}))), None, None,
                 LIMITS + 'connections must be 1 or more, got 0', id='limits-connections-0'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={'rate': '10/s'}))), None, None,
                 LIMITS + 'rate must be requests per second or minute such as 10r/s or 30r/m, got "10/s"',
                 id='limits-rate-unit'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={'rate': '0r/s'}))), None, None,
                 LIMITS + 'rate must be requests per second or minute such as 10r/s or 30r/m, got "0r/s"',
                 id='limits-rate-0'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={'rate': '5r/s', 'burst': -1}))), None, None,
                 LIMITS + 'burst must be 0 or more, got -1', id='limits-burst-negative'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={'connections': 5, 'burst': 3}))), None, None,
                 LIMITS + 'burst is only used with rate', id='limits-burst-without-rate'),
    pytest.param(sites(site(websocket_locations=ws_location(client_limits={'connections': 5, 'status': 403}))), None, None,
                 Contains("value of status must be one of: 429, 503, got: 403"), id='limits-status'),
    pytest.param(sites(site(proxy_locations=[{'path': '/api/', 'upstream': 'echo', 'allowed_origins': ['https://a.test']}])),
                 None, None, Contains('allowed_origins. Supported parameters include:'), id='origins-on-a-plain-proxy-location'),
    pytest.param({**sites(site()), 'websocket_proxy_real_ip_from': ['10.0.0.1/8']}, None, None,
                 'websocket_proxy_real_ip_from item must be an IP address or network such as 10.0.0.0/8 (no host bits '
                 'set), or "unix:", got "10.0.0.1/8"', id='real_ip_from-host-bits'),
    pytest.param({**sites(site()), 'websocket_proxy_real_ip_from': ['lb.example.com']}, None, None,
                 'websocket_proxy_real_ip_from item must be an IP address or network such as 10.0.0.0/8 (no host bits '
                 'set), or "unix:", got "lb.example.com"', id='real_ip_from-name'),
    pytest.param({**sites(site()), 'websocket_proxy_real_ip_from': ['10.0.0.0/8'], 'websocket_proxy_real_ip_header': 'X Forwarded'},
                 None, None, 'websocket_proxy_real_ip_header must be an HTTP header name such as X-Forwarded-For, got '
                             '"X Forwarded"', id='real_ip_header-space'),
    pytest.param({**sites(site()), 'websocket_proxy_backend_port': 0}, None, None,
                 'websocket_proxy_backend_port must be 1 or more, got 0', id='backend_port-0'),
    # -- the session log
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': 'websocket-sessions.log'}, None, None,
                 SESSION_FILE + 'must be an absolute path (start with "/"), got "websocket-sessions.log"',
                 id='session_log_file-relative'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': ''}, None, None,
                 SESSION_FILE + 'must not be empty', id='session_log_file-empty'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': '/var/log/nginx/ws.log\n'}, None, None,
                 SESSION_FILE + CONTROL % '"/var/log/nginx/ws.log\\n"', id='session_log_file-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': '/var/log/nginx/$host.log'}, None, None,
                 SESSION_FILE + 'must not contain "$" (nginx would read it as a variable), got "/var/log/nginx/$host.log"',
                 id='session_log_file-variable'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': '/var/log/nginx/../ws.log'}, None, None,
                 SESSION_FILE + NOT_NORMAL % '"/var/log/nginx/../ws.log"', id='session_log_file-dotdot'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': '/var/log/nginx/'}, None, None,
                 SESSION_FILE + 'must be a file, not a directory (it ends with "/"), got "/var/log/nginx/"',
                 id='session_log_file-directory'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': '/'}, None, None,
                 SESSION_FILE + 'must be a file, not a directory (it ends with "/"), got "/"', id='session_log_file-root'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': '/var/log/nginx/ws.log json'}, None, None,
                 SESSION_FILE + 'must be a file path without spaces (the log format is not set here), got '
                 '"/var/log/nginx/ws.log json"', id='session_log_file-format-after-it'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log_file': 'off'}, None, None,
                 SESSION_FILE + 'must be a file path, got "off"; set websocket_proxy_session_log: false to turn the '
                 'session log off', id='session_log_file-off'),
    pytest.param({**sites(site()), 'websocket_proxy_session_log': 'sometimes'}, None, None,
                 Contains("argument 'websocket_proxy_session_log' is of type str"), id='session_log-not-a-bool'),
    pytest.param(sites(site(websocket_locations=ws_location(session_log='sometimes'))), None, None,
                 Contains("argument 'session_log' is of type str"), id='websocket-location-session_log-not-a-bool'),
    pytest.param(sites(site(proxy_locations=[{'path': '/api/', 'upstream': 'echo', 'session_log': 'sometimes'}])),
                 None, None, Contains("argument 'session_log' is of type str"), id='proxy-location-session_log-not-a-bool'),
    pytest.param(sites(site(static_locations=static(session_log='sometimes'))), None, None,
                 Contains("argument 'session_log' is of type str"), id='static-location-session_log-not-a-bool'),
    pytest.param({**sites(site()), 'websocket_proxy_down_servers': ['backend-1\n']}, None, None,
                 'websocket_proxy_down_servers item ' + CONTROL % '"backend-1\\n"', id='down_servers-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_backend_group': 'backends\n'}, None, None,
                 'websocket_proxy_backend_group ' + CONTROL % '"backends\\n"', id='backend_group-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_next_upstream': 'error sometimes'}, None, None,
                 'websocket_proxy_next_upstream must be nginx conditions such as "error timeout" (%s), '
                 'got "error sometimes"' % CONDITIONS, id='global-next_upstream'),
    pytest.param({**sites(site()), 'websocket_proxy_read_timeout': 'forever'}, None, None,
                 'websocket_proxy_read_timeout ' + TIME % '"forever"', id='global-read_timeout'),
    pytest.param({**sites(site()), 'websocket_proxy_upstream_keepalive': -1}, None, None,
                 'websocket_proxy_upstream_keepalive must be 0 or more, got -1', id='global-keepalive'),
    pytest.param({**sites(site()), 'websocket_proxy_static_expires': 'later'}, None, None,
                 'websocket_proxy_static_expires ' + TIME_S % '"later"', id='global-expires'),
    pytest.param({**sites(site()), 'websocket_proxy_upstream_keepalive': 'many'}, None, None,
                 Contains("argument 'websocket_proxy_upstream_keepalive' is of type str"),
                 id='keepalive-not-a-number'),
    pytest.param({**sites(site()), 'websocket_proxy_check_through_proxy': 'sometimes'}, None, None,
                 Contains("argument 'websocket_proxy_check_through_proxy' is of type str"),
                 id='check_through_proxy-not-a-bool'),
    # -- extra directives
    pytest.param(sites(site(extra_directives=['client_max_body_size 1m'])), None, None,
                 'site "demo", extra_directives[0]: is not complete nginx syntax (directive \'client_max_body_size\' '
                 'is not terminated by \';\'): braces must balance, quotes close, and every directive end with ";" '
                 'or a block', id='extra_directives-unterminated'),
    pytest.param(sites(site(extra_directives=['client_max_body_size 1m;', '} server { listen 81; }'])), None, None,
                 'site "demo", extra_directives[1]: is not complete nginx syntax (unexpected \'}\'): braces must '
                 'balance, quotes close, and every directive end with ";" or a block', id='extra_directives-escape'),
    # -- upstreams filled from the inventory
    pytest.param(sites(site(upstreams=upstream(servers=None, backend_group='empty'))), None,
                 {'empty': []},
                 UPSTREAM + 'no servers; list them in "servers" or put hosts in the inventory group empty',
                 id='group-empty'),
    pytest.param(sites(site(upstreams=upstream(servers=None))), None, {},
                 UPSTREAM + 'no servers; list them in "servers" or put hosts in the inventory group websocket_backends',
                 id='group-missing'),
    pytest.param({**sites(site(upstreams=upstream(servers=None))), 'websocket_proxy_backend_group': 'no_such_group'},
                 None, BACKENDS,
                 UPSTREAM + 'no servers; list them in "servers" or put hosts in the inventory group no_such_group',
                 id='group-missing-named'),
    pytest.param(sites(site(upstreams=upstream(servers=None))), {'backend-1': {'ansible_host': 'bad host'}}, BACKENDS,
                 UPSTREAM[:-2] + ', inventory host "backend-1": backend address "bad host" is not a host name or IP address',
                 id='group-host-bad-address'),
    pytest.param(sites(site(upstreams=upstream(servers=None))),
                 {'backend-1': {'websocket_backend_address': '10.0.0.1; down'}}, BACKENDS,
                 UPSTREAM[:-2] + ', inventory host "backend-1": backend address "10.0.0.1; down" is not a host name or IP '
                 'address', id='group-host-hostile-address'),
    pytest.param(sites(site(upstreams=upstream(servers=None))), {'backend-1': {'websocket_backend_port': 0}}, BACKENDS,
                 UPSTREAM[:-2] + ', inventory host "backend-1": backend port must be 1 or more, got 0', id='group-host-port-0'),
    pytest.param(sites(site(upstreams=upstream(servers=None))), {'backend-1': {'websocket_backend_port': 'http'}},
                 BACKENDS, UPSTREAM[:-2] + ', inventory host "backend-1": backend port must be a whole number, got "http"',
                 id='group-host-port-word'),
    # -- certificates from ACME (tls.acme)
    pytest.param(sites(acme_site(**TLS_FILES)), None, None,
                 TLS + 'acme gets the certificate and its key from the ACME server itself: leave out certificate, '
                       'certificate_key', id='acme-with-certificate-and-key'),
    pytest.param(sites(acme_site(certificate_src='c.pem')), None, None,
                 TLS + 'acme gets the certificate and its key from the ACME server itself: leave out certificate_src',
                 id='acme-with-certificate_src'),
    pytest.param(sites(acme_site(certificate_key_src='k.pem', certificate='/etc/ssl/c.pem')), None, None,
                 TLS + 'acme gets the certificate and its key from the ACME server itself: leave out certificate, '
                       'certificate_key_src', id='acme-with-certificate-and-key_src'),
    pytest.param(sites(site(listen=[443], server_name=['chat.example.com'], tls={'acme': {}, 'redirect_http': [80]})),
                 None, None,
                 ACME + 'contact is required: the email address of the ACME account, to which the CA writes about '
                        'certificates that are about to expire and about problems', id='acme-no-contact'),
    pytest.param(sites(acme_site({'contact': ''})), None, None,
                 ACME + 'contact is required: the email address of the ACME account, to which the CA writes about '
                        'certificates that are about to expire and about problems', id='acme-contact-empty'),
    pytest.param(sites(acme_site({'contact': 'mailto:admin@example.com'})), None, None,
                 ACME_CONTACT % '"mailto:admin@example.com"', id='acme-contact-mailto'),
    pytest.param(sites(acme_site({'contact': 'admin'})), None, None, ACME_CONTACT % '"admin"', id='acme-contact-no-at'),
    pytest.param(sites(acme_site({'contact': 'admin@localhost'})), None, None,
                 ACME_CONTACT % '"admin@localhost"', id='acme-contact-host-without-dot'),
    pytest.param(sites(acme_site({'contact': 'admin@10.0.0.1'})), None, None,
                 ACME_CONTACT % '"admin@10.0.0.1"', id='acme-contact-ip-address'),
    pytest.param(sites(acme_site({'contact': 'a@example.com,b@example.com'})), None, None,
                 ACME_CONTACT % '"a@example.com,b@example.com"', id='acme-contact-two-addresses'),
    pytest.param(sites(acme_site({'contact': 'Admin <admin@example.com>'})), None, None,
                 ACME_CONTACT % '"Admin <admin@example.com>"', id='acme-contact-with-name'),
    pytest.param(sites(acme_site({'contact': 'admin@example.com\n'})), None, None,
                 ACME_CONTACT % '"admin@example.com\\n"', id='acme-contact-newline'),
    pytest.param(sites(acme_site({'contact': 'a..b@example.com'})), None, None,
                 ACME_CONTACT % '"a..b@example.com"', id='acme-contact-empty-word'),
    pytest.param(sites(acme_site({'names': ['localhost']})), None, None, ACME_NAME % '"localhost"',
                 id='acme-name-without-dot'),
    pytest.param(sites(acme_site({'names': ['192.0.2.1']})), None, None, ACME_NAME % '"192.0.2.1"',
                 id='acme-name-ip-address'),
    pytest.param(sites(acme_site({'names': ['2001:db8::1']})), None, None, ACME_NAME % '"2001:db8::1"',
                 id='acme-name-ipv6-address'),
    pytest.param(sites(acme_site({'names': ['chat.example.com; x']})), None, None, ACME_NAME % '"chat.example.com; x"',
                 id='acme-name-hostile'),
    pytest.param(sites(acme_site({'names': ['chat.example.com.']})), None, None, ACME_NAME % '"chat.example.com."',
                 id='acme-name-trailing-dot'),
    pytest.param(sites(acme_site({'names': ['~^chat\\.example\\.com$']})), None, None,
                 ACME_NAME % '"~^chat\\\\.example\\\\.com$"', id='acme-name-regex'),
    pytest.param(sites(acme_site({'names': ['chat.example.com', '*.example.com']})), None, None,
                 ACME_WILDCARD % '"*.example.com"', id='acme-name-wildcard'),
    pytest.param(sites(acme_site({'names': ['.example.com']})), None, None, ACME_WILDCARD % '".example.com"',
                 id='acme-name-leading-dot-wildcard'),
    pytest.param(sites(acme_site({'names': ['example.*']})), None, None, ACME_WILDCARD % '"example.*"',
                 id='acme-name-suffix-wildcard'),
    pytest.param(sites(site(listen=[443],
                            server_name=['_', '*.example.com', '.example.org', 'example.*', 'localhost', '~^a$', '10.0.0.1', ''],
                            tls={'acme': {'contact': 'admin@example.com'}, 'redirect_http': [80]})), None, None,
                 ACME + 'names is empty and server_name has no host name to take them from (only "_", regexes, wildcards, '
                        "IP addresses or names without a dot): list the certificate's names in acme.names",
                 id='acme-no-names-to-take'),
    pytest.param(sites(acme_site({'directory': 'http://acme.example.com/directory'})), None, None,
                 ACME_DIRECTORY % '"http://acme.example.com/directory"', id='acme-directory-http'),
    pytest.param(sites(acme_site({'directory': 'ftp://acme.example.com/directory'})), None, None,
                 ACME_DIRECTORY % '"ftp://acme.example.com/directory"', id='acme-directory-ftp'),
    pytest.param(sites(acme_site({'directory': 'acme.example.com/directory'})), None, None,
                 ACME_DIRECTORY % '"acme.example.com/directory"', id='acme-directory-no-scheme'),
    pytest.param(sites(acme_site({'directory': 'https:///directory'})), None, None,
                 ACME_DIRECTORY % '"https:///directory"', id='acme-directory-no-host'),
    pytest.param(sites(acme_site({'directory': 'https://acme.example.com/a directory'})), None, None,
                 ACME_DIRECTORY % '"https://acme.example.com/a directory"', id='acme-directory-space'),
    pytest.param(sites(acme_site({'directory': 'https://user@acme.example.com/directory'})), None, None,
                 ACME_DIRECTORY % '"https://user@acme.example.com/directory"', id='acme-directory-user'),
    pytest.param(sites(acme_site({'directory': 'https://acme.example.com:99999/directory'})), None, None,
                 ACME_DIRECTORY % '"https://acme.example.com:99999/directory"', id='acme-directory-port'),
    pytest.param(sites(acme_site({'directory': 'https://acme.example.com/directory\n'})), None, None,
                 ACME_DIRECTORY % '"https://acme.example.com/directory\\n"', id='acme-directory-newline'),
    pytest.param(sites(acme_site({'directory_ca_path': 'pebble.minica.pem'})), None, None,
                 ACME + 'directory_ca_path must be an absolute path (start with "/"), got "pebble.minica.pem"',
                 id='acme-directory_ca_path-relative'),
    pytest.param(sites(acme_site({'directory_ca_path': '/'})), None, None,
                 ACME + 'directory_ca_path must not be "/" (that would serve the whole file system)',
                 id='acme-directory_ca_path-root'),
    pytest.param(sites(acme_site({'key_type': 'dsa'})), None, None,
                 Contains('value of key_type must be one of: ecdsa, rsa, got: dsa'), id='acme-key_type'),
    pytest.param(sites(acme_site(redirect_http=[])), None, None,
                 ACME + 'the HTTP-01 challenge comes over plain HTTP to port 80, where this site does not listen: add 80 '
                        'to tls.redirect_http', id='acme-no-redirect'),
    pytest.param(sites(acme_site(redirect_http=['8080', '127.0.0.1:8000', 'unix:/run/plain.sock'])), None, None,
                 ACME + 'the HTTP-01 challenge comes over plain HTTP to port 80, where this site does not listen: add 80 '
                        'to tls.redirect_http', id='acme-redirect-not-on-80'),
    # A bad redirect_http value is reported once, not also as a missing port 80.
    pytest.param(sites(acme_site(redirect_http=['80;'])), None, None,
                 TLS + 'redirect_http value "80;" address "80;" is not a host name or IP address', id='acme-redirect-bad'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_config_dir': 'acme'}, None, None,
                 'websocket_proxy_acme_config_dir must be an absolute path (start with "/"), got "acme"',
                 id='acme_config_dir-relative'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_config_dir': '/etc/websocket-nginx/../letsencrypt'}, None, None,
                 'websocket_proxy_acme_config_dir ' + NOT_NORMAL % '"/etc/websocket-nginx/../letsencrypt"',
                 id='acme_config_dir-dotdot'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_webroot': '/'}, None, None,
                 'websocket_proxy_acme_webroot must not be "/" (that would serve the whole file system)',
                 id='acme_webroot-slash'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_webroot': '/var/lib/$host'}, None, None,
                 'websocket_proxy_acme_webroot must not contain "$" (nginx would read it as a variable), got '
                 '"/var/lib/$host"', id='acme_webroot-variable'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_webroot': '/var/lib/acme;\n'}, None, None,
                 'websocket_proxy_acme_webroot ' + CONTROL % '"/var/lib/acme;\\n"', id='acme_webroot-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_renew_calendar': ''}, None, None, ACME_CALENDAR % '""',
                 id='acme_renew_calendar-empty'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_renew_calendar': '  '}, None, None, ACME_CALENDAR % '"  "',
                 id='acme_renew_calendar-blank'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_renew_calendar': 'daily\nExecStart=/bin/sh'}, None, None,
                 ACME_CALENDAR % '"daily\\nExecStart=/bin/sh"', id='acme_renew_calendar-newline'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_renew_calendar': '*-*-* %H:00'}, None, None,
                 ACME_CALENDAR % '"*-*-* %H:00"', id='acme_renew_calendar-specifier'),
    pytest.param({**sites(site()), 'websocket_proxy_acme_renew_calendar': 'daily; reboot'}, None, None,
                 ACME_CALENDAR % '"daily; reboot"', id='acme_renew_calendar-semicolon'),
]


@pytest.mark.parametrize('variables, hostvars, groups, message', BAD)
def test_bad_input_has_one_message(variables, hostvars, groups, message):
    errors = errors_of(variables, hostvars, groups)
    if isinstance(message, Contains):
        assert len(errors) == 1 and message in ansible_wording(errors[0]), errors
    else:
        assert errors == [message]


# ---------------------------------------------------------------------------
# Values that are accepted, and what they become
# ---------------------------------------------------------------------------

def test_hostile_hash_key_is_accepted_and_rendered_as_one_argument():
    config = build(sites(site(upstreams=upstream(method='hash', hash_key=HOSTILE, hash_consistent=True))))
    (echo,) = config.sites[0].upstreams
    assert (echo.method, echo.hash_key, echo.hash_consistent) == ('hash', HOSTILE, True)
    # the way the upstream template writes it
    for consistent in ('', ' consistent'):
        text = 'upstream %s {\n    hash %s%s;\n    server %s;\n}\n' % (
            nv.nginx_arg(echo.name), nv.nginx_arg(echo.hash_key), consistent, nv.nginx_arg(echo.servers[0].address))
        (block,) = nc.parse(text)
        assert (block.name, block.args) == ('upstream', ['echo'])
        hashes = [d for d in block.children if d.name == 'hash']
        assert len(hashes) == 1
        assert hashes[0].args == [HOSTILE] + (['consistent'] if consistent else [])
        assert [d.name for d in block.children] == ['hash', 'server']


@pytest.mark.parametrize('value', ['$remote_addr', '${cookie_id}', '$request_uri$is_args', 'static-$host'])
def test_hash_keys(value):
    (echo,) = build(sites(site(upstreams=upstream(method='hash', hash_key=value)))).sites[0].upstreams
    assert echo.hash_key == value


@pytest.mark.parametrize('index, result', [
    ('index.html', ['index.html']),             # a string is one file name, not its characters
    ('index.html,index.htm', ['index.html', 'index.htm']),
    (['index.html', 'default.htm'], ['index.html', 'default.htm']),
])
def test_index_given_as_a_string_is_a_list(index, result):
    config = build(sites(site(static_locations=static(index=index))))
    assert config.sites[0].static_locations[0].index == result


def test_numbers_and_booleans_given_as_strings_are_typed():
    config = build({
        **sites(site(upstreams=servers({'address': '127.0.0.1:1', 'weight': '5', 'max_fails': '0',
                                        'backup': 'yes'}),
                     default_server='true', static_locations=static(gzip='no'))),
        'websocket_proxy_upstream_keepalive': '8',
        'websocket_proxy_check_through_proxy': 'false',
        'websocket_proxy_check_upstreams': 'no',
        'websocket_proxy_check_timeout': '2.5',
        'websocket_proxy_backend_port': '9000',
    })
    (demo,) = config.sites
    (echo,) = demo.upstreams
    assert echo.keepalive == 8 and isinstance(echo.keepalive, int) and not isinstance(echo.keepalive, bool)
    assert [(s.weight, s.max_fails, s.backup) for s in echo.servers] == [(5, 0, True)]
    assert isinstance(echo.servers[0].weight, int) and not isinstance(echo.servers[0].weight, bool)
    assert config.check_through_proxy is False
    assert config.check_upstreams is False
    assert config.upstream_checks[0].timeout == 2.5
    assert demo.default_server is True
    assert demo.static_locations[0].gzip is False
    as_dict = config.as_dict()
    assert as_dict['check_through_proxy'] is False
    assert as_dict['sites'][0]['upstreams'][0]['keepalive'] == 8


SESSION_LOG = '/var/log/nginx/websocket-sessions.log'


def session_logs(config):
    """path -> session_log of each location of the one site."""
    (demo,) = config.sites
    return {location.path: location.session_log
            for location in demo.websocket_locations + demo.proxy_locations + demo.static_locations}


def test_websocket_locations_write_the_session_log_by_default():
    config = build(sites(site(proxy_locations=[{'path': '/api/', 'upstream': 'echo'}])))
    settings = {'file': SESSION_LOG, 'format': 'websocket_proxy_session_demo', 'site': 'demo', 'location': '/ws/'}
    assert session_logs(config) == {'/ws/': settings, '/api/': None, '/': None}
    assert config.sites[0].session_log_format == 'websocket_proxy_session_demo'


def test_each_location_can_say_otherwise():
    config = build(sites(site(
        websocket_locations=ws_location(session_log=False) + [{'path': '/chat/', 'upstream': 'echo'}],
        proxy_locations=[{'path': '/api/', 'upstream': 'echo', 'session_log': True}],
        static_locations=static(session_log=True))))
    assert {path: bool(settings) for path, settings in session_logs(config).items()} == {
        '/ws/': False, '/chat/': True, '/api/': True, '/': True}


def test_session_log_off_and_moved_with_strings_as_given_with_e():
    """"false" turns it off for WebSocket locations that do not ask for it themselves ("true", as -e gives it)."""
    config = build({**sites(site(websocket_locations=ws_location() + [{'path': '/chat/', 'upstream': 'echo',
                                                                      'session_log': 'true'}])),
                    'websocket_proxy_session_log': 'false', 'websocket_proxy_session_log_file': '/srv/logs/ws.json'})
    assert session_logs(config) == {'/ws/': None, '/chat/': {
        'file': '/srv/logs/ws.json', 'format': 'websocket_proxy_session_demo', 'site': 'demo', 'location': '/chat/'}, '/': None}
    off = build({**sites(site()), 'websocket_proxy_session_log': False})
    assert set(session_logs(off).values()) == {None}
    assert off.sites[0].session_log_format is None  # no location writes it: no log_format in the site file


@pytest.mark.parametrize('path, value', [
    ('/a$b/', '/a${websocket_proxy_dollar}b/'),
    ('/$/', '/${websocket_proxy_dollar}/'),
    ('/${x}/', '/${websocket_proxy_dollar}{x}/'),
    ('/a b"\\/', '/a b"\\/'),
])
def test_the_location_is_a_set_value_that_reads_back_as_the_path(path, value):
    """A set value is a script, where "$" starts a variable: each one becomes $websocket_proxy_dollar (a literal "$")."""
    config = build(sites(site(websocket_locations=ws_location(path=path))))
    assert session_logs(config)[path]['location'] == value


def test_site_names_give_distinct_log_formats():
    names = ['a-b', 'a_b', 'a.b', 'a__b', 'a_hb']
    config = build({'websocket_proxy_sites': [
        {'name': name, 'server_name': ['%s.test' % index], 'upstreams': [{'name': 'u%d' % index, 'servers': [
            {'address': '127.0.0.1:1'}]}], 'websocket_locations': [{'path': '/ws/', 'upstream': 'u%d' % index}]}
        for index, name in enumerate(names)]})
    formats = [item.session_log_format for item in config.sites]
    assert len(set(formats)) == len(names)
    assert all(re.fullmatch('websocket_proxy_session_[A-Za-z0-9_]+', item) for item in formats)


def test_1h30m_is_accepted_for_timeouts_and_expires():
    config = build({
        **sites(site(
            websocket_locations=ws_location(read_timeout='1h30m', send_timeout='1h30m', connect_timeout='1m30s'),
            proxy_locations=[{'path': '/api/', 'upstream': 'echo', 'read_timeout': '1h30m'}],
            static_locations=static(expires='1h30m') + [
                {'path': '/a/', 'root': '/srv', 'expires': 'modified +1h30m'},
                {'path': '/b/', 'root': '/srv', 'expires': '@15h30m'},
                {'path': '/c/', 'root': '/srv', 'expires': '-1'},
                {'path': '/d/', 'root': '/srv', 'expires': 'max'},
                {'path': '/e/', 'root': '/srv', 'expires': 'off'}],
            upstreams=servers({'address': '127.0.0.1:1', 'fail_timeout': '1m30s'}))),
        'websocket_proxy_read_timeout': '1h30m',
        'websocket_proxy_static_expires': '1d12h',
        'websocket_proxy_connect_timeout': '500ms',
    })
    (demo,) = config.sites
    (ws,) = demo.websocket_locations
    assert (ws.read_timeout, ws.send_timeout, ws.connect_timeout) == ('1h30m', '1h30m', '1m30s')
    (api,) = demo.proxy_locations
    assert (api.read_timeout, api.send_timeout, api.connect_timeout) == ('1h30m', None, '500ms')
    assert [s.expires for s in demo.static_locations] == [
        ['1h30m'], ['modified', '+1h30m'], ['@15h30m'], ['-1'], ['max'], ['off']]
    assert demo.upstreams[0].servers[0].fail_timeout == '1m30s'
    default = build({**sites(site()), 'websocket_proxy_read_timeout': '1h30m',
                     'websocket_proxy_static_expires': '1d12h'}).sites[0]
    assert default.websocket_locations[0].read_timeout == '1h30m'
    assert default.static_locations[0].expires == ['1d12h']


@pytest.mark.parametrize('expires, cache_control, rendered_expires, header', [
    (None, None, ['1h'], None),                                   # the defaults: nginx's expires alone
    ('modified +1h', None, ['modified', '+1h'], None),
    (None, 'public', ['off'], 'public, max-age=3600'),            # expires from websocket_proxy_static_expires
    ('1h30m', 'public, immutable', ['off'], 'public, immutable, max-age=5400'),
    ('1h 30m', 'public', ['off'], 'public, max-age=5400'),
    ('+1d', 'private', ['off'], 'private, max-age=86400'),
    ('1y1M1w1d1h1m1s', 'public', ['off'], 'public, max-age=%d' % (365 * 86400 + 30 * 86400 + 7 * 86400 + 90061)),
    ('90', 'public', ['off'], 'public, max-age=90'),
    ('0', 'public', ['off'], 'public, max-age=0'),
    ('-0', 'public', ['off'], 'public, max-age=0'),               # nginx: -0 is 0, not negative
    ('-1', 'public', ['off'], 'public, no-cache'),
    ('epoch', 'private', ['off'], 'private, no-cache'),
    ('max', 'public, immutable', ['off'], 'public, immutable, max-age=315360000'),
    ('off', 'no-cache, max-age=0', ['off'], 'no-cache, max-age=0'),  # sent as written
    ('off', 'no-store', ['off'], 'no-store'),
    ('1h', 'public, s-maxage=60', ['off'], 'public, s-maxage=60, max-age=3600'),  # s-maxage is not max-age
])
def test_static_location_sends_one_cache_control(expires, cache_control, rendered_expires, header):
    location = static(**{key: value for key, value in (('expires', expires), ('cache_control', cache_control))
                         if value is not None})
    (files,) = build(sites(site(static_locations=location))).sites[0].static_locations
    assert (files.expires, files.cache_control) == (rendered_expires, header)


def test_static_locations_repeat_the_server_headers():
    tls = {**TLS_FILES, 'hsts': True}
    extra = ['add_header X-Frame-Options DENY always;\nadd_header Referrer-Policy "no-referrer";',
             'add_header cache-control private; add_header X-Content-Type-Options nosniff; add_header Expires 0;',
             'location /x/ {\n    add_header X-Inner 1;\n    return 204;\n}', 'client_max_body_size 1m;']
    demo = build(sites(site(tls=tls, listen=[443], extra_directives=extra))).sites[0]
    assert [location.server_headers for location in demo.static_locations] == [[
        ['Strict-Transport-Security', 'max-age=63072000', 'always'], ['X-Frame-Options', 'DENY', 'always'],
        ['Referrer-Policy', 'no-referrer']]]
    assert build(sites(site())).sites[0].static_locations[0].server_headers == []


_TIME_UNITS = (('y', 365 * 86400), ('M', 30 * 86400), ('w', 7 * 86400), ('d', 86400), ('h', 3600), ('m', 60), ('s', 1))


@st.composite
def _expires_times(draw):
    """(text, seconds, negative): an expires time as nginx reads it (units in order, each once, spaces
    after a unit, a bare number for seconds), and its seconds counted here from the parts."""
    parts = []
    seconds = 0
    for unit, size in _TIME_UNITS:
        if draw(st.booleans()):
            number = draw(st.integers(0, 20 if unit == 'y' else 99))
            parts.append('%d%s%s' % (number, unit, ' ' * draw(st.integers(0, 2))))
            seconds += number * size
    if not parts or draw(st.booleans()):
        number = draw(st.integers(0, 59))
        parts.append(str(number))
        seconds += number
    sign = draw(st.sampled_from(['', '+', '-']))
    return sign + ''.join(parts).rstrip(' '), seconds, sign == '-'


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(time=_expires_times())
def test_expires_time_becomes_max_age(time):
    """Any fixed expires time with cache_control: max-age is its seconds (no-cache when negative, as nginx writes it)."""
    text, seconds, negative = time
    (files,) = build(sites(site(static_locations=static(expires=text, cache_control='public')))).sites[0].static_locations
    assert files.expires == ['off']
    assert files.cache_control == ('public, no-cache' if negative and seconds else 'public, max-age=%d' % seconds)


def test_same_server_name_on_different_listens_is_allowed():
    config = build(sites(site(server_name=['a.test']), other_site(server_name=['a.test'], listen=[8080])))
    assert [(s.name, [item.key for item in s.listen]) for s in config.sites] == [
        ('demo', ['*:80']), ('other', ['*:8080'])]


@pytest.mark.parametrize('first, second', [
    (['80'], ['[::]:80']),                      # separate sockets
    (['127.0.0.1:80'], ['127.0.0.2:80']),
    (['unix:/run/a.sock'], ['unix:/run/b.sock']),
])
def test_default_servers_on_different_listens_are_allowed(first, second):
    config = build(sites(site(default_server=True, listen=first), other_site(default_server=True, listen=second)))
    assert [s.default_server for s in config.sites] == [True, True]


def test_one_default_server_may_list_the_same_socket_twice():
    config = build(sites(site(default_server=True, listen=['80', '80 reuseport'])))
    assert [(item.key, item.params) for item in config.sites[0].listen] == [('*:80', []), ('*:80', ['reuseport'])]


def test_paths_are_normalized():
    config = build(sites(site(static_locations=static(root='/var/www/demo/') + [
        {'path': '/files/', 'alias': '/srv/files'}, {'path': '/more/', 'alias': '/srv/more/'}])))
    assert [(s.root, s.alias) for s in config.sites[0].static_locations] == [
        ('/var/www/demo', None), (None, '/srv/files/'), (None, '/srv/more/')]


def test_listen_values_and_proxy_check_addresses():
    config = build(sites(site(listen=['[::]:8080 ipv6only=on', '443 reuseport', 'unix:/run/x.sock'],
                              server_name=['*.a.test', 'www.a.test'])))
    (demo,) = config.sites
    assert [(item.key, item.address, item.params) for item in demo.listen] == [
        ('[::]:8080', '[::]:8080', ['ipv6only=on', 'reuseport']), ('*:443', '443', ['reuseport']),
        ('unix:/run/x.sock', 'unix:/run/x.sock', [])]
    assert [(c.address, c.host_header) for c in demo.proxy_checks] == [('[::1]:8080', 'www.a.test')]


def test_reuseport_once_per_address_on_the_listen_with_socket_options():
    def listens(config):
        return {site.name: [' '.join([item.address] + item.params) for item in site.listen] for site in config.sites}

    def named(name, listen):
        return other_site(name=name, listen=listen, server_name=[name + '.test'],
                          upstreams=[{'name': name, 'servers': [{'address': '127.0.0.1:9000'}]}],
                          websocket_locations=[{'path': '/ws/', 'upstream': name}])

    three = sites(named('a', ['80', '127.0.0.1:8080']),
                  named('b', ['80', '8081 backlog=4096', 'unix:/run/b.sock']),
                  named('c', ['8081', '*:8082 reuseport']),
                  named('d', ['8082']),
                  [{'name': 'gone', 'state': 'absent', 'listen': ['9000']}])
    assert listens(build(three)) == {
        'a': ['80 reuseport', '127.0.0.1:8080 reuseport'],
        'b': ['80', '8081 backlog=4096 reuseport', 'unix:/run/b.sock'],  # where nginx takes socket options
        'c': ['8081', '*:8082 reuseport'],  # the user's own reuseport stays the only one
        'd': ['8082'],
    }
    assert listens(build({**three, 'websocket_proxy_reuseport': 'false'})) == {
        'a': ['80', '127.0.0.1:8080'], 'b': ['80', '8081 backlog=4096', 'unix:/run/b.sock'],
        'c': ['8081', '*:8082 reuseport'], 'd': ['8082'],
    }


def test_empty_file_prefix_is_allowed():
    config = build({**sites(site()), 'websocket_proxy_file_prefix': ''})
    assert config.sites[0].file == '/etc/nginx/conf.d/demo.conf'


def test_absent_site_is_removed_not_checked():
    config = build(sites(site(), [{'name': 'old', 'state': 'absent', 'listen': []}]))
    assert [s.name for s in config.sites] == ['demo']
    assert [(s.name, s.file) for s in config.removed_sites] == [('old', '/etc/nginx/conf.d/websocket-proxy-old.conf')]


def test_several_problems_are_all_reported():
    errors = errors_of(sites(site(server_name=['#x'], upstreams=servers({'address': '127.0.0.1:1', 'weight': 0}))))
    assert errors == [
        SERVER_NAME % '"#x"',
        'site "demo", upstream "echo", server "127.0.0.1:1": weight must be 1 or more, got 0',
    ]


def test_health_check_settings_per_upstream_and_check_per_location():
    config = build({
        **sites(site(
            upstreams=[
                {'name': 'chat', 'servers': [{'address': 'app-1:8000'}, {'address': 'app-2:8000', 'down': True}],
                 'health_check': {'type': 'websocket', 'path': '/socket.io/?EIO=4&transport=websocket',
                                  'host_header': 'chat.test:8000',
                                  'subprotocols': ['v1'], 'timeout': '2'}},
                {'name': 'api', 'servers': [{'address': 'app-1:9000'}],
                 'health_check': {'type': 'http', 'path': '/healthz', 'expected_status': ['200', '204'],
                                  'tls': 'true', 'validate_certs': 'false'}},
                {'name': 'quiet', 'servers': [{'address': 'app-1:9100'}], 'health_check': {'enabled': 'false'}},
                {'name': 'echo', 'servers': [{'address': '127.0.0.1:8765'}]},
            ],
            websocket_locations=[
                {'path': '/socket.io/', 'upstream': 'chat', 'check': {'path': '/socket.io/?EIO=4&transport=websocket'}},
                {'path': '/ws/', 'upstream': 'echo', 'check': {'echo': 'yes', 'subprotocols': ['v1']}},
                {'path': '/quiet/', 'upstream': 'quiet', 'check': {'enabled': False}},
            ])),
        'websocket_proxy_check_type': 'tcp',
        'websocket_proxy_check_timeout': 7,
    })
    assert [(c.upstream, c.servers, c.type, c.path, c.host_header, c.expected_status, c.subprotocols, c.tls,
             c.validate_certs, c.timeout) for c in config.upstream_checks] == [
        ('chat', ['app-1:8000'], 'websocket', '/socket.io/?EIO=4&transport=websocket', 'chat.test:8000', [200], ['v1'],
         False, True, 2.0),
        ('api', ['app-1:9000'], 'http', '/healthz', None, [200, 204], None, True, False, 7.0),
        ('echo', ['127.0.0.1:8765'], 'tcp', '/', None, [200], None, False, True, 7.0),
    ]
    assert [(c.location, c.path, c.echo, c.subprotocols, c.timeout) for c in config.proxy_checks] == [
        ('/socket.io/', '/socket.io/?EIO=4&transport=websocket', False, None, 7.0),
        ('/ws/', '/ws/', True, ['v1'], 7.0),
    ]


def test_switches_are_independent():
    """allow_unhealthy_upstreams does not turn the check through nginx off, nor the other way round."""
    config = build({**sites(site()), 'websocket_proxy_allow_unhealthy_upstreams': True})
    assert (config.allow_unhealthy_upstreams, config.check_through_proxy, config.check_upstreams) == (True, True, True)
    assert config.proxy_checks and config.upstream_checks
    config = build({**sites(site()), 'websocket_proxy_check_through_proxy': False})
    assert (config.allow_unhealthy_upstreams, config.check_through_proxy, config.rollback_on_failed_check) == (
        False, False, True)


def test_host_checks_use_the_upstream_settings_and_include_down_servers():
    config = build({**sites(site(upstreams=[
        {'name': 'chat', 'health_check': {'path': '/chat/ws'}},
        {'name': 'echo', 'servers': [{'address': '10.0.0.2:8765'}]},
    ], websocket_locations=ws_location())), 'websocket_proxy_down_servers': ['backend-2']},
        hostvars={'backend-1': {}, 'backend-2': {'ansible_host': '10.0.0.2'}},
        groups={'websocket_backends': ['backend-1', 'backend-2']})
    checks = {host: [(c.upstream, c.servers, c.path) for c in items] for host, items in config.host_checks.items()}
    assert checks == {'backend-1': [('chat', ['backend-1:8765'], '/chat/ws')],
                      'backend-2': [('chat', ['10.0.0.2:8765'], '/chat/ws'), ('echo', ['10.0.0.2:8765'], '/')]}
    # Down servers are not checked before a change...
    assert [(c.upstream, c.servers) for c in config.upstream_checks] == [('chat', ['backend-1:8765'])]


def test_check_timeout_bounds():
    assert build({**sites(site()), 'websocket_proxy_check_timeout': 3600}).upstream_checks[0].timeout == 3600
    assert build({**sites(site()), 'websocket_proxy_check_timeout': 0.1}).proxy_checks[0].timeout == 0.1
    assert not math.isnan(build(sites(site())).upstream_checks[0].timeout)


# ---------------------------------------------------------------------------
# Upstreams filled from an inventory group
# ---------------------------------------------------------------------------

HOSTVARS = {
    'b1': {'websocket_backend_address': '10.0.0.1', 'ansible_host': '192.0.2.1'},   # websocket_backend_address wins
    'b2': {'ansible_host': '10.0.0.2', 'websocket_backend_port': 9000},             # ansible_host, its own port
    'b3': {},                                                                       # the inventory name
    'b4': {'websocket_backend_address': 'fe80::1', 'websocket_backend_port': '9001'},
    'b5': {'ansible_host': '2001:db8::5'},
    'b33': {},
    'b6': {'websocket_backend_address': '10.0.0.6'},                                # not in a group
}
GROUPS = {'websocket_backends': ['b1', 'b2', 'b3', 'b4', 'b5'], 'others': ['b33', 'b3']}
FROM_GROUP = sites(site(upstreams=upstream(servers=None)))


def addresses(config, down=None):
    (echo,) = config.sites[0].upstreams
    return [(s.address, s.inventory_host) if down is None else (s.address, s.down) for s in echo.servers]


def test_upstream_from_inventory_group():
    config = build(FROM_GROUP, HOSTVARS, GROUPS)
    assert addresses(config) == [('10.0.0.1:8765', 'b1'), ('10.0.0.2:9000', 'b2'), ('b3:8765', 'b3'),
                                 ('[fe80::1]:9001', 'b4'), ('[2001:db8::5]:8765', 'b5')]
    assert config.upstream_checks[0].servers == ['10.0.0.1:8765', '10.0.0.2:9000', 'b3:8765', '[fe80::1]:9001',
                                                 '[2001:db8::5]:8765']


def test_upstream_from_inventory_group_uses_websocket_proxy_backend_port():
    config = build({**FROM_GROUP, 'websocket_proxy_backend_port': 7000}, HOSTVARS, GROUPS)
    assert [a for a, _host in addresses(config)] == ['10.0.0.1:7000', '10.0.0.2:9000', 'b3:7000', '[fe80::1]:9001',
                                                     '[2001:db8::5]:7000']


def test_upstream_from_named_groups():
    config = build(sites(site(upstreams=upstream(servers=None, backend_group='others'))), HOSTVARS, GROUPS)
    assert addresses(config) == [('b33:8765', 'b33'), ('b3:8765', 'b3')]
    config = build({**FROM_GROUP, 'websocket_proxy_backend_group': 'others'}, HOSTVARS, GROUPS)
    assert addresses(config) == [('b33:8765', 'b33'), ('b3:8765', 'b3')]


def test_host_without_hostvars_uses_its_name():
    config = build(FROM_GROUP, {}, {'websocket_backends': ['backend-1.example']})
    assert addresses(config) == [('backend-1.example:8765', 'backend-1.example')]


@pytest.mark.parametrize('down, expected', [
    (['b2'], [False, True, False, False, False]),
    (['b4'], [False, False, False, True, False]),
    (['b1', 'b5'], [True, False, False, False, True]),
    (['b33'], [False, False, False, False, False]),       # not a member: nothing changes
    ([], [False, False, False, False, False]),
])
def test_down_servers_in_a_group_upstream(down, expected):
    config = build({**FROM_GROUP, 'websocket_proxy_down_servers': down}, HOSTVARS, GROUPS)
    assert [is_down for _address, is_down in addresses(config, down=True)] == expected
    (echo,) = config.sites[0].upstreams
    in_rotation = [s.address for s in echo.servers if not s.down]
    assert config.upstream_checks[0].servers == in_rotation


LISTED = [{'address': '10.0.0.1:8765'}, {'address': '10.0.0.2:8765'}, {'address': 'b3:8765'},
          {'address': 'b33:8765'}, {'address': '[fe80::1]:8765'}, {'address': '192.0.2.1:8765'},
          {'address': 'unix:/run/b3.sock'}, {'address': '10.0.0.6:8765'}]


@pytest.mark.parametrize('down, expected', [
    (['b6'], ['10.0.0.6:8765']),          # by its websocket_backend_address
    pytest.param(['b1'], ['10.0.0.1:8765', '192.0.2.1:8765']),
    (['b2'], ['10.0.0.2:8765']),          # by its ansible_host
    (['b3'], ['b3:8765']),                # by its inventory name; not b33, not the unix socket
    (['b4'], ['[fe80::1]:8765']),         # an IPv6 address, in brackets in the server address
    (['b33'], ['b33:8765']),
    (['b1', 'b3'], ['10.0.0.1:8765', 'b3:8765', '192.0.2.1:8765']),
    (['nobody'], []),
])
def test_down_servers_in_a_listed_upstream(down, expected):
    config = build({**sites(site(upstreams=upstream(servers=copy.deepcopy(LISTED)))),
                    'websocket_proxy_down_servers': down}, HOSTVARS, GROUPS)
    (echo,) = config.sites[0].upstreams
    assert [s.address for s in echo.servers if s.down] == expected
    assert [s.address for s in echo.servers if s.down and s.inventory_host in down] == expected
    assert config.upstream_checks[0].servers == [s.address for s in echo.servers
                                                 if not s.down and not s.address.startswith('unix:')]


def test_down_servers_by_address_do_not_match_group_members():
    """websocket_proxy_down_servers names inventory hosts; an address there does not take a group member down."""
    config = build({**FROM_GROUP, 'websocket_proxy_down_servers': ['10.0.0.1']}, HOSTVARS, GROUPS)
    assert not any(is_down for _address, is_down in addresses(config, down=True))


def test_server_marked_down_in_its_own_entry_stays_down():
    config = build(sites(site(upstreams=servers({'address': '127.0.0.1:1'}, {'address': '127.0.0.1:2', 'down': True}))))
    assert [(s.address, s.down) for s in config.sites[0].upstreams[0].servers] == [
        ('127.0.0.1:1', False), ('127.0.0.1:2', True)]
    assert config.upstream_checks[0].servers == ['127.0.0.1:1']


class _RecordingHostVars(dict):
    """Host variables that note every key read."""

    read = []

    def get(self, key, default=None):
        self.read.append(key)
        return super().get(key, default)

    def __getitem__(self, key):
        self.read.append(key)
        return super().__getitem__(key)


def test_reads_no_echo_backend_variable():
    """The proxy's servers come from websocket_backend_* host variables, never from echo_backend_*."""
    _RecordingHostVars.read = []
    hostvars = {'b1': _RecordingHostVars({'echo_backend_port': 1234, 'echo_backend_bind_address': '10.9.9.9',
                                          'ansible_host': '10.0.0.1'})}
    config = build({**FROM_GROUP, 'echo_backend_port': 4321}, hostvars, {'websocket_backends': ['b1']})
    assert addresses(config) == [('10.0.0.1:8765', 'b1')]
    assert set(_RecordingHostVars.read) <= {'websocket_backend_address', 'ansible_host', 'websocket_backend_port'}
    assert _RecordingHostVars.read


# ---------------------------------------------------------------------------
# Defaults cannot drift: roles/<role>/defaults/main.yml == meta/argument_specs.yml
# ---------------------------------------------------------------------------

# defaults/main.yml values that are Jinja templates and so cannot equal a spec default; each is
# the value defaults/main.yml must hold, and the spec default it stands for.
TEMPLATED_DEFAULTS = {
    'echo_backend': {
        # the host's websocket_backend_port (where the proxies look for it), else the spec's 8765
        'echo_backend_port': ('{{ websocket_backend_port | default(8765) }}', 8765),
        # the same template in both files (the spec documents it)
        'echo_backend_name': ('{{ inventory_hostname }}', '{{ inventory_hostname }}'),
    },
}


@pytest.mark.parametrize('role', role_spec.ROLES)
def test_role_defaults_equal_argument_spec_defaults(role):
    with open(os.path.join(role_spec.COLLECTION_ROOT, 'roles', role, 'defaults', 'main.yml'), encoding='utf-8') as handle:
        defaults = yaml.safe_load(handle) or {}
    spec = role_spec.argument_spec(role)
    exceptions = TEMPLATED_DEFAULTS.get(role, {})
    assert sorted(set(defaults) - set(spec)) == [], 'defaults/main.yml sets variables the spec does not know'
    assert sorted(name for name, option in spec.items() if 'default' in option and name not in defaults) == [], \
        'the spec has defaults that defaults/main.yml does not set'
    for name, value in defaults.items():
        if name in exceptions:
            templated, spec_default = exceptions[name]
            assert (value, spec[name].get('default')) == (templated, spec_default), name
        else:
            assert 'default' in spec[name], '%s has no default in the spec' % name
            assert value == spec[name]['default'], name
            assert type(value) is type(spec[name]['default']) or isinstance(value, (int, float)), name
    # the validator fills exactly those defaults in
    validated = role_spec.validate_role_variables(role, {})
    for name, value in defaults.items():
        assert validated[name] == (exceptions[name][1] if name in exceptions else value), name


# ---------------------------------------------------------------------------
# Property: what the checks send is one request line and one header each
# ---------------------------------------------------------------------------

# Whatever text is given, a value the model accepts for a check goes into the HTTP request
# upstream_health sends without adding a line, a header or a second request-target word.
_SEND_SAFE = {
    'path': re.compile(r'/[^\x00-\x20\x7f]*'),
    'host_header': re.compile(r'[A-Za-z0-9._\-\[\]:]+'),
    'subprotocol': re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"),  # RFC 9110 token
}
_CHECK_TEXT = st.one_of(
    st.text(max_size=40),
    st.builds(lambda head, tail: head + tail, st.sampled_from(['/', '/ws/', 'app.test', 'v1', '[::1]:']),
              st.text(alphabet=st.sampled_from(' \r\n\t\x00\x0b\x0c\x7f"\',;#%:/?&=[]x9'), max_size=8)),
)


def _accepted(variables):
    try:
        return build(variables)
    except ModelError:
        return None


@settings(max_examples=200, derandomize=True, deadline=None)
@given(value=_CHECK_TEXT)
def test_accepted_check_values_stay_one_request_line_and_header(value):
    config = _accepted(sites(site(upstreams=upstream(health_check={'path': value}))))
    if config:
        assert _SEND_SAFE['path'].fullmatch(config.upstream_checks[0].path)
    config = _accepted(sites(site(upstreams=upstream(health_check={'host_header': value}))))
    if config:
        assert _SEND_SAFE['host_header'].fullmatch(config.upstream_checks[0].host_header)
    config = _accepted(sites(site(upstreams=upstream(health_check={'subprotocols': [value]}))))
    if config:
        assert all(_SEND_SAFE['subprotocol'].fullmatch(item) for item in config.upstream_checks[0].subprotocols)
    config = _accepted(sites(site(websocket_locations=ws_location(check={'path': value}))))
    if config:
        assert _SEND_SAFE['path'].fullmatch(config.proxy_checks[0].path)
        assert config.proxy_checks[0].path.startswith('/ws/')


@pytest.mark.parametrize('changes, fallback', [
    pytest.param({'static_locations': []}, True, id='only-a-websocket-location'),
    pytest.param({}, False, id='static-root'),
    pytest.param({'static_locations': [], 'proxy_locations': [{'path': '/', 'upstream': 'echo'}]}, False,
                 id='proxy-root'),
    pytest.param({'static_locations': [], 'extra_directives': ['location / { return 200; }']}, False,
                 id='extra-location-root'),
    pytest.param({'static_locations': [], 'extra_directives': ['root /srv/www;']}, False, id='extra-root'),
    pytest.param({'static_locations': [], 'extra_directives': ['location /x/ { return 200; }']}, True,
                 id='extra-other-location'),
])
def test_sites_without_a_root_location_answer_404(changes, fallback):
    """Otherwise nginx serves its compiled-in root, Debian's "Welcome to nginx!" page, for unknown paths."""
    assert build(sites(site(**changes))).sites[0].not_found_fallback is fallback


# ---------------------------------------------------------------------------
# TLS, Origin allowlist, client limits, realip (issue 9)
# ---------------------------------------------------------------------------

def test_tls_site_listens_with_ssl_redirects_and_is_checked_over_wss():
    config = build(sites(site(listen=['443', 'unix:/run/a.sock'], server_name=['app.test', '_'],
                              tls={'certificate_src': 'files/app.pem', 'certificate_key_src': 'files/app.key',
                                   'hsts': 'true', 'redirect_http': ['80'], 'check_ca_path': '/etc/ssl/ca.pem'})))
    (demo,) = config.sites
    assert [(item.key, item.params) for item in demo.listen] == [('*:443', ['ssl', 'http2', 'reuseport']),
                                                                 ('unix:/run/a.sock', [])]
    tls = demo.tls
    assert (tls.certificate, tls.certificate_key) == ('/etc/nginx/websocket-proxy-tls/demo.crt',
                                                      '/etc/nginx/websocket-proxy-tls/demo.key')
    assert (tls.certificate_src, tls.certificate_key_src) == ('files/app.pem', 'files/app.key')
    assert (tls.hsts, tls.redirect_port) == ('max-age=63072000', None)
    assert [item.key for item in tls.redirect_listen] == ['*:80']
    (check,) = config.proxy_checks
    assert (check.address, check.tls, check.ca_path) == ('127.0.0.1:443', True, '/etc/ssl/ca.pem')
    assert check.host_header == 'app.test'


def test_tls_redirect_names_a_port_other_than_443():
    config = build(sites(site(listen=['8443'], tls={**TLS_FILES, 'redirect_http': ['8080'], 'hsts': False})))
    assert (config.sites[0].tls.redirect_port, config.sites[0].tls.hsts) == (8443, None)


def test_redirect_listen_clashes_with_another_sites_default_server():
    errors = errors_of(sites(site(listen=[443], default_server=True, tls={**TLS_FILES, 'redirect_http': [80]}),
                             other_site(listen=[80], default_server=True)))
    assert errors == ['site "other": is the default server of *:80, and so is site "demo"; only one site may be']


def test_tls_upstream_is_health_checked_over_tls_as_nginx_verifies_it():
    config = build(sites(site(upstreams=upstream(tls={'server_name': 'app.internal', 'ca_path': '/etc/ssl/int.pem'}))))
    (echo,) = config.sites[0].upstreams
    assert echo.tls == {'server_name': 'app.internal', 'verify': True, 'ca_path': '/etc/ssl/int.pem'}
    assert config.sites[0].websocket_locations[0].upstream_tls == echo.tls
    (check,) = config.upstream_checks
    assert (check.tls, check.validate_certs, check.ca_path, check.host_header) == (True, True, '/etc/ssl/int.pem',
                                                                                   'app.internal')
    unverified = build(sites(site(upstreams=upstream(tls={'verify': 'false'}, health_check={'host_header': 'x.test'}))))
    (check,) = unverified.upstream_checks
    assert (check.tls, check.validate_certs, check.host_header) == (True, False, 'x.test')
    assert unverified.sites[0].upstreams[0].tls['server_name'] is None
    assert build(sites(site(upstreams=upstream(tls={'enabled': False})))).sites[0].upstreams[0].tls is None


def test_origins_limits_and_max_conns_from_strings_as_given_with_e():
    config = build({
        **sites(site(
            name='my-site.1',
            upstreams=servers({'address': '127.0.0.1:8765', 'max_conns': '8'}),
            websocket_locations=ws_location(allowed_origins=['HTTPS://App.Test', 'http://[::1]:8080'],
                                            allow_missing_origin='false',
                                            client_limits={'connections': '8', 'rate': '10r/s', 'burst': '5',
                                                           'status': '503'}))),
        'websocket_proxy_real_ip_from': ['10.0.0.0/8', '::1', 'unix:'], 'websocket_proxy_real_ip_recursive': 'false'})
    (demo,) = config.sites
    (ws,) = demo.websocket_locations
    assert ws.origins == ['https://app.test', 'http://[::1]:8080'] and ws.allow_missing_origin is False
    assert ws.origin_denied_variable == '$websocket_proxy_origin_denied_my_hsite_d1_0'
    assert ws.limit_conn == {'zone': 'websocket_proxy_conn_my_hsite_d1_0', 'connections': 8}
    assert ws.limit_req == {'zone': 'websocket_proxy_req_my_hsite_d1_0', 'rate': '10r/s', 'burst': 5}
    assert ws.limit_status == 503
    assert demo.upstreams[0].servers[0].max_conns == 8
    assert demo.real_ip == {'from': ['10.0.0.0/8', '::1/128', 'unix:'], 'header': 'X-Forwarded-For', 'recursive': False}
    assert [zone['directive'] for zone in demo.limit_zones] == ['limit_conn_zone', 'limit_req_zone']
    (check,) = config.proxy_checks
    assert check.origin == 'https://app.test'


def test_site_names_give_distinct_variable_names():
    """Site names may hold "." and "-", variable names may not: different names never share a map or zone."""
    names = ['a-b', 'a_b', 'a.b', 'a_hb', 'a__b', 'a_d_b']
    assert len({site_model._variable_part(name) for name in names}) == len(names)
    for name in names:
        assert re.fullmatch(r'[A-Za-z0-9_]+', site_model._variable_part(name))


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(st.text(max_size=40))
def test_an_accepted_origin_is_one_plain_word(text):
    """Whatever text is given, an accepted origin is scheme://host[:port] of safe characters only."""
    try:
        origin = nv.check_origin(text)
    except ValueError:
        return
    assert re.fullmatch(r'https?://[a-z0-9_.\-\[\]:]+', origin), origin


# ---------------------------------------------------------------------------
# What the model needs from the host, and the certificate checksum it gets back
# ---------------------------------------------------------------------------

def test_host_needs_tls_and_the_host_certificates_of_present_sites():
    variables = sites(site(tls=TLS_FILES),
                      other_site(listen=[8443], tls={'certificate': '/etc/ssl/other.pem/', 'certificate_key': '/k.pem'}),
                      other_site(name='copied', listen=[9443], tls={'certificate_src': 'c.pem', 'certificate_key_src': 'k'}),
                      other_site(name='same', listen=[7443], tls=TLS_FILES),
                      other_site(name='relative', listen=[6443], tls={'certificate': 'c.pem', 'certificate_key': '/k'}),
                      other_site(name='old', state='absent', tls={'certificate': '/etc/ssl/old.pem', 'certificate_key': '/k'}))
    # Normalized as the model writes them, each once; the ones build refuses are not asked for.
    assert site_model.host_needs(variables) == {'tls': True, 'acme': False,
                                                'certificates': ['/etc/ssl/demo.pem', '/etc/ssl/other.pem']}
    assert site_model.host_needs(sites(site())) == {'tls': False, 'acme': False, 'certificates': []}
    assert site_model.host_needs(sites(site(tls={'certificate_src': 'c.pem', 'certificate_key_src': 'k'}))) == {
        'tls': True, 'acme': False, 'certificates': []}
    with pytest.raises(ModelError):
        site_model.host_needs({'websocket_proxy_sites': 'nope'})


def errors_of_build(variables, sums):
    with pytest.raises(ModelError) as exc:
        site_model.build(variables, certificate_sha1=sums)
    return exc.value.errors


def test_the_certificate_checksum_from_the_host_goes_into_the_model():
    variables = sites(site(tls=TLS_FILES), other_site(listen=[9443], tls={'certificate_src': 'c.pem',
                                                                          'certificate_key_src': 'k.pem'}))
    built = site_model.build(variables, certificate_sha1={'/etc/ssl/demo.pem': 'ab' * 20})
    assert [site.tls.certificate_sha1 for site in built.sites] == ['ab' * 20, None]
    # Unknown or missing on the host: "not on the host", as the site file has always said.
    for sums in (None, {}, {'/etc/ssl/demo.pem': None}):
        assert site_model.build(variables, certificate_sha1=sums).sites[0].tls.certificate_sha1 == 'not on the host'
    assert errors_of_build(variables, {'/etc/ssl/demo.pem': 'AB' * 20}) == [
        TLS + 'the host gave "%s" as the SHA-1 of certificate /etc/ssl/demo.pem' % ('AB' * 20)]


# ---------------------------------------------------------------------------
# Certificates from ACME (tls.acme)
# ---------------------------------------------------------------------------

ACME_ON_HOST = {ACME_CERTIFICATE: 'ab' * 20}


def test_an_acme_site_is_pending_until_the_host_has_its_certificate():
    pending = site_model.build(sites(acme_site()))
    (demo,) = pending.sites
    assert (demo.tls.certificate, demo.tls.certificate_key) == (ACME_CERTIFICATE, ACME_KEY)
    assert (demo.tls.certificate_src, demo.tls.certificate_key_src) == (None, None)
    assert (demo.tls.certificate_sha1, demo.tls.acme_pending) == ('not on the host', True)
    assert demo.tls.acme == {'names': ['chat.example.com'], 'contact': 'admin@example.com',
                             'directory': 'https://acme-v02.api.letsencrypt.org/directory', 'directory_ca_path': None,
                             'key_type': 'ecdsa', 'webroot': '/var/lib/websocket-nginx/acme-challenge'}
    # Its TLS server is not written yet: nothing to check through nginx.
    assert (demo.proxy_checks, pending.proxy_checks, pending.transaction['proxy_checks']) == ([], [], [])
    assert [item.key for item in demo.tls.redirect_listen] == ['*:80']
    issued = site_model.build(sites(acme_site()), certificate_sha1=ACME_ON_HOST)
    (demo,) = issued.sites
    assert (demo.tls.certificate_sha1, demo.tls.acme_pending) == ('ab' * 20, False)
    (check,) = issued.proxy_checks
    assert (check.site, check.address, check.tls, check.host_header) == ('demo', '127.0.0.1:443', True, 'chat.example.com')


def test_proxy_config_says_what_certbot_does_on_the_host():
    config = site_model.build({**sites(
        acme_site({'names': ['Chat.Example.com', 'www.example.com', 'chat.example.com'], 'key_type': 'rsa',
                   'directory': 'https://ca.internal:9000/acme/acme/directory', 'directory_ca_path': '/etc/step/ca.pem'},
                  redirect_http=['[::]:80', '0.0.0.0:80']),
        other_site(name='plain', listen=[8443], tls=TLS_FILES),
        other_site(name='issued', listen=['127.0.0.1:8444'], server_name=['issued.example.com', '_'],
                   tls={'acme': {'contact': 'ops@example.org'}, 'redirect_http': ['80 reuseport']},
                   upstreams=[{'name': 'issued', 'servers': [{'address': '127.0.0.1:9001'}]}],
                   websocket_locations=[{'path': '/ws/', 'upstream': 'issued'}]),
        other_site(name='gone', state='absent', tls={'acme': {'contact': 'ops@example.org'}, 'redirect_http': [80]})),
        'websocket_proxy_tls_dir': '/srv/tls/', 'websocket_proxy_acme_config_dir': '/srv/acme',
        'websocket_proxy_acme_webroot': '/srv/challenge/', 'websocket_proxy_acme_renew_calendar': 'Mon..Fri 04:00'},
        certificate_sha1={'/srv/tls/issued.crt': 'cd' * 20})
    expected = {'config_dir': '/srv/acme', 'webroot': '/srv/challenge', 'renew_calendar': 'Mon..Fri 04:00', 'sites': [
        {'name': 'demo', 'names': ['chat.example.com', 'www.example.com'], 'contact': 'admin@example.com',
         'directory': 'https://ca.internal:9000/acme/acme/directory', 'directory_ca_path': '/etc/step/ca.pem',
         'key_type': 'rsa', 'certificate': '/srv/tls/demo.crt', 'certificate_key': '/srv/tls/demo.key', 'pending': True,
         'check_address': '127.0.0.1:443', 'server_name': 'chat.example.com'},
        {'name': 'issued', 'names': ['issued.example.com'], 'contact': 'ops@example.org',
         'directory': 'https://acme-v02.api.letsencrypt.org/directory', 'directory_ca_path': None, 'key_type': 'ecdsa',
         'certificate': '/srv/tls/issued.crt', 'certificate_key': '/srv/tls/issued.key', 'pending': False,
         'check_address': '127.0.0.1:8444', 'server_name': 'issued.example.com'}]}
    assert config.acme == expected
    # Plain data, as role_config returns it.
    assert json.loads(json.dumps(config.as_dict()['acme'])) == expected
    assert [site.tls.acme['webroot'] for site in config.sites if site.tls.acme] == ['/srv/challenge'] * 2
    # The host side writes the keys into websocket_proxy_tls_dir: the transaction creates it (0700), copies nothing.
    assert (config.transaction['directories'], config.transaction['copies']) == ([{'path': '/srv/tls', 'mode': '0700'}], [])
    # Only the issued site (and the plain TLS one) is checked through nginx.
    assert [check.site for check in config.proxy_checks] == ['plain', 'issued']


def test_no_acme_site_gives_empty_acme_sites():
    config = build(sites(site(), other_site(listen=[8443], tls=TLS_FILES)))
    assert config.acme == {'config_dir': '/etc/websocket-nginx/acme', 'webroot': '/var/lib/websocket-nginx/acme-challenge',
                           'renew_calendar': '*-*-* 03,15:27:00', 'sites': []}
    assert config.transaction['directories'] == []
    # acme: null is no ACME: the certificate must be given as before.
    assert errors_of(sites(site(tls={'acme': None}))) == [
        TLS + 'set exactly one of certificate (a file on the host) and certificate_src (a file on the controller, '
              'copied to the host)',
        TLS + 'set exactly one of certificate_key (a file on the host) and certificate_key_src (a file on the '
              'controller, copied to the host)']


def test_acme_names_default_to_the_plain_host_names_of_server_name():
    config = build(sites(site(listen=[443], server_name=['Chat.Example.com', '_', '~^ws\\d+\\.example\\.com$',
                                                         '*.example.com', '.example.org', 'example.*', '10.0.0.1',
                                                         'localhost', '', 'www.example.com', 'chat.example.com'],
                              tls={'acme': {'contact': 'admin@example.com'}, 'redirect_http': [80]})))
    assert config.sites[0].tls.acme['names'] == ['chat.example.com', 'www.example.com']
    assert config.acme['sites'][0]['server_name'] == 'chat.example.com'


@pytest.mark.parametrize('redirect', [80, '80', '[::]:80', '0.0.0.0:80', '*:80', '80 reuseport', '192.0.2.1:80',
                                      'localhost:80', ['8080', '[::]:80']], ids=str)
def test_any_plain_http_listen_on_port_80_takes_the_challenge(redirect):
    redirect_http = redirect if isinstance(redirect, list) else [redirect]
    (demo,) = build(sites(acme_site(redirect_http=redirect_http))).sites
    assert 80 in [site_model._listen_port(item) for item in demo.tls.redirect_listen]


@pytest.mark.parametrize('contact', ['admin@example.com', 'first.last+acme@mail.example.co.uk', 'a_b-c@x-y.example',
                                     'ADMIN@EXAMPLE.COM'])
def test_acme_contacts(contact):
    assert build(sites(acme_site({'contact': contact}))).acme['sites'][0]['contact'] == contact


@pytest.mark.parametrize('directory', ['https://acme-staging-v02.api.letsencrypt.org/directory', 'HTTPS://ACME.EXAMPLE.COM/dir',
                                       'https://localhost:14000/dir', 'https://[::1]:14000/dir', 'https://10.0.0.1/directory',
                                       'https://ca.internal:9000/acme/acme/directory', 'https://acme.example.com',
                                       'https://acme.example.com/dir?x=1&y=a%20b'])
def test_acme_directories(directory):
    assert build(sites(acme_site({'directory': directory}))).acme['sites'][0]['directory'] == directory


@pytest.mark.parametrize('calendar', ['daily', 'weekly', '*-*-* 03,15:27:00', 'Mon..Fri 03:00', '*-*-* 00/6:00:00',
                                      '*-*~01 04:00', 'Sat *-*-1..7 18:00:00', '*-*-* 04:00:00 UTC', '2026-01-01'])
def test_acme_renew_calendars(calendar):
    assert build({**sites(site()), 'websocket_proxy_acme_renew_calendar': calendar}).acme['renew_calendar'] == calendar


def test_acme_values_given_as_extra_var_strings():
    """-e gives strings: a comma-separated names list, the redirect port as text."""
    config = build(sites(acme_site({'names': 'a.example.com,b.example.com', 'key_type': 'rsa'}, redirect_http='80')))
    acme = config.acme['sites'][0]
    assert (acme['names'], acme['key_type']) == (['a.example.com', 'b.example.com'], 'rsa')


def test_host_needs_the_certificates_of_acme_sites():
    variables = {**sites(acme_site(),
                         other_site(name='files', listen=[8443], tls=TLS_FILES),
                         other_site(name='gone', state='absent', tls={'acme': {'contact': 'a@example.com'}}),
                         other_site(name='../bad', listen=[9443], tls={'acme': {'contact': 'a@example.com'}}),
                         # Refused by build (acme and certificate); the certificate's checksum is not asked for.
                         other_site(name='both', listen=[7443], tls={**TLS_FILES, 'certificate': '/etc/ssl/both.pem',
                                                                     'acme': {'contact': 'a@example.com'}})),
                 'websocket_proxy_tls_dir': '/srv/tls/'}
    assert site_model.host_needs(variables) == {'tls': True, 'acme': True, 'certificates': [
        '/srv/tls/demo.crt', '/etc/ssl/demo.pem', '/srv/tls/both.crt']}
    # No valid tls_dir: no path to ask for (build refuses it).
    assert site_model.host_needs({**sites(acme_site()), 'websocket_proxy_tls_dir': 'tls'}) == {
        'tls': True, 'acme': True, 'certificates': []}


def test_the_host_says_whether_an_acme_certificate_is_there():
    for sums in (None, {}, {ACME_CERTIFICATE: None}):
        assert site_model.build(sites(acme_site()), certificate_sha1=sums).sites[0].tls.acme_pending is True
    assert errors_of_build(sites(acme_site()), {ACME_CERTIFICATE: 'not a checksum'}) == [
        TLS + 'the host gave "not a checksum" as the SHA-1 of certificate %s' % ACME_CERTIFICATE]


def test_a_pending_acme_site_leaves_reuseport_to_the_sites_that_are_written():
    """Its TLS listens are not written yet: reuseport goes on another site's listen of the same address."""
    config = build({**sites(acme_site(), other_site(listen=[443], tls=TLS_FILES)), 'websocket_proxy_reuseport': True})
    demo, other = config.sites
    assert (demo.listen[0].params, other.listen[0].params) == (['ssl', 'http2'], ['ssl', 'http2', 'reuseport'])
    assert demo.tls.redirect_listen[0].params == ['reuseport']
    issued = site_model.build(sites(acme_site(), other_site(listen=[443], tls=TLS_FILES)), certificate_sha1=ACME_ON_HOST)
    assert [site.listen[0].params for site in issued.sites] == [['ssl', 'http2', 'reuseport'], ['ssl', 'http2']]


# ---------------------------------------------------------------------------
# upstream_health's arguments, one dict per check
# ---------------------------------------------------------------------------

UPSTREAM_HEALTH_OPTIONS = set(yaml.safe_load(upstream_health.DOCUMENTATION)['options'])


def test_each_check_gives_upstream_healths_arguments():
    config = build({**sites(site(upstreams=[
        {'name': 'chat', 'servers': [{'address': 'app-1:8000'}, {'address': 'app-2:8000', 'down': True}],
         'health_check': {'type': 'websocket', 'path': '/socket.io/?EIO=4', 'host_header': 'chat.test',
                          'subprotocols': ['v1'], 'timeout': '2'}},
        {'name': 'api', 'servers': [{'address': 'app-1:9000'}],
         'tls': {'server_name': 'api.internal', 'ca_path': '/etc/ssl/ca.pem'},
         'health_check': {'type': 'http', 'expected_status': ['200', '204']}},
        {'name': 'echo', 'servers': [{'address': '127.0.0.1:8765'}]},
    ], websocket_locations=ws_location(upstream='echo')))})
    args = {check.upstream: check.upstream_health_args for check in config.upstream_checks}
    assert args == {
        'chat': {'servers': ['app-1:8000'], 'check': 'websocket', 'path': '/socket.io/?EIO=4', 'host_header': 'chat.test',
                 'expected_status': [200], 'subprotocols': ['v1'], 'tls': False, 'validate_certs': True, 'timeout': 2.0},
        # A TLS upstream is checked over TLS, verified as nginx verifies it.
        'api': {'servers': ['app-1:9000'], 'check': 'http', 'path': '/', 'host_header': 'api.internal',
                'expected_status': [200, 204], 'tls': True, 'validate_certs': True, 'ca_path': '/etc/ssl/ca.pem',
                'timeout': 5.0},
        # What is not set is left out (upstream_health's own default applies), never passed as null.
        'echo': {'servers': ['127.0.0.1:8765'], 'check': 'websocket', 'path': '/', 'expected_status': [200],
                 'tls': False, 'validate_certs': True, 'timeout': 5.0},
    }
    for check in config.upstream_checks:
        assert set(check.upstream_health_args) <= UPSTREAM_HEALTH_OPTIONS
        assert None not in check.upstream_health_args.values()
    # As dicts (what the playbooks get), the same.
    assert [item['upstream_health_args'] for item in config.as_dict()['upstream_checks']] == list(args.values())


def test_a_hosts_checks_give_only_its_own_servers_as_arguments():
    config = build({**sites(site(upstreams=[{'name': 'chat', 'health_check': {'path': '/chat/ws'}}],
                                 websocket_locations=ws_location(upstream='chat'))),
                    'websocket_proxy_down_servers': ['backend-2']},
                   hostvars={'backend-1': {}, 'backend-2': {'ansible_host': '10.0.0.2'}},
                   groups={'websocket_backends': ['backend-1', 'backend-2']})
    assert {host: [check.upstream_health_args for check in checks] for host, checks in config.host_checks.items()} == {
        'backend-1': [{'servers': ['backend-1:8765'], 'check': 'websocket', 'path': '/chat/ws', 'expected_status': [200],
                       'tls': False, 'validate_certs': True, 'timeout': 5.0}],
        # Down (being drained): checked before it goes back.
        'backend-2': [{'servers': ['10.0.0.2:8765'], 'check': 'websocket', 'path': '/chat/ws', 'expected_status': [200],
                       'tls': False, 'validate_certs': True, 'timeout': 5.0}],
    }


def test_status_upstreams_say_which_upstreams_carry_websockets():
    """What the status playbook and the demo's status service give nginx_status: every upstream of the sites."""
    app = [{'name': 'app',
            'upstreams': [{'name': 'ws', 'servers': [{'address': '10.0.0.1:80'}, {'address': '10.0.0.2:80'}]},
                          {'name': 'api', 'servers': [{'address': '10.0.0.3:80'}]}],
            'websocket_locations': [{'path': '/ws/', 'upstream': 'ws'}],
            'proxy_locations': [{'path': '/api/', 'upstream': 'api'}]}]
    assert build(sites(app)).status_upstreams == [
        {'name': 'ws', 'servers': ['10.0.0.1:80', '10.0.0.2:80'], 'websocket': True},
        {'name': 'api', 'servers': ['10.0.0.3:80'], 'websocket': False}]
