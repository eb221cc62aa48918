# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark: websocket.nginx.upstream_health against looping over builtin modules.

Starts servers on loopback only: healthy WebSocket echo servers (the
``websockets`` library from .venv), closed ports (connection refused) and
ports that accept but never answer. Then, in the same run and with the same
per-server timeout, it times with ansible-playbook against localhost:

* one ``websocket.nginx.upstream_health`` task for all servers, for each of
  ``check: tcp``, ``check: http`` and ``check: websocket``;
* a loop of ``ansible.builtin.wait_for`` (port check) over all servers;
* a loop of ``ansible.builtin.uri`` over all servers, sending the WebSocket
  upgrade headers. uri cannot complete a WebSocket handshake (urllib always
  sends ``Connection: close``, so a conformant server answers 426), so 101 or
  426 is accepted: it checks "speaks HTTP", like ``check: http`` with
  ``expected_status: [101, 426]``.

and prints the times and their ratios, also minus the time of a baseline
play (Ansible's start-up, one trivial task and the summary task that every
play here has). Run from the repository root:

    .venv/bin/python tests/benchmarks/bench_upstream_health.py [--timeout 1] [--healthy 100 --closed 50 --silent 50]

With the defaults it takes five to six minutes on 2 cores, nearly all of it
in the builtin loops (each loop item costs Ansible about half a second, and
each dead server a full timeout, one after another).
"""

from __future__ import annotations

import argparse
import json
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOOPBACK = '127.0.0.1'
MAX_SILENT_CONNECTIONS = 2000  # accepted connections kept open at most, to bound file descriptors
PLAYBOOK_TIMEOUT = 900


def collections_root():
    collection = REPO
    if collection.parent.parent.name == 'ansible_collections':
        return collection.parents[2]
    return REPO / '.venv' / 'collections'


# ---------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------

class SilentServers(object):
    """``count`` ports that accept connections, read and discard, and never answer."""

    def __init__(self, count):
        self.selector = selectors.DefaultSelector()
        self.stopping = threading.Event()
        self.listeners = []
        self.connections = set()
        for _index in range(count):
            listener = socket.socket()
            listener.bind((LOOPBACK, 0))
            listener.listen(128)
            listener.setblocking(False)
            self.selector.register(listener, selectors.EVENT_READ, 'listener')
            self.listeners.append(listener)
        self.ports = [listener.getsockname()[1] for listener in self.listeners]
        self.thread = threading.Thread(target=self._run, name='silent-servers', daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stopping.is_set():
            for key, _events in self.selector.select(timeout=0.2):
                sock = key.fileobj
                if key.data == 'listener':
                    try:
                        conn, _peer = sock.accept()
                    except OSError:
                        continue
                    if len(self.connections) >= MAX_SILENT_CONNECTIONS:
                        conn.close()
                        continue
                    conn.setblocking(False)
                    self.connections.add(conn)
                    self.selector.register(conn, selectors.EVENT_READ, 'conn')
                    continue
                try:
                    data = sock.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b''
                if not data:
                    self.selector.unregister(sock)
                    self.connections.discard(sock)
                    sock.close()

    def stop(self):
        self.stopping.set()
        self.thread.join(10)
        for sock in list(self.connections) + self.listeners:
            sock.close()
        self.selector.close()


def closed_ports(count):
    """Ports that had no listener a moment ago: connecting to them is refused."""
    sockets = []
    for _index in range(count):
        sock = socket.socket()
        sock.bind((LOOPBACK, 0))
        sockets.append(sock)
    ports = [sock.getsockname()[1] for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


# ---------------------------------------------------------------------------
# Playbooks
# ---------------------------------------------------------------------------

def playbook(*tasks):
    """A play on localhost running ``tasks`` (YAML task lists, each indented as it likes)."""
    body = ''.join(textwrap.indent(textwrap.dedent(task).strip('\n') + '\n', '    ') for task in tasks)
    return '- hosts: localhost\n  gather_facts: false\n  tasks:\n' + body


SUMMARY = '''
- name: Write the summary
  ansible.builtin.copy:
    content: "{{{{ {summary} | to_json }}}}"
    dest: "{{{{ summary_file }}}}"
    mode: "0644"
'''


def module_playbook(check, timeout, extra=''):
    return playbook('''
        - name: Check all servers with upstream_health
          websocket.nginx.upstream_health:
            servers: "{{{{ servers }}}}"
            check: {check}
            timeout: {timeout}
            min_healthy: 0{extra}
          register: health
        '''.format(check=check, timeout=timeout, extra=extra), SUMMARY.format(
        summary="{'healthy': health.healthy, 'unhealthy': health.unhealthy, "
                "'stages': health.servers | map(attribute='stage') | list}"))


def wait_for_playbook(timeout):
    return playbook('''
        - name: Check all servers with wait_for
          ansible.builtin.wait_for:
            host: "{{{{ item.split(':')[0] }}}}"
            port: "{{{{ item.split(':')[1] | int }}}}"
            timeout: {timeout}
          loop: "{{{{ servers }}}}"
          register: health
          ignore_errors: true
        '''.format(timeout=timeout), SUMMARY.format(
        summary="{'healthy': health.results | rejectattr('failed') | list | length, "
                "'unhealthy': health.results | selectattr('failed') | list | length}"))


def uri_playbook(timeout):
    return playbook('''
        - name: Check all servers with uri and the WebSocket upgrade headers
          ansible.builtin.uri:
            url: "http://{{{{ item }}}}/"
            status_code: [101, 426]
            timeout: {timeout}
            headers:
              Upgrade: websocket
              Connection: Upgrade
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==
              Sec-WebSocket-Version: "13"
          loop: "{{{{ servers }}}}"
          register: health
          ignore_errors: true
        '''.format(timeout=timeout), SUMMARY.format(
        summary="{'healthy': health.results | rejectattr('failed') | list | length, "
                "'unhealthy': health.results | selectattr('failed') | list | length, "
                "'statuses': health.results | map(attribute='status') | list}"))


def baseline_playbook():
    """The same play with a trivial module task: Ansible's start-up and per-task cost, the summary included."""
    return playbook('''
        - name: One trivial module call
          ansible.builtin.ping:
        ''', SUMMARY.format(summary="{'healthy': 0}"))


def run_playbook(workdir, name, text, servers):
    """Run a playbook; return ``(seconds, summary dict or None)``."""
    path = workdir / (name + '.yml')
    path.write_text(text)
    summary_file = workdir / (name + '.json')
    variables = workdir / (name + '-vars.json')
    variables.write_text(json.dumps({'servers': servers, 'summary_file': str(summary_file)}))
    ansible_playbook = Path(sys.executable).parent / 'ansible-playbook'
    env = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=str(collections_root()),
        ANSIBLE_PYTHON_INTERPRETER=sys.executable,
        ANSIBLE_LOCALHOST_WARNING='false',
        ANSIBLE_INVENTORY_UNPARSED_WARNING='false',
        ANSIBLE_NOCOLOR='1',
        ANSIBLE_LOCAL_TEMP=str(workdir / 'tmp'),
        ANSIBLE_DISPLAY_OK_HOSTS='false',
        ANSIBLE_DISPLAY_SKIPPED_HOSTS='false',
    )
    command = [str(ansible_playbook), '-i', 'localhost,', '-c', 'local', '-e', '@' + str(variables), str(path)]
    started = time.monotonic()
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=PLAYBOOK_TIMEOUT, check=False)
    elapsed = time.monotonic() - started
    log = workdir / (name + '.log')
    log.write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        print('  %s: ansible-playbook exited %d:\n%s' % (name, proc.returncode, textwrap.indent((proc.stdout + proc.stderr)[-3000:], '    ')),
              file=sys.stderr)
    summary = json.loads(summary_file.read_text()) if summary_file.exists() else None
    return elapsed, summary


def in_process(servers, check, timeout):
    """The module's own check time, without Ansible's start-up (imports the module directly)."""
    sys.path.insert(0, str(collections_root()))
    # pylint: disable=import-outside-toplevel
    from ansible_collections.websocket.nginx.plugins.module_utils.websocket_client import run_check
    from concurrent.futures import ThreadPoolExecutor

    def probe(address):
        host, port = address.rsplit(':', 1)
        return run_check(host, int(port), check=check, timeout=timeout)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=64) as pool:
        results = list(pool.map(probe, servers))
    return time.monotonic() - started, sum(1 for result in results if result['healthy'])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n', 1)[0])
    parser.add_argument('--healthy', type=int, default=100, help='healthy WebSocket echo servers (default 100)')
    parser.add_argument('--closed', type=int, default=50, help='closed ports, connection refused (default 50)')
    parser.add_argument('--silent', type=int, default=50, help='ports that accept but never answer (default 50)')
    parser.add_argument('--timeout', type=int, default=1,
                        help='per-server timeout in seconds, the same for every approach (default 1; wait_for and uri take whole seconds)')
    parser.add_argument('--skip-builtin', action='store_true', help='time only the module')
    options = parser.parse_args()
    for name in ('healthy', 'closed', 'silent'):
        if not 0 <= getattr(options, name) <= 1000:
            parser.error('--%s must be between 0 and 1000' % name)
    if options.timeout < 1:
        parser.error('--timeout must be at least 1')

    print('Starting %d healthy WebSocket echo servers, %d closed ports and %d silent ports on %s ...'
          % (options.healthy, options.closed, options.silent, LOOPBACK))
    # The unit tests' echo servers: one asyncio loop in a thread serves them all.
    sys.path.insert(0, str(REPO / 'tests' / 'unit'))
    from helpers import WebSocketServers  # pylint: disable=import-outside-toplevel
    echo = WebSocketServers()
    echo_ports = [echo.start() for _index in range(options.healthy)]
    silent = SilentServers(options.silent)
    servers = ['%s:%d' % (LOOPBACK, port) for port in echo_ports + closed_ports(options.closed) + silent.ports]
    total = len(servers)
    expected_tcp_healthy = options.healthy + options.silent
    rows = []
    try:
        with tempfile.TemporaryDirectory(prefix='bench-upstream-health-') as tmp:
            workdir = Path(tmp)
            (workdir / 'tmp').mkdir()

            seconds, healthy = in_process(servers, 'websocket', options.timeout)
            print('module_utils only, in process, check=websocket: %.2f s, %d healthy' % (seconds, healthy))

            baseline, _summary = run_playbook(workdir, 'baseline', baseline_playbook(), servers)
            print('baseline playbook (start-up, one ping task, the summary task): %.2f s' % baseline)

            plans = [
                ('upstream_health check=tcp', 'module-tcp', module_playbook('tcp', options.timeout), expected_tcp_healthy),
                ('upstream_health check=http (101/426)', 'module-http',
                 module_playbook('http', options.timeout, '\n            expected_status: [101, 426]'), options.healthy),
                ('upstream_health check=websocket', 'module-websocket', module_playbook('websocket', options.timeout), options.healthy),
            ]
            if not options.skip_builtin:
                plans += [
                    ('loop of ansible.builtin.wait_for', 'wait_for', wait_for_playbook(options.timeout), expected_tcp_healthy),
                    ('loop of ansible.builtin.uri (101/426)', 'uri', uri_playbook(options.timeout), options.healthy),
                ]
            for label, name, text, expected in plans:
                print('running: %s over %d servers ...' % (label, total))
                sys.stdout.flush()
                seconds, summary = run_playbook(workdir, name, text, servers)
                healthy = summary['healthy'] if summary else None
                rows.append((label, name, seconds, healthy, expected))
                print('  %.2f s, healthy %s (expected %d)' % (seconds, healthy, expected))
    finally:
        silent.stop()
        echo.stop()

    times = {name: seconds for _label, name, seconds, _healthy, _expected in rows}
    print()
    print('Results: %d servers (%d healthy WebSocket, %d refused, %d silent), timeout %d s, 2 CPU cores'
          % (total, options.healthy, options.closed, options.silent, options.timeout))
    print('%-40s %10s %15s %10s' % ('approach', 'wall s', 'minus baseline', 'healthy'))
    for label, _name, seconds, healthy, expected in rows:
        mark = '' if healthy == expected else '  (expected %d)' % expected
        print('%-40s %10.2f %15.2f %10s%s' % (label, seconds, seconds - baseline, healthy, mark))
    print('%-40s %10.2f' % ('baseline (start-up, ping, summary)', baseline))
    comparisons = [('wait_for', 'module-tcp', 'TCP: wait_for loop / upstream_health check=tcp'),
                   ('uri', 'module-http', 'HTTP: uri loop / upstream_health check=http'),
                   ('uri', 'module-websocket', 'uri loop / upstream_health check=websocket (full handshake)')]
    print()
    for slow, fast, label in comparisons:
        if slow in times and fast in times:
            net = times[fast] - baseline
            # below a tenth of a second the difference is mostly noise: no ratio of it
            net_ratio = '%.1fx' % ((times[slow] - baseline) / net) if net >= 0.1 else 'n/a, the module task costs no more than the baseline'
            print('ratio %-62s %7.1fx  (minus baseline: %s)' % (label, times[slow] / times[fast], net_ratio))
    failed = [label for label, _name, _seconds, healthy, expected in rows if healthy != expected]
    if failed:
        print('\nUNEXPECTED healthy counts: %s' % ', '.join(failed), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
