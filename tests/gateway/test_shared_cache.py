"""gateway/shared_cache.py: a shared cache that is down (or hung) never fails a call; the hot path
goes on without it (rate limits and the response cache fail open, keys come from the database)
and leaves it alone for a few seconds after each error."""

import json
import logging

import pytest
from django.core.cache.backends.locmem import LocMemCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gateway import metrics
from gateway.conf import hot
from gateway.ratelimit import count_in_cache
from gateway.shared_cache import GuardedCache
from tests.gateway.conftest import UPSTREAM
from tests.helpers import assert_problem

ENTRY = f"{UPSTREAM}/v2/faqs/17"
BODY = json.dumps({"id": 17}).encode()


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class DownBackend:
    """A cache backend whose server is gone: every operation raises, as Django's RedisCache
    does then. ``calls`` counts the operations that reached it."""

    def __init__(self, error: Exception | None = None):
        self.error = error or RedisConnectionError("Error 111 connecting to 127.0.0.1:6379.")
        self.calls = 0

    def __getattr__(self, name):
        def operation(*args, **kwargs):
            self.calls += 1
            raise self.error

        return operation


def working() -> LocMemCache:
    return LocMemCache(f"guard-{id(object())}", {})


def errors(operation: str) -> float:
    return metrics.CACHE_ERRORS.labels(operation)._value.get()


@pytest.mark.parametrize("error", [RedisConnectionError("refused"), RedisTimeoutError("slow")])
def test_every_operation_answers_as_an_empty_cache_when_the_backend_fails(error):
    cache = GuardedCache(DownBackend(error), skip_seconds=0)

    assert cache.get("k") is None
    assert cache.get("k", "default") == "default"
    assert cache.get_many(["a", "b"]) == {}
    assert cache.set("k", 1, 10) is None
    assert cache.add("k", 0, 10) is False
    assert cache.incr("k") == 0
    assert cache.delete("k") is False


def test_an_error_is_counted_and_logged_once_per_outage_without_the_address(caplog):
    cache = GuardedCache(DownBackend(), skip_seconds=0)
    before = errors("get")

    with caplog.at_level(logging.INFO, logger="switchyard.cache"):
        for _ in range(3):
            cache.get("k")

    assert errors("get") == before + 3
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert warning.error == "ConnectionError" and warning.operation == "get"
    assert "6379" not in caplog.text


def test_after_an_error_the_backend_is_skipped_for_a_while_then_tried_again(caplog):
    clock = Clock()
    backend = DownBackend()
    cache = GuardedCache(backend, skip_seconds=2, clock=clock)

    cache.get("k")
    for _ in range(50):
        assert cache.incr("k") == 0
    assert backend.calls == 1, "a down cache was asked on every call"
    assert not cache.available

    clock.now += 2
    assert cache.available
    cache.get("k")
    assert backend.calls == 2


def test_it_says_so_when_the_backend_works_again(caplog):
    clock = Clock()
    cache = GuardedCache(DownBackend(), skip_seconds=1, clock=clock)
    cache.get("k")
    cache.backend = working()
    cache.backend.set("k", "v")
    clock.now += 1

    with caplog.at_level(logging.INFO, logger="switchyard.cache"):
        assert cache.get("k") == "v"

    assert "shared cache works again" in caplog.text


def test_a_working_backend_answers_as_it_would_and_a_missing_count_still_opens_a_window():
    cache = GuardedCache(working())

    assert count_in_cache(cache, "gw:rl:1:7") == 1  # ValueError (no count yet) is not an error
    assert count_in_cache(cache, "gw:rl:1:7") == 2
    cache.set("k", "v")
    assert cache.get("k") == "v" and cache.get_many(["k", "x"]) == {"k": "v"}


# --- the hot path over a cache that is down ---------------------------------------------------


@pytest.fixture
def cache_down(monkeypatch):
    backend = DownBackend()
    monkeypatch.setattr(hot().cache, "backend", backend)
    monkeypatch.setattr(hot().cache, "skip_seconds", 0)  # every call meets the error
    return backend


@pytest.mark.django_db
def test_calls_are_served_when_the_cache_is_down(gateway, upstream, cache_down):
    upstream.get(
        ENTRY,
        body=BODY,
        content_type="application/json",
        headers={"Cache-Control": "public, max-age=60", "Content-Length": str(len(BODY))},
    )

    # The key from the database, the rate limit counted nowhere, the response cache skipped.
    responses = [gateway.get("/faq/v2/faqs/17") for _ in range(3)]

    assert [r.status_code for r in responses] == [200] * 3
    assert [r["X-Cache"] for r in responses] == ["MISS"] * 3
    assert len(upstream.calls) == 3
    assert cache_down.calls > 0


@pytest.mark.django_db
def test_a_wrong_key_is_still_refused_when_the_cache_is_down(gateway, upstream, cache_down):
    response = gateway.get("/faq/v2/faqs/17", key="sy_not-a-key")

    assert_problem(response, 401)
    assert upstream.calls == []
