"""gateway/bulkhead.py: each upstream has a bounded share of the calls in flight; a call over it
is refused at once with 503, counted, and never reaches the upstream."""

import pytest

from gateway import metrics
from gateway.bulkhead import Bulkhead, bulkhead_for
from tests.gateway.conftest import UPSTREAM, refused
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ENTRY = f"{UPSTREAM}/v2/faqs/17"


def test_a_bulkhead_admits_up_to_its_limit_and_again_once_a_call_leaves():
    bulkhead = Bulkhead(2)

    assert [bulkhead.enter(), bulkhead.enter(), bulkhead.enter()] == [True, True, False]
    assert bulkhead.in_flight == 2
    bulkhead.leave()
    assert bulkhead.enter() is True


def test_a_limit_below_one_still_admits_one_call():
    assert Bulkhead(0).enter() is True


class TestThroughTheGateway:
    @pytest.fixture
    def full(self, settings, routed):
        """The FAQ's share is taken by calls still in flight."""
        settings.GATEWAY_UPSTREAM_CONCURRENCY = 2
        bulkhead = bulkhead_for(UPSTREAM)
        assert bulkhead.enter() and bulkhead.enter()
        return bulkhead

    def test_a_call_over_the_share_is_a_fast_503_that_never_leaves(self, gateway, upstream, full):
        upstream.get(ENTRY, json={"id": 17})

        response = gateway.get("/faq/v2/faqs/17")

        body = assert_problem(response, 503)
        assert body["detail"] == "faq has too many calls in flight; retry shortly."
        assert response["Retry-After"] == "1"
        assert upstream.calls == []

    def test_it_is_counted_as_a_server_error_and_an_upstream_failure(
        self, gateway, upstream, full, recorder
    ):
        before = metrics._child(metrics.UPSTREAM_FAILURES, "faq", "bulkhead-full")._value.get()

        gateway.get("/faq/v2/faqs/17")

        after = metrics._child(metrics.UPSTREAM_FAILURES, "faq", "bulkhead-full")._value.get()
        assert after == before + 1
        [(key, tally)] = recorder._pending.items()
        assert (key.consumer, key.status_class, tally.count) == ("alice", "5xx", 1)

    def test_once_a_call_leaves_the_next_one_goes_through(self, gateway, upstream, full):
        upstream.get(ENTRY, json={"id": 17})
        full.leave()

        assert gateway.get("/faq/v2/faqs/17").status_code == 200

    def test_other_upstreams_have_their_own_share(self, gateway, upstream, full):
        assert bulkhead_for("http://tickets.internal").enter() is True


@pytest.mark.parametrize(
    "reply",
    [
        {"json": {"id": 17}},
        {"body": b"x" * 200_000},  # streamed: the slot is held until the body has gone out
        {"body": refused()},
    ],
    ids=["answered", "streamed", "failed"],
)
def test_every_call_gives_its_slot_back(gateway, upstream, reply):
    upstream.get(ENTRY, **reply)

    gateway.get("/faq/v2/faqs/17")

    assert bulkhead_for(UPSTREAM).in_flight == 0
