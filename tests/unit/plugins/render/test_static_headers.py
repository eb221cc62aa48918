# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The headers of static locations, read raw from a real nginx on loopback.

A site built by site_model.build and rendered with site.conf.j2 (as the golden tests
do) serves files from a temporary directory; nginx (tests/unit/nginx_process.py) runs
it, and each response's header lines are read from the socket as sent, so that two
Cache-Control fields count as two. Each static response has exactly one Cache-Control
field (or none), built from expires and cache_control, and X-Content-Type-Options
nosniff. The site sets expires and add_header Cache-Control at server level too, to
show that neither reaches a static location.

Then the max-age the model writes for an expires time is compared with what nginx's
own expires directive sends for the same time.
"""

from __future__ import annotations

import email.utils
import os
import tempfile
import time

from pathlib import Path

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values, site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh
from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port
from ansible_collections.websocket.nginx.tests.unit.nginx_process import NGINX, Nginx, raw_get

pytestmark = pytest.mark.skipif(not os.access(NGINX, os.X_OK), reason='needs %s (make test-tools)' % NGINX)

BODY = b'static file\n'
# path: (location settings, the one Cache-Control value or None, whether an Expires field is sent)
LOCATIONS = {
    # The role's defaults: expires 1h (websocket_proxy_static_expires), no cache_control.
    '/': ({}, 'max-age=3600', True),
    '/expires/': ({'expires': '2h'}, 'max-age=7200', True),
    '/default-cc/': ({'cache_control': 'public'}, 'public, max-age=3600', False),
    '/duration/': ({'expires': '1d12h', 'cache_control': 'public, immutable'}, 'public, immutable, max-age=129600', False),
    '/epoch/': ({'expires': 'epoch', 'cache_control': 'private'}, 'private, no-cache', False),
    '/max/': ({'expires': 'max', 'cache_control': 'public'}, 'public, max-age=315360000', False),
    '/past/': ({'expires': '-1', 'cache_control': 'public'}, 'public, no-cache', False),
    '/off-cc/': ({'expires': 'off', 'cache_control': 'no-cache, max-age=0'}, 'no-cache, max-age=0', False),
    '/off/': ({'expires': 'off'}, None, False),
}
# At server level: what a static location must not inherit (expires, Cache-Control) and what it must repeat.
EXTRA_DIRECTIVES = ['expires 5m;', 'add_header Cache-Control "private, max-age=1" always;',
                    'add_header X-Frame-Options DENY always;']


def values(fields, name):
    return [value for key, value in fields if key.lower() == name.lower()]


def served_site(www, port):
    """site.conf for LOCATIONS, each a root location over ``www``, built and rendered as the role does."""
    locations = [{'path': path, 'root': str(www), 'gzip': False, **settings_} for path, (settings_, _cc, _e) in LOCATIONS.items()]
    config = site_model.build({'websocket_proxy_sites': [{
        'name': 'headers', 'listen': ['%s:%d' % (LOOPBACK, port)], 'static_locations': locations,
        'extra_directives': EXTRA_DIRECTIVES,
    }]}).as_dict()
    return rh.render_site(config['sites'][0])


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp('static-headers')
    www = base / 'www'
    for path in LOCATIONS:
        directory = www / path.strip('/')
        directory.mkdir(parents=True, exist_ok=True)
        (directory / 'file.txt').write_bytes(BODY)
    conf_d = base / 'conf.d'
    conf_d.mkdir()
    port = free_closed_port()
    (conf_d / 'site.conf').write_text(served_site(www, port), encoding='utf-8')
    (base / 'nginx').mkdir()
    nginx = Nginx(base / 'nginx')
    nginx.write('main', include_dir=conf_d)
    nginx.start()
    try:
        nginx.site_port = port
        yield nginx
    finally:
        nginx.stop()


@pytest.mark.parametrize('path', list(LOCATIONS))
def test_one_cache_control_per_static_response(served, path):
    _settings, cache_control, with_expires = LOCATIONS[path]
    before = time.time()
    status, fields, body = raw_get(served.site_port, path + 'file.txt')
    assert (status, body) == (200, BODY), fields
    assert values(fields, 'Cache-Control') == ([cache_control] if cache_control else []), fields
    assert values(fields, 'X-Content-Type-Options') == ['nosniff'], fields
    # The server's own add_header directives are repeated, except its Cache-Control.
    assert values(fields, 'X-Frame-Options') == ['DENY'], fields
    expires = values(fields, 'Expires')
    assert len(expires) == (1 if with_expires else 0), fields
    if with_expires:
        max_age = int(cache_control.split('=')[1])
        at = email.utils.parsedate_to_datetime(expires[0]).timestamp()
        assert before + max_age - 2 <= at <= time.time() + max_age + 2, expires


@pytest.mark.parametrize('path', ['/default-cc/', '/'])
def test_not_modified_has_the_same_one_cache_control(served, path):
    """A 304 carries the Cache-Control a cache updates its copy with (RFC 9111, section 4.3.4)."""
    _status, fields, _body = raw_get(served.site_port, path + 'file.txt')
    (last_modified,) = values(fields, 'Last-Modified')
    status, fields, _body = raw_get(served.site_port, path + 'file.txt', [('If-Modified-Since', last_modified)])
    assert status == 304
    assert values(fields, 'Cache-Control') == [LOCATIONS[path][1]], fields
    assert values(fields, 'X-Content-Type-Options') == ['nosniff'], fields


@pytest.mark.parametrize('path', ['/default-cc/', '/max/', '/'])
def test_missing_file_gets_no_cache_control(served, path):
    """Neither expires nor the Cache-Control built from cache_control applies to a 404 ("always" is not set)."""
    status, fields, _body = raw_get(served.site_port, path + 'missing.txt')
    assert status == 404
    assert values(fields, 'Cache-Control') == [] and values(fields, 'Expires') == [], fields
    assert values(fields, 'X-Content-Type-Options') == ['nosniff'], fields
    assert values(fields, 'X-Frame-Options') == ['DENY'], fields


# ---------------------------------------------------------------------------
# max-age: the model's and nginx's own
# ---------------------------------------------------------------------------

_UNITS = ('y', 'M', 'w', 'd', 'h', 'm', 's')


@st.composite
def expires_times(draw):
    """An expires time with a fixed max-age: a sign, units in nginx's order with spaces after them, a bare number."""
    parts = []
    for unit in _UNITS:
        if draw(st.booleans()):
            # At most about 50 years in all: the model refuses more than 68 (nginx's 32-bit time_t limit).
            number = draw(st.integers(0, {'y': 20, 'M': 99}.get(unit, 999)))
            parts.append('%d%s%s' % (number, unit, ' ' * draw(st.integers(0, 2))))
    if not parts or draw(st.booleans()):
        parts.append(str(draw(st.integers(0, 100000))))
    return draw(st.sampled_from(['', '+', '-'])) + ''.join(parts).rstrip(' ')


@settings(max_examples=6, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(times=st.lists(st.one_of(expires_times(), st.sampled_from(['epoch', 'max', '0', '-0', '+0', '-1', '68y'])),
                      min_size=1, max_size=25))
def test_max_age_is_what_nginx_expires_sends(times):
    """For any time the model accepts, "cache_control, <directive>" holds what nginx's expires sends for it."""
    accepted = []
    for text in times:
        built = site_model.build({'websocket_proxy_sites': [{
            'name': 's', 'listen': ['127.0.0.1:18000'],
            'static_locations': [{'path': '/', 'root': '/srv', 'expires': text, 'cache_control': 'public'}]}]})
        (location,) = built.sites[0].static_locations
        assert location.expires == ['off'] and location.cache_control.startswith('public, ')
        accepted.append((text, location.cache_control[len('public, '):]))
    with tempfile.TemporaryDirectory() as directory:
        directory = Path(directory)
        conf_d = directory / 'conf.d'
        conf_d.mkdir()
        port = free_closed_port()
        lines = ['server {', '    listen %s:%d;' % (LOOPBACK, port)]
        lines += ['    location = /%d { expires %s; return 200 "x"; }' % (index, nginx_values.nginx_arg(text))
                  for index, (text, _directive) in enumerate(accepted)]
        (conf_d / 'expires.conf').write_text('\n'.join(lines + ['}', '']), encoding='utf-8')
        (directory / 'nginx').mkdir()
        nginx = Nginx(directory / 'nginx')
        nginx.write('main', include_dir=conf_d)
        nginx.start()
        try:
            for index, (text, directive) in enumerate(accepted):
                status, fields, _body = raw_get(port, '/%d' % index)
                assert status == 200
                assert values(fields, 'Cache-Control') == [directive], text
        finally:
            nginx.stop()
