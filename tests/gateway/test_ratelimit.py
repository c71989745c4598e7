"""gateway/ratelimit.py: calls per consumer per minute, counted in the shared cache."""

from types import SimpleNamespace

import pytest

from gateway import ratelimit
from gateway.ratelimit import CacheRateLimiter, MemoryRateLimiter, NoRateLimiter
from tests.gateway.conftest import UPSTREAM
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ENTRY = f"{UPSTREAM}/v2/faqs/17"
# 40 s into a one-minute window: 20 s are left in it.
FROZEN = 60 * 28_000_000 + 40.0


@pytest.fixture(autouse=True)
def frozen_minute(monkeypatch):
    """The limiter's clock stands still, so no test straddles the turn of a minute."""
    clock = SimpleNamespace(time=lambda: clock.now, now=FROZEN)
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture
def upstream(upstream):
    upstream.get(ENTRY, json={"id": 17})
    return upstream


def statuses(gateway, times, **kwargs):
    return [gateway.get("/faq/v2/faqs/17", **kwargs).status_code for _ in range(times)]


def test_the_call_over_the_limit_is_a_429_that_does_not_reach_the_upstream(
    gateway, upstream, settings
):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 3
    assert statuses(gateway, 3) == [200, 200, 200]

    response = gateway.get("/faq/v2/faqs/17")

    body = assert_problem(response, 429)
    assert "alice is over its rate limit" in body["detail"]
    assert response["Retry-After"].isdigit()
    assert 20 <= int(response["Retry-After"]) <= 21
    assert len(upstream.calls) == 3


def test_the_limit_holds_for_the_rest_of_the_minute_and_lifts_with_the_next(
    gateway, upstream, settings, frozen_minute
):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 2
    assert statuses(gateway, 4) == [200, 200, 429, 429]

    frozen_minute.now += 19
    assert statuses(gateway, 1) == [429]
    frozen_minute.now += 1

    assert statuses(gateway, 3) == [200, 200, 429]


def test_a_consumers_own_limit_overrides_the_default(gateway, make_consumer, upstream, settings):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 3
    _, generous = make_consumer("batch-job", rate_limit_per_minute=5)
    _, strict = make_consumer("trial", rate_limit_per_minute=1)

    assert statuses(gateway, 6, key=generous) == [200] * 5 + [429]
    assert statuses(gateway, 2, key=strict) == [200, 429]


def test_consumers_are_counted_separately(gateway, make_consumer, upstream, settings):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 2
    _, bob = make_consumer("bob")

    assert statuses(gateway, 3) == [200, 200, 429]
    assert statuses(gateway, 3, key=bob) == [200, 200, 429]


def test_calls_without_a_valid_key_do_not_use_up_a_consumers_limit(
    gateway, anonymous, upstream, settings
):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 2

    for _ in range(3):
        assert_problem(anonymous.get("/faq/v2/faqs/17"), 401)

    assert statuses(gateway, 2) == [200, 200]


def test_a_limit_of_zero_means_unlimited(gateway, upstream, settings):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 0

    assert statuses(gateway, 5) == [200] * 5


def test_the_limiter_is_pluggable(gateway, upstream, settings):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 1
    settings.GATEWAY_RATE_LIMITER = "gateway.ratelimit.NoRateLimiter"

    assert statuses(gateway, 3) == [200, 200, 200]


class TestCacheRateLimiter:
    def test_check_says_none_within_the_limit_then_the_seconds_to_wait(self, alice, settings):
        settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 2
        limiter = CacheRateLimiter()
        consumer = alice[0]

        assert [limiter.check(consumer) for _ in range(2)] == [None, None]
        wait = limiter.check(consumer)
        assert isinstance(wait, int) and 20 <= wait <= 21

    def test_the_no_limiter_never_says_wait(self, alice):
        assert {NoRateLimiter().check(alice[0]) for _ in range(1000)} == {None}


def test_the_memory_limiter_counts_each_window_here_and_forgets_it_when_over(
    alice, settings, frozen_minute
):
    settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 1
    limiter, consumer = MemoryRateLimiter(), alice[0]

    assert [limiter.check(consumer), limiter.check(consumer) is not None] == [None, True]
    frozen_minute.now += 60

    assert limiter.check(consumer) is None  # a new window
    assert list(ratelimit._here) == [(consumer.pk, int(frozen_minute.now // 60))]
