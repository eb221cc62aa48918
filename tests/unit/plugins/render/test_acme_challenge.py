# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The HTTP-01 challenge location of an ACME site against a real nginx.

An ACME site whose certificate the host does not have yet (its file holds only the
plain-HTTP server) is built by site_model.build with websocket_proxy_acme_webroot in a
temporary directory, and served by a real nginx (foreground, master + one worker). The
model requires that server to listen on port 80, where the CA sends the challenge; here it
is moved to a free loopback port in the model's output. What certbot writes to
``<webroot>/.well-known/acme-challenge/<token>`` is served as text/plain, everything else
is still redirected to https, and nothing else of the webroot or around it is served.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.websocket.nginx.plugins.plugin_utils import site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh
from ansible_collections.websocket.nginx.tests.unit.helpers import free_closed_port

pytestmark = pytest.mark.skipif(not os.access(rh.NGINX, os.X_OK), reason='needs %s (make test-tools)' % rh.NGINX)

TOKEN = 'LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0'
KEY_AUTHORIZATION = TOKEN + '.9jg46WB3rR_AHD-EBXdN7cBkH1WOu0tA3M9fm21mqTI'
SECRET_IN_WEBROOT = b'SECRET-in-the-webroot'        # <webroot>/secret.txt
SECRET_ABOVE = b'SECRET-above-the-webroot'          # <tmp>/secret.txt


def request(port, path):
    """``GET path`` as given, for the site's name; ``(status, headers (lower-case names), body)``."""
    return rh.request(port, path, host='chat.example.com')


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp('acme')
    webroot = base / 'webroot'
    (webroot / '.well-known' / 'acme-challenge').mkdir(parents=True)
    (webroot / '.well-known' / 'acme-challenge' / TOKEN).write_text(KEY_AUTHORIZATION, encoding='ascii')
    (webroot / 'secret.txt').write_bytes(SECRET_IN_WEBROOT)
    (base / 'secret.txt').write_bytes(SECRET_ABOVE)
    conf = base / 'conf'
    conf.mkdir()
    config = site_model.build({
        'websocket_proxy_acme_webroot': str(webroot),
        'websocket_proxy_sites': [{
            'name': 'chat', 'listen': [443], 'server_name': ['chat.example.com'],
            'tls': {'acme': {'contact': 'admin@example.com'}, 'redirect_http': ['127.0.0.1:80']},
            'upstreams': [{'name': 'chat', 'servers': [{'address': '127.0.0.1:8765'}]}],
            'websocket_locations': [{'path': '/ws/', 'upstream': 'chat'}]}]}).as_dict()
    (site,) = config['sites']
    assert site['tls']['acme_pending'] and config['acme']['sites'][0]['pending']
    port = free_closed_port()
    site['tls']['redirect_listen'][0]['address'] = '127.0.0.1:%d' % port
    nginx = rh.RunningNginx({'chat': rh.render_site(site)}, conf, port)
    nginx.start()
    try:
        yield nginx
    finally:
        nginx.stop()


def test_the_challenge_answer_is_served_as_text(served):
    status, headers, body = request(served.port, '/.well-known/acme-challenge/' + TOKEN)
    assert (status, body) == (200, KEY_AUTHORIZATION.encode('ascii'))
    assert headers['content-type'] == 'text/plain'


def test_a_missing_answer_is_404(served):
    assert request(served.port, '/.well-known/acme-challenge/unknown-token')[0] == 404


def test_everything_else_is_redirected_to_https(served):
    for path in ('/', '/ws/', '/.well-known/other', '/.well-known/acme-challenge', '/secret.txt'):
        status, headers, _body = request(served.port, path)
        assert (status, headers['location']) == (301, 'https://chat.example.com' + path)


@pytest.mark.parametrize('path', [
    '/.well-known/acme-challenge/../../secret.txt',
    '/.well-known/acme-challenge/%2e%2e/%2e%2e/secret.txt',
    '/.well-known/acme-challenge/..%2f..%2fsecret.txt',
    '/.well-known/acme-challenge/../../../secret.txt',
    '/.well-known/acme-challenge/%2e%2e/%2e%2e/%2e%2e/secret.txt',
])
def test_nothing_else_of_the_webroot_or_above_is_served(served, path):
    status, _headers, body = request(served.port, path)
    assert SECRET_IN_WEBROOT not in body and SECRET_ABOVE not in body, (status, body)
    assert status in (301, 400, 404), (status, body)
