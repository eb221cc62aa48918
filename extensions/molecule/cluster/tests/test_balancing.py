"""Each load-balancing method of one site, with real WebSocket connections through nginx."""

import time
from collections import Counter

from conftest import BACKENDS, backend_of, open_ws, spread

B1, B2, B3 = BACKENDS
N = 60


def test_round_robin_spreads_evenly(ws_base):
    counts = spread(ws_base, "/rr/", N)
    assert set(counts) == set(BACKENDS), counts
    # 20 each with one shared round-robin state; a broken balancer lands far outside this.
    for backend in BACKENDS:
        assert 14 <= counts[backend] <= 26, counts


def test_weights_3_1_1(ws_base):
    counts = spread(ws_base, "/weighted/", N)
    assert sum(counts.values()) == N
    # Expected 36 / 12 / 12.
    assert 30 <= counts[B1] <= 42, counts
    assert 7 <= counts[B2] <= 17 and 7 <= counts[B3] <= 17, counts
    assert counts[B1] >= 2 * max(counts[B2], counts[B3]), counts


def test_least_conn_avoids_the_busy_backend(ws_base):
    held = []
    try:
        # Six held connections spread 2/2/2 ...
        for _attempt in range(6):
            held.append(open_ws(ws_base, "/least/"))
        assert Counter(name for _ws, name in held) == Counter(dict.fromkeys(BACKENDS, 2)), \
            Counter(name for _ws, name in held)
        # ... then only backend-1 keeps its two.
        for ws, name in held:
            if name != B1:
                ws.close()
        held = [(ws, name) for ws, name in held if name == B1]
        time.sleep(0.5)  # nginx notices the closed upstream connections
        new = []
        try:
            for _attempt in range(4):
                new.append(open_ws(ws_base, "/least/"))
            counts = Counter(name for _ws, name in new)
            assert counts == Counter({B2: 2, B3: 2}), counts
            # Everyone at two: the next one may go anywhere, but the held ones still echo.
            for ws, _name in held:
                ws.send("still here")
                assert ws.recv(timeout=5) == "still here"
        finally:
            for ws, _name in new:
                ws.close()
    finally:
        for ws, _name in held:
            ws.close()


def test_ip_hash_sticks_to_one_backend(ws_base):
    counts = spread(ws_base, "/iphash/", 30)
    assert len(counts) == 1, counts


def test_hash_remote_addr_sticks_to_one_backend(ws_base):
    counts = spread(ws_base, "/hash/", 30)
    assert len(counts) == 1, counts


def test_backup_unused_while_primaries_are_up(ws_base):
    counts = spread(ws_base, "/backup/", 20)
    assert set(counts) == {B1, B2}, counts


def test_each_new_connection_echoes(ws_base):
    for path in ("/rr/", "/least/", "/iphash/", "/hash/", "/weighted/", "/backup/"):
        assert backend_of(ws_base, path) in BACKENDS
