# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Side by side (``make bench-versus``): how long our roles and geerlingguy.nginx take on the seed's job.

The seed's job: one Debian 12 proxy that serves static files and proxies WebSockets, load
balanced, to two echo backends (websocket.nginx.echo_backend). Each role gets a proxy container
of its own, from the same image, in front of the same two backends:

- ours: the collection's site playbook (``websocket.nginx.site``, whose proxy play runs
  websocket.nginx.nginx and websocket.nginx.websocket_proxy) limited to our proxy, with one site:
  an upstream of the two backends, a WebSocket location ``/ws/`` and a static root. It checks the
  upstreams before a change and the WebSocket locations through nginx after it;
- theirs: geerlingguy.nginx with the same function: ``nginx_upstreams`` with the two backends, a
  vhost with the static root and a ``/ws/`` location passing Upgrade/Connection with the same
  timeouts (it checks nothing).

Each runs as its users run it: ours is the collection's site playbook unchanged, theirs a play with
``become: true`` and Ansible's default fact gathering (the role needs facts). Each measured run is a new ``ansible-playbook`` process,
timed from start to exit. Measured, interleaved (ours, theirs, ours, theirs, ...), ``--repeats``
times each:

- ``idle``: a second run with nothing to change (both must report changed=0);
- ``add``: a run that adds one WebSocket location (``/ws-extra/``); the run that removes it again
  follows and is shown for information (issue 17's target is about the first two);

over SSH (Ansible's default ssh connection, no pipelining, as an unprivileged user with sudo, key
auth with a key made for the run; every run starts without an ssh master connection) and over
``docker exec`` (community.docker.docker). The function is checked through both proxies after
the first deploy (the static page, WebSocket echoes answered by both backends) and after the first
run that adds the location (the same on both locations). Afterwards one profiled run of each (``ansible.posix.profile_tasks``) shows which
tasks take the time. Prints a table (medians, every sample, tasks run and changed) and writes
everything to ``--json`` (default tests/output/bench/versus.json); each run's output is in
tests/output/bench/versus-logs/.

Ours is this checkout as it is (the run says so when the collection's files change while it runs),
or with ``--ref REV`` the collection as committed at REV (e.g. ``--ref 0.3.0``).

geerlingguy.nginx is not fetched by this script (no Galaxy needed): give the path of the role with
``--geerlingguy-role`` (default .cache/roles/geerlingguy.nginx, git-ignored). Get it with

    ansible-galaxy role install geerlingguy.nginx -p .cache/roles     # where Galaxy is reachable
    git clone https://github.com/geerlingguy/ansible-role-nginx .cache/roles/geerlingguy.nginx

Bounded by ``--max-minutes``; the containers (wsn-versus-*) are removed at the end and on error
(``--keep`` leaves them; the next run removes them first). Run from the repository root after
``make setup``:

    .venv/bin/python tests/benchmarks/bench_versus.py
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import platform
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import urllib.request

from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from versus_lab import SSH_USER, Lab, LabError  # noqa: E402  (next to this file)

REPO = Path(__file__).resolve().parents[2]
WORKDIR = REPO / '.cache' / 'bench-versus'
OUTPUT = REPO / 'tests' / 'output' / 'bench'
ROLES = ('ours', 'theirs')
PROXIES = {'ours': 'wsn-versus-ours', 'theirs': 'wsn-versus-geerlingguy'}
BACKENDS = ('wsn-versus-backend-1', 'wsn-versus-backend-2')
BACKEND_PORT = 8765
STATIC_ROOT = '/var/www/seed'
STATIC_MARKER = 'websocket.nginx bench-versus seed page'
LOCATION = '/ws/'
EXTRA_LOCATION = '/ws-extra/'
SCENARIOS = {'idle': 'second run, nothing to change', 'add': 'run that adds one location',
             'revert': 'run that removes it (information)'}
CONNECTIONS = ('ssh', 'docker')
# What makes the collection's behaviour: edited during a run, the figures would mix two versions.
COLLECTION_PARTS = ('galaxy.yml', 'meta', 'playbooks', 'plugins', 'roles')
RECAP = re.compile(r'^(\S+)\s+: ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)\s+'
                   r'skipped=(\d+)\s+rescued=(\d+)\s+ignored=(\d+)', re.M)
PROFILE_LINE = re.compile(r'^(.+?) -{2,} ?(\d+\.\d+)s$', re.M)
# The same WebSocket location for geerlingguy.nginx as ours renders (tests/unit/plugins/render/golden).
THEIR_WS_LOCATION = '''location %(path)s {
    proxy_pass http://echo;
    proxy_http_version 1.1;
    proxy_set_header Upgrade $http_upgrade;
    proxy_set_header Connection $connection_upgrade;
    proxy_set_header Host $http_host;
    proxy_set_header X-Real-IP $remote_addr;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;
    proxy_read_timeout 3600s;
    proxy_send_timeout 3600s;
    proxy_connect_timeout 5s;
    proxy_next_upstream error timeout;
    proxy_buffering off;
    proxy_buffer_size 1k;
}'''
THEIR_STATIC_LOCATION = '''location / {
    try_files $uri $uri/ =404;
}'''
THEIR_UPGRADE_MAP = '''map $http_upgrade $connection_upgrade {
    default upgrade;
    ''      '';
}'''


class BenchError(Exception):
    pass


class Bench(object):
    def __init__(self, args):
        self.args = args
        self.started = time.monotonic()
        self.deadline = self.started + args.max_minutes * 60
        self.role_path = Path(args.geerlingguy_role).resolve()
        self.lab = Lab(args.image, PROXIES.values(), BACKENDS, WORKDIR, log=self.say)
        self.logs = OUTPUT / 'versus-logs'
        self.runs = []
        self.problems = []
        self.run_number = 0
        self.lock = threading.Lock()
        self.collections_path = None
        self.results = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}

    # -- helpers ---------------------------------------------------------------
    @staticmethod
    def say(text):
        print(text, flush=True)

    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BenchError('out of time (--max-minutes %s)' % self.args.max_minutes)
        return left

    def environment(self, **extra):
        env = dict(os.environ, ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', PY_COLORS='0', NO_COLOR='1')
        # Ansible's defaults, whatever the shell says: the repository's ansible.cfg (collections path
        # only), no pipelining, the default stdout callback and ssh arguments.
        for name in ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_CONFIG', 'ANSIBLE_PIPELINING', 'ANSIBLE_SSH_PIPELINING',
                     'ANSIBLE_CALLBACKS_ENABLED', 'ANSIBLE_STDOUT_CALLBACK', 'ANSIBLE_SSH_ARGS',
                     'ANSIBLE_SSH_CONTROL_PATH', 'ANSIBLE_STRATEGY', 'ANSIBLE_FORKS'):
            env.pop(name, None)
        if self.collections_path:
            env['ANSIBLE_COLLECTIONS_PATH'] = str(self.collections_path)
        env.update(extra)
        return env

    def command(self, command, env, timeout=900):
        """Runs a command in its own process group: (return code, output, seconds)."""
        started = time.monotonic()
        process = subprocess.Popen(command, cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   text=True, start_new_session=True)
        try:
            output = process.communicate(timeout=min(timeout, self.remaining()))[0]
        except BaseException:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise
        return process.returncode, output, time.monotonic() - started

    def playbook(self, label, role, connection, variant, profile=False, setup=False):
        """One ansible-playbook run on one proxy (or the backends when ``setup``): a dict with its figures."""
        with self.lock:  # the two first deploys run at once
            self.run_number += 1
            number = self.run_number
        control_dir = WORKDIR / 'cp' / str(number)
        control_dir.mkdir(parents=True)
        extra = {'ANSIBLE_SSH_CONTROL_PATH_DIR': str(control_dir)}
        if profile:
            extra.update(ANSIBLE_CALLBACKS_ENABLED='ansible.posix.profile_tasks',
                         PROFILE_TASKS_TASK_OUTPUT_LIMIT='all', PROFILE_TASKS_SORT_ORDER='none')
        inventory = str(WORKDIR / ('inventory-%s.yml' % connection))
        if setup:
            command = ['ansible-playbook', '-i', inventory, 'websocket.nginx.site', '--limit', 'websocket_backends']
        elif role == 'ours':
            command = ['ansible-playbook', '-i', inventory, 'websocket.nginx.site', '--limit', PROXIES[role],
                       '-e', '@%s' % (WORKDIR / ('vars-ours-%s.json' % variant))]
        else:
            command = ['ansible-playbook', '-i', inventory, str(WORKDIR / 'geerlingguy.yml'),
                       '-e', '@%s' % (WORKDIR / ('vars-theirs-%s.json' % variant))]
        try:
            code, output, seconds = self.command(command, self.environment(**extra))
        finally:
            self.close_masters(control_dir)
        log = self.logs / ('%03d-%s.log' % (number, label))
        log.write_text('$ %s\n\n%s' % (' '.join(command), output))
        recaps = RECAP.findall(output)
        if code or not recaps:
            raise BenchError('%s failed (exit %s), see %s:\n%s' % (label, code, log, output[-3000:]))
        ok, changed, skipped, failed = (sum(int(recap[index]) for recap in recaps) for index in (1, 2, 5, 4))
        # The recap's ok counts every task that ran and succeeded, changed ones included.
        run = {'label': label, 'role': role, 'connection': connection, 'variant': variant,
               'seconds': round(seconds, 2), 'tasks': ok + failed, 'changed': changed, 'skipped': skipped,
               'log': str(log.relative_to(REPO))}
        if profile:
            run['profile'] = [{'task': name.strip(), 'seconds': float(value)}
                              for name, value in PROFILE_LINE.findall(output.split('TASKS RECAP', 1)[-1])]
        return run

    @staticmethod
    def close_masters(control_dir):
        """Ends the ssh master connections of a run, so the next run starts without one, as a new one would."""
        for socket in control_dir.iterdir():
            subprocess.run(['ssh', '-o', 'ControlPath=%s' % socket, '-O', 'exit', 'wsn-versus'],
                           capture_output=True, timeout=30, check=False)
        shutil.rmtree(control_dir, ignore_errors=True)

    # -- configuration -----------------------------------------------------------
    def site_vars(self, backends):
        """The same site for both roles, base and with one more WebSocket location."""
        servers = ['%s:%d' % (address, BACKEND_PORT) for address in backends]
        for variant, paths in (('base', [LOCATION]), ('extra', [LOCATION, EXTRA_LOCATION])):
            ours = {'websocket_proxy_sites': [{
                'name': 'seed',
                'default_server': True,
                'upstreams': [{'name': 'echo', 'servers': [{'address': server} for server in servers]}],
                'websocket_locations': [{'path': path, 'upstream': 'echo'} for path in paths],
                'static_locations': [{'path': '/', 'root': STATIC_ROOT}],
            }]}
            theirs = {
                'nginx_remove_default_vhost': True,
                'nginx_listen_ipv6': False,
                'nginx_extra_http_options': THEIR_UPGRADE_MAP,
                'nginx_upstreams': [{'name': 'echo', 'keepalive': 16, 'servers': servers}],
                'nginx_vhosts': [{
                    'listen': '80 default_server',
                    'server_name': '_',
                    'root': STATIC_ROOT,
                    'index': 'index.html',
                    'filename': 'seed.conf',
                    'extra_parameters': '\n\n'.join([THEIR_STATIC_LOCATION] +
                                                    [THEIR_WS_LOCATION % {'path': path} for path in paths]),
                }],
            }
            (WORKDIR / ('vars-ours-%s.json' % variant)).write_text(json.dumps(ours, indent=2))
            (WORKDIR / ('vars-theirs-%s.json' % variant)).write_text(json.dumps(theirs, indent=2))

    def write_inventories(self):
        backends = {name: {'ansible_connection': 'community.docker.docker', 'ansible_host': name} for name in BACKENDS}
        proxies = {
            'ssh': {name: {'ansible_host': self.lab.address(name)} for name in PROXIES.values()},
            'docker': {name: {'ansible_host': name} for name in PROXIES.values()},
        }
        connection_vars = {
            'ssh': {'ansible_connection': 'ssh', 'ansible_user': SSH_USER,
                    'ansible_ssh_private_key_file': str(self.lab.key),
                    'ansible_ssh_extra_args': ' '.join(self.lab.ssh_extra_args())},
            'docker': {'ansible_connection': 'community.docker.docker'},
        }
        for connection in CONNECTIONS:
            inventory = {'all': {
                'vars': {'ansible_python_interpreter': '/usr/bin/python3'},
                'children': {
                    'websocket_backends': {'hosts': backends},
                    # The same hosts get the echo test server (the site playbook's echo play).
                    'websocket_echo_backends': {'children': {'websocket_backends': {}}},
                    'versus_proxies': {'vars': connection_vars[connection], 'children': {
                        'websocket_proxies': {'hosts': {PROXIES['ours']: proxies[connection][PROXIES['ours']]}},
                        'geerlingguy_proxies': {'hosts': {PROXIES['theirs']: proxies[connection][PROXIES['theirs']]}},
                    }},
                },
            }}
            (WORKDIR / ('inventory-%s.yml' % connection)).write_text(json.dumps(inventory, indent=2))
        (WORKDIR / 'geerlingguy.yml').write_text(json.dumps([{
            'name': 'Deploy nginx with geerlingguy.nginx',
            'hosts': 'geerlingguy_proxies',
            'become': True,
            'roles': [{'role': str(self.role_path)}],
        }], indent=2))

    # -- checks ----------------------------------------------------------------
    def check_function(self, role, extra):
        """The static page and WebSocket echoes through the proxy, answered by both backends."""
        from websockets.sync.client import connect

        address = self.lab.address(PROXIES[role])
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open('http://%s/' % address, timeout=10) as response:
            body = response.read().decode()
        if STATIC_MARKER not in body:
            raise BenchError('%s: the static page is not served: %r' % (role, body[:200]))
        checked = {}
        for path in [LOCATION] + ([EXTRA_LOCATION] if extra else []):
            answered = set()
            for index in range(4):
                with connect('ws://%s%s' % (address, path), open_timeout=10, close_timeout=5, proxy=None) as ws:
                    message = '%s %s %d' % (role, path, index)
                    ws.send(message)
                    if ws.recv(timeout=10) != message:
                        raise BenchError('%s: %s did not echo' % (role, path))
                    answered.add(ws.response.headers.get('X-Echo-Backend'))
            if answered != set(BACKENDS):
                raise BenchError('%s: %s was answered by %s, not by both backends' % (role, path, sorted(answered)))
            checked[path] = sorted(answered)
        return checked

    def expect(self, run, scenario):
        if scenario == 'idle' and run['changed']:
            self.problems.append('%s reported changed=%d on a run with nothing to change (%s)'
                                 % (run['label'], run['changed'], run['log']))
        if scenario in ('add', 'revert') and not run['changed']:
            self.problems.append('%s changed nothing (%s)' % (run['label'], run['log']))

    # -- phases ----------------------------------------------------------------
    def setup(self):
        self.say('containers: %s, %s (%s)' % (', '.join(PROXIES.values()), ', '.join(BACKENDS), self.args.image))
        started = time.monotonic()
        self.lab.create()
        self.lab.setup_ssh()
        for name in PROXIES.values():
            self.lab.write_file(name, STATIC_ROOT + '/index.html',
                                '<!doctype html><title>seed</title><p>%s</p>\n' % STATIC_MARKER)
        self.site_vars([self.lab.address(name) for name in BACKENDS])
        self.write_inventories()
        self.say('  containers with sshd up in %.0f s; deploying the echo backends' % (time.monotonic() - started))
        self.playbook('setup-backends', None, 'docker', None, setup=True)
        first = {}
        # Both first deploys at once (not measured): nginx from Debian's archive on each proxy.
        threads = {role: threading.Thread(target=lambda role=role: first.update(
            {role: self.guard(self.playbook, 'first-%s' % role, role, 'docker', 'base')})) for role in ROLES}
        for thread in threads.values():
            thread.start()
        for thread in threads.values():
            thread.join()
        for role in ROLES:
            if isinstance(first.get(role), BaseException):
                raise first[role]
        self.results['setup_seconds'] = round(time.monotonic() - started, 1)
        self.results['function'] = {role: {'base': self.check_function(role, False)} for role in ROLES}
        self.say('  deployed in %.0f s; both proxies serve the page and echo through both backends'
                 % self.results['setup_seconds'])

    @staticmethod
    def guard(function, *args):
        try:
            return function(*args)
        except BaseException as error:  # handed to the main thread
            return error

    def measure(self, connection):
        self.say('%s: warm-up run of each (not measured)' % connection)
        for role in ROLES:
            self.expect(self.playbook('%s-warmup-%s' % (connection, role), role, connection, 'base'), 'idle')
        for repeat in range(1, self.args.repeats + 1):
            for scenario, variant in (('idle', 'base'), ('add', 'extra'), ('revert', 'base')):
                for role in ROLES:
                    run = self.playbook('%s-%s-%s-%d' % (connection, scenario, role, repeat), role, connection, variant)
                    run.update(scenario=scenario, repeat=repeat)
                    self.expect(run, scenario)
                    self.runs.append(run)
                    self.say('  %-6s %-6s %-6s #%d %6.2f s  %2d tasks, %d changed'
                             % (connection, scenario, role, repeat, run['seconds'], run['tasks'], run['changed']))
                    if scenario == 'add' and repeat == 1 and connection == self.args.connections[0]:
                        self.results['function'][role]['extra'] = self.check_function(role, True)

    def profile(self, connection):
        profiles = {}
        for scenario, variant in (('idle', 'base'), ('add', 'extra')):
            for role in ROLES:
                run = self.playbook('%s-profile-%s-%s' % (connection, scenario, role), role, connection, variant,
                                    profile=True)
                profiles['%s/%s' % (scenario, role)] = run
        for role in ROLES:
            self.playbook('%s-profile-revert-%s' % (connection, role), role, connection, 'base')
        return profiles

    def summary(self):
        table = {}
        for connection in self.args.connections:
            for scenario in SCENARIOS:
                for role in ROLES:
                    runs = [run for run in self.runs if (run['connection'], run['scenario'], run['role']) ==
                            (connection, scenario, role)]
                    if runs:
                        table.setdefault(connection, {}).setdefault(scenario, {})[role] = {
                            'median_seconds': round(statistics.median(run['seconds'] for run in runs), 2),
                            'samples': [run['seconds'] for run in runs],
                            'tasks': sorted({run['tasks'] for run in runs}),
                            'changed': sorted({run['changed'] for run in runs}),
                            'skipped': sorted({run['skipped'] for run in runs}),
                        }
        return table

    def print_table(self, table):
        self.say('\nThe seed\'s job on one proxy (Debian 12): websocket.nginx (ours) and geerlingguy.nginx (theirs), '
                 'medians of %d interleaved runs' % self.args.repeats)
        self.say('(tasks: run/changed/skipped, as the play recap counts them: ok/changed/skipped)')
        self.say('%-7s %-31s %-46s %-46s %s' % ('', '', 'ours: median [samples] tasks',
                                                'geerlingguy.nginx: median [samples] tasks', 'ours/theirs'))
        for connection, scenarios in table.items():
            for scenario, roles in scenarios.items():
                cells = []
                for role in ROLES:
                    figures = roles.get(role)
                    if not figures:
                        cells.append('-')
                        continue
                    samples = ' '.join('%.2f' % value for value in figures['samples'])
                    tasks = '/'.join(','.join(map(str, figures[key])) for key in ('tasks', 'changed', 'skipped'))
                    cells.append('%6.2f s [%s] %s' % (figures['median_seconds'], samples, tasks))
                ratio = (roles['ours']['median_seconds'] / roles['theirs']['median_seconds']
                         if len(roles) == 2 else float('nan'))
                verdict = 'ours faster' if ratio < 1 else 'ours slower' if ratio >= 1 else ''
                self.say('%-7s %-31s %-46s %-46s %.2f %s'
                         % (connection, SCENARIOS[scenario], cells[0], cells[1], ratio, verdict))

    def print_profiles(self, profiles):
        for connection, by_run in profiles.items():
            for key, run in by_run.items():
                tasks = sorted(run['profile'], key=lambda task: -task['seconds'])
                inside = sum(task['seconds'] for task in tasks)
                self.say('\nprofile %s %s: %.2f s, %.2f s in %d tasks, %.2f s outside them (start-up, end); slowest:'
                         % (connection, key, run['seconds'], inside, len(tasks), run['seconds'] - inside))
                for task in tasks[:6]:
                    self.say('  %6.2f s  %s' % (task['seconds'], task['task']))

    def collection(self):
        """Which websocket.nginx is measured: a snapshot of --ref, or this checkout as it is."""
        if not self.args.ref:
            return {'checkout': str(REPO), 'head': git('rev-parse', 'HEAD').decode().strip(),
                    'fingerprint': fingerprint()}
        commit = git('rev-parse', '--verify', '%s^{commit}' % self.args.ref).decode().strip()
        self.collections_path = WORKDIR / 'collections'
        destination = self.collections_path / 'ansible_collections' / 'websocket' / 'nginx'
        destination.mkdir(parents=True)
        with tarfile.open(fileobj=io.BytesIO(git('archive', '--format=tar', commit))) as archive:
            archive.extractall(destination, filter='data')
        return {'ref': self.args.ref, 'commit': commit, 'path': str(destination)}

    def role_version(self):
        parts = ('defaults', 'handlers', 'tasks', 'templates', 'vars')
        version = {'path': str(self.role_path), 'fingerprint': fingerprint(self.role_path, parts)}
        if (self.role_path / '.git').exists():  # a clone (not a copy inside another repository)
            describe = subprocess.run(['git', '-C', str(self.role_path), 'describe', '--tags', '--always'],
                                      capture_output=True, text=True, check=False)
            version['git_describe'] = describe.stdout.strip()
        return version

    def main(self):
        args = self.args
        shutil.rmtree(WORKDIR, ignore_errors=True)
        WORKDIR.mkdir(parents=True)
        shutil.rmtree(self.logs, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self.results.update(
            host={'cpus': os.cpu_count(), 'uptime_before': uptime(), 'kernel': platform.release()},
            ansible_core=subprocess.run(['ansible-playbook', '--version'], capture_output=True, text=True,
                                        check=False).stdout.splitlines()[0],
            geerlingguy_nginx=self.role_version(), image=args.image, repeats=args.repeats,
            connections=args.connections, websocket_nginx=self.collection())
        self.setup()
        profiles = {}
        for connection in args.connections:
            self.measure(connection)
        if args.profile:
            for connection in args.connections:
                self.say('%s: one profiled run of each (profile_tasks, not measured)' % connection)
                profiles[connection] = self.profile(connection)
        if not args.ref and fingerprint() != self.results['websocket_nginx']['fingerprint']:
            self.problems.append('the collection in this checkout (%s) changed during the run, so the figures of ours '
                                 'mix two versions: run again, or measure a commit with --ref' % ', '.join(COLLECTION_PARTS))
        table = self.summary()
        self.results.update(table=table, runs=self.runs, profiles=profiles, problems=self.problems,
                            bench_seconds=round(time.monotonic() - self.started, 1))
        self.results['host']['uptime_after'] = uptime()
        self.print_table(table)
        self.print_profiles(profiles)
        self.say('\nbench run time %.0f s; load before: %s; after: %s' % (
            self.results['bench_seconds'], self.results['host']['uptime_before'], self.results['host']['uptime_after']))
        for problem in self.problems:
            self.say('PROBLEM: %s' % problem)
        return 1 if self.problems else 0


def git(*arguments):
    return subprocess.run(['git', '-C', str(REPO)] + list(arguments), capture_output=True, check=True).stdout


def fingerprint(root=REPO, parts=COLLECTION_PARTS):
    """SHA-256 of the files below ``root``'s ``parts`` (names and contents): the collection's by default."""
    digest = hashlib.sha256()
    for part in parts:
        paths = [root / part] if (root / part).is_file() else sorted((root / part).rglob('*'))
        for path in paths:
            if path.is_file() and '__pycache__' not in path.parts:
                digest.update(str(path.relative_to(root)).encode() + b'\0' + path.read_bytes() + b'\0')
    return digest.hexdigest()


def uptime():
    return subprocess.run(['uptime'], capture_output=True, text=True, check=False).stdout.strip()


def interrupt(_signal, _frame):
    """SIGTERM ends the run like Ctrl-C: the containers are removed on the way out."""
    raise KeyboardInterrupt()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--geerlingguy-role', default=str(REPO / '.cache' / 'roles' / 'geerlingguy.nginx'),
                        help='directory of the geerlingguy.nginx role: ansible-galaxy role install geerlingguy.nginx '
                        '-p .cache/roles, or git clone https://github.com/geerlingguy/ansible-role-nginx DIR')
    parser.add_argument('--repeats', type=int, default=5, help='measured runs of each kind per role and connection')
    parser.add_argument('--connections', default=','.join(CONNECTIONS),
                        type=lambda value: [item for item in value.split(',') if item],
                        help='ssh, docker or both (comma-separated)')
    parser.add_argument('--ref', help='measure websocket.nginx as committed at this git revision (a snapshot in '
                        '.cache/bench-versus) instead of this checkout as it is, e.g. HEAD or 0.3.0')
    parser.add_argument('--image', default='websocket-nginx/debian:bookworm', help='image of all four containers')
    parser.add_argument('--no-profile', dest='profile', action='store_false',
                        help='skip the profiled runs (profile_tasks) after the measured ones')
    parser.add_argument('--max-minutes', type=float, default=60)
    parser.add_argument('--json', default=str(OUTPUT / 'versus.json'))
    parser.add_argument('--keep', action='store_true', help='leave the containers running (the next run removes them)')
    args = parser.parse_args()
    if not args.connections or set(args.connections) - set(CONNECTIONS) or args.repeats < 1:
        parser.error('--connections takes ssh and/or docker, --repeats at least 1')
    # Checked before anything starts, so that the JSON of an earlier run stays.
    if not (Path(args.geerlingguy_role) / 'tasks' / 'main.yml').is_file():
        parser.error('geerlingguy.nginx is not at %s (--geerlingguy-role). Get it with\n'
                     '  ansible-galaxy role install geerlingguy.nginx -p .cache/roles   # where Galaxy is reachable\n'
                     '  git clone https://github.com/geerlingguy/ansible-role-nginx .cache/roles/geerlingguy.nginx'
                     % args.geerlingguy_role)
    if args.ref and subprocess.run(['git', '-C', str(REPO), 'rev-parse', '--verify', '--quiet', args.ref + '^{commit}'],
                                   capture_output=True, check=False).returncode:
        parser.error('--ref %s is no commit of this repository' % args.ref)
    signal.signal(signal.SIGTERM, interrupt)
    bench = Bench(args)
    code = 1
    try:
        code = bench.main()
    except (BenchError, LabError) as error:
        print('bench-versus: %s' % error, file=sys.stderr, flush=True)
        bench.results['error'] = str(error)
    except KeyboardInterrupt:
        print('bench-versus: interrupted', file=sys.stderr, flush=True)
        bench.results['error'] = 'interrupted'
    finally:
        if 'table' not in bench.results and bench.runs:
            bench.results.update(table=bench.summary(), runs=bench.runs, problems=bench.problems)
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(bench.results, indent=2) + '\n')
        if args.keep:
            print('containers kept: %s (docker rm -f them, or the next run removes them)'
                  % ' '.join(bench.lab.names), flush=True)
        else:
            bench.lab.destroy()
    return code


if __name__ == '__main__':
    sys.exit(main())
