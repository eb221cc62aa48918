# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Static alias locations against a real nginx: nothing outside the alias directory is served.

A real nginx (foreground, master + one worker, error log and pid in a temporary
directory) serves a site built by site_model.build on free loopback ports, and
raw requests try the usual ways out of an alias directory. A control server
block, written by hand with the classic mistake (``location /files`` + an alias
without the trailing slash), shows that the requests do reach the secret when
the configuration lets them. The same nginx also answers ``return 200 <arg>``
for hostile texts rendered with nginx_arg, so nginx itself confirms that it
reads each of them back as the one argument that was meant.
"""

from __future__ import annotations

import copy
import os

import pytest

from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values, role_spec, site_model
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh
from ansible_collections.websocket.nginx.tests.unit.helpers import free_closed_port

pytestmark = pytest.mark.skipif(not os.access(rh.NGINX, os.X_OK), reason='needs %s (make test-tools)' % rh.NGINX)

SECRET_BESIDE = b'SECRET-beside-the-alias-directory'  # <tmp>/files../secret.txt
SECRET_ABOVE = b'SECRET-above-the-alias-directory'  # <tmp>/secret.txt
PUBLIC = b'public file a\n'

# Texts nginx must read back exactly (no "$": return would expand variables; no control characters).
ECHO_TEXTS = [
    '', ' ', 'plain', 'a b', 'a;b', 'a; } server {', '{', '}', '}{', '#not a comment', 'a #b', '"', "'", '"\'"',
    '\\', '\\\\', '\\"', '\\n', '\\t', 'ends with \\', '"quoted"', "'single'", 'x"', "x'", 'caf\u00e9 \u2603 \U0001F600',
    '\u2028\x85\xa0', 'a\\"; } #', '(a)', '"a")', '~^ws\\d+\\.example\\.com$'.replace('$', ''), '%2e%2e/', ';;;',
]

TRAVERSALS = [
    '/files../secret.txt',
    '/files/../secret.txt',
    '/files/%2e%2e/secret.txt',
    '/files/%2E%2E/secret.txt',
    '/files/..%2fsecret.txt',
    '/files/..%2Fsecret.txt',
    '/files/%2e%2e%2fsecret.txt',
    '/files/.%2e/secret.txt',
    '/files//../secret.txt',
    '/files/./../secret.txt',
    '/files/../../secret.txt',
    '/files/a.txt/../../secret.txt',
    '/files/../files../secret.txt',
    '/files/%2e%2e/files../secret.txt',
    '/files..%2fsecret.txt',
    '/files%2e%2e/secret.txt',
    '/files%2e%2e%2fsecret.txt',
    '/files/..%5csecret.txt',
    '/files/..\\secret.txt',
    '/files/....//secret.txt',
    '/files/..;/secret.txt',
    '/./files/../secret.txt',
    '/%2e%2e/secret.txt',
    '/../secret.txt',
    '//files../secret.txt',
    '/files/%252e%252e/secret.txt',
    '/files/%00/../secret.txt',
]


@pytest.fixture(scope='module')
def served(tmp_path_factory):
    base = tmp_path_factory.mktemp('alias')
    files = base / 'files'
    files.mkdir()
    (files / 'a.txt').write_bytes(PUBLIC)
    (base / 'files..').mkdir()
    (base / 'files..' / 'secret.txt').write_bytes(SECRET_BESIDE)
    (base / 'secret.txt').write_bytes(SECRET_ABOVE)
    www = base / 'www'
    www.mkdir()
    (www / 'index.html').write_bytes(b'home\n')
    conf = base / 'conf'
    conf.mkdir()

    port, control_port, echo_port = (free_closed_port() for _port in range(3))
    config = site_model.build({'websocket_proxy_sites': [{
        'name': 'alias',
        'listen': ['127.0.0.1:%d' % port],
        'server_name': ['localhost'],
        'static_locations': [
            {'path': '/files/', 'alias': str(files), 'expires': 'off', 'gzip': False},
            {'path': '/', 'root': str(www), 'expires': 'off', 'gzip': False},
        ],
    }]}).as_dict()
    site = config['sites'][0]
    assert site['static_locations'][0]['alias'] == str(files) + '/'

    # The control: what the model refuses, written anyway.
    control = copy.deepcopy(site)
    control['listen'][0]['address'] = '127.0.0.1:%d' % control_port
    control['static_locations'][0]['path'] = '/files'
    control['static_locations'][0]['alias'] = str(files)

    echo = ['server {', '    listen 127.0.0.1:%d;' % echo_port, '    default_type text/plain;']
    for index, text in enumerate(ECHO_TEXTS):
        echo.append('    location = /%d { return 200 %s; }' % (index, nginx_values.nginx_arg(text)))
    echo.append('}')

    nginx = rh.RunningNginx({'alias': rh.render_site(site), 'control': rh.render_site(control),
                             'echo': '\n'.join(echo) + '\n'}, conf, port)
    nginx.start()
    try:
        nginx.control_port = control_port
        nginx.echo_port = echo_port
        yield nginx
    finally:
        nginx.stop()


def test_the_alias_serves_its_files(served):
    assert served.get('/files/a.txt') == (200, PUBLIC)
    assert served.get('/') == (200, b'home\n')


@pytest.mark.parametrize('path', TRAVERSALS)
def test_no_request_leaves_the_alias_directory(served, path):
    status, body = served.get(path)
    assert SECRET_BESIDE not in body and SECRET_ABOVE not in body, (status, body)
    assert status in (400, 403, 404), (status, body)


def test_control_the_classic_alias_mistake_leaks(served):
    """Without the trailing slashes the same request reads the secret: the traversal test can fail."""
    status, body = served.get('/files../secret.txt', port=served.control_port)
    assert (status, body) == (200, SECRET_BESIDE)
    assert served.get('/files/a.txt', port=served.control_port) == (200, PUBLIC)


@pytest.mark.parametrize('index, text', list(enumerate(ECHO_TEXTS)), ids=[repr(text) for text in ECHO_TEXTS])
def test_nginx_reads_nginx_arg_back_exactly(served, index, text):
    assert served.get('/%d' % index, port=served.echo_port) == (200, text.encode('utf-8'))


# ---------------------------------------------------------------------------
# The model's part
# ---------------------------------------------------------------------------

def build_static(**location):
    return site_model.build({'websocket_proxy_sites': [{
        'name': 'static', 'listen': ['127.0.0.1:18110'], 'static_locations': [location]}]})


@pytest.mark.parametrize('path', ['/files', '/', '/a/b'])
def test_alias_location_path_must_end_with_a_slash(path):
    if path == '/':
        # "/" ends with a slash: accepted.
        assert build_static(path=path, alias='/srv/files').sites[0].static_locations[0].alias == '/srv/files/'
        return
    with pytest.raises(role_spec.ModelError, match='must end with "/"'):
        build_static(path=path, alias='/srv/files')


@pytest.mark.parametrize('kind', ['root', 'alias'])
@pytest.mark.parametrize('value', ['/srv/..', '/srv/../etc', '/srv/files/..', '/../srv', '/srv/./files', '/srv//files',
                                   '/srv/files/.', 'srv/files', '/', '//', '/srv/$host', '', '/srv/a\nb', '/srv/..\\'])
def test_root_and_alias_must_be_normalized_absolute_paths(kind, value):
    if value == '/srv/..\\':
        # A backslash is an ordinary character of a file name on Linux: accepted, written quoted.
        built = build_static(path='/x/', **{kind: value}).sites[0].static_locations[0]
        assert getattr(built, kind).rstrip('/') == value
        return
    with pytest.raises(role_spec.ModelError) as raised:
        build_static(path='/x/', **{kind: value})
    assert raised.value.errors and all(isinstance(error, str) and error for error in raised.value.errors)


@pytest.mark.parametrize('value, alias', [('/srv/files', '/srv/files/'), ('/srv/files/', '/srv/files/'),
                                          ('/srv/my files', '/srv/my files/')])
def test_alias_is_written_with_one_trailing_slash(value, alias):
    assert build_static(path='/files/', alias=value).sites[0].static_locations[0].alias == alias
