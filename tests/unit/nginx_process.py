# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""A real nginx for the unit tests: master + 2 workers in the foreground, in a new session, as root.

Its pid file, error log and temporary files are in a temporary directory; it listens on a free
127.0.0.1 port. Standard library only (ansible-test units gives the tests of modules no jinja2).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time

from pathlib import Path

from ansible_collections.websocket.nginx.tests.unit.helpers import LOOPBACK, free_closed_port, read_head

NGINX = '/usr/sbin/nginx'
START_TIMEOUT = 10.0
STOP_TIMEOUT = 5.0
HTTP_TIMEOUT = 5.0


class Nginx(object):
    """nginx -p DIR -c DIR/nginx.conf (daemon off, in its own session): ``return 200 BODY`` on ``host``:``port``."""

    def __init__(self, directory, host=LOOPBACK, binary=NGINX):
        self.binary = str(binary)
        self.directory = Path(directory)
        self.host = host
        self.conf = self.directory / 'nginx.conf'
        self.pid_file = self.directory / 'nginx.pid'
        self.error_log = self.directory / 'error.log'
        self.temp = self.directory / 'temp'
        self.temp.mkdir(exist_ok=True)
        self.port = free_closed_port(host)
        self.worker_user = 'root'  # the workers' user (nginx's "user" directive)
        self.process = None
        self._output = None

    def write(self, body, upstream_port=None, extra_listen=None, include_dir=None):
        """Write nginx.conf (``include_dir/*.conf`` in its http block); ``nginx -t`` must accept it."""
        temp_paths = ['    %s %s;' % (name, self.temp / name) for name in (
            'client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path')]
        server = ['    server {', '        listen %s:%d;' % (self.host, self.port)]
        if extra_listen is not None:
            server.append('        listen %s:%d;' % (LOOPBACK, extra_listen))
        server.append('        location / { return 200 "%s"; }' % body)
        if upstream_port is not None:
            server.append('        location /slow { proxy_pass http://%s:%d; proxy_read_timeout 60s; }' % (LOOPBACK, upstream_port))
        server.append('    }')
        if include_dir is not None:
            server.append('    include %s/*.conf;' % include_dir)
        lines = [
            'pid %s;' % self.pid_file,
            'worker_processes 2;',
            'error_log %s;' % self.error_log,
            'user %s;' % self.worker_user,
            'events {',
            '    worker_connections 64;',
            '}',
            'http {',
            '    access_log off;',
            '    default_type text/plain;',
        ] + temp_paths + server + ['}', '']
        self.conf.write_text('\n'.join(lines), encoding='utf-8')
        test = subprocess.run([self.binary, '-t', '-p', str(self.directory), '-c', str(self.conf)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=30, check=False)
        assert test.returncode == 0 and 'test is successful' in test.stdout, test.stdout

    def start(self):
        self._output = open(self.directory / 'output.log', 'wb')  # pylint: disable=consider-using-with
        self.process = subprocess.Popen(  # pylint: disable=consider-using-with
            [self.binary, '-p', str(self.directory), '-c', str(self.conf), '-g', 'daemon off;'],
            stdin=subprocess.DEVNULL, stdout=self._output, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError('nginx exited with %s: %s' % (self.process.returncode, self.log()))
            if self.pid_file.exists() and self.pid_file.read_text().strip() == str(self.process.pid) and len(self.workers()) == 2:
                try:
                    with socket.create_connection((self.host, self.port), timeout=0.5):
                        return self
                except OSError:
                    pass
            time.sleep(0.02)
        raise RuntimeError('nginx did not start (2 workers, listening on %s:%d) within %.0f s: %s'
                           % (self.host, self.port, START_TIMEOUT, self.log()))

    def stop(self):
        """SIGTERM to the master; after STOP_TIMEOUT SIGKILL to its process group (its session: nginx only)."""
        process, self.process = self.process, None
        try:
            if process is not None:
                if process.poll() is None:
                    process.terminate()
                    try:
                        process.wait(STOP_TIMEOUT)
                    except subprocess.TimeoutExpired:
                        pass
                # The master is gone (or stuck); its workers, old and new, are in its process group.
                try:
                    os.killpg(process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                process.wait(STOP_TIMEOUT)
        finally:
            if self._output is not None:
                self._output.close()

    @property
    def master(self):
        return self.process.pid

    def workers(self):
        """PIDs of the master's children titled exactly ``nginx: worker process`` (read here, not by the module)."""
        return sorted(pid for pid in children_of(self.master) if title(pid) == 'nginx: worker process')

    def log(self):
        return ''.join(path.read_text(errors='replace') for path in (self.directory / 'output.log', self.error_log) if path.exists())

    def get(self, path='/'):
        """``(status, body)`` of ``GET path`` on a new connection."""
        return http_get(self.port, path, host=self.host)


def http_get(port, path='/', host=LOOPBACK):
    """``(status, body)`` of ``GET path`` to ``host``:``port`` (127.0.0.1) on a new connection."""
    status, _fields, body = raw_get(port, path, host=host)
    return status, body


def raw_get(port, path, headers=(), host=LOOPBACK):
    """``(status, [(name, value), ...], body)`` of ``GET path``: every header line as sent, none merged."""
    lines = ['GET %s HTTP/1.1' % path, 'Host: localhost', 'Connection: close'] + ['%s: %s' % item for item in headers]
    request = ('\r\n'.join(lines) + '\r\n\r\n').encode('ascii')
    chunks = []
    with socket.create_connection((host, port), timeout=HTTP_TIMEOUT) as sock:
        sock.sendall(request)
        while True:
            data = sock.recv(65536)
            if not data:
                break
            chunks.append(data)
    head, _separator, body = b''.join(chunks).partition(b'\r\n\r\n')
    status_line, *header_lines = head.decode('latin-1').split('\r\n')
    fields = []
    for line in header_lines:
        name, _colon, value = line.partition(':')
        fields.append((name, value.strip(' \t')))
    return int(status_line.split(' ')[1]), fields, body


def children_of(ppid):
    found = []
    for name in os.listdir('/proc'):
        if name.isdigit():
            try:
                data = Path('/proc/%s/stat' % name).read_bytes()
            except OSError:
                continue
            fields = data[data.rfind(b')') + 2:].split()
            if int(fields[1]) == ppid and fields[0] != b'Z':
                found.append(int(name))
    return found


def title(pid):
    try:
        return Path('/proc/%d/cmdline' % pid).read_bytes().strip(b'\0 ').decode('utf-8', 'replace')
    except OSError:
        return None


def wait_for(condition, timeout=5.0, what='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError('%s not reached within %.0f s' % (what, timeout))


def silent_upstream():
    """A loopback server that reads requests and never answers; returns ``(port, accepted event, stop)``."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind((LOOPBACK, 0))
    listener.listen(8)
    listener.settimeout(0.1)
    accepted = threading.Event()
    stopping = threading.Event()
    connections = []

    def serve():
        while not stopping.is_set():
            try:
                conn, _peer = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.settimeout(HTTP_TIMEOUT)
            try:
                read_head(conn)
            except OSError:
                pass
            connections.append(conn)
            accepted.set()

    thread = threading.Thread(target=serve, name='silent-upstream', daemon=True)
    thread.start()

    def stop():
        stopping.set()
        thread.join(HTTP_TIMEOUT)
        listener.close()
        for conn in connections:
            conn.close()

    return listener.getsockname()[1], accepted, stop


class DaemonNginx(Nginx):
    """An nginx that daemonizes (``daemon on``, as under systemd): its parent exits, which nginx needs before it
    takes USR2 (a master whose parent still runs ignores it: "the changing binary signal is ignored")."""

    def __init__(self, directory, host=LOOPBACK, binary=NGINX):
        super().__init__(directory, host, binary)
        self._master = None

    def start(self):
        done = subprocess.run([self.binary, '-p', str(self.directory), '-c', str(self.conf), '-g', 'daemon on;'],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              timeout=START_TIMEOUT, check=False)
        if done.returncode != 0:
            raise RuntimeError('nginx exited with %s: %s' % (done.returncode, done.stdout))
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            text = self.pid_file.read_text().strip() if self.pid_file.exists() else ''
            if text.isdigit():
                self._master = int(text)
                if len(self.workers()) == 2:
                    return self
            time.sleep(0.02)
        raise RuntimeError('nginx did not start within %.0f s: %s' % (START_TIMEOUT, self.log()))

    def stop(self):
        """SIGKILL to the session nginx made for itself: the master, a new master it started, and their workers."""
        master, self._master = self._master, None
        if master is not None:
            try:
                os.killpg(master, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    @property
    def master(self):
        return self._master


def slow_request(server, accepted):
    """A ``GET /slow`` held open in one of ``server``'s workers: ``accepted`` (silent_upstream's) is set once nginx
    passed it to the upstream, which never answers. Returns the client socket."""
    client = socket.create_connection((server.host, server.port), timeout=HTTP_TIMEOUT)
    client.sendall(b'GET /slow HTTP/1.1\r\nHost: localhost\r\n\r\n')
    assert accepted.wait(HTTP_TIMEOUT), 'nginx did not connect to the upstream'
    return client
