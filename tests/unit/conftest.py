# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Shared fixtures: real servers on loopback (see helpers.py).

With plain pytest (``python -m pytest tests/unit`` from the repository root)
the collection is imported through ``.venv/collections``, where
scripts/setup-venv.sh links this checkout as ``ansible_collections/websocket/nginx``.
Under ``ansible-test units`` the collection already sits in such a tree.
"""

from __future__ import annotations

import os
import sys

from pathlib import Path

import pytest


def _collections_root():
    collection = Path(__file__).resolve().parents[2]
    if collection.parent.parent.name == 'ansible_collections':
        return collection.parents[2]
    candidate = collection / '.venv' / 'collections'
    if (candidate / 'ansible_collections' / 'websocket' / 'nginx').is_dir():
        return candidate
    raise RuntimeError(
        'cannot import ansible_collections.websocket.nginx: run scripts/setup-venv.sh, which links this '
        'checkout into .venv/collections, or run the tests with ansible-test units'
    )


COLLECTIONS_ROOT = str(_collections_root())
if COLLECTIONS_ROOT not in sys.path:
    sys.path.insert(0, COLLECTIONS_ROOT)

# pylint: disable=wrong-import-position
from ansible_collections.websocket.nginx.tests.unit.helpers import (  # noqa: E402
    JOIN_TIMEOUT,
    RawServer,
    TestPKI,
    WebSocketServers,
    start_http_server,
)


@pytest.fixture(scope='session')
def pki(tmp_path_factory):
    return TestPKI(tmp_path_factory.mktemp('pki'))


@pytest.fixture(scope='session')
def ws_servers():
    servers = WebSocketServers()
    yield servers
    servers.stop()


@pytest.fixture(scope='session')
def ws_echo(ws_servers):
    """Port of a conformant echo server on 127.0.0.1."""
    return ws_servers.start()


@pytest.fixture
def raw_server():
    """Factory: ``raw_server(handler, host=..., tls_context=...)`` returns a started RawServer."""
    started = []

    def factory(handler, **kwargs):
        server = RawServer(handler, **kwargs)
        started.append(server)
        return server

    yield factory
    for server in started:
        server.stop()


@pytest.fixture(scope='session')
def http_server():
    """Port of a plain HTTP server: / and /healthz 200, /created 201, /broken 503, else 404."""
    server, thread = start_http_server()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(JOIN_TIMEOUT)


@pytest.fixture(scope='session')
def module_env():
    """Environment for running the module or ansible in a subprocess."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join(p for p in [COLLECTIONS_ROOT, env.get('PYTHONPATH', '')] if p)
    env['ANSIBLE_COLLECTIONS_PATH'] = COLLECTIONS_ROOT
    return env
