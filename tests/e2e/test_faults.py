"""The gateway under faults, end to end: real gunicorn gateways in front of upstreams of the
test's own (:mod:`tests.e2e.fakes`) that refuse, break off mid-answer, hang, answer slowly or come
and go; a usage store that is locked or cut; a Redis that disappears; a gateway stopped under load
and a worker killed. Each fault gets its answer within a bound, and the counts add up.

Timeouts are small so the faults show in seconds: a 1 s read timeout, a breaker that opens after
2 failures and probes after 1 s, usage flushed every 0.5 s. The gateways boot together and each
case uses consumers (and, where it stops or kills one, a gateway) of its own.
"""

from __future__ import annotations

import itertools
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import Launcher, Server, create_consumers, wait_until_healthy
from tests.e2e.fakes import FaultyUpstream, Forwarder
from tests.helpers import assert_problem

pytestmark = pytest.mark.e2e

READ_TIMEOUT = 1.0
CONNECT_TIMEOUT = 0.5
BREAKER_FAILURES = 2
BREAKER_RESET_SECONDS = 1.0
FLUSH_SECONDS = 0.5
KILL_FLUSH_SECONDS = 1.0
GRACEFUL_SECONDS = 5
METRICS_TOKEN = "faults-scrape-token"
# What a fault may add to its own bound on a busy 2-core machine.
MARGIN = 1.0

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
POSTGRES = os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))

# Which consumers each gateway gets (name: is platform).
CONSUMERS = {
    "breaker": {"tripper": False, "flapper": False},
    "faults": {"faulter": False},
    "store": {"storer": False, "store-ops": True},
    "sigterm": {"loader": False},
    "kill": {"victim": False},
    "redis": {"cached": False, "fresh": False},
}


@dataclass
class Rig:
    gateways: dict[str, Server]
    keys: dict[str, str]
    flaky: FaultyUpstream  # behind the "breaker" gateway: refuses and comes back
    faulty: FaultyUpstream  # behind the others: always listening, faulty by path
    redis: Forwarder | None  # between the "redis" gateway and Redis

    def key(self, consumer: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[consumer]}"}


def _redis_through(forwarder: Forwarder) -> str:
    parts = urlsplit(REDIS_URL)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{forwarder.port}"
    netloc = f"{netloc[0]}@{host}" if len(netloc) == 2 else host
    return urlunsplit(parts._replace(netloc=netloc))


@pytest.fixture(scope="module")
def rig(tmp_path_factory, http) -> Rig:
    directory = tmp_path_factory.mktemp("e2e-faults")
    with ExitStack() as stack:
        flaky, faulty = FaultyUpstream(), FaultyUpstream()
        stack.callback(flaky.close)
        stack.callback(faulty.close)
        forwarder = None
        if REDIS_URL:
            redis = urlsplit(REDIS_URL)
            forwarder = Forwarder((redis.hostname or "127.0.0.1", redis.port or 6379))
            stack.callback(forwarder.close)

        # The caller's shell keeps its gateway configuration to itself.
        inherited = {
            name: None
            for name in os.environ
            if name.startswith(("GATEWAY_", "GUNICORN_"))
            or name.endswith("_UPSTREAM")
            or name == "PROMETHEUS_MULTIPROC_DIR"
        }

        def gateway(label: str, upstream: FaultyUpstream, **settings: str) -> dict:
            metrics_dir = directory / f"{label}-metrics"
            metrics_dir.mkdir()
            return {
                **inherited,
                "FAQ_UPSTREAM": upstream.url,
                "GATEWAY_READ_TIMEOUT": str(READ_TIMEOUT),
                "GATEWAY_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
                "GATEWAY_BREAKER_FAILURES": str(BREAKER_FAILURES),
                "GATEWAY_BREAKER_RESET_SECONDS": str(BREAKER_RESET_SECONDS),
                "GATEWAY_USAGE_FLUSH_SECONDS": str(FLUSH_SECONDS),
                # On, and out of the way of the load: REDIS_URL makes it count in Redis.
                "GATEWAY_RATE_LIMIT_PER_MINUTE": "1000000",
                "GATEWAY_METRICS_TOKEN": METRICS_TOKEN,
                "GUNICORN_GRACEFUL_TIMEOUT": str(GRACEFUL_SECONDS),
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
                "WEB_CONCURRENCY": "2",
                **settings,
            }

        plan = {
            # One worker: its breaker is the gateway's breaker.
            "breaker": gateway("breaker", flaky, WEB_CONCURRENCY="1"),
            # Timeouts and resets on purpose: the breaker must not get in the way here.
            "faults": gateway(
                "faults", faulty, WEB_CONCURRENCY="1", GATEWAY_BREAKER_FAILURES="1000"
            ),
            "store": gateway("store", faulty),
            "sigterm": gateway("sigterm", faulty),
            "kill": gateway("kill", faulty, GATEWAY_USAGE_FLUSH_SECONDS=str(KILL_FLUSH_SECONDS)),
        }
        if forwarder is not None:
            plan["redis"] = gateway(
                "redis", faulty, WEB_CONCURRENCY="1", REDIS_URL=_redis_through(forwarder)
            )
        launchers = {label: Launcher(directory, http) for label in plan}
        stack.callback(_close_all, launchers.values())

        def boot(label: str) -> tuple[Server, dict[str, str]]:
            server = launchers[label].spawn("gateway", label=f"gw_{label}", **plan[label])
            return server, create_consumers(server, CONSUMERS[label])

        with ThreadPoolExecutor(max_workers=len(plan)) as pool:
            futures = {label: pool.submit(boot, label) for label in plan}
        servers, keys = {}, {}
        for label, future in futures.items():
            servers[label], found = future.result()
            keys.update(found)
        for server in servers.values():
            wait_until_healthy(server, http)
        yield Rig(gateways=servers, keys=keys, flaky=flaky, faulty=faulty, redis=forwarder)


def _close_all(launchers) -> None:
    with ThreadPoolExecutor() as pool:
        for done in [pool.submit(launcher.close) for launcher in launchers]:
            done.result()


def timed(call, *args, **kwargs):
    """(the call's result, seconds it took)."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, time.monotonic() - started


def get(http, gateway: Server, path: str, key: dict[str, str], **kwargs):
    return http.get(f"{gateway.url}/faq/v2/{path}", headers=key, **kwargs)


def metric_total(http, gateway: Server, name: str, **labels: str) -> float:
    response = http.get(
        f"{gateway.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}
    )
    assert response.status_code == 200, response.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items())
    )


def usage_total(http, gateway: Server, key: dict[str, str], consumer: str) -> int:
    response = http.get(f"{gateway.url}/__usage__/", params={"consumer": consumer}, headers=key)
    assert response.status_code == 200, response.text
    return response.json()["total"]


def settled_usage(http, gateway, key, consumer: str, expected: int, *, within: float = 15) -> int:
    """The consumer's usage once it reached ``expected`` (or ``within`` seconds went by), plus a
    few flushes more so that a call counted twice would show too."""
    deadline = time.monotonic() + within
    while usage_total(http, gateway, key, consumer) < expected and time.monotonic() < deadline:
        time.sleep(FLUSH_SECONDS / 2)
    time.sleep(FLUSH_SECONDS * 4)
    return usage_total(http, gateway, key, consumer)


def stored_calls(server: Server, consumer: str) -> Counter:
    """The rollups in the gateway's database, read directly (the gateway may be gone): calls by
    status class."""
    query = (
        "SELECT status_class, SUM(count) FROM gateway_usagerollup WHERE consumer = %s GROUP BY 1"
    )
    url = server.env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        with sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10) as db:
            rows = db.execute(query.replace("%s", "?"), (consumer,)).fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as db:
            rows = db.execute(query, (consumer,)).fetchall()
    return Counter({status_class: int(count) for status_class, count in rows})


# --- 1. a refused upstream: 502, the breaker opens (503, no connection), a probe, recovery ------


def test_a_refused_upstream_is_502_then_503_without_connecting_then_recovers(http, rig):
    gateway, key, flaky = rig.gateways["breaker"], rig.key("tripper"), rig.flaky
    assert get(http, gateway, "faqs", key).status_code == 200

    flaky.refuse()
    for _ in range(BREAKER_FAILURES):
        failed, elapsed = timed(get, http, gateway, "faqs", key)
        assert "refused" in assert_problem(failed, 502)["detail"]
        assert elapsed < CONNECT_TIMEOUT + MARGIN, elapsed

    # Listening again: a call that still went upstream would be seen here (and answered 200).
    flaky.serve()
    opened = time.monotonic()
    connections = flaky.accepted
    for _ in range(3):
        refused, elapsed = timed(get, http, gateway, "faqs", key)
        assert_problem(refused, 503)
        assert 1 <= int(refused.headers["Retry-After"]) <= BREAKER_RESET_SECONDS + 1
        assert elapsed < 0.5, elapsed
    assert time.monotonic() - opened < BREAKER_RESET_SECONDS, "too slow to see the open breaker"
    assert flaky.accepted == connections, "the gateway connected while its breaker was open"

    # After the reset time one call probes; the upstream is back, so the breaker closes.
    time.sleep(BREAKER_RESET_SECONDS)
    probe, elapsed = timed(get, http, gateway, "faqs", key)
    assert probe.status_code == 200, probe.text
    assert elapsed < MARGIN, elapsed
    assert flaky.accepted > connections
    assert [get(http, gateway, "faqs", key).status_code for _ in range(5)] == [200] * 5
    health = http.get(f"{gateway.url}/__health__").json()
    assert health["checks"]["upstream:faq"]["breaker"] == "closed"


def test_a_failed_probe_opens_the_breaker_again(http, rig):
    gateway, key, flaky = rig.gateways["breaker"], rig.key("tripper"), rig.flaky
    flaky.refuse()
    try:
        for _ in range(BREAKER_FAILURES):
            assert_problem(get(http, gateway, "faqs", key), 502)
        time.sleep(BREAKER_RESET_SECONDS)
        assert "refused" in assert_problem(get(http, gateway, "faqs", key), 502)["detail"]
        # The probe failed: open again at once, not after another run of failures.
        again, elapsed = timed(get, http, gateway, "faqs", key)
        assert_problem(again, 503)
        assert elapsed < 0.5, elapsed
    finally:
        flaky.serve()
    time.sleep(BREAKER_RESET_SECONDS)
    assert get(http, gateway, "faqs", key).status_code == 200


# --- 2. an upstream that breaks off mid-answer ----------------------------------------------------


def test_a_reset_before_the_body_is_complete_is_a_502_not_a_short_200(http, rig):
    gateway, key = rig.gateways["faults"], rig.key("faulter")

    # Small bodies are read whole before anything goes to the caller: it gets a clean 502.
    response, elapsed = timed(get, http, gateway, "faqs/reset-1000", key)

    assert "dropped the connection" in assert_problem(response, 502)["detail"]
    assert elapsed < READ_TIMEOUT + MARGIN, elapsed
    assert get(http, gateway, "faqs", key).status_code == 200


def test_a_reset_mid_stream_reaches_the_caller_as_a_truncated_answer(http, rig):
    gateway, key = rig.gateways["faults"], rig.key("faulter")

    # Large bodies are streamed: the status and headers are out, so the caller must see the
    # answer break off (the Content-Length it was promised never arrives), never a short body
    # that passes for the whole one.
    started = time.monotonic()
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(http, gateway, "faqs/reset-200000", key)
    assert time.monotonic() - started < READ_TIMEOUT + MARGIN

    assert get(http, gateway, "faqs", key).status_code == 200
    health = http.get(f"{gateway.url}/__health__")
    assert health.status_code == 200 and health.json()["status"] == "pass", health.text


# --- 3. and 4. hung and slow upstreams ------------------------------------------------------


def test_a_hung_upstream_is_a_504_within_the_read_timeout(http, rig):
    gateway, key = rig.gateways["faults"], rig.key("faulter")

    response, elapsed = timed(get, http, gateway, "faqs/hang", key)

    assert "did not answer in time" in assert_problem(response, 504)["detail"]
    assert READ_TIMEOUT - 0.05 <= elapsed < READ_TIMEOUT + MARGIN, elapsed


@pytest.mark.parametrize(
    "delay, status",
    [(READ_TIMEOUT - 0.4, 200), (READ_TIMEOUT + 0.4, 504)],
    ids=["just-under-the-read-timeout", "just-over-it"],
)
def test_a_slow_upstream_is_200_under_the_read_timeout_and_504_over_it(http, rig, delay, status):
    gateway, key = rig.gateways["faults"], rig.key("faulter")

    response, elapsed = timed(get, http, gateway, f"faqs/slow-{int(delay * 1000)}", key)

    assert response.status_code == status, response.text
    assert elapsed < min(delay, READ_TIMEOUT) + MARGIN, elapsed
    if status == 200:
        assert elapsed >= delay - 0.05, elapsed
    else:
        assert_problem(response, 504)


# --- 5. an upstream that comes and goes -----------------------------------------------------------


def test_a_flapping_upstream_opens_and_recovers_the_breaker_and_never_gets_a_500(http, rig):
    gateway, key, flaky = rig.gateways["breaker"], rig.key("flapper"), rig.flaky
    seen: list[tuple[float, int, float]] = []  # (when, status, seconds)
    stop = threading.Event()

    def caller():
        while not stop.is_set():
            response, elapsed = timed(get, http, gateway, "faqs", key)
            seen.append((time.monotonic(), response.status_code, elapsed))
            time.sleep(0.02)

    thread = threading.Thread(target=caller, daemon=True)
    thread.start()
    try:
        for _ in range(2):  # down long enough to open the breaker, up long enough to recover
            flaky.refuse()
            time.sleep(0.5)
            flaky.serve()
            time.sleep(BREAKER_RESET_SECONDS + 0.7)
    finally:
        flaky.serve()
        stop.set()
        thread.join(READ_TIMEOUT + 5)

    statuses = [status for _, status, _ in seen]
    assert set(statuses) <= {200, 502, 503}, Counter(statuses)
    assert max(elapsed for *_, elapsed in seen) < CONNECT_TIMEOUT + MARGIN
    # Opened (503) and recovered (200 after it), in each of the two cycles.
    recoveries = sum(1 for a, b in itertools.pairwise(statuses) if a == 503 and b == 200)
    assert recoveries == 2, statuses
    assert statuses[-5:] == [200] * 5, statuses


# --- 6. the usage store or the shared cache unavailable -------------------------------------------


@contextmanager
def usage_store_unavailable(server: Server):
    """Lock the gateway's usage rollups for as long as the block runs. On SQLite the whole
    database (an exclusive write lock; WAL readers go on); on PostgreSQL the rollup table, with
    the gateway's connections cut as well."""
    url = server.env["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"), timeout=10, isolation_level=None)
        try:
            db.execute("BEGIN EXCLUSIVE")
            yield lambda: None
            db.execute("ROLLBACK")
        finally:
            db.close()
        return

    import psycopg

    with psycopg.connect(url) as db:
        db.execute("LOCK TABLE gateway_usagerollup IN ACCESS EXCLUSIVE MODE")

        def cut() -> None:
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid NOT IN (pg_backend_pid(), %s)",
                    (db.info.backend_pid,),
                )

        cut()
        yield cut
        db.rollback()


def test_calls_are_served_while_the_usage_store_is_locked_and_all_counted_after(http, rig):
    gateway, key, ops = rig.gateways["store"], rig.key("storer"), rig.key("store-ops")
    for _ in range(5):
        assert get(http, gateway, "faqs", key).status_code == 200
    assert settled_usage(http, gateway, ops, "storer", 5) == 5

    with usage_store_unavailable(gateway) as cut:
        for _ in range(20):
            response, elapsed = timed(get, http, gateway, "faqs", key)
            assert response.status_code == 200, response.text
            assert elapsed < 0.5, elapsed
        time.sleep(FLUSH_SECONDS * 3)
        if not POSTGRES:  # WAL readers go on; on PostgreSQL the table cannot be read meanwhile
            assert usage_total(http, gateway, ops, "storer") == 5, "the store was not locked"
        cut()  # the flushes waiting on the lock fail

    assert settled_usage(http, gateway, ops, "storer", 25) == 25
    if POSTGRES:
        assert metric_total(http, gateway, "switchyard_gateway_usage_flush_failures_total") >= 1


@pytest.mark.skipif(not REDIS_URL, reason="the shared cache is Redis only when REDIS_URL is set")
def test_calls_are_served_while_redis_is_unreachable(http, rig):
    gateway, key = rig.gateways["redis"], rig.key("cached")
    assert get(http, gateway, "faqs/cacheable", key).headers["X-Cache"] == "MISS"
    assert get(http, gateway, "faqs/cacheable", key).headers["X-Cache"] == "HIT"
    errors_before = metric_total(http, gateway, "switchyard_gateway_cache_errors_total")

    rig.redis.refuse()
    try:
        # Rate limits fail open, the response cache is skipped, a key not held comes from the
        # database, a wrong key is still refused; none of it waits on Redis for long.
        calls = [
            ("faqs", key, 200),
            ("faqs/cacheable", key, 200),
            ("faqs", rig.key("fresh"), 200),
            ("faqs", {"Authorization": "Bearer sy_not-a-key"}, 401),
        ]
        for _ in range(5):
            for path, headers, status in calls:
                response, elapsed = timed(get, http, gateway, path, headers)
                assert response.status_code == status, response.text
                assert elapsed < 0.5, (path, elapsed)
        assert metric_total(http, gateway, "switchyard_gateway_cache_errors_total") > errors_before
    finally:
        rig.redis.serve()

    assert_the_response_cache_comes_back(http, gateway, key)


@pytest.mark.skipif(not REDIS_URL, reason="the shared cache is Redis only when REDIS_URL is set")
def test_a_hung_redis_costs_a_socket_timeout_every_few_seconds_not_every_call(http, rig):
    gateway, key = rig.gateways["redis"], rig.key("cached")
    rig.redis.stalled.set()  # connections are taken, nothing comes back
    try:
        timings = []
        for path in ["faqs", "faqs/cacheable"] * 10:
            response, elapsed = timed(get, http, gateway, path, key)
            assert response.status_code == 200, response.text
            timings.append(elapsed)
    finally:
        rig.redis.stalled.clear()

    # Redis's 0.25 s socket timeout, once, then the cache is skipped for 2 s.
    assert max(timings) < 0.25 + MARGIN, timings
    assert sum(timings) < 2 * 0.25 + MARGIN, timings
    assert_the_response_cache_comes_back(http, gateway, key)


def assert_the_response_cache_comes_back(http, gateway: Server, key: dict[str, str]) -> None:
    """After the skip window the cache is used again."""
    deadline = time.monotonic() + 10
    while get(http, gateway, "faqs/cacheable", key).headers.get("X-Cache") != "HIT":
        assert time.monotonic() < deadline, "the response cache never came back"
        time.sleep(0.2)


# --- 7. and 8. the gateway stopped under load, a worker killed ------------------------------


class Load:
    """Threads calling the gateway as fast as they can until :meth:`stop`; what they saw."""

    def __init__(
        self, gateway: Server, key: dict[str, str], *, threads: int, new_connections=False
    ):
        self.acknowledged: list[float] = []  # when each 2xx arrived
        self.other = Counter()  # every other outcome: a status, or an exception's name
        self._stop = threading.Event()
        self._lock = threading.Lock()
        headers = {**key, **({"Connection": "close"} if new_connections else {})}
        self._threads = [
            threading.Thread(target=self._run, args=(gateway.url, headers), daemon=True)
            for _ in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _run(self, url: str, headers: dict[str, str]) -> None:
        with requests.Session() as session:
            while not self._stop.is_set():
                try:
                    response = session.get(f"{url}/faq/v2/faqs", headers=headers, timeout=10)
                except requests.RequestException as exc:
                    outcome = type(exc).__name__
                    time.sleep(0.01)
                else:
                    outcome = response.status_code
                with self._lock:
                    if outcome == 200:
                        self.acknowledged.append(time.monotonic())
                    else:
                        self.other[outcome] += 1

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(15)


def test_sigterm_under_load_stores_every_acknowledged_call_once_and_exits_0(http, rig):
    gateway = rig.gateways["sigterm"]
    load = Load(gateway, rig.key("loader"), threads=4)
    try:
        time.sleep(1.5)
        assert len(load.acknowledged) > 20, (load.acknowledged, load.other)
        gateway.process.send_signal(signal.SIGTERM)
        try:
            code, elapsed = timed(gateway.process.wait, timeout=GRACEFUL_SECONDS + 10)
        except subprocess.TimeoutExpired:
            pytest.fail(f"the gateway did not stop after SIGTERM\n{gateway.output()}")
    finally:
        load.stop()

    assert code == 0, gateway.output()
    assert elapsed < GRACEFUL_SECONDS + MARGIN, elapsed
    assert set(load.other) <= {"ConnectionError"}, load.other  # refused once it stopped listening
    stored = stored_calls(gateway, "loader")
    assert stored == Counter({"2xx": len(load.acknowledged)}), (stored, len(load.acknowledged))
    print(f"SIGTERM: {len(load.acknowledged)} acknowledged, {stored} stored, {elapsed:.2f} s")


def worker_pids(server: Server) -> list[int]:
    pid = server.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children]


def test_sigkill_of_a_worker_loses_at_most_one_flush_and_the_metrics_show_how_many(http, rig):
    gateway, key = rig.gateways["kill"], rig.key("victim")
    [victim, _other] = worker_pids(gateway)

    # New connections each time, so the kernel spreads them over both workers.
    load = Load(gateway, key, threads=3, new_connections=True)
    time.sleep(2.5)
    load.stop()
    os.kill(victim, signal.SIGKILL)
    killed = time.monotonic()
    assert not load.other, load.other
    acknowledged = len(load.acknowledged)

    # The surviving worker flushes what it has; the dead one's counters stay in its files.
    time.sleep(KILL_FLUSH_SECONDS * 3)
    answered = metric_total(http, gateway, "switchyard_gateway_requests_total", consumer="victim")
    stored = metric_total(http, gateway, "switchyard_gateway_usage_stored_calls_total")
    dropped = metric_total(http, gateway, "switchyard_gateway_usage_dropped_calls_total")
    counted = stored_calls(gateway, "victim").total()

    lost = acknowledged - counted
    assert answered == acknowledged, (answered, acknowledged)
    assert dropped == 0
    assert answered - stored - dropped == lost, (answered, stored, counted)
    # At most what the killed worker answered since its last flush: within one interval (and
    # the moment a flush takes) before the kill.
    last_interval = sum(
        1 for when in load.acknowledged if when >= killed - KILL_FLUSH_SECONDS - 0.3
    )
    assert 0 <= lost <= last_interval, (lost, last_interval, acknowledged)
    print(
        f"SIGKILL: {acknowledged} acknowledged, {counted} stored, {lost} lost; "
        f"{last_interval} answered in the last flush interval"
    )
