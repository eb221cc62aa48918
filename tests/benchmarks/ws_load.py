# -*- coding: utf-8 -*-
# Copyright: (c) 2026, websocket.nginx maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

"""WebSocket load client of the capacity benchmark (bench_capacity.py starts several of them).

One process, one asyncio loop, at most a few thousand sockets: the benchmark spreads its load
over several of these so that none comes near the open-files limit of a process. Each mode
prints JSON lines on stdout and takes commands, one per line, on stdin:

``hold``      open ``--count`` WebSockets (``--concurrency`` handshakes at a time), echo one
              message on each, report; then ``echo`` echoes on every open one again and
              reports, ``close`` closes them all and ends.
``keep``      open ``--count`` WebSockets and echo on each of them every ``--interval`` seconds
              until ``stop``; reports how many were dropped (closed, or no echo in time).
``open``      open, echo on and close new WebSockets at ``--rate`` per second until ``stop``;
              reports the attempts and the failures by reason.
``pingpong``  ``--connections`` WebSockets spread over ``--url`` values each send a message and
              wait for its echo, back to back, for ``--seconds``; reports messages per second
              and latency percentiles.

Every wait is bounded (``--timeout``), and every mode ends at EOF on stdin.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import resource
import sys
import time

from websockets.asyncio.client import connect

# Far below the 20000 hard limit: the sockets, plus the loop's own files.
MAX_SOCKETS_PER_PROCESS = 8000


def emit(**fields):
    sys.stdout.write(json.dumps(fields) + '\n')
    sys.stdout.flush()


def reason(exc):
    """A short, countable name for why a WebSocket failed."""
    if isinstance(exc, asyncio.TimeoutError):
        return 'timeout'
    text = str(exc).split(':', maxsplit=1)[0][:60]
    return '%s: %s' % (type(exc).__name__, text) if text else type(exc).__name__


class Connections(object):
    """Open WebSockets of this process, with the failures seen while opening and using them."""

    def __init__(self, args):
        self.args = args
        self.open = []
        self.failures = collections.Counter()

    async def open_one(self, url):
        ws = await asyncio.wait_for(
            connect(url, ping_interval=None, compression=None, open_timeout=None, close_timeout=2,
                    max_queue=4, proxy=None),
            self.args.timeout)
        try:
            await self.echo(ws, 'hello')
        except BaseException:
            await ws.close()
            raise
        return ws

    async def echo(self, ws, text):
        await ws.send(text)
        answer = await asyncio.wait_for(ws.recv(), self.args.timeout)
        if answer != text:
            raise ValueError('echo differs')

    async def open_many(self, url, count):
        gate = asyncio.Semaphore(self.args.concurrency)

        async def one():
            async with gate:
                try:
                    self.open.append(await self.open_one(url))
                except Exception as exc:  # counted and reported: that is the measurement
                    self.failures[reason(exc)] += 1

        await asyncio.gather(*(one() for _attempt in range(count)))

    async def echo_all(self):
        """Echo once on every open WebSocket; drop (and count) those that fail."""
        results = await asyncio.gather(*(self.echo(ws, 'again') for ws in self.open), return_exceptions=True)
        alive, failures = [], collections.Counter()
        for ws, result in zip(self.open, results):
            if isinstance(result, BaseException):
                failures[reason(result)] += 1
            else:
                alive.append(ws)
        self.open = alive
        return failures

    async def close_all(self):
        await asyncio.gather(*(ws.close() for ws in self.open), return_exceptions=True)
        self.open = []


async def commands():
    """Lines from stdin, without blocking the loop."""
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        yield line.strip()


async def until_stop(stop, report):
    """Answer "report" with the counts so far; set ``stop`` at "stop" or EOF."""
    async for command in commands():
        if command == 'stop':
            break
        if command == 'report':
            report()
    stop.set()


async def hold(args):
    conns = Connections(args)
    started = time.monotonic()
    await conns.open_many(args.url[0], args.count)
    emit(event='opened', ok=len(conns.open), failed=sum(conns.failures.values()), errors=dict(conns.failures),
         seconds=round(time.monotonic() - started, 2))
    async for command in commands():
        if command == 'echo':
            failures = await conns.echo_all()
            emit(event='echoed', ok=len(conns.open), failed=sum(failures.values()), errors=dict(failures))
        elif command == 'close':
            break
    await conns.close_all()
    emit(event='closed')


async def keep(args):
    conns = Connections(args)
    await conns.open_many(args.url[0], args.count)
    emit(event='opened', ok=len(conns.open), failed=sum(conns.failures.values()), errors=dict(conns.failures))
    held = len(conns.open)
    dropped = collections.Counter()
    rounds = 0
    stop = asyncio.Event()

    watcher = asyncio.create_task(until_stop(stop, lambda: emit(
        event='report', held=held, dropped=sum(dropped.values()), errors=dict(dropped))))
    while not stop.is_set():
        dropped.update(await conns.echo_all())
        rounds += 1
        try:
            await asyncio.wait_for(stop.wait(), args.interval)
        except asyncio.TimeoutError:
            pass
    dropped.update(await conns.echo_all())
    await conns.close_all()
    watcher.cancel()
    emit(event='kept', held=held, dropped=sum(dropped.values()), errors=dict(dropped), rounds=rounds + 1)


async def open_loop(args):
    conns = Connections(args)
    attempts = 0
    stop = asyncio.Event()
    pending = set()

    async def one():
        try:
            ws = await conns.open_one(args.url[attempts % len(args.url)])
            await ws.close()
        except Exception as exc:  # counted and reported
            conns.failures[reason(exc)] += 1

    watcher = asyncio.create_task(until_stop(stop, lambda: emit(
        event='report', attempts=attempts, failed=sum(conns.failures.values()), errors=dict(conns.failures))))
    period = 1.0 / args.rate
    next_start = time.monotonic()
    while not stop.is_set():
        attempts += 1
        task = asyncio.create_task(one())
        pending.add(task)
        task.add_done_callback(pending.discard)
        next_start += period
        try:
            await asyncio.wait_for(stop.wait(), max(0.0, next_start - time.monotonic()))
        except asyncio.TimeoutError:
            pass
    if pending:
        await asyncio.wait(pending, timeout=args.timeout * 2)
    watcher.cancel()
    emit(event='opens', attempts=attempts, failed=sum(conns.failures.values()), errors=dict(conns.failures))


async def pingpong(args):
    conns = Connections(args)
    urls = args.url
    for index in range(args.connections):
        await conns.open_many(urls[index % len(urls)], 1)
    if conns.failures:
        emit(event='pingpong', error='could not open: %s' % dict(conns.failures))
        return
    payload = 'x' * args.size
    latencies = []
    deadline = time.monotonic() + args.seconds

    async def run(ws):
        while time.monotonic() < deadline:
            sent = time.perf_counter()
            await ws.send(payload)
            await asyncio.wait_for(ws.recv(), args.timeout)
            latencies.append(time.perf_counter() - sent)

    started = time.monotonic()
    await asyncio.gather(*(run(ws) for ws in conns.open))
    elapsed = time.monotonic() - started
    await conns.close_all()
    emit(event='pingpong', messages=len(latencies), seconds=round(elapsed, 3),
         latencies_ms=[round(value * 1000, 4) for value in sorted(latencies)[::max(1, len(latencies) // 2000)]],
         p50=percentile(latencies, 50), p90=percentile(latencies, 90), p99=percentile(latencies, 99),
         max=round(max(latencies) * 1000, 3) if latencies else None)


def percentile(values, pct):
    """Milliseconds below which pct % of the values lie (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, -(-len(ordered) * pct // 100) - 1))
    return round(ordered[int(rank)] * 1000, 3)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('mode', choices=['hold', 'keep', 'open', 'pingpong'])
    parser.add_argument('--url', action='append', required=True, help='ws:// URL (several for pingpong and open)')
    parser.add_argument('--count', type=int, default=1000)
    parser.add_argument('--concurrency', type=int, default=100)
    parser.add_argument('--interval', type=float, default=1.0)
    parser.add_argument('--rate', type=float, default=50.0)
    parser.add_argument('--connections', type=int, default=50)
    parser.add_argument('--seconds', type=float, default=10.0)
    parser.add_argument('--size', type=int, default=64)
    parser.add_argument('--timeout', type=float, default=15.0)
    args = parser.parse_args()
    if args.count > MAX_SOCKETS_PER_PROCESS or args.connections > MAX_SOCKETS_PER_PROCESS:
        parser.error('at most %d sockets per process: start more processes' % MAX_SOCKETS_PER_PROCESS)
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    runner = {'hold': hold, 'keep': keep, 'open': open_loop, 'pingpong': pingpong}[args.mode]
    asyncio.run(runner(args))


if __name__ == '__main__':
    main()
