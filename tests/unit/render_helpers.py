# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Render the roles' templates without Ansible, and check the result with the real nginx.

Imported as ansible_collections.websocket.nginx.tests.unit.render_helpers (see conftest.py).

The Jinja environment is set up the way ansible.builtin.template sets up its own
(trim_blocks on, lstrip_blocks off, the trailing newlines of the template kept,
``ansible_managed`` given), with the filters the templates use:
``websocket.nginx.nginx_arg`` (the function behind the collection's filter) and
Ansible's own ``comment``. tests/unit/plugins/render/test_render_golden.py checks
that this rendering is byte for byte what ansible-playbook writes.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time

from pathlib import Path

import jinja2

from ansible.plugins.filter.core import comment

from ansible_collections.websocket.nginx.plugins.module_utils import nginx_config
from ansible_collections.websocket.nginx.plugins.plugin_utils import nginx_values

COLLECTION_ROOT = Path(__file__).resolve().parents[2]
PROXY_TEMPLATES = COLLECTION_ROOT / 'roles' / 'websocket_proxy' / 'templates'
NGINX_TEMPLATES = COLLECTION_ROOT / 'roles' / 'nginx' / 'templates'
ANSIBLE_MANAGED = 'Ansible managed'
NGINX = '/usr/sbin/nginx'
MIME_TYPES = '/etc/nginx/mime.types'
NGINX_TIMEOUT = 30
ARG_FILTER = 'websocket.nginx.nginx_arg'

_ENVIRONMENTS = {}


def _environment(directory, arg_filter=None):
    """A Jinja environment on ``directory`` configured like Ansible's template module (cached)."""
    key = (str(directory), arg_filter)
    if key not in _ENVIRONMENTS:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(directory)]),
            trim_blocks=True,
            lstrip_blocks=False,
            keep_trailing_newline=False,
            newline_sequence='\n',
            undefined=jinja2.StrictUndefined,
            autoescape=False,
        )
        # Jinja's parser reads a dotted filter name (``| websocket.nginx.nginx_arg``) as one
        # name, and ``map('websocket.nginx.nginx_arg')`` looks the same key up.
        env.filters[ARG_FILTER] = arg_filter or nginx_values.nginx_arg
        env.filters['comment'] = comment
        _ENVIRONMENTS[key] = env
    return _ENVIRONMENTS[key]


def _count_newlines_from_end(text):
    count = 0
    for char in reversed(text):
        if char != '\n':
            break
        count += 1
    return count


def render(directory, name, variables, arg_filter=None):
    """Render template ``name`` of ``directory`` as Ansible's template module writes it.

    Like Ansible, the newlines at the end of the template source are put back
    after Jinja dropped the last one. ``arg_filter`` replaces nginx_arg (only the
    control tests use this, to show what an unquoted value would do).
    """
    env = _environment(directory, arg_filter)
    template = env.get_template(name)
    context = {'ansible_managed': ANSIBLE_MANAGED}
    context.update(variables)
    result = template.render(context)
    source = (Path(directory) / name).read_text(encoding='utf-8')
    missing = _count_newlines_from_end(source) - _count_newlines_from_end(result)
    if missing > 0:
        result += '\n' * missing
    return result


def render_site(site_dict, arg_filter=None):
    """``site.conf.j2`` for one entry of ``ProxyConfig.as_dict()['sites']``."""
    return render(PROXY_TEMPLATES, 'site.conf.j2', {'site': site_dict}, arg_filter)


def render_upgrade_map():
    return render(PROXY_TEMPLATES, 'upgrade_map.conf.j2', {})


def render_nginx_conf(config_dict):
    """``nginx.conf.j2`` for ``server_models.build_nginx(...).as_dict()``."""
    return render(NGINX_TEMPLATES, 'nginx.conf.j2', {'nginx_model': {'config': config_dict}})


# ---------------------------------------------------------------------------
# Parsed structure
# ---------------------------------------------------------------------------

def tree(directives):
    """Directives from nginx_config.parse as nested tuples ``(name, args, children or None)``."""
    return [(d.name, tuple(d.args), None if d.children is None else tree(d.children)) for d in directives]


def parse_tree(text):
    return tree(nginx_config.parse(text))


def skeleton(nodes):
    """Only the directive names and the block nesting of a :func:`tree`."""
    return [(name, None if children is None else skeleton(children)) for name, _args, children in nodes]


# ---------------------------------------------------------------------------
# The real nginx
# ---------------------------------------------------------------------------

def _wrapper(directory, files, http_extra, main_extra=()):
    directory = Path(directory)
    items = list(files.items()) if isinstance(files, dict) else [('file', text) for text in files]
    includes = []
    for index, (name, text) in enumerate(items):
        path = directory / ('%02d-%s.conf' % (index, name))
        path.write_text(text, encoding='utf-8')
        includes.append(path)
    lines = ['pid %s;' % (directory / 'nginx.pid'), 'error_log %s;' % (directory / 'error.log')]
    lines += list(main_extra)
    lines += ['events {', '    worker_connections 64;', '}', 'http {', '    include %s;' % MIME_TYPES]
    lines += ['    %s' % line for line in http_extra]
    lines += ['    include %s;' % nginx_values.nginx_arg(str(path)) for path in includes]
    lines += ['}', '']
    conf = directory / 'nginx.conf'
    conf.write_text('\n'.join(lines), encoding='utf-8')
    return conf


def ssl_directives(pki):
    """http-level certificate for sites that ``listen ... ssl`` (nginx -t refuses them without one)."""
    return ['ssl_certificate %s;' % pki.cert_path, 'ssl_certificate_key %s;' % pki.key_path]


def nginx_t(files, directory, http_extra=()):
    """Write a whole nginx.conf that includes ``files`` in ``http { }`` and run ``nginx -t -c`` on it.

    ``files``: ``{name: text}`` (or a list of texts), written to ``directory``.
    Returns the CompletedProcess (stdout and stderr merged into ``.stdout``).
    """
    conf = _wrapper(directory, files, http_extra)
    return nginx_t_file(conf)


def nginx_t_file(path):
    return subprocess.run([NGINX, '-t', '-c', str(path)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, timeout=NGINX_TIMEOUT, check=False)


def assert_nginx_accepts(result):
    assert result.returncode == 0 and 'test is successful' in result.stdout, result.stdout


class RunningNginx(object):
    """A real nginx (master + one worker, as root) in the foreground, serving ``files`` on loopback."""

    def __init__(self, files, directory, port, http_extra=()):
        directory = Path(directory)
        temp = directory / 'temp'
        temp.mkdir(exist_ok=True)
        extra = ['access_log %s;' % (directory / 'access.log')]
        extra += ['%s %s;' % (name, temp / name) for name in (
            'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path')]
        self.conf = _wrapper(directory, files, extra + list(http_extra),
                             main_extra=['user root;', 'worker_processes 1;'])
        self.directory = directory
        self.port = port
        self.process = None
        self._stderr = None

    def start(self, timeout=10.0):
        test = nginx_t_file(self.conf)
        assert_nginx_accepts(test)
        self._stderr = open(self.directory / 'stderr.log', 'wb')  # pylint: disable=consider-using-with
        # ansible-test units runs each test in a fork that exits without tearing down module-scoped
        # fixtures: setpriv (util-linux) has nginx sent SIGTERM when the process that started it ends.
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            ['setpriv', '--pdeathsig', 'TERM', NGINX, '-c', str(self.conf), '-g', 'daemon off; master_process on;'],
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.stop()
                raise RuntimeError('nginx exited with %s: %s' % (code, self._log()))
            try:
                with socket.create_connection(('127.0.0.1', self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError('nginx did not listen on 127.0.0.1:%d within %.0f s' % (self.port, timeout))

    def stop(self, timeout=5.0):
        """SIGTERM (fast shutdown) to the master; after ``timeout`` SIGKILL to its process group."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    # Still running, so its process group (the session it was started in:
                    # the master and its workers only) is still ours.
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout)
        finally:
            self._stderr.close()

    def _log(self):
        return ''.join((self.directory / name).read_text(errors='replace')
                       for name in ('stderr.log', 'error.log') if (self.directory / name).exists())

    def get(self, path, host='localhost', port=None, timeout=5.0):
        """Send ``GET path`` exactly as given (to ``port``, else the first one); return ``(status, body bytes)``."""
        status, _headers, body = request(port or self.port, path, host, timeout)
        return status, body


def request(port, path, host='localhost', timeout=5.0):
    """``GET path`` exactly as given to 127.0.0.1:``port``; ``(status or None, headers (lower-case names), body)``."""
    message = ('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n' % (path, host)).encode('latin-1')
    chunks = []
    with socket.create_connection(('127.0.0.1', port), timeout=timeout) as sock:
        sock.sendall(message)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    head, _separator, body = b''.join(chunks).partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    status_line = lines[0].split()
    status = int(status_line[1]) if len(status_line) > 1 and status_line[1].isdigit() else None
    headers = dict((name.strip().lower(), value.strip()) for name, _colon, value in
                   (line.partition(':') for line in lines[1:]))
    return status, headers, body
