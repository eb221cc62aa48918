# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Property-based tests: no value of a site can change the structure of the rendered configuration.

For every string field of a site that reaches site.conf, arbitrary text (biased
towards what means something to nginx: ``;{}#"'\\$``, spaces, newlines, ``\\r``,
NUL, tabs, non-ASCII) goes into that one field of a good baseline site. Then
either site_model.build refuses it with ModelError, or the rendered file parses
(with nginx_config, a transcription of nginx's own tokenizer) into exactly the
baseline's structure, with the value as exactly the argument(s) it stands for. (The
values only an ACME site writes, websocket_proxy_acme_webroot and the certificate paths
in websocket_proxy_tls_dir, go into the same site with tls.acme: BASES.)

How the expected configuration is computed: the model that was built is rendered
once more with the field's (normalized) value replaced by a placeholder word, and
that rendering's parsed arguments get the value substituted back for the
placeholder. The two must be equal, directive for directive and argument for
argument, and the placeholder rendering must have the baseline's directives.
test_harness_finds_each_field proves that the placeholder sits where the
baseline's value sits, and test_control_* that the comparison catches an
injection when a value is written without nginx_arg.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import posixpath
import re

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values, role_spec, site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh

PLACEHOLDER = 'WSNPLACEHOLDER'
# Where the same value is written in another form too (neither name holds PLACEHOLDER): a location path
# as its session log's set value (a script), a site name as itself next to its variable-name form.
SESSION_LOCATION = 'WSNSESSIONLOCATION'
SESSION_SITE = 'WSNSESSIONSITE'
# Enough examples per field for the whole suite to stay well under 20 s; WSN_PROPERTY_EXAMPLES=2000
# searches longer (still reproducible: derandomize).
MAX_EXAMPLES = int(os.environ.get('WSN_PROPERTY_EXAMPLES', '30'))
PROPERTY_SETTINGS = settings(
    max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

BASE_SITE = {
    'name': 'prop',
    'listen': ['127.0.0.1:18080', '[::1]:18080 ssl'],
    'server_name': ['example.com', r'~^ws\d+\.example\.com$'],
    'tls': {'certificate': '/etc/ssl/prop.crt', 'certificate_key': '/etc/ssl/private/prop.key', 'hsts': True,
            'redirect_http': ['127.0.0.1:18090']},
    'upstreams': [{'name': 'app', 'method': 'hash', 'hash_key': '$remote_addr', 'keepalive': 4,
                   'tls': {'server_name': 'app.internal', 'ca_path': '/etc/ssl/app-ca.pem'},
                   'servers': [{'address': '127.0.0.1:18001', 'fail_timeout': '10s', 'max_conns': 100},
                               {'address': 'unix:/run/app.sock'}]}],
    'websocket_locations': [{'path': '/ws/', 'upstream': 'app', 'read_timeout': '1h', 'send_timeout': '1h',
                             'connect_timeout': '5s', 'next_upstream': 'error timeout',
                             'allowed_origins': ['https://example.com', 'http://localhost:8080'],
                             'client_limits': {'connections': 20, 'rate': '10r/s', 'burst': 5}}],
    # Takes its timeouts and next_upstream from the role-wide defaults; in the session log, as the WebSocket one.
    'proxy_locations': [{'path': '/api/', 'upstream': 'app', 'session_log': True}],
    'static_locations': [
        {'path': '/', 'root': '/srv/www', 'index': ['index.html', 'index.htm'], 'expires': '1h',
         'cache_control': 'public'},
        # Takes its expires from websocket_proxy_static_expires; in the session log.
        {'path': '/files/', 'alias': '/srv/files', 'session_log': True},
        # expires without cache_control: written as it is.
        {'path': '/assets/', 'root': '/srv/assets', 'expires': '1h'},
    ],
    'extra_directives': ['client_max_body_size 1m;'],
}
BASE_VARIABLES = {
    'websocket_proxy_config_dir': '/etc/nginx/conf.d',
    'websocket_proxy_file_prefix': 'websocket-proxy-',
    'websocket_proxy_http_read_timeout': '60s',
    'websocket_proxy_connect_timeout': '5s',
    'websocket_proxy_next_upstream': 'error timeout',
    'websocket_proxy_static_expires': '2h',
    'websocket_proxy_gzip_types': ['text/plain', 'text/css', 'application/json'],
    'websocket_proxy_real_ip_from': ['10.0.0.0/8', '::1'],
    'websocket_proxy_session_log_file': '/var/log/nginx/prop-sessions.log',
    # reuseport is the model's word, not the value's (test_site_model covers where it goes).
    'websocket_proxy_reuseport': False,
    'websocket_proxy_sites': [BASE_SITE],
}
# The same site with its certificate from ACME (tls.acme): the challenge location in its plain-HTTP server (on
# port 80) serves websocket_proxy_acme_webroot, and its certificate is <websocket_proxy_tls_dir>/<site>.crt.
ACME_VARIABLES = copy.deepcopy(BASE_VARIABLES)
ACME_VARIABLES['websocket_proxy_sites'][0]['tls'] = {'acme': {'contact': 'admin@example.com'}, 'hsts': True,
                                                     'redirect_http': ['127.0.0.1:80']}


class EveryCertificate(dict):
    """certificate_sha1 of a host that has every certificate it is asked about (an ACME site renders in full)."""

    def get(self, key, default=None):
        return 'a' * 40

    def __bool__(self):
        return True


# The baselines the fields change one value of: the variables, and what the host says about certificates.
BASES = {
    'tls': (BASE_VARIABLES, None),
    # The host has the certificate: the TLS server and the plain-HTTP server with the challenge location.
    'acme': (ACME_VARIABLES, EveryCertificate()),
    # Not yet: only the plain-HTTP server with the challenge location.
    'acme pending': (ACME_VARIABLES, None),
}


def build(variables, certificate_sha1=None):
    """The model's one site, or None when build refused the variables (each error a non-empty str)."""
    try:
        config = site_model.build(variables, certificate_sha1=certificate_sha1).as_dict()
    except role_spec.ModelError as exc:
        assert exc.errors, 'ModelError without errors'
        assert all(isinstance(error, str) and error for error in exc.errors), exc.errors
        return None
    assert len(config['sites']) == 1
    return config


@functools.lru_cache(maxsize=None)
def _baseline(base='tls'):
    variables, certificate_sha1 = BASES[base]
    config = site_model.build(copy.deepcopy(variables), certificate_sha1=certificate_sha1).as_dict()
    text = rh.render_site(config['sites'][0])
    return config, text, rh.parse_tree(text)


def baseline_config(base='tls'):
    return copy.deepcopy(_baseline(base)[0])


def baseline_text(base='tls'):
    return _baseline(base)[1]


def baseline_tree(base='tls'):
    """The parsed baseline (nested tuples and lists: not to be changed)."""
    return _baseline(base)[2]


class Words(list):
    """What a locate() returns: the words of the value, and in ``other`` the words each other placeholder
    (SESSION_LOCATION, SESSION_SITE) stands for."""

    def __init__(self, words, other=None):
        super().__init__(words)
        self.other = other or {}


def substitute(nodes, words):
    """Put ``words`` (the arguments the field renders as) where the placeholder is; count the places."""
    other = getattr(words, 'other', {})
    count = 0
    result = []
    for name, args, children in nodes:
        if name == PLACEHOLDER:  # a map entry's key
            assert len(words) == 1
            name = words[0]
            count += 1
        new_args = []
        for arg in args:
            if arg == PLACEHOLDER:
                new_args.extend(words)
                count += 1
            elif arg in other:
                new_args.extend(other[arg])
            elif PLACEHOLDER in arg:
                # Built by the template around the value (http://NAME, websocket_proxy_NAME).
                assert len(words) == 1, 'a value of several words inside an argument: %r' % (arg,)
                new_args.append(arg.replace(PLACEHOLDER, words[0]))
                count += 1
            else:
                new_args.append(arg)
        if children is not None:
            children, inner = substitute(children, words)
            count += inner
        result.append((name, tuple(new_args), children))
    return result, count


def structure(nodes, in_map=False):
    """rh.skeleton, except that a map's entries are values (keys), not directive names."""
    return [('<map key>' if in_map else name, None if children is None else structure(children, name == 'map'))
            for name, _args, children in nodes]


def site_server(nodes):
    """Index of the site's server block (the first; the plain-HTTP redirect server follows it)."""
    return [node[0] for node in nodes].index('server')


def without_directive(nodes, location_args, name):
    """The tree without directive ``name`` in the server's location ``location_args``."""
    at = site_server(nodes)
    server = nodes[at]
    children = []
    for child in server[2]:
        if child[0] == 'location' and child[1] == tuple(location_args):
            child = (child[0], child[1], [c for c in child[2] if c[0] != name])
        children.append(child)
    return nodes[:at] + [(server[0], server[1], children)] + nodes[at + 1:]


# ---------------------------------------------------------------------------
# The fields
# ---------------------------------------------------------------------------

class Field(object):
    """One string field: where it goes in the variables and where its value is in the model.

    ``kind``: ``args`` (rendered as arguments), ``comment`` (only in a comment),
    ``file`` (only in the file names), ``raw`` (extra_directives, written as they are).
    ``locate(site)`` puts the placeholder where the model holds the value and returns the
    arguments the value renders as, or None when the value renders nothing (expires off).
    ``words(value)`` is what those arguments must be for the value as given (normalized as
    the model documents it), when that can be said without the model. ``base``: the baseline
    (BASES) whose one value it changes.
    """

    def __init__(self, name, put, seeds, kind='args', locate=None, words=None, absent=None, examples=(), base='tls'):
        self.name = name
        self.base = base
        self.examples = list(examples)
        self.put = put
        self.seeds = seeds
        self.kind = kind
        self.locate = locate
        self.words = words
        self.absent = absent

    def variables(self, value):
        variables = copy.deepcopy(BASES[self.base][0])
        self.put(variables, variables['websocket_proxy_sites'][0], value)
        return variables

    def build(self, value):
        return build(self.variables(value), BASES[self.base][1])

    def __repr__(self):
        return self.name


def _set(*path):
    """put() for a path under the site (or, starting with '', under the variables)."""
    def put(variables, site, value):
        target = variables if path[0] == '' else site
        keys = path[1:] if path[0] == '' else path
        for key in keys[:-1]:
            target = target[key]
        target[keys[-1]] = value
    return put


def _locate(*path, words=lambda v: [v]):
    def locate(site):
        target = site
        for key in path[:-1]:
            target = target[key]
        value = target[path[-1]]
        target[path[-1]] = PLACEHOLDER
        return words(value)
    return locate


def _put_upstream_name(variables, site, value):
    site['upstreams'][0]['name'] = value
    for location in site['websocket_locations'] + site['proxy_locations']:
        location['upstream'] = value


def _locate_upstream_name(site):
    value = site['upstreams'][0]['name']
    site['upstreams'][0]['name'] = PLACEHOLDER
    for location in site['websocket_locations'] + site['proxy_locations']:
        assert location['upstream'] == value
        location['upstream'] = PLACEHOLDER
    return [value]


def _locate_listen(site):
    listen = site['listen'][0]
    words = [listen['address']] + listen['params']
    site['listen'][0] = dict(listen, address=PLACEHOLDER, params=[])
    return words


def _locate_list(*path):
    """A list value (next_upstream, expires) rendered as its words (expires ["off"] too: "expires off;")."""
    def locate(site):
        target = site
        for key in path[:-1]:
            target = target[key]
        value = target[path[-1]]
        target[path[-1]] = [PLACEHOLDER]
        return list(value)
    return locate


def _locate_tls_redirect(site):
    listen = site['tls']['redirect_listen'][0]
    words = [listen['address']] + listen['params']
    site['tls']['redirect_listen'][0] = dict(listen, address=PLACEHOLDER, params=[])
    return words


def _session_logs(site):
    return [location['session_log'] for kind in ('websocket_locations', 'proxy_locations', 'static_locations')
            for location in site[kind] if location['session_log']]


def _locate_site_name(site):
    """The site name is in the names of its map variable, limit zones and session log format (and in comments),
    and as itself in its locations' session log set values."""
    name = site['name']
    part = site_model._variable_part(name)
    site['name'] = PLACEHOLDER

    def swap(text):
        assert part in text
        return text.replace('_%s_' % part, '_%s_' % PLACEHOLDER)

    def swap_end(text):
        assert text.endswith('_' + part)
        return text[:-len(part)] + PLACEHOLDER
    for item in site['origin_maps']:
        item['variable'] = swap(item['variable'])
    for zone in site['limit_zones']:
        zone['zone'] = swap(zone['zone'])
    for location in site['websocket_locations']:
        if location['origin_denied_variable']:
            location['origin_denied_variable'] = swap(location['origin_denied_variable'])
        for limit in (location['limit_conn'], location['limit_req']):
            if limit:
                limit['zone'] = swap(limit['zone'])
    other = {}
    if site['session_log_format']:
        site['session_log_format'] = swap_end(site['session_log_format'])
    for settings in _session_logs(site):
        settings['format'] = swap_end(settings['format'])
        other[SESSION_SITE] = [settings['site']]
        settings['site'] = SESSION_SITE
    return Words([part], other)


def _locate_location_path(kind, index):
    """A location path: its location, and its session log's set value (when it has one), as the model wrote it."""
    def locate(site):
        location = site[kind][index]
        value = location['path']
        location['path'] = PLACEHOLDER
        other = {}
        if location['session_log']:
            other[SESSION_LOCATION] = [location['session_log']['location']]
            location['session_log']['location'] = SESSION_LOCATION
        return Words([value], other)
    return locate


def _locate_session_log_file(site):
    values = {settings['file'] for settings in _session_logs(site)}
    assert len(values) == 1
    for settings in _session_logs(site):
        settings['file'] = PLACEHOLDER
    return [values.pop()]


def _locate_upstream_tls(key):
    """An upstream TLS setting, which each location of that upstream renders."""
    def locate(site):
        value = site['upstreams'][0]['tls'][key]
        site['upstreams'][0]['tls'][key] = PLACEHOLDER
        for location in site['websocket_locations'] + site['proxy_locations']:
            location['upstream_tls'][key] = PLACEHOLDER
        return [value]
    return locate


def _locate_limit_rate(site):
    """The rate is in the site's limit_req_zone (an argument 'rate=...')."""
    value = site['websocket_locations'][0]['limit_req']['rate']
    for zone in site['limit_zones']:
        if zone['rate'] == value:
            zone['rate'] = PLACEHOLDER
    return [value]


def _locate_cache_control(site):
    value = site['static_locations'][0]['cache_control']
    if value is None:
        return None
    site['static_locations'][0]['cache_control'] = PLACEHOLDER
    return [value]


def _locate_tls_dir(site):
    """websocket_proxy_tls_dir, in an ACME site's certificate and key paths (<tls_dir>/<site>.crt, .key)."""
    tls = site['tls']
    directory = tls['certificate'][:-len('/%s.crt' % site['name'])]
    for key, suffix in (('certificate', '.crt'), ('certificate_key', '.key')):
        assert tls[key] == '%s/%s%s' % (directory, site['name'], suffix)
        tls[key] = '%s/%s%s' % (PLACEHOLDER, site['name'], suffix)
    return [directory]


def _put_gzip_type(variables, site, value):
    variables['websocket_proxy_gzip_types'][0] = value


def _locate_gzip_type(site):
    values = {location['gzip_types'][0] for location in site['static_locations']}
    assert len(values) == 1
    for location in site['static_locations']:
        location['gzip_types'][0] = PLACEHOLDER
    return [values.pop()]


def _expires_words(value):
    return value.split(' ') if value.startswith('modified ') else [value]


def _absent(location_args, name):
    return lambda: without_directive(baseline_tree(), location_args, name)


def _without_cache_control():
    """The baseline when location "/" has no cache_control: its own expires, no Cache-Control header."""
    nodes = baseline_tree()
    at = site_server(nodes)
    server = nodes[at]
    children = []
    for child in server[2]:
        if child[0] == 'location' and child[1] == ('/',):
            inner = [c for c in child[2] if c[:2] != ('add_header', ('Cache-Control', 'public, max-age=3600'))]
            assert len(inner) == len(child[2]) - 1
            inner = [('expires', ('1h',), None) if c == ('expires', ('off',), None) else c for c in inner]
            child = (child[0], child[1], inner)
        children.append(child)
    return nodes[:at] + [(server[0], server[1], children)] + nodes[at + 1:]


# Headers a static location sets itself, so it does not repeat them from the server block.
STATIC_OWN_HEADERS = ('cache-control', 'expires', 'x-content-type-options')


def _with_repeated_headers(children, static_paths, own):
    """A server's children with the top-level add_header directives of ``own`` (extra_directives) repeated at
    the end of the add_header directives of each static location: a location with add_header of its own
    does not inherit the server's."""
    repeated = [node for node in own if node[0] == 'add_header' and node[2] is None and node[1]
                and node[1][0].lower() not in STATIC_OWN_HEADERS]
    result = []
    for child in children:
        if child[0] == 'location' and child[1] in static_paths and repeated:
            inner = list(child[2])
            last = max(index for index, node in enumerate(inner) if node[0] == 'add_header')
            child = (child[0], child[1], inner[:last + 1] + repeated + inner[last + 1:])
        result.append(child)
    return result


# Had the model stored it stripped (Python's strip() removes \x0c, which nginx reads as part of a word):
# as checked, one directive ("\x0c#" with a quoted argument); as stored, a comment, then "}" closing the
# server block and a new "server {". A regression example for extra_directives.
BLOCK_ESCAPE = '\x0c# "\n} server {\n#" ;'

TIMES = ['60s', '1h', '1h 30m', '500ms', '2d12h', '90']
SECONDS = ['10s', '1m 30s', '30', '1h']
FIELDS = [
    Field('site name', _set('name'), ['prop', 'a.b-c_d9', 'a_d', 'a.'], locate=_locate_site_name,
          words=lambda v: [site_model._variable_part(v)]),
    # The site has tls: every TCP listen gets "ssl", and "http2" for the default build (nginx 1.22).
    Field('listen', _set('listen', 0), ['127.0.0.1:18081', '[::1]:18082 ssl', 'unix:/run/wsn.sock',
                                        '18083', '*:18084 backlog=5', 'localhost:18085 reuseport'],
          locate=_locate_listen,
          words=lambda v: v.split(' ') if v.startswith('unix:') else (
              v.split(' ') + ([] if 'ssl' in v.split(' ') else ['ssl']) + ['http2'])),
    Field('redirect_http', _set('tls', 'redirect_http', 0), ['127.0.0.1:18091', '80', '[::1]:8080 reuseport'],
          locate=_locate_tls_redirect, words=lambda v: v.split(' ')),
    Field('certificate', _set('tls', 'certificate'), ['/etc/ssl/a.crt', '/etc/ssl/a b.pem'],
          locate=_locate('tls', 'certificate')),
    Field('certificate_key', _set('tls', 'certificate_key'), ['/etc/ssl/private/a.key', '/k/a b.key'],
          locate=_locate('tls', 'certificate_key')),
    Field('upstream tls server_name', _set('upstreams', 0, 'tls', 'server_name'), ['app.internal', '10.0.0.1'],
          locate=_locate_upstream_tls('server_name')),
    Field('upstream tls ca_path', _set('upstreams', 0, 'tls', 'ca_path'), ['/etc/ssl/ca.pem', '/etc/ssl/c a.pem'],
          locate=_locate_upstream_tls('ca_path')),
    Field('allowed_origins item', _set('websocket_locations', 0, 'allowed_origins', 0),
          ['https://example.com', 'http://[::1]:8080', 'https://a-b.example:443'],
          locate=_locate('origin_maps', 0, 'origins', 0), words=lambda v: [v.lower()],
          examples=['https://a.example"; } server {', 'https://a.example;', 'HTTPS://A.EXAMPLE']),
    Field('client_limits rate', _set('websocket_locations', 0, 'client_limits', 'rate'), ['10r/s', '30r/m'],
          locate=_locate_limit_rate),
    Field('websocket_proxy_real_ip_from item', _set('', 'websocket_proxy_real_ip_from', 0),
          ['10.0.0.0/8', '192.168.1.7', 'fd00::/8', 'unix:'], locate=_locate('real_ip', 'from', 0),
          examples=['10.0.0.0/8; allow all', '10.0.0.1/8']),
    Field('websocket_proxy_real_ip_header', _set('', 'websocket_proxy_real_ip_header'),
          ['X-Forwarded-For', 'X-Real-IP', 'proxy_protocol'], locate=_locate('real_ip', 'header')),
    Field('server_name', _set('server_name', 0), ['example.com', '*.example.com', 'example.*', '.example.org', '_', ''],
          locate=_locate('server_name', 0)),
    Field('server_name regex', _set('server_name', 1), ['~^ws\\d+$', '~(?<name>.+)\\.example\\.net$'],
          locate=_locate('server_name', 1)),
    Field('upstream name', _put_upstream_name, ['app', 'a.b-c_9'], locate=_locate_upstream_name),
    Field('upstream reference', _set('websocket_locations', 0, 'upstream'), ['app'],
          locate=_locate('websocket_locations', 0, 'upstream')),
    Field('hash_key', _set('upstreams', 0, 'hash_key'), ['$remote_addr', '${cookie_user}x', 'a b $arg_x'],
          locate=_locate('upstreams', 0, 'hash_key')),
    Field('server address', _set('upstreams', 0, 'servers', 0, 'address'),
          ['127.0.0.1:18001', '[::1]:8080', 'unix:/run/app2.sock', 'localhost', 'backend-1.example.com:80'],
          locate=_locate('upstreams', 0, 'servers', 0, 'address')),
    Field('fail_timeout', _set('upstreams', 0, 'servers', 0, 'fail_timeout'), SECONDS,
          locate=_locate('upstreams', 0, 'servers', 0, 'fail_timeout'), examples=['1m 30s']),
    Field('websocket location path', _set('websocket_locations', 0, 'path'), ['/ws/', '/wss', '/a b/', '/a$b/', '/${x}$/'],
          locate=_locate_location_path('websocket_locations', 0)),
    Field('proxy location path', _set('proxy_locations', 0, 'path'), ['/api/', '/cost$/'],
          locate=_locate_location_path('proxy_locations', 0)),
    Field('alias location path', _set('static_locations', 1, 'path'), ['/files/', '/static/x/', '/$/'],
          locate=_locate_location_path('static_locations', 1)),
    # Not in the session log: its path only in its location.
    Field('static location path', _set('static_locations', 2, 'path'), ['/assets/', '/$x/'],
          locate=_locate_location_path('static_locations', 2)),
    Field('websocket_proxy_session_log_file', _set('', 'websocket_proxy_session_log_file'),
          ['/var/log/nginx/websocket-sessions.log', '/srv/log/ws.json', '/var/log/nginx/caf\u00e9;#.log'],
          locate=_locate_session_log_file),
    Field('read_timeout', _set('websocket_locations', 0, 'read_timeout'), TIMES,
          locate=_locate('websocket_locations', 0, 'read_timeout')),
    Field('send_timeout', _set('websocket_locations', 0, 'send_timeout'), TIMES,
          locate=_locate('websocket_locations', 0, 'send_timeout')),
    Field('connect_timeout', _set('websocket_locations', 0, 'connect_timeout'), TIMES,
          locate=_locate('websocket_locations', 0, 'connect_timeout')),
    Field('next_upstream', _set('websocket_locations', 0, 'next_upstream'), ['error timeout', 'http_502', 'off'],
          # An empty value means the role-wide default.
          locate=_locate_list('websocket_locations', 0, 'next_upstream'),
          words=lambda v: v.split() if v else BASE_VARIABLES['websocket_proxy_next_upstream'].split()),
    Field('websocket_proxy_http_read_timeout', _set('', 'websocket_proxy_http_read_timeout'), TIMES,
          locate=_locate('proxy_locations', 0, 'read_timeout')),
    Field('websocket_proxy_connect_timeout', _set('', 'websocket_proxy_connect_timeout'), TIMES,
          locate=_locate('proxy_locations', 0, 'connect_timeout')),
    Field('websocket_proxy_next_upstream', _set('', 'websocket_proxy_next_upstream'), ['error timeout', 'http_503'],
          locate=_locate_list('proxy_locations', 0, 'next_upstream'), words=str.split),
    Field('root', _set('static_locations', 0, 'root'), ['/srv/www', '/srv/www/', '/var/lib/a b'],
          locate=_locate('static_locations', 0, 'root'), words=lambda v: [v.rstrip('/') or '/']),
    Field('alias', _set('static_locations', 1, 'alias'), ['/srv/files', '/srv/files/', '/data/x y'],
          locate=_locate('static_locations', 1, 'alias'), words=lambda v: [v.rstrip('/') + '/']),
    Field('index', _set('static_locations', 0, 'index', 0), ['index.html', 'default page.htm'],
          locate=_locate('static_locations', 0, 'index', 0)),
    Field('expires', _set('static_locations', 2, 'expires'),
          ['1h', '1h30m', 'modified +1h', '@15h30m', '-1', 'epoch', 'max', 'off'],
          locate=_locate_list('static_locations', 2, 'expires'), words=_expires_words),
    Field('websocket_proxy_static_expires', _set('', 'websocket_proxy_static_expires'), ['2h', 'modified +30m', 'off'],
          locate=_locate_list('static_locations', 1, 'expires'), words=_expires_words),
    # With cache_control ("public"), a fixed expires time is the max-age in its one Cache-Control header.
    # (Which max-age: test_static_headers checks it against nginx's own.)
    Field('expires with cache_control', _set('static_locations', 0, 'expires'),
          ['1h', '1h30m', '+2d', '0', '-1', 'epoch', 'max', 'off'], locate=_locate_cache_control,
          words=lambda v: ['public' if v == 'off' else 'public, %s' % nginx_values.expires_cache_control(v)]),
    Field('cache_control', _set('static_locations', 0, 'cache_control'),
          ['public', 'private, immutable', 'public,s-maxage=60'],
          locate=_locate_cache_control, absent=_without_cache_control, words=lambda v: [v + ', max-age=3600'],
          # Whitespace other than spaces around the commas (once let through by a \s in the check).
          examples=['no-cache, \u2028max-age=0', 'no-cache,\xa0max-age=0', 'no-cache,\nmax-age=0']),
    Field('gzip_types item', _put_gzip_type, ['text/plain', 'image/svg+xml', '*'], locate=_locate_gzip_type),
    Field('extra_directives', _set('extra_directives', 0),
          ['client_max_body_size 1m;', 'location /x {\n    return 204;\n}', 'add_header X-A "b;c" always;'],
          kind='raw', examples=['\x0c;0;', BLOCK_ESCAPE]),
    Field('websocket_proxy_file_prefix', _set('', 'websocket_proxy_file_prefix'), ['websocket-proxy-', 'wsn.', ''],
          kind='file'),
    Field('websocket_proxy_config_dir', _set('', 'websocket_proxy_config_dir'),
          ['/etc/nginx/conf.d', '/etc/nginx/sites/', '/opt/a b'], kind='file'),
    # ACME sites: the webroot is the one ACME value written into the site (the challenge location's root, once the
    # certificate is there and before); the others (contact, names, directory, ...) only go to certbot on the host.
    Field('websocket_proxy_acme_webroot', _set('', 'websocket_proxy_acme_webroot'),
          ['/var/lib/websocket-nginx/acme-challenge', '/srv/acme/', '/srv/a b', '/srv/caf\u00e9;#'],
          locate=_locate('tls', 'acme', 'webroot'), words=lambda v: [v.rstrip('/')], base='acme'),
    Field('websocket_proxy_acme_webroot, pending', _set('', 'websocket_proxy_acme_webroot'),
          ['/var/lib/websocket-nginx/acme-challenge', '/srv/a b/'],
          locate=_locate('tls', 'acme', 'webroot'), words=lambda v: [v.rstrip('/')], base='acme pending'),
    Field('websocket_proxy_tls_dir', _set('', 'websocket_proxy_tls_dir'),
          ['/etc/nginx/websocket-proxy-tls', '/srv/t l s/', '/srv/caf\u00e9;#'],
          locate=_locate_tls_dir, words=lambda v: [v.rstrip('/')], base='acme'),
]
FIELDS_BY_NAME = {field.name: field for field in FIELDS}


# ---------------------------------------------------------------------------
# The property
# ---------------------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _placeholder_tree(site_json, arg_filter):
    """Rendered and parsed; for one field it is nearly always the same model, so it is cached."""
    return rh.parse_tree(rh.render_site(json.loads(site_json), arg_filter))


def check_site(site, field, value=None, arg_filter=None):
    """Compare the rendering of a built ``site`` with the placeholder rendering (kind ``args``)."""
    text = rh.render_site(site, arg_filter)
    actual = rh.parse_tree(text)
    with_placeholder = copy.deepcopy(site)
    words = field.locate(with_placeholder)
    if words is None:
        assert actual == field.absent(), 'the value renders nothing, yet the structure changed:\n%s' % text
        return
    if field.words is not None and value is not None:
        assert words == field.words(value), 'the model normalized %r to %r' % (value, words)
    assert all(isinstance(word, str) for word in words)
    placeholder_tree = _placeholder_tree(json.dumps(with_placeholder, sort_keys=True), arg_filter)
    assert structure(placeholder_tree) == structure(baseline_tree(field.base))
    expected, count = substitute(placeholder_tree, words)
    assert count >= 1, 'the field does not reach the configuration'
    assert actual == expected, 'the value %r changed the configuration:\n%s' % (words, text)


def check_session_logs(config):
    """Every location's session log names its own site and location (as set values that evaluate to them), the
    one file and the site's format; the WebSocket location has one (on by default)."""
    site = config['sites'][0]
    for kind in ('websocket_locations', 'proxy_locations', 'static_locations'):
        for location in site[kind]:
            settings = location['session_log']
            if settings is None:
                continue
            assert evaluate_script(settings['location']) == location['path']
            assert evaluate_script(settings['site']) == site['name']
            assert settings['format'] == site['session_log_format'] == 'websocket_proxy_session_' + \
                site_model._variable_part(site['name'])
    assert len({settings['file'] for settings in _session_logs(site)}) == 1
    assert site['websocket_locations'][0]['session_log'] is not None


def check_field(field, value):
    variables = field.variables(value)
    config = build(variables, BASES[field.base][1])
    if config is None:
        return
    check_session_logs(config)
    site = config['sites'][0]
    if field.kind == 'args':
        check_site(site, field, value)
    elif field.kind == 'comment':
        text = rh.render_site(site)
        assert rh.parse_tree(text) == baseline_tree()
        assert ('# Site %s\n' % value) in text
    elif field.kind == 'file':
        assert rh.render_site(site) == baseline_text()
        config_dir = config['config_dir']
        assert config_dir.startswith('/') and posixpath.normpath(config_dir) == config_dir != '/'
        for path, name in ((site['file'], site['name'] + '.conf'), (config['map_file'], 'upgrade-map.conf')):
            assert posixpath.normpath(path) == path
            assert posixpath.dirname(path) == config_dir
            assert posixpath.basename(path) == variables['websocket_proxy_file_prefix'] + name
    else:  # raw: the server block still closes where it should
        assert site['extra_directives'] == [value.strip(' \t\r\n')]  # only nginx's own whitespace trimmed
        text = rh.render_site(site)
        actual = rh.parse_tree(text)
        base = baseline_tree()
        assert len(actual) == len(base), text
        server = site_server(base)
        assert actual[:server] + actual[server + 1:] == base[:server] + base[server + 1:], \
            'the blocks around the server changed:\n%s' % text
        assert actual[server][:2] == ('server', ()), text
        children = base[server][2]
        at = children.index(('client_max_body_size', ('1m',), None))
        own = rh.tree(nginx_config.parse(value.strip()))
        static_paths = {(location['path'],) for location in site['static_locations']}
        assert actual[server][2] == _with_repeated_headers(children[:at] + own + children[at + 1:], static_paths, own), text


# Text that means something to nginx's tokenizer or to the checks, and pieces of it.
HOSTILE = [';', '{', '}', '#', '"', "'", '\\', '$', ' ', '  ', '\n', '\r', '\r\n', '\t', '\x00', '\x0b', '\x0c',
           '\x1c', '\x1f', '\x7f', '\x85', '\xa0', '\u2028', '\u3000', '\ufeff', '\u00e9', '\u2603', '\U0001F600',
           '${', '$x', '${x}', '}{', '\\"', '\\\\', "\\'", '\\n', '"; }', '; } server {', '} server { listen 80;',
           '# ', '/', '/..', '/../', '//', '/.', '..', '.', ':', '[', ']', '[::1]', '=', ',', ', ', '~', '*', '@',
           '(', ')', '+', '-', 'ms', 'unix:', ' ssl', ' default_server', '\' "', '"\'']
hostile_piece = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=3))
hostile_text = st.lists(hostile_piece, max_size=8).map(''.join)


def _insert(parts):
    seed, position, piece = parts
    position %= len(seed) + 1
    return seed[:position] + piece + seed[position:]


def values_for(field):
    seeds = st.sampled_from(field.seeds)
    return st.one_of(
        st.text(),
        hostile_text,
        st.tuples(seeds, hostile_text).map(''.join),
        st.tuples(hostile_text, seeds).map(''.join),
        st.tuples(seeds, st.integers(0, 64), hostile_piece).map(_insert),
        st.tuples(st.tuples(seeds, st.integers(0, 64), hostile_piece).map(_insert), st.integers(0, 64),
                  hostile_piece).map(_insert),
        seeds,
    )


# Values every field gets, before the random ones.
EXAMPLES = ['', ' ', 'a; } server {', '"', '\\', '#', '$', '${', '\n', 'x\ny', 'x\r', 'x\ty', 'x\x00', '\u00e9',
            '{', '}', "'", 'a b']


def _field_param(field):
    return pytest.param(field, id=field.name)


def test_baseline_is_valid_and_renders_every_field():
    config, text, tree = _baseline()
    assert [node[0] for node in tree] == ['map', 'limit_conn_zone', 'limit_req_zone', 'upstream', 'log_format', 'server',
                                          'server']
    assert '\n    client_max_body_size 1m;\n' in text


def test_acme_baselines_render_the_challenge_location():
    """Issued: the baseline's blocks, with the challenge location in the plain-HTTP server; pending: only that server."""
    challenge = ('location', ('^~', '/.well-known/acme-challenge/'), [
        ('root', ('/var/lib/websocket-nginx/acme-challenge',), None), ('default_type', ('text/plain',), None)])
    issued, pending, tls = baseline_tree('acme'), baseline_tree('acme pending'), baseline_tree()
    # The site's own blocks as with a certificate file, but for where the certificate is.
    assert structure(issued[:-1]) == structure(tls[:-1])
    assert [child for child in issued[-2][2] if child[0].startswith('ssl_certificate')] == [
        ('ssl_certificate', ('/etc/nginx/websocket-proxy-tls/prop.crt',), None),
        ('ssl_certificate_key', ('/etc/nginx/websocket-proxy-tls/prop.key',), None)]
    redirect = issued[-1]
    assert redirect[2] == [('listen', ('127.0.0.1:80',), None), tls[-1][2][1], challenge, tls[-1][2][2]]
    assert pending == [redirect]


@pytest.mark.parametrize('field', [_field_param(field) for field in FIELDS if field.kind == 'args'])
def test_harness_finds_each_field(field):
    """The placeholder rendering of the baseline, with the baseline's value put back, is the baseline."""
    site = baseline_config(field.base)['sites'][0]
    words = field.locate(site)
    assert words
    expected, count = substitute(rh.parse_tree(rh.render_site(site)), words)
    assert count >= 1
    assert expected == baseline_tree(field.base)


@pytest.mark.parametrize('field', [_field_param(field) for field in FIELDS])
def test_field_seeds_are_accepted(field):
    """Each seed is a good value, so that values built around them get past the checks."""
    for seed in field.seeds:
        assert field.build(seed) is not None, seed


@pytest.mark.parametrize('field', [_field_param(field) for field in FIELDS])
def test_no_value_changes_the_structure(field):
    for value in EXAMPLES + field.examples + [field.seeds[0] + piece for piece in EXAMPLES]:
        check_field(field, value)

    @PROPERTY_SETTINGS
    @given(value=values_for(field))
    def prop(value):
        check_field(field, value)

    prop()


def check_certificate_sha1(value):
    """The host's answer for the certificate's checksum is data from the host: a SHA-1 is written in a
    comment, anything else is refused; either way no directive changes."""
    variables = copy.deepcopy(BASE_VARIABLES)
    try:
        config = site_model.build(variables, certificate_sha1={'/etc/ssl/prop.crt': value}).as_dict()
    except role_spec.ModelError as exc:
        assert exc.errors and not re.fullmatch('[0-9a-f]{40}', str(value)), exc.errors
        return
    text = rh.render_site(config['sites'][0])
    assert rh.parse_tree(text) == baseline_tree()
    written = value if value else site_model.NOT_ON_HOST
    assert ('\n# %s\n' % nginx_values.nginx_arg(written)) in text


@pytest.mark.parametrize('value', ['0' * 40, 'f' * 40, None, '', 'A' * 40, '0' * 41, 'a; } server {', '\n' + 'a' * 40,
                                   'a' * 40 + '\n}', 12, ['a' * 40]])
def test_no_certificate_checksum_changes_the_structure_examples(value):
    check_certificate_sha1(value)


@PROPERTY_SETTINGS
@given(value=st.one_of(st.text(), hostile_text, st.tuples(st.just('a' * 40), hostile_text).map(''.join)))
def test_no_certificate_checksum_changes_the_structure(value):
    check_certificate_sha1(value)


# ---------------------------------------------------------------------------
# Set values: scripts
# ---------------------------------------------------------------------------

SCRIPT_VARIABLES = {'websocket_proxy_dollar': '$'}  # as upgrade_map.conf.j2 defines it


def evaluate_script(script, variables=None):
    """What nginx's ``set`` makes of ``script`` (after nginx_arg's quoting is read back), the way
    ngx_http_script_compile reads it: ``$name`` or ``${name}`` (letters, digits, "_") is a variable,
    ``$1``..``$9`` a regex capture; any other "$" is an error. Only ``variables`` are known."""
    variables = SCRIPT_VARIABLES if variables is None else variables
    result = []
    index = 0
    while index < len(script):
        char = script[index]
        index += 1
        if char != '$':
            result.append(char)
            continue
        if index == len(script):
            raise ValueError('invalid variable name (a "$" at the end)')
        if script[index] in '123456789':
            raise ValueError('a regex capture $%s' % script[index])
        braced = script[index] == '{'
        index += braced
        match = re.match(r'[A-Za-z0-9_]*', script[index:])
        name = match.group(0)
        index += len(name)
        if braced:
            if script[index:index + 1] != '}':
                raise ValueError('the closing bracket in a variable is missing')
            index += 1
        if not name:
            raise ValueError('invalid variable name')
        if name not in variables:
            raise ValueError('unknown "%s" variable' % name)
        result.append(variables[name])
    return ''.join(result)


@pytest.mark.parametrize('script, value', [('/a$b', None), ('/$', None), ('/${x', None), ('/$1', None), ('/${}', None),
                                           ('/a${websocket_proxy_dollar}b', '/a$b'), ('/ws/', '/ws/')])
def test_the_script_reader_reads_as_nginx(script, value):
    """Control: the reader refuses what nginx refuses (unknown variables, a bare "$"), so the property below can fail."""
    if value is None:
        with pytest.raises(ValueError):
            evaluate_script(script)
    else:
        assert evaluate_script(script) == value


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(text=st.one_of(st.text(), hostile_text))
def test_script_literal_evaluates_to_the_text(text):
    """A location path (any text) as a set value: nginx reads back exactly the path, and no variable but the "$"."""
    script = nginx_values.script_literal(text)
    assert evaluate_script(script) == text


# ---------------------------------------------------------------------------
# nginx_arg alone
# ---------------------------------------------------------------------------

CONTROL_CHARACTERS = [chr(code) for code in range(0x20)] + ['\x7f']
no_control = st.characters(codec='utf-8', exclude_characters=CONTROL_CHARACTERS)
text_without_control = st.one_of(
    st.text(no_control),
    st.lists(st.one_of(st.sampled_from([piece for piece in HOSTILE if not nginx_values.CONTROL.search(piece)]),
                       st.text(no_control, max_size=3)), max_size=10).map(''.join),
)


@settings(max_examples=200, deadline=None, derandomize=True, database=None)
@given(text=text_without_control)
def test_nginx_arg_is_exactly_one_argument(text):
    rendered = nginx_values.nginx_arg(text)
    directives = nginx_config.parse('x ' + rendered + ';')
    assert [(d.name, d.args, d.children) for d in directives] == [('x', [text], None)]
    # Whatever comes around it is not affected either.
    directives = nginx_config.parse('a {\n    x ' + rendered + ' ' + rendered + ';\n}\ny z;\n')
    assert rh.tree(directives) == [('a', (), [('x', (text, text), None)]), ('y', ('z',), None)]


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(text=st.tuples(st.text(), st.integers(0, 100), st.sampled_from(CONTROL_CHARACTERS)).map(_insert))
def test_nginx_arg_refuses_control_characters(text):
    with pytest.raises(ValueError, match='control characters'):
        nginx_values.nginx_arg(text)


@pytest.mark.parametrize('value, rendered', [
    ('abc', 'abc'), (80, '80'), ('', '""'), ('a b', '"a b"'), ('a"b', '"a\\"b"'), ('a\\b', '"a\\\\b"'),
    ('#x', '"#x"'), ("'x", '"\'x"'), ('$host', '"$host"'), ('a;b', '"a;b"'), ('{', '"{"'),
])
def test_nginx_arg_examples(value, rendered):
    assert nginx_values.nginx_arg(value) == rendered


@pytest.mark.parametrize('value', [None, True, 1.5, ['a'], b'a'])
def test_nginx_arg_refuses_other_types(value):
    with pytest.raises(ValueError):
        nginx_values.nginx_arg(value)


# ---------------------------------------------------------------------------
# Controls: the comparison does catch an injection
# ---------------------------------------------------------------------------

INJECTION = 'a; } server {'


def _raw(value):
    return str(value)


def test_control_unquoted_value_changes_the_structure():
    """Written without nginx_arg, server_name 'a; } server {' ends the server block and opens another."""
    site = baseline_config()['sites'][0]
    site['server_name'][0] = INJECTION  # bypasses the model on purpose
    directives = nginx_config.parse(rh.render_site(site, arg_filter=_raw))
    # Twice: in the site's server and in its plain-HTTP redirect server.
    assert [d.name for d in directives] == ['map', 'limit_conn_zone', 'limit_req_zone', 'upstream', 'log_format'] + [
        'server'] * 4
    assert next(d for d in directives[5].children if d.name == 'server_name').args == ['a']
    # ...and check_site, the property's comparison, reports it.
    with pytest.raises(AssertionError, match='changed the configuration'):
        check_site(site, FIELDS_BY_NAME['server_name'], arg_filter=_raw)
    # The same model written with nginx_arg: one argument, same structure.
    check_site(site, FIELDS_BY_NAME['server_name'])


@pytest.mark.parametrize('name, value', [
    ('websocket location path', '/x { } location /y'),
    ('root', '/srv/a; autoindex on'),
    ('hash_key', '$remote_addr; } upstream evil {'),
    ('read_timeout', '60s; proxy_pass http://evil'),
    ('websocket_proxy_acme_webroot', '/srv/acme; autoindex on'),
    ('websocket_proxy_acme_webroot, pending', '/srv/acme; } location / { root /'),
])
def test_control_unquoted_values_are_caught(name, value):
    field = FIELDS_BY_NAME[name]
    site = baseline_config(field.base)['sites'][0]
    target = copy.deepcopy(site)
    field.locate(target)  # find where the value lives in the model...
    path = _find(target, PLACEHOLDER)
    _assign(site, path, value)  # ...and put the hostile value there, past the model's checks
    with pytest.raises((AssertionError, nginx_config.NginxConfigError)):
        check_site(site, field, arg_filter=_raw)
    check_site(site, field)


def _find(node, needle, path=()):
    if node == needle:
        return path
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in items:
        found = _find(child, needle, path + (key,))
        if found is not None:
            return found
    return None


def _assign(node, path, value):
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
