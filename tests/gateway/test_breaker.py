"""gateway/breaker.py: fail fast while an upstream is down, and let one probe find out when it
is back."""

import pytest

from gateway import breaker as breakers
from gateway.breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from tests.gateway.conftest import UPSTREAM, read_timeout, refused
from tests.helpers import assert_problem

ENTRY = f"{UPSTREAM}/v2/faqs/17"


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now

    def advance(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def breaker(clock):
    return CircuitBreaker(failures=3, reset_seconds=10, clock=clock)


def fail(breaker, times):
    for _ in range(times):
        assert breaker.allow() is None
        breaker.failed()


class TestCircuitBreaker:
    def test_a_new_breaker_is_closed_and_lets_calls_through(self, breaker):
        assert breaker.state == CLOSED
        assert [breaker.allow() for _ in range(5)] == [None] * 5

    def test_it_stays_closed_below_the_threshold(self, breaker):
        fail(breaker, 2)

        assert breaker.state == CLOSED
        assert breaker.allow() is None

    def test_it_opens_after_the_threshold_of_failures_in_a_row(self, breaker):
        fail(breaker, 3)

        assert breaker.state == OPEN
        assert breaker.allow() == 10

    def test_a_success_resets_the_count_of_failures(self, breaker):
        fail(breaker, 2)
        breaker.succeeded()
        fail(breaker, 2)

        assert breaker.state == CLOSED

    def test_while_open_it_says_how_long_until_the_next_probe(self, breaker, clock):
        fail(breaker, 3)

        clock.advance(4)

        assert breaker.state == OPEN
        assert breaker.allow() == 6

    def test_after_the_reset_time_exactly_one_probe_goes_through(self, breaker, clock):
        fail(breaker, 3)

        clock.advance(10)

        assert breaker.state == HALF_OPEN
        assert breaker.allow() is None  # the probe
        assert breaker.allow() is not None  # everyone else waits for its verdict
        assert breaker.allow() is not None

    def test_a_successful_probe_closes_it(self, breaker, clock):
        fail(breaker, 3)
        clock.advance(10)
        assert breaker.allow() is None

        breaker.succeeded()

        assert breaker.state == CLOSED
        assert [breaker.allow() for _ in range(3)] == [None] * 3

    def test_a_failed_probe_opens_it_again_for_a_full_reset_time(self, breaker, clock):
        fail(breaker, 3)
        clock.advance(10)
        assert breaker.allow() is None

        breaker.failed()

        assert breaker.state == OPEN
        assert breaker.allow() == 10
        clock.advance(9.5)
        assert breaker.state == OPEN
        clock.advance(0.5)
        assert breaker.state == HALF_OPEN
        assert breaker.allow() is None

    def test_after_closing_it_takes_the_full_threshold_to_open_again(self, breaker, clock):
        fail(breaker, 3)
        clock.advance(10)
        breaker.allow()
        breaker.succeeded()

        fail(breaker, 2)

        assert breaker.state == CLOSED


def test_there_is_one_breaker_per_upstream(settings):
    settings.GATEWAY_BREAKER_FAILURES, settings.GATEWAY_BREAKER_RESET_SECONDS = 5, 30

    faq = breakers.breaker_for("http://faq.internal")

    assert breakers.breaker_for("http://faq.internal") is faq
    assert breakers.breaker_for("http://tickets.internal") is not faq
    assert (faq.threshold, faq.reset_seconds) == (5, 30)


@pytest.mark.django_db
class TestThroughTheGateway:
    @pytest.fixture(autouse=True)
    def _quick(self, settings):
        settings.GATEWAY_RETRIES = 0
        settings.GATEWAY_BREAKER_FAILURES = 3
        settings.GATEWAY_BREAKER_RESET_SECONDS = 30

    def test_after_the_threshold_of_failures_calls_fail_fast_without_reaching_it(
        self, gateway, upstream
    ):
        upstream.get(ENTRY, body=refused())
        for _ in range(3):
            assert_problem(gateway.get("/faq/v2/faqs/17"), 502)
        assert len(upstream.calls) == 3

        response = gateway.get("/faq/v2/faqs/17")

        body = assert_problem(response, 503)
        assert "faq is unavailable" in body["detail"]
        assert 1 <= int(response["Retry-After"]) <= 30
        assert len(upstream.calls) == 3

    def test_timeouts_count_as_failures_too(self, gateway, upstream):
        upstream.get(ENTRY, body=read_timeout())
        for _ in range(3):
            assert_problem(gateway.get("/faq/v2/faqs/17"), 504)

        assert_problem(gateway.get("/faq/v2/faqs/17"), 503)
        assert len(upstream.calls) == 3

    def test_error_answers_from_the_upstream_are_not_failures(self, gateway, upstream):
        # A 500 means the upstream is up and answering; only the service can fix it.
        upstream.get(ENTRY, status=500, json={"status": 500})
        for _ in range(5):
            assert gateway.get("/faq/v2/faqs/17").status_code == 500

        assert len(upstream.calls) == 5

    def test_a_success_in_between_keeps_it_closed(self, gateway, upstream):
        down = refused()
        for body in (down, down, {"id": 17}, down, down):
            if isinstance(body, dict):
                upstream.get(ENTRY, json=body)
            else:
                upstream.get(ENTRY, body=body)
        upstream.get(ENTRY, json={"id": 17})

        statuses = [gateway.get("/faq/v2/faqs/17").status_code for _ in range(6)]

        assert statuses == [502, 502, 200, 502, 502, 200]

    def test_other_upstreams_are_not_affected(self, gateway, upstream):
        breakers.breaker_for("http://faq-old.internal")
        for _ in range(3):
            breakers.breaker_for("http://faq-old.internal").failed()
        upstream.get(ENTRY, json={"id": 17})

        assert gateway.get("/faq/v2/faqs/17").status_code == 200

    def test_once_the_reset_time_is_over_a_probe_closes_it(self, gateway, upstream, monkeypatch):
        clock = Clock()
        faq = breakers.breaker_for(UPSTREAM)
        monkeypatch.setattr(faq, "clock", clock)
        upstream.get(ENTRY, body=refused())
        for _ in range(3):
            gateway.get("/faq/v2/faqs/17")
        assert_problem(gateway.get("/faq/v2/faqs/17"), 503)
        upstream.replace("GET", ENTRY, json={"id": 17})

        clock.advance(30)
        response = gateway.get("/faq/v2/faqs/17")

        assert response.status_code == 200
        assert faq.state == CLOSED
        assert gateway.get("/faq/v2/faqs/17").status_code == 200
        assert len(upstream.calls) == 5
