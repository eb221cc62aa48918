"""Passive failover, recovery and backup servers when echo services stop."""

from collections import Counter

from conftest import BACKENDS, backend_of, spread, upstream_health, wait_for_backend
from wsn_e2e import echo_stopped

B1, B2, B3 = BACKENDS


def test_round_robin_fails_over_and_recovers(ws_base):
    with echo_stopped(B3):
        # nginx tries backend-3, gets "connection refused" and passes the handshake on
        # (proxy_next_upstream error timeout): every connection still succeeds.
        counts = spread(ws_base, "/rr/", 30)
        assert set(counts) == {B1, B2}, counts
        assert min(counts.values()) >= 10, counts

        health = upstream_health("rr")
        by_address = {server["address"]: server for server in health["servers"]}
        assert set(by_address) == {f"{backend}:8765" for backend in BACKENDS}, health
        unhealthy = {address: server["stage"] for address, server in by_address.items() if not server["healthy"]}
        assert unhealthy == {f"{B3}:8765": "connect"}, health
        assert health["healthy"] == 2 and health["unhealthy"] == 1, health

    # Started again: after fail_timeout (10s) nginx tries it again and it takes connections.
    seen = wait_for_backend(ws_base, "/rr/", B3, timeout=30)
    assert set(seen) <= set(BACKENDS)
    counts = spread(ws_base, "/rr/", 30)
    assert set(counts) == set(BACKENDS), counts
    assert upstream_health("rr")["unhealthy"] == 0


def test_backup_only_when_all_primaries_are_down(ws_base):
    assert B3 not in spread(ws_base, "/backup/", 10)
    with echo_stopped(B1, B2):
        counts = spread(ws_base, "/backup/", 20)
        assert counts == Counter({B3: 20}), counts
    # The primaries are back (fail_timeout 2s): new connections leave the backup alone.
    wait_for_backend(ws_base, "/backup/", B1, timeout=20)
    wait_for_backend(ws_base, "/backup/", B2, timeout=20)
    counts = spread(ws_base, "/backup/", 20)
    assert B3 not in counts and set(counts) == {B1, B2}, counts


def test_stopped_backend_never_answers(ws_base):
    paths = ("/rr/", "/least/", "/weighted/")
    with echo_stopped(B1):
        for path in paths:
            for _attempt in range(6):
                assert backend_of(ws_base, path) != B1
    # Each upstream tries it again after its fail_timeout (10s); later tests find it in rotation.
    for path in paths:
        wait_for_backend(ws_base, path, B1, timeout=30)
