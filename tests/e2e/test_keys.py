"""Keys over real processes: a real gateway (gunicorn, 2 workers, no Redis: each worker's cache is
its own) in front of the real FAQ service.

A key rotated or revoked by ``manage.py consumers`` (a process of its own, which can clear no
worker's memory) stops working on every worker within a second, and the new key works; guessed
keys from one address end in 429 while a consumer's valid key keeps working.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest
import requests

from tests.e2e.conftest import REPO_ROOT, Launcher, create_consumers, wait_until_healthy
from tests.helpers import assert_problem

pytestmark = pytest.mark.e2e

WITHIN = 1.0  # what the gateway promises
MARGIN = 0.5  # a busy machine, and the call's own round trip
GUESS_LIMIT = 10  # per worker without Redis: 40 guesses over 2 workers are over it on one at least


def bearer(key: str) -> dict[str, str]:
    # A fresh connection per call: the kernel spreads them over the workers (SO_REUSEPORT).
    return {"Authorization": f"Bearer {key}", "Connection": "close"}


def gateway_settings(faq_url: str, **extra: str) -> dict[str, str | None]:
    inherited = {
        name: None
        for name in os.environ
        if name.startswith(("GATEWAY_", "GUNICORN_")) or name.endswith("_UPSTREAM")
    }
    return {
        **inherited,
        "FAQ_UPSTREAM": faq_url,
        "REDIS_URL": None,  # the case where the old key used to live on for 10 s
        "CACHE_KEY_PREFIX": None,
        "WEB_CONCURRENCY": "2",
        "SECURE_SSL_REDIRECT": "0",
        "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
        **extra,
    }


@pytest.fixture(scope="module")
def system(tmp_path_factory):
    directory = tmp_path_factory.mktemp("e2e-keys")
    with requests.Session() as http:
        launcher = Launcher(directory, http)
        try:
            faq = launcher.spawn("faq")
            # The rotation's gateway counts no failures: what it checks is the old key's 401s.
            keys = launcher.spawn(
                "gateway",
                label="gw_keys",
                **gateway_settings(faq.url, GATEWAY_AUTH_FAILURES_PER_MINUTE="0"),
            )
            guard = launcher.spawn(
                "gateway",
                label="gw_guard",
                **gateway_settings(faq.url, GATEWAY_AUTH_FAILURES_PER_MINUTE=str(GUESS_LIMIT)),
            )
            key_of = create_consumers(keys, {"rotor": False, "revokee": False})
            key_of.update(create_consumers(guard, {"natted": False}))
            for server in (faq, keys, guard):
                wait_until_healthy(server, http)
            # Something to read through the gateway.
            entry = http.post(
                f"{faq.url}/v2/faqs",
                json={"question": "Where are my keys?", "source": {"kind": "other"}},
                timeout=10,
            )
            assert entry.status_code == 201, entry.text
            yield {
                "keys": keys,
                "guard": guard,
                "key": key_of,
                "path": f"/faq/v2/faqs/{entry.json()['id']}",
            }
        finally:
            launcher.close()


def statuses(server, key: str, path: str, times: int) -> list[int]:
    return [
        requests.get(f"{server.url}{path}", headers=bearer(key), timeout=10).status_code
        for _ in range(times)
    ]


def workers_of(server) -> int:
    return sum("Booting worker" in line for line in server.stderr().splitlines())


def change(server, *args: str) -> tuple[list[str], float]:
    """Run ``manage.py consumers ARGS`` as an operator would; its output, and when (monotonic)
    its first line arrived: the change is committed before the command says anything."""
    env = {**server.env, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "manage.py", "consumers", *args],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    first = process.stdout.readline()
    said_at = time.monotonic()
    # From the same buffered reader: communicate() would miss what readline() buffered.
    rest, errors = process.stdout.read(), process.stderr.read()
    assert process.wait(timeout=60) == 0, errors
    return [first.rstrip("\n"), *rest.splitlines()], said_at


def refused_everywhere(server, key: str, path: str, since: float) -> float:
    """Seconds from ``since`` until a round of calls with ``key`` is refused by every call."""
    while True:
        round_ = statuses(server, key, path, 8)
        elapsed = time.monotonic() - since
        if set(round_) == {401}:
            return elapsed
        assert set(round_) <= {200, 401}, round_
        if elapsed > WITHIN + MARGIN:
            pytest.fail(f"the old key still worked {elapsed:.2f} s after the change: {round_}")


def test_a_rotated_key_stops_working_on_every_worker_within_a_second(system):
    keys, path, old = system["keys"], system["path"], system["key"]["rotor"]
    assert statuses(keys, old, path, 40) == [200] * 40  # both workers hold it now
    assert workers_of(keys) == 2

    lines, said_at = change(keys, "rotate", "rotor")
    took = refused_everywhere(keys, old, path, said_at)

    new = lines[-1]
    assert "within a second" in lines[0]
    assert statuses(keys, old, path, 20) == [401] * 20
    assert statuses(keys, new, path, 20) == [200] * 20
    print(f"\nrotation: the old key refused by every call {took:.2f} s after the command said so")


def test_a_revoked_key_stops_working_on_every_worker_within_a_second(system):
    keys, path, key = system["keys"], system["path"], system["key"]["revokee"]
    assert statuses(keys, key, path, 40) == [200] * 40

    lines, said_at = change(keys, "revoke", "revokee")
    took = refused_everywhere(keys, key, path, said_at)

    assert "within a second" in lines[0]
    for response in [
        requests.get(f"{keys.url}{path}", headers=bearer(key), timeout=10) for _ in range(20)
    ]:
        assert_problem(response, 401)
    print(f"\nrevocation: the key refused by every call {took:.2f} s after the command said so")


def test_guessed_keys_from_one_address_get_429_while_a_held_valid_key_keeps_working(system):
    guard, path, valid = system["guard"], system["path"], system["key"]["natted"]
    assert statuses(guard, valid, path, 40) == [200] * 40  # held by both workers

    guesses = [
        requests.get(f"{guard.url}{path}", headers=bearer(f"sy_guess{i:03d}"), timeout=10)
        for i in range(40)
    ]

    codes = [response.status_code for response in guesses]
    assert set(codes) == {401, 429}, codes
    assert codes.count(401) <= 2 * GUESS_LIMIT  # each worker lets at most its limit through
    throttled = [response for response in guesses if response.status_code == 429]
    body = assert_problem(throttled[0], 429)
    assert "failed authentications" in body["detail"]
    assert all(1 <= int(response.headers["Retry-After"]) <= 61 for response in throttled)
    # The consumer behind the same address (a NAT) keeps working: its key is held.
    assert statuses(guard, valid, path, 20) == [200] * 20
