# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""Fleet benchmark (``make bench-fleet``): rolling changes, failover and draining of three proxies.

Deploys the molecule scenario ``fleet`` (three nginx proxies sharing a floating address with keepalived,
two echo backends, in local containers with fixed addresses), then measures with real WebSockets from this
machine:

1. rolling changes: the site playbook changes every proxy (a new location each time; default batches, so one
   proxy after the other, the canary first) while ``--live`` WebSockets per proxy echo every second through
   each proxy's own address: the run's duration and the WebSockets dropped (``--rollouts`` runs);
2. failover when nginx stops on the proxy holding the floating address: from ``systemctl stop nginx`` to the
   first WebSocket echoed through the floating address, probing every 50 ms (``--tries`` times; nginx is
   started again and every proxy is healthy before the next try);
3. failover when that proxy stops altogether (``docker kill``: keepalived sends no goodbye, the others notice
   the missing adverts) (``--kills`` times);
4. 2 and 3 again with VRRP version 3 and adverts every 0.5 s (``--fast-tries``; no authentication there);
5. a drain (``websocket.nginx.drain_proxy``) of the proxy holding the address, with ``--drain-websockets``
   WebSockets on its own address whose clients leave one after the other over ``--drain-spread`` seconds:
   the playbook's duration, and how long until the address was elsewhere and until its WebSockets had ended.

Prints a table (median and worst of each failover) and writes everything as JSON (``--json``, default
tests/output/bench/fleet.json). The containers are removed at the end (``--keep`` leaves them). Not part of
``make test``. Run from the repository root after ``make setup``:

    .venv/bin/python tests/benchmarks/bench_fleet.py
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCENARIO = 'fleet'
EPHEMERAL = REPO / '.cache' / 'molecule-fleet'
INVENTORY = EPHEMERAL / 'inventory'
# The scenario's helpers (addresses, keepalived state, the floating address's holder) read the inventory's path.
os.environ['MOLECULE_INVENTORY_FILE'] = str(INVENTORY)
sys.path.insert(0, str(REPO / 'extensions' / 'molecule' / SCENARIO / 'tests'))

import conftest as fleet  # noqa: E402  (needs the path and the variable above)
import wsn_e2e  # noqa: E402  (conftest put tests/support on the path)


class BenchError(Exception):
    pass


class Bench(object):
    def __init__(self, args):
        self.args = args
        self.env = dict(os.environ, MOLECULE_EPHEMERAL_DIRECTORY=str(EPHEMERAL),
                        ANSIBLE_NOCOLOR='1', ANSIBLE_FORCE_COLOR='0', PY_COLORS='0', NO_COLOR='1')
        self.env.pop('ANSIBLE_COLLECTIONS_PATH', None)  # the repository's ansible.cfg names .venv/collections
        self.results = {'started': time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}
        self.sites = fleet.inventory_sites()

    def run(self, command, timeout=1800):
        return subprocess.run(command, cwd=str(REPO), env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)

    def molecule(self, action):
        result = self.run(['molecule', action, '-s', SCENARIO])
        if result.returncode:
            raise BenchError('molecule %s failed:\n%s' % (action, (result.stdout + result.stderr)[-3000:]))

    def site_playbook(self, extra_vars, *args):
        started = time.monotonic()
        result = self.run(['ansible-playbook', '-i', str(INVENTORY), 'websocket.nginx.site', *args,
                           '-e', json.dumps(extra_vars)])
        if result.returncode:
            raise BenchError('site playbook failed:\n%s' % (result.stdout + result.stderr)[-3000:])
        return time.monotonic() - started

    def healthy(self, timeout=90):
        for proxy in fleet.PROXIES:
            fleet.wait_until(lambda proxy=proxy: fleet.vrrp_state(proxy) in ('BACKUP', 'MASTER'), timeout,
                             what='%s healthy' % proxy)
        fleet.holder()

    # -- phases ----------------------------------------------------------------
    def rollouts(self):
        runs = []
        for _index in range(self.args.rollouts):
            sites = json.loads(json.dumps(self.sites))
            sites[0]['websocket_locations'].append({'path': '/bench-%s/' % uuid.uuid4().hex[:8], 'upstream': 'fleet_echo'})
            live = {proxy: wsn_e2e.EchoingWebSockets(fleet.ws_url(proxy), self.args.live) for proxy in fleet.PROXIES}
            try:
                seconds = self.site_playbook({'websocket_proxy_sites': sites})
            finally:
                dropped = sum(websockets.finish() for websockets in live.values())
            runs.append({'seconds': round(seconds, 1), 'dropped': dropped, 'live': self.args.live * len(fleet.PROXIES)})
            print('  rollout: %.1f s, %d of %d dropped' % (seconds, dropped, runs[-1]['live']), flush=True)
        self.results['rollouts'] = runs

    def failover(self, name, tries, stop, start):
        """``tries`` times: stop the holder with ``stop``, time the first echo through the floating address."""
        seconds = []
        for _index in range(tries):
            self.healthy()
            first = fleet.holder()
            started = time.monotonic()
            stop(first)
            fleet.wait_until(echoes_through_floating_address, 30, interval=0.05, what='an echo through the address')
            seconds.append(round(time.monotonic() - started, 2))
            start(first)
            print('  %s: %.2f s (%s)' % (name, seconds[-1], first), flush=True)
        self.results[name] = summary(seconds)

    def drain(self):
        self.healthy()
        drained = fleet.holder()
        sockets = [wsn_e2e.ws_connect(fleet.ws_url(drained)) for _index in range(self.args.drain_websockets)]
        playbook = wsn_e2e.BackgroundPlaybook(REPO / 'playbooks' / 'drain_proxy.yml', '-e', 'drain_proxy=%s' % drained,
                                              '-e', 'drain_proxy_timeout=%d' % (self.args.drain_spread * 3),
                                              '-e', 'drain_proxy_poll_interval=1', inventory=str(INVENTORY))
        started = time.monotonic()

        def leave():
            moved = fleet.wait_until(lambda: playbook.time_of(r'holds the floating address now'), 60)
            for ws in sockets:  # the clients leave one after the other, at random times over the spread
                time.sleep(random.uniform(0, 2.0 * self.args.drain_spread / len(sockets)))
                ws.close()
            return moved

        leaver = threading.Thread(target=leave, daemon=True)
        leaver.start()
        returncode = playbook.wait(timeout=600)
        seconds = time.monotonic() - started
        leaver.join(5)
        if returncode:
            raise BenchError('drain_proxy failed:\n%s' % playbook.output[-3000:])
        moved = playbook.time_of(r'holds the floating address now')
        ended = playbook.time_of(r': 0 WebSockets open')
        self.results['drain'] = {
            'websockets': self.args.drain_websockets, 'playbook_seconds': round(seconds, 1),
            'address_moved_seconds': round(moved - started, 1) if moved else None,
            'websockets_ended_seconds': round(ended - started, 1) if ended else None,
        }
        print('  drain: %s' % self.results['drain'], flush=True)


def echoes_through_floating_address():
    try:
        with wsn_e2e.ws_connect(fleet.ws_url(fleet.FLOATING), open_timeout=1) as ws:
            ws.send('bench')
            return ws.recv(timeout=1) == 'bench'
    except Exception:  # noqa: BLE001  (refused, reset, timed out: not yet)
        return False


def stop_nginx(proxy):
    fleet.run(proxy, 'systemctl', 'stop', 'nginx', reads=False)


def start_nginx(proxy):
    fleet.run(proxy, 'systemctl', 'start', 'nginx', reads=False)


def kill(proxy):
    subprocess.run(['docker', 'kill', proxy], check=True, capture_output=True, timeout=60)


def start_container(proxy):
    subprocess.run(['docker', 'start', proxy], check=True, capture_output=True, timeout=60)


def summary(values):
    return {'tries': values, 'median': round(statistics.median(values), 2), 'worst': max(values)} if values else {}


def table(results):
    rows = []
    for run in results.get('rollouts', []):
        rows.append(('rolling change, 3 proxies', '%.1f s, %d of %d WebSockets dropped' % (run['seconds'], run['dropped'],
                                                                                           run['live'])))
    names = {'nginx_stopped': 'failover, nginx stopped (VRRPv2, advert 1 s)',
             'proxy_killed': 'failover, proxy killed (VRRPv2, advert 1 s)',
             'nginx_stopped_fast': 'failover, nginx stopped (VRRPv3, advert 0.5 s)',
             'proxy_killed_fast': 'failover, proxy killed (VRRPv3, advert 0.5 s)'}
    for key, name in names.items():
        if results.get(key):
            rows.append((name, 'median %.2f s, worst %.2f s (%d tries)' % (results[key]['median'], results[key]['worst'],
                                                                           len(results[key]['tries']))))
    drain = results.get('drain')
    if drain:
        rows.append(('drain of the address holder', '%(playbook_seconds).1f s playbook; address elsewhere after '
                     '%(address_moved_seconds)s s; %(websockets)d WebSockets ended after %(websockets_ended_seconds)s s'
                     % drain))
    if 'bench_seconds' in results:
        rows.append(('bench run time', '%.0f s' % results['bench_seconds']))
    width = max(len(name) for name, _value in rows) if rows else 0
    return '\n'.join('%s  %s' % (name.ljust(width), value) for name, value in rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--rollouts', type=int, default=2)
    parser.add_argument('--live', type=int, default=20, help='WebSockets per proxy echoing during a rollout')
    parser.add_argument('--tries', type=int, default=7, help='failovers with nginx stopped')
    parser.add_argument('--kills', type=int, default=5, help='failovers with the proxy killed')
    parser.add_argument('--fast-tries', type=int, default=5, help='each failover again with VRRPv3, adverts every 0.5 s')
    parser.add_argument('--drain-websockets', type=int, default=30)
    parser.add_argument('--drain-spread', type=int, default=10, help='seconds over which the drained clients leave')
    parser.add_argument('--json', default=str(REPO / 'tests' / 'output' / 'bench' / 'fleet.json'))
    parser.add_argument('--keep', action='store_true', help='leave the containers running')
    parser.add_argument('--reuse', action='store_true', help='use the containers a --keep run left')
    args = parser.parse_args()

    bench = Bench(args)
    started = time.monotonic()
    status = 0
    try:
        if not args.reuse:
            print('bench: deploying the fleet scenario (extensions/molecule/fleet)', flush=True)
            bench.molecule('destroy')
            bench.molecule('create')
            bench.molecule('converge')
        print('bench: rolling changes', flush=True)
        bench.rollouts()
        print('bench: failover', flush=True)
        bench.failover('nginx_stopped', args.tries, stop_nginx, start_nginx)
        bench.failover('proxy_killed', args.kills, kill, start_container)
        print('bench: drain', flush=True)
        bench.drain()
        if args.fast_tries:
            print('bench: failover with VRRPv3, adverts every 0.5 s', flush=True)
            fast = {'keepalived_vrrp_version': 3, 'keepalived_advert_interval': 0.5, 'keepalived_auth_pass': ''}
            bench.site_playbook(fast, '--limit', 'websocket_proxies')
            bench.failover('nginx_stopped_fast', args.fast_tries, stop_nginx, start_nginx)
            bench.failover('proxy_killed_fast', args.fast_tries, kill, start_container)
    except (BenchError, AssertionError, subprocess.SubprocessError) as exc:
        bench.results['error'] = str(exc)
        print('bench: %s' % exc, file=sys.stderr)
        status = 1
    finally:
        if not args.keep:
            try:
                bench.molecule('destroy')
            except BenchError as exc:
                print('bench: %s' % exc, file=sys.stderr)
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
