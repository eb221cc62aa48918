# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Capacity benchmark (``make bench``): how much one proxy holds, what it costs, what a deploy drops.

Deploys the molecule scenario ``bench`` (one nginx proxy sized with
``nginx_websocket_capacity: 20000``, three echo backends, in local containers), then measures
with real WebSockets from several client processes on this machine (tests/benchmarks/ws_load.py,
each far below the open-files limit of a process), talking to the containers' addresses on their
docker network:

1. capacity: WebSockets opened and echoed through the proxy in steps (5,000 per client process
   up to the target, then ``--ramp-step`` more per step), every open one echoing again after
   each step, until a step has a failure or ``--ramp-max`` is reached; the most held with zero
   failures, nginx's memory per WebSocket at the target (resident set and proportional set, over
   all nginx processes, minus nginx idle), and how the connections spread over the workers;
2. throughput: back-to-back echoes of 64-byte messages on ``--pingpong-connections`` WebSockets
   for ``--pingpong-seconds``, through the proxy and directly to the backends, in the same run;
3. deploys under load: while ``--live`` WebSockets echo every second and new ones open, echo and
   close at ``--open-rate`` per second, the site playbook runs ``--deploys`` times on the proxy,
   each changing the configuration (nginx tests it and reloads); counts dropped WebSockets, failed
   opens and the old workers left after each reload: with reuseport, then without it, and then
   switching it on (the upgrade from a configuration without it);
4. security updates under load: the proxy on the older of the two nginx versions in Debian's archive, then
   while ``--live`` WebSockets echo every second and new ones open at ``--open-rate`` per second, the
   update by plain ``apt-get install`` (the nginx role's hooks move nginx to the new binary), and again
   from the older version, by the site playbook with ``nginx_package_state: latest``: dropped WebSockets,
   failed opens, how long until the new master's workers served (apt's hook logs it, the role's module
   returns it), and the old workers left with their memory;
5. the time of an idempotent re-run of the site playbook (it must report no change);
6. the time of a run of websocket_proxy alone that changes the one site (``--changes`` runs, median);
7. a change that nginx accepts but whose check through nginx fails (a WebSocket location whose only
   server does not listen, allowed before the change): while the role runs, a GET every 20 ms of a
   path only the broken configuration serves shows how long it served before the previous
   configuration was back.

Prints a table and writes everything as JSON (``--json``, default tests/output/bench/capacity.json).
Bounded by ``--max-minutes``; the containers are removed at the end (``--keep`` leaves them).
Run from the repository root after ``make setup``:

    .venv/bin/python tests/benchmarks/bench_capacity.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOAD = Path(__file__).resolve().with_name('ws_load.py')
SCENARIO = 'bench'
NETWORK = 'wsn-bench'
PROXY = 'wsn-bench-proxy'
BACKENDS = ('wsn-bench-backend-1', 'wsn-bench-backend-2', 'wsn-bench-backend-3')
BACKEND_PORT = 8765
PER_PROCESS = 5000
# Reads every nginx process of the container: role, resident and proportional set size, open files.
NGINX_PROCESSES = r'''
import json, os
found = []
for pid in filter(str.isdigit, os.listdir("/proc")):
    try:
        cmdline = open("/proc/%s/cmdline" % pid, "rb").read().replace(b"\0", b" ").decode().strip()
        if not cmdline.startswith("nginx:"):
            continue
        status = dict(line.split(":", 1) for line in open("/proc/%s/status" % pid) if ":" in line)
        rollup = dict(line.split(":", 1) for line in open("/proc/%s/smaps_rollup" % pid).read().splitlines()[1:])
        files = len(os.listdir("/proc/%s/fd" % pid))
    except OSError:
        continue
    found.append({"pid": int(pid), "role": cmdline[len("nginx: "):],
                  "rss_kb": int(status["VmRSS"].split()[0]), "pss_kb": int(rollup["Pss"].split()[0]), "files": files})
print(json.dumps(found))
'''


class BenchError(Exception):
    pass


class Bench(object):
    def __init__(self, args):
        self.args = args
        self.deadline = time.monotonic() + args.max_minutes * 60
        self.env = dict(os.environ, MOLECULE_EPHEMERAL_DIRECTORY=str(REPO / '.cache' / 'molecule-bench'),
                        ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', PY_COLORS='0', NO_COLOR='1')
        self.env.pop('ANSIBLE_COLLECTIONS_PATH', None)  # the repository's ansible.cfg names .venv/collections
        self.inventory = str(REPO / '.cache' / 'molecule-bench' / 'inventory')
        self.clients = []
        self.results = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}

    # -- helpers ---------------------------------------------------------------
    def remaining(self):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise BenchError('out of time (--max-minutes %s)' % self.args.max_minutes)
        return left

    def run(self, command, **kwargs):
        return subprocess.run(command, cwd=str(REPO), env=self.env, capture_output=True, text=True,
                              timeout=min(kwargs.pop('timeout', 1800), self.remaining()), check=False, **kwargs)

    def molecule(self, action):
        result = self.run(['molecule', action, '-s', SCENARIO])
        if result.returncode:
            raise BenchError('molecule %s failed:\n%s' % (action, (result.stdout + result.stderr)[-3000:]))

    def docker_exec(self, container, *command):
        result = self.run(['docker', 'exec', container, *command], timeout=60)
        if result.returncode:
            raise BenchError('docker exec %s %s failed: %s' % (container, command, result.stderr))
        return result.stdout

    def address(self, container):
        result = self.run(['docker', 'inspect', '-f', '{{(index .NetworkSettings.Networks "%s").IPAddress}}' % NETWORK,
                           container], timeout=30)
        if result.returncode or not result.stdout.strip():
            raise BenchError('no address of %s on %s: %s' % (container, NETWORK, result.stderr))
        return result.stdout.strip()

    def nginx_processes(self):
        return json.loads(self.docker_exec(PROXY, 'python3', '-c', NGINX_PROCESSES))

    def site_playbook(self, extra_vars, limit=None):
        """One run of the collection's site playbook on the bench inventory: (seconds, changed)."""
        started = time.monotonic()
        result = self.run(['ansible-playbook', '-i', self.inventory, 'websocket.nginx.site',
                           '-e', json.dumps(extra_vars)] + (['--limit', limit] if limit else []), timeout=900)
        seconds = time.monotonic() - started
        recap = re.findall(r'changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)', result.stdout)
        if result.returncode or not recap:
            raise BenchError('the site playbook failed:\n%s' % (result.stdout + result.stderr)[-3000:])
        return seconds, sum(int(changed) for changed, _u, _f in recap)

    def client(self, mode, urls, **options):
        command = [sys.executable, str(LOAD), mode]
        for url in urls:
            command += ['--url', url]
        for name, value in options.items():
            command += ['--' + name, str(value)]
        client = Client(command)
        self.clients.append(client)
        return client

    # -- phases ----------------------------------------------------------------
    def deploy(self):
        if not self.args.reuse:
            self.molecule('destroy')
        started = time.monotonic()
        self.molecule('create')
        self.molecule('prepare')
        self.molecule('converge')
        self.results['deploy_seconds'] = round(time.monotonic() - started, 1)
        self.proxy_url = 'ws://%s/ws/' % self.address(PROXY)
        self.backend_urls = ['ws://%s:%d/ws/' % (self.address(name), BACKEND_PORT) for name in BACKENDS]
        conf = self.docker_exec(PROXY, 'cat', '/etc/nginx/nginx.conf')
        self.results['nginx'] = {
            'worker_processes': int(re.search(r'^worker_processes (\d+);', conf, re.M).group(1)),
            'worker_connections': int(re.search(r'^\s*worker_connections (\d+);', conf, re.M).group(1)),
            'worker_rlimit_nofile': int(re.search(r'^worker_rlimit_nofile (\d+);', conf, re.M).group(1)),
            'version': self.docker_exec(PROXY, 'dpkg-query', '--showformat=${Version}', '--show', 'nginx'),
            'sized_for': self.args.target,
        }

    def capacity(self):
        args = self.args
        idle = self.nginx_processes()
        levels, holders = [], []
        total, failed_at = 0, None
        at_target = None
        while total < args.ramp_max:
            step = min(PER_PROCESS, args.target - total) if total < args.target else args.ramp_step
            started = time.monotonic()
            holder = self.client('hold', [self.proxy_url], count=step, concurrency=args.concurrency)
            holders.append(holder)
            opened = holder.event('opened', self.remaining())
            for other in holders:
                other.send('echo')
            echoed = [other.event('echoed', self.remaining()) for other in holders]
            ok = sum(event['ok'] for event in echoed)
            failed = opened['failed'] + sum(event['failed'] for event in echoed)
            errors = dict(opened['errors'])
            for event in echoed:
                for name, count in event['errors'].items():
                    errors[name] = errors.get(name, 0) + count
            total += step
            levels.append({'websockets': total, 'held': ok, 'failed': failed, 'errors': errors,
                           'seconds': round(time.monotonic() - started, 1)})
            print('  %6d WebSockets asked, %6d open and echoing, %d failed %s' % (total, ok, failed, errors or ''),
                  flush=True)
            if total == args.target and failed == 0:
                at_target = self.nginx_processes()
            if failed:
                failed_at = total
                break
        most = max([level['held'] for level in levels if level['failed'] == 0] or [0])
        log = self.docker_exec(PROXY, 'grep', '-c', 'worker_connections are not enough', '/var/log/nginx/error.log') \
            if failed_at else '0'
        for holder in holders:
            holder.send('close')
        for holder in holders:
            holder.wait(self.remaining())
        result = {'levels': levels, 'most_with_zero_failures': most, 'first_failure_at': failed_at,
                  'capacity_warnings_logged': int(log.strip() or 0), 'target': args.target}
        if at_target:
            result.update(memory(idle, at_target, args.target))
        self.results['capacity'] = result

    def throughput(self):
        args = self.args
        runs = {}
        for name, urls in (('proxy', [self.proxy_url]), ('direct', self.backend_urls)):
            per_process = args.pingpong_connections // args.pingpong_processes
            clients = [self.client('pingpong', urls, connections=per_process, seconds=args.pingpong_seconds)
                       for _process in range(args.pingpong_processes)]
            reports = [client.event('pingpong', self.remaining()) for client in clients]
            for client in clients:
                client.wait(self.remaining())
            if any('error' in report for report in reports):
                raise BenchError('pingpong %s: %s' % (name, reports))
            samples = sorted(value for report in reports for value in report['latencies_ms'])
            seconds = max(report['seconds'] for report in reports)
            runs[name] = {'messages_per_second': round(sum(report['messages'] for report in reports) / seconds),
                          'p50_ms': nearest_rank(samples, 50), 'p90_ms': nearest_rank(samples, 90),
                          'p99_ms': nearest_rank(samples, 99), 'max_ms': max(report['max'] for report in reports)}
        runs['proxy_over_direct'] = round(runs['proxy']['messages_per_second'] / runs['direct']['messages_per_second'], 3)
        for name in ('proxy', 'direct'):
            print('  %-6s %s' % (name, runs[name]), flush=True)
        runs['connections'] = args.pingpong_connections
        runs['seconds'] = args.pingpong_seconds
        self.results['throughput'] = runs

    def start_load(self):
        """``--live`` WebSockets echoing every second, then new ones opening at ``--open-rate``: (keeper, opener)."""
        args = self.args
        keeper = self.client('keep', [self.proxy_url], count=args.live, interval=1)
        opened = keeper.event('opened', self.remaining())
        if opened['ok'] != args.live:
            raise BenchError('could not open the %d live WebSockets: %s' % (args.live, opened))
        opener = self.client('open', [self.proxy_url], rate=args.open_rate)
        time.sleep(3)
        return keeper, opener

    def stop_load(self, keeper, opener):
        """Stop both; their final counts: (opens, kept)."""
        opener.send('stop')
        keeper.send('stop')
        opens = opener.event('opens', self.remaining())
        kept = keeper.event('kept', self.remaining())
        opener.wait(self.remaining())
        keeper.wait(self.remaining())
        return opens, kept

    def deploys_under_load(self, name, reuseports, generation):
        """Deploys in a row (reuseport on or off in each) while WebSockets echo and new ones open."""
        keeper, opener = self.start_load()
        deploys = []
        before = self.counts(keeper, opener)
        for reuseport in reuseports:
            generation += 1
            # A configuration change deployed to the proxies, as users roll one out.
            seconds, changed = self.site_playbook({'bench_generation': generation, 'websocket_proxy_reuseport': reuseport},
                                                  limit='websocket_proxies')
            time.sleep(2)  # connections the reload reset are counted by now
            after = self.counts(keeper, opener)
            old = [proc for proc in self.nginx_processes() if 'shutting down' in proc['role']]
            deploys.append({'reuseport': reuseport, 'seconds': round(seconds, 1), 'changed': changed,
                            'dropped': after['dropped'] - before['dropped'],
                            'failed_opens': after['failed'] - before['failed'],
                            'opens': after['attempts'] - before['attempts'],
                            'old_workers_after': len(old), 'old_workers_kb': sum(proc['rss_kb'] for proc in old)})
            before = after
            print('  deploy (reuseport %s): %.0f s, %d dropped, %d of %d opens failed, %d old workers still serving'
                  % ('on' if reuseport else 'off', seconds, deploys[-1]['dropped'], deploys[-1]['failed_opens'],
                     deploys[-1]['opens'], len(old)), flush=True)
        opens, kept = self.stop_load(keeper, opener)
        self.results.setdefault('deploys', {})[name] = {
            'live': kept['held'], 'dropped': kept['dropped'], 'drop_errors': kept['errors'],
            'opens': opens['attempts'], 'failed_opens': opens['failed'], 'open_errors': opens['errors'],
            'deploys': deploys,
        }
        print('  %d live: %d dropped; %d of %d opens failed %s'
              % (kept['held'], kept['dropped'], opens['failed'], opens['attempts'], opens['errors'] or ''), flush=True)
        return generation

    def nginx_version(self):
        return self.docker_exec(PROXY, 'dpkg-query', '-W', '-f', '${Version}', 'nginx').strip()

    def downgrade(self, version):
        """The older nginx by apt without load, and no old master left (nginx moves one binary at a time)."""
        self.docker_exec(PROXY, 'sh', '-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q --allow-downgrades '
                                            'nginx=%s nginx-common=%s' % (version, version))
        self.wait_one_master()

    def wait_one_master(self, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len([proc for proc in self.nginx_processes() if proc['role'].startswith('master')]) == 1:
                return
            time.sleep(0.5)
        raise BenchError('an old nginx master is still running after %d s' % timeout)

    def upgrades_under_load(self, generation):
        """The nginx security update under load, by apt outside the role and by the role (see the docstring)."""
        versions = self.docker_exec(PROXY, 'sh', '-c', "apt-cache madison nginx | awk '{print $3}'").split()
        newest = self.nginx_version()
        older = [version for version in versions if version != newest]
        if not older:
            raise BenchError('one nginx version in the apt index, no update to measure: %s' % versions)
        runs = {}
        for name in ('apt-get', 'role'):
            self.downgrade(older[0])
            keeper, opener = self.start_load()
            before = self.counts(keeper, opener)
            started = time.monotonic()
            if name == 'apt-get':
                output = self.docker_exec(PROXY, 'sh', '-c', 'DEBIAN_FRONTEND=noninteractive apt-get install -y -q '
                                                             'nginx=%s nginx-common=%s' % (newest, newest))
            else:
                # The configuration as the deploys left it: only the package changes.
                self.site_playbook({'nginx_package_state': 'latest', 'bench_generation': generation,
                                    'websocket_proxy_reuseport': True}, limit='websocket_proxies')
                output = self.docker_exec(PROXY, 'journalctl', '-t', 'websocket-nginx-upgrade', '-n', '1', '-o', 'cat')
            seconds = time.monotonic() - started
            served = re.search(r'serves with \d+ workers? after ([0-9.]+) s', output)
            time.sleep(2)
            after = self.counts(keeper, opener)
            old = [proc for proc in self.nginx_processes() if 'shutting down' in proc['role']]
            masters = [proc for proc in self.nginx_processes() if proc['role'].startswith('master')]
            _opens, kept = self.stop_load(keeper, opener)
            if self.nginx_version() != newest:
                raise BenchError('%s: nginx %s is installed, not %s' % (name, self.nginx_version(), newest))
            runs[name] = {'from': older[0], 'to': newest, 'seconds': round(seconds, 1), 'live': kept['held'],
                          'dropped': kept['dropped'], 'drop_errors': kept['errors'],
                          'failed_opens': after['failed'] - before['failed'], 'opens': after['attempts'] - before['attempts'],
                          'new_binary_served_after_s': float(served.group(1)) if served else None,
                          'masters_during': len(masters), 'old_workers_after': len(old),
                          'old_workers_kb': sum(proc['rss_kb'] for proc in old)}
            print('  %s %s -> %s: %.0f s, %d of %d live dropped, %d of %d opens failed, new binary served after %s s, '
                  '%d old workers kept them (%d MB)' % (
                      name, older[0], newest, seconds, kept['dropped'], kept['held'], runs[name]['failed_opens'],
                      runs[name]['opens'], served.group(1) if served else '?', len(old),
                      runs[name]['old_workers_kb'] // 1024), flush=True)
            self.wait_one_master()
        self.results['upgrades'] = runs

    def counts(self, keeper, opener):
        keeper.send('report')
        opener.send('report')
        kept, opens = keeper.event('report', self.remaining()), opener.event('report', self.remaining())
        return {'dropped': kept['dropped'], 'failed': opens['failed'], 'attempts': opens['attempts']}

    def idempotent_rerun(self, generation, reuseport):
        seconds, changed = self.site_playbook({'bench_generation': generation, 'websocket_proxy_reuseport': reuseport})
        self.results['idempotent_rerun'] = {'seconds': round(seconds, 1), 'changed': changed}

    def proxy_only(self, extra_vars):
        """One run of websocket_proxy alone (extensions/molecule/bench/apply_proxy.yml): (seconds, returncode, output)."""
        started = time.monotonic()
        result = self.run(['ansible-playbook', '-i', self.inventory, str(REPO / 'extensions' / 'molecule' / SCENARIO / 'apply_proxy.yml'),
                           '-e', json.dumps(extra_vars)], timeout=900)
        return time.monotonic() - started, result.returncode, result.stdout + result.stderr

    def one_site_changes(self, generation):
        """``--changes`` runs of websocket_proxy, each changing the site: the median time."""
        times = []
        for _run in range(self.args.changes):
            generation += 1
            seconds, returncode, output = self.proxy_only({'bench_generation': generation})
            if returncode or 'changed=0' in output:
                raise BenchError('the one-site change failed or changed nothing:\n%s' % output[-3000:])
            times.append(round(seconds, 2))
        self.results['one_site_change'] = {'seconds': times, 'median': sorted(times)[len(times) // 2]}
        print('  %s s' % times, flush=True)
        return generation

    def broken_change(self, generation):
        """How long a configuration that fails the check through nginx serves (probed every 20 ms)."""
        site = {'name': 'bench', 'default_server': True,
                'upstreams': [{'name': 'echo'}, {'name': 'nowhere', 'servers': [{'address': '127.0.0.1:9'}]}],
                'websocket_locations': [{'path': '/ws/', 'upstream': 'echo'}, {'path': '/nowhere/', 'upstream': 'nowhere'}],
                # Served only by the broken configuration: the echo backend answers a plain GET with 426.
                'proxy_locations': [{'path': '/bench-broken/', 'upstream': 'echo'}]}
        probe_url = 'http://%s/bench-broken/' % self.address(PROXY)
        probes, stop = [], threading.Event()

        def probe():
            opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
            while not stop.wait(0.02):
                try:
                    with opener.open(probe_url, timeout=2) as response:
                        status = response.status
                except urllib.error.HTTPError as error:
                    status = error.code
                except OSError:
                    status = None
                probes.append((time.monotonic(), status))

        thread = threading.Thread(target=probe, daemon=True)
        thread.start()
        try:
            seconds, returncode, output = self.proxy_only({'bench_generation': generation, 'websocket_proxy_sites': [site],
                                                          'websocket_proxy_allow_unhealthy_upstreams': True})
            time.sleep(1)
        finally:
            stop.set()
            thread.join(10)
        if returncode == 0 or 'The previous configuration files are back' not in output:
            raise BenchError('the broken change was not rolled back:\n%s' % output[-3000:])
        live = [at for at, status in probes if status == 426]
        served = (live[-1] - live[0] + 0.02) if live else 0.0
        self.results['broken_change'] = {'served_seconds': round(served, 3), 'run_seconds': round(seconds, 1),
                                         'probes': len(probes), 'probes_answered_by_it': len(live),
                                         'last_status': probes[-1][1] if probes else None}
        print('  served %.3f s (%d of %d probes), run %.1f s' % (served, len(live), len(probes), seconds), flush=True)

    def close(self):
        for client in self.clients:
            client.kill()
        if not self.args.keep:
            try:
                self.deadline = max(self.deadline, time.monotonic() + 300)
                self.molecule('destroy')
            except (BenchError, subprocess.TimeoutExpired) as exc:
                print('cleanup: %s' % exc, file=sys.stderr)


class Client(object):
    """A ws_load.py process; its JSON lines arrive on a queue (read by a thread, so waits are bounded)."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1)
        self.lines = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(json.loads(line))
        self.lines.put(None)

    def event(self, name, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            except queue.Empty:
                raise BenchError('no %s from %s in %.0f s' % (name, self.process.args[2], timeout))
            if event is None:
                raise BenchError('%s ended before %s (exit %s)' % (self.process.args[2], name, self.process.wait()))
            if event.get('event') == name:
                return event

    def send(self, command):
        self.process.stdin.write(command + '\n')
        self.process.stdin.flush()

    def wait(self, timeout):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        self.process.wait(timeout=timeout)

    def kill(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def memory(idle, loaded, websockets):
    def total(processes, key):
        return sum(proc[key] for proc in processes)

    workers = sorted(proc['files'] for proc in loaded if proc['role'] == 'worker process')
    return {
        'nginx_rss_kb_idle': total(idle, 'rss_kb'), 'nginx_rss_kb_loaded': total(loaded, 'rss_kb'),
        'nginx_pss_kb_idle': total(idle, 'pss_kb'), 'nginx_pss_kb_loaded': total(loaded, 'pss_kb'),
        'rss_kb_per_websocket': round(total(loaded, 'rss_kb') / websockets, 2),
        'pss_kb_per_websocket': round(total(loaded, 'pss_kb') / websockets, 2),
        'added_pss_kb_per_websocket': round((total(loaded, 'pss_kb') - total(idle, 'pss_kb')) / websockets, 2),
        'worker_open_files': workers,
    }


def nearest_rank(ordered, pct):
    if not ordered:
        return None
    return ordered[max(0, min(len(ordered) - 1, math.ceil(len(ordered) * pct / 100) - 1))]


def table(results):
    rows = []
    nginx = results.get('nginx', {})
    if nginx:
        rows.append(('nginx %s sized for %d' % (nginx['version'], nginx['sized_for']),
                     '%d workers x %d connections, worker_rlimit_nofile %d'
                     % (nginx['worker_processes'], nginx['worker_connections'], nginx['worker_rlimit_nofile'])))
    cap = results.get('capacity')
    if cap:
        rows.append(('most concurrent WebSockets, 0 failures', '%d (first failure at %s)'
                     % (cap['most_with_zero_failures'], cap['first_failure_at'] or 'none, stopped at the ramp maximum')))
        rows.append(('"worker_connections are not enough" logged', str(cap['capacity_warnings_logged'])))
        if 'pss_kb_per_websocket' in cap:
            rows.append(('nginx memory per WebSocket at %d' % cap['target'],
                         '%.1f KB PSS (%.1f KB RSS; %.1f KB above idle)'
                         % (cap['pss_kb_per_websocket'], cap['rss_kb_per_websocket'], cap['added_pss_kb_per_websocket'])))
            rows.append(('open files per worker at %d' % cap['target'], ', '.join(map(str, cap['worker_open_files']))))
    put = results.get('throughput')
    if put:
        for name in ('proxy', 'direct'):
            run = put[name]
            rows.append(('echo %s (%d WebSockets)' % (name, put['connections']),
                         '%d msg/s, p50 %.2f ms, p90 %.2f ms, p99 %.2f ms'
                         % (run['messages_per_second'], run['p50_ms'], run['p90_ms'], run['p99_ms'])))
        rows.append(('msg/s proxy / direct', '%.2f' % put['proxy_over_direct']))
    for name, run in sorted(results.get('deploys', {}).items()):
        totals = '%d dropped, %d of %d opens failed %s' % (
            run['dropped'], run['failed_opens'], run['opens'], run['open_errors'] or '')
        rows.append(('%d deploys, %s, %d live' % (len(run['deploys']), name.replace('_', ' '), run['live']), totals))
        for deploy in run['deploys']:
            rows.append(('  deploy, reuseport %s' % ('on' if deploy['reuseport'] else 'off'),
                         '%.0f s: %d dropped, %d of %d opens failed, %d old workers left (%d MB)'
                         % (deploy['seconds'], deploy['dropped'], deploy['failed_opens'], deploy['opens'],
                            deploy['old_workers_after'], deploy['old_workers_kb'] // 1024)))
    for name, run in sorted(results.get('upgrades', {}).items()):
        rows.append(('nginx update by %s, %d live' % (name, run['live']),
                     '%s -> %s in %.0f s: %d dropped, %d of %d opens failed, new binary served after %s s, '
                     '%d old workers (%d MB)' % (run['from'], run['to'], run['seconds'], run['dropped'], run['failed_opens'],
                                                 run['opens'], run['new_binary_served_after_s'], run['old_workers_after'],
                                                 run['old_workers_kb'] // 1024)))
    rerun = results.get('idempotent_rerun')
    if rerun:
        rows.append(('idempotent re-run of the site playbook', '%.1f s, %d changed' % (rerun['seconds'], rerun['changed'])))
    change = results.get('one_site_change')
    if change:
        rows.append(('websocket_proxy run changing one site', 'median %.1f s of %s' % (change['median'], change['seconds'])))
    broken = results.get('broken_change')
    if broken:
        rows.append(('broken config served before rollback', '%.2f s (GET every 20 ms; run %.1f s)'
                     % (broken['served_seconds'], broken['run_seconds'])))
    if 'bench_seconds' in results:
        rows.append(('bench run time', '%.0f s' % results['bench_seconds']))
    width = max(len(name) for name, _value in rows)
    return '\n'.join('%s  %s' % (name.ljust(width), value) for name, value in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--target', type=int, default=20000, help='WebSockets the proxy is sized for (extensions/molecule/bench)')
    parser.add_argument('--ramp-step', type=int, default=1000)
    parser.add_argument('--ramp-max', type=int, default=26000,
                        help='stop there: the client ports towards one address run out at about 28,000')
    parser.add_argument('--concurrency', type=int, default=100, help='handshakes in flight per client process')
    parser.add_argument('--pingpong-connections', type=int, default=50)
    parser.add_argument('--pingpong-processes', type=int, default=2)
    parser.add_argument('--pingpong-seconds', type=float, default=10)
    parser.add_argument('--live', type=int, default=1000, help='WebSockets echoing during the deploys')
    parser.add_argument('--open-rate', type=float, default=50, help='new WebSockets per second during the deploys')
    parser.add_argument('--deploys', type=int, default=3, help='deploys in a row, with and without reuseport')
    parser.add_argument('--max-minutes', type=float, default=45)
    parser.add_argument('--json', default=str(REPO / 'tests' / 'output' / 'bench' / 'capacity.json'))
    parser.add_argument('--keep', action='store_true', help='leave the containers running')
    parser.add_argument('--reuse', action='store_true', help='use the containers a --keep run left (converge only)')
    parser.add_argument('--changes', type=int, default=3, help='runs of websocket_proxy changing one site')
    parser.add_argument('--phases', default='capacity,throughput,deploys,upgrades,rerun,change,broken')
    args = parser.parse_args()

    bench = Bench(args)
    started = time.monotonic()
    status = 0
    try:
        print('bench: deploying the bench scenario (extensions/molecule/bench)', flush=True)
        bench.deploy()
        phases = args.phases.split(',')
        if 'capacity' in phases:
            print('bench: capacity', flush=True)
            bench.capacity()
        if 'throughput' in phases:
            print('bench: throughput, proxy and direct', flush=True)
            bench.throughput()
        generation = int(time.time()) % 100000  # each run changes the configuration, even with --reuse
        if 'deploys' in phases:
            print('bench: deploys under load', flush=True)
            generation = bench.deploys_under_load('reuseport_on', [True] * args.deploys, generation)
            # Without reuseport (switching it off is a deploy of its own, not measured), then switching
            # it on under load: what the upgrade from 0.1.0, which had no reuseport, does.
            generation += 1
            bench.site_playbook({'bench_generation': generation, 'websocket_proxy_reuseport': False}, 'websocket_proxies')
            generation = bench.deploys_under_load('reuseport_off_then_on', [False] * args.deploys + [True], generation)
        if 'upgrades' in phases:
            print('bench: nginx security updates under load', flush=True)
            bench.upgrades_under_load(generation)
        if 'rerun' in phases:
            print('bench: idempotent re-run', flush=True)
            if 'deploys' not in phases:  # the deploys left this generation in place
                bench.site_playbook({'bench_generation': generation, 'websocket_proxy_reuseport': True}, 'websocket_proxies')
            bench.idempotent_rerun(generation, True)
        if 'change' in phases:
            print('bench: websocket_proxy changing one site', flush=True)
            generation = bench.one_site_changes(generation)
        if 'broken' in phases:
            print('bench: a change whose check through nginx fails', flush=True)
            bench.broken_change(generation)
    except (BenchError, subprocess.TimeoutExpired) as exc:
        bench.results['error'] = str(exc)
        print('bench: %s' % exc, file=sys.stderr)
        status = 1
    finally:
        bench.close()
    bench.results['bench_seconds'] = round(time.monotonic() - started)
    output = Path(args.json)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(bench.results, indent=2) + '\n', encoding='utf-8')
    print()
    print(table(bench.results))
    print('\nJSON: %s' % output)
    return status


if __name__ == '__main__':
    sys.exit(main())
