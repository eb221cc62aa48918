# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""The nginx role's health server for external load balancers (nginx_health_listen, nginx_health_path).

- No value of the two variables changes the structure of nginx.conf: the model refuses it, or the
  rendered file parses (with nginx_config, nginx's tokenizer transcribed) into the expected server block
  with the value as exactly its arguments (Hypothesis, biased towards what means something to nginx).
- A real nginx on loopback serving the rendered server block answers ``GET <path>`` with 200 ``ok``,
  with 503 ``draining`` as soon as the drain flag exists (no reload), 200 again once it is gone, and 404
  to every other path. The drain flag is a file of the test's own (build_nginx's ``drain_flag``).
"""

from __future__ import annotations

import os

import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config
from ansible_collections.websocket.nginx.plugins.plugin_utils import role_spec, server_models
from ansible_collections.websocket.nginx.tests.unit import render_helpers as rh
from ansible_collections.websocket.nginx.tests.unit.helpers import free_closed_port

needs_nginx = pytest.mark.skipif(not os.access(rh.NGINX, os.X_OK), reason='needs %s (make test-tools)' % rh.NGINX)

MAX_EXAMPLES = int(os.environ.get('WSN_PROPERTY_EXAMPLES', '300'))
HOSTILE = [';', '{', '}', '#', '"', "'", '\\', '$', ' ', '\n', '\r', '\t', '\x00', '\x0c', '\x85', '\u00e9',
           '${', '$x', '}{', '\\"', '"; }', '; } server {', '} server { listen 80;', '# ', '/', '/..', '//', '/.',
           '..', '.', ':', '[', ']', '[::]', '[::1]', '=', ',', '~', '*', '(', ')', '-', ' ssl', ' default_server',
           '8078', '10.0.0.5', 'localhost', '0', '65535', '99999', 'return 200;', 'if (']
hostile_text = st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=3)), max_size=8).map(''.join)


def health_server(config):
    """The health server of nginx.conf rendered from ``config`` (a built NginxConfig): its parsed block."""
    http = next(d for d in nginx_config.parse(rh.render_nginx_conf(config.as_dict())) if d.name == 'http')
    servers = [d for d in http.children if d.name == 'server']
    # The status server (when on) comes first, the health server after it; nothing else is a server here.
    assert len(servers) == (config.status_listen is not None) + bool(config.health_listen), rh.tree(servers)
    return servers[-1]


def expected_tree(config):
    return [
        *[('listen', (listen,), None) for listen in config.health_listen],
        ('access_log', ('off',), None),
        ('default_type', ('text/plain',), None),
        ('location', ('=', config.health_path), [
            ('if', ('(', '-f', config.drain_flag, ')'), [('return', ('503', 'draining\n'), None)]),
            ('return', ('200', 'ok\n'), None),
        ]),
        ('location', ('/',), [('return', ('404',), None)]),
    ]


def test_the_default_serves_no_health_check():
    config = server_models.build_nginx({}, None)
    assert config.health_listen == [] and config.health_urls == []
    http = next(d for d in nginx_config.parse(rh.render_nginx_conf(config.as_dict())) if d.name == 'http')
    assert [d.args for d in http.children if d.name == 'server'] == [[]]   # the status server only
    assert 'draining' not in rh.render_nginx_conf(config.as_dict())


@pytest.mark.parametrize('status', [True, False])
def test_the_health_server_is_rendered_as_meant(status):
    config = server_models.build_nginx({'nginx_health_listen': ['8078', '[::]:8078', '10.0.0.5:8077'],
                                        'nginx_health_path': '/lb/health', 'nginx_status_enabled': status}, None)
    assert rh.tree(health_server(config).children) == expected_tree(config)
    assert config.health_listen == ['8078', '[::]:8078', '10.0.0.5:8077']


def _insert(parts):
    """A hostile piece put into a good value."""
    seed, position, piece = parts
    position %= len(seed) + 1
    return seed[:position] + piece + seed[position:]


good_listen = st.one_of(
    st.integers(1, 65535).map(str),
    st.tuples(st.sampled_from(['0.0.0.0', '10.0.0.5', '127.0.0.1', '[::]', '[::1]', '[2001:db8::5]']),
              st.integers(1, 65535)).map(lambda parts: '%s:%d' % parts))
good_path = st.lists(st.text(alphabet='aZ09._~-', min_size=1, max_size=5).filter(lambda part: part not in ('.', '..')),
                     max_size=4).map(lambda parts: '/' + '/'.join(parts))
piece = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=3))
listen_value = st.one_of(good_listen, hostile_text, st.integers(-1, 70000).map(str),
                         st.tuples(good_listen, st.integers(0, 30), piece).map(_insert))
path_value = st.one_of(good_path, hostile_text, hostile_text.map(lambda text: '/' + text),
                       st.tuples(good_path, st.integers(0, 30), piece).map(_insert))
PROPERTY = settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


def check_structure(listen, path, status):
    """Refused with messages about these variables only, or rendered into exactly the meant server block."""
    try:
        config = server_models.build_nginx({'nginx_health_listen': listen, 'nginx_health_path': path,
                                            'nginx_status_enabled': status}, None)
    except role_spec.ModelError as exc:
        assert exc.errors and all(error.startswith(('nginx_health_listen[', 'nginx_health_path ')) for error in exc.errors)
        return False
    assert config.health_path == path and len(config.health_listen) == len(listen)
    if not listen:
        assert 'draining' not in rh.render_nginx_conf(config.as_dict())
        return True
    assert rh.tree(health_server(config).children) == expected_tree(config)
    # The rest of nginx.conf is the one without a health server.
    without = server_models.build_nginx({'nginx_status_enabled': status}, None)
    http = [d for d in nginx_config.parse(rh.render_nginx_conf(config.as_dict())) if d.name == 'http'][0]
    http_without = [d for d in nginx_config.parse(rh.render_nginx_conf(without.as_dict())) if d.name == 'http'][0]
    assert rh.tree(http.children)[:-3] + rh.tree(http.children)[-2:] == rh.tree(http_without.children)
    return True


@PROPERTY
@given(listen=st.lists(listen_value, max_size=3), status=st.booleans())
def test_no_health_listen_changes_the_structure(listen, status):
    check_structure(listen, '/health', status)


@PROPERTY
@given(path=path_value)
def test_no_health_path_changes_the_structure(path):
    check_structure(['8078', '[::]:8078'], path, True)


def test_the_properties_see_accepted_values_too():
    """Not a vacuous property: a good share of the generated values gets past the model (same seed)."""
    accepted = []

    @PROPERTY
    @given(listen=st.lists(listen_value, min_size=1, max_size=3), path=path_value)
    def run(listen, path):
        accepted.append(check_structure(listen, path, True))

    run()
    assert sum(accepted) >= len(accepted) // 10, (sum(accepted), len(accepted))


# ---------------------------------------------------------------------------
# A real nginx
# ---------------------------------------------------------------------------

def health_server_text(config):
    """The rendered health server block as text, to run in a test nginx (the rest of nginx.conf is the host's)."""
    lines = rh.render_nginx_conf(config.as_dict()).splitlines()
    start = lines.index('    # Health check for external load balancers (nginx_health_*): 200 "ok", or 503 "draining" '
                        'while the')
    end = lines.index('    }', start)
    return '\n'.join(line[4:] for line in lines[start:end + 1]) + '\n'


@pytest.fixture
def health_nginx(tmp_path):
    port = free_closed_port()
    flag = tmp_path / 'state' / 'draining'
    flag.parent.mkdir()
    config = server_models.build_nginx({'nginx_health_listen': ['127.0.0.1:%d' % port], 'nginx_health_path': '/lb/health',
                                        'nginx_status_enabled': False}, None, drain_flag=str(flag))
    assert config.health_urls == ['http://127.0.0.1:%d/lb/health' % port]
    (tmp_path / 'nginx').mkdir()
    server = rh.RunningNginx({'health': health_server_text(config)}, tmp_path / 'nginx', port)
    server.start()
    try:
        yield server, flag
    finally:
        server.stop()


@needs_nginx
def test_health_answers_200_then_503_while_the_flag_exists_without_a_reload(health_nginx):
    server, flag = health_nginx
    status, headers, body = rh.request(server.port, '/lb/health')
    assert (status, body, headers['content-type']) == (200, b'ok\n', 'text/plain')
    flag.write_text('')
    assert rh.request(server.port, '/lb/health')[::2] == (503, b'draining\n')
    assert rh.request(server.port, '/lb/health')[1]['content-type'] == 'text/plain'
    flag.unlink()
    assert server.get('/lb/health') == (200, b'ok\n')
    # A directory of that name is not the flag (-f: a file).
    flag.mkdir()
    assert server.get('/lb/health') == (200, b'ok\n')
    flag.rmdir()
    # The same nginx master throughout: nothing reloaded it.
    assert server.process.poll() is None
    assert 'signal' not in (server.directory / 'error.log').read_text(errors='replace')


@needs_nginx
@pytest.mark.parametrize('path', ['/', '/lb', '/lb/health/', '/lb/healthx', '/lb/health/x', '/health', '/stub_status'])
def test_every_other_path_answers_404(health_nginx, path):
    server, flag = health_nginx
    assert server.get(path)[0] == 404
    flag.write_text('')
    assert server.get(path)[0] == 404


@needs_nginx
def test_a_query_string_is_the_same_path_and_no_access_log_is_written(health_nginx):
    server, _flag = health_nginx
    assert server.get('/lb/health?probe=1') == (200, b'ok\n')
    # RunningNginx logs every request of the http block to access.log; the health server writes none.
    log = server.directory / 'access.log'
    assert not log.exists() or log.read_text() == ''
