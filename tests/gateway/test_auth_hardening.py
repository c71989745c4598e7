"""Issue 10's findings on keys: failed authentications are limited per client address, and a
rotated or revoked key stops working everywhere within a second, without a query per call.

"Another process" (``manage.py consumers``, or another gateway instance) is played by changing the
database behind this process's back: the row with a queryset ``update()`` (no signal, nothing
dropped here) and the key-change marker with :func:`other_process_changed_keys`.
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from django.db.models import F
from django.utils import timezone

import tests.gateway.conftest as gateway_conftest
from gateway import auth, ratelimit
from gateway.edge import PROXIED, Call
from gateway.models import Consumer, KeyChange
from tests.gateway.conftest import UPSTREAM, asgi_scope
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

FAQ = "/faq/v2/faqs/17"
# 40 s into a one-minute window: 20 s are left in it.
FROZEN = 60 * 28_000_000 + 40.0


@pytest.fixture(autouse=True)
def wall_clock(monkeypatch):
    """The windows' clock (gateway.ratelimit's ``time``) stands still until a test moves it."""
    clock = SimpleNamespace(time=lambda: clock.now, now=FROZEN)
    monkeypatch.setattr(ratelimit, "time", clock)
    return clock


@pytest.fixture(autouse=True)
def steady_clock(monkeypatch):
    """The clock held key answers are aged by (gateway.auth's ``_now``)."""
    clock = SimpleNamespace(now=1000.0)
    monkeypatch.setattr(auth, "_now", lambda: clock.now)
    return clock


@pytest.fixture
def upstream(upstream):
    upstream.get(f"{UPSTREAM}/v2/faqs/17", json={"id": 17})
    return upstream


@pytest.fixture
def address(monkeypatch):
    """Which socket peer the next calls come from: ``address.set("10.0.0.2")``."""
    current = SimpleNamespace(value="127.0.0.1")

    def scope(*args, **kwargs):
        made = asgi_scope(*args, **kwargs)
        made["client"] = (current.value, 50000)
        return made

    monkeypatch.setattr(gateway_conftest, "asgi_scope", scope)
    current.set = lambda value: setattr(current, "value", value)
    return current


def guess(gateway, times: int, **kwargs) -> list[int]:
    return [gateway.get(FAQ, key=auth.new_key(), **kwargs).status_code for _ in range(times)]


def other_process_changed_keys() -> None:
    """What ``keys_changed`` does in the database, without touching this process's memory."""
    if not KeyChange.objects.filter(pk=1).update(serial=F("serial") + 1):
        KeyChange.objects.create(pk=1, serial=1)


# --- failed authentications per client address ---------------------------------------------------


class TestFailedAuthentications:
    @pytest.fixture(autouse=True)
    def limit(self, settings):
        settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 3

    def test_after_n_failures_the_address_gets_a_429_that_touches_no_database(
        self, gateway, upstream, django_assert_num_queries
    ):
        assert guess(gateway, 3) == [401, 401, 401]

        with django_assert_num_queries(0):
            response = gateway.get(FAQ, key=auth.new_key())

        body = assert_problem(response, 429)
        assert "failed authentications" in body["detail"]
        assert 20 <= int(response["Retry-After"]) <= 21
        assert upstream.calls == []

    def test_missing_and_malformed_keys_count_as_failures(self, anonymous, upstream):
        assert anonymous.get(FAQ).status_code == 401
        assert (
            anonymous.get(FAQ, headers={"Authorization": "Basic YWxpY2U6eA=="}).status_code == 401
        )
        assert anonymous.get(FAQ, headers={"Authorization": "Bearer"}).status_code == 401

        assert_problem(anonymous.get(FAQ, headers={"Authorization": "Bearer sy_x"}), 429)
        assert_problem(anonymous.get(FAQ), 429)

    def test_rotated_and_revoked_keys_count_as_failures(self, gateway, key, make_consumer):
        _, bob_key = make_consumer("bob")
        auth.consumer_rotate(name="alice")
        auth.consumer_revoke(name="bob")

        statuses = [gateway.get(FAQ, key=k).status_code for k in (key, bob_key, key)]

        assert statuses == [401, 401, 401]
        assert_problem(gateway.get(FAQ, key=key), 429)

    def test_a_guesser_is_limited_while_another_address_is_not(self, gateway, address):
        address.set("198.51.100.7")
        assert guess(gateway, 4) == [401, 401, 401, 429]

        address.set("203.0.113.9")
        assert guess(gateway, 1) == [401]
        assert gateway.get(FAQ).status_code == 200  # alice's key, looked up from here

    def test_a_key_held_as_valid_still_gets_through_from_a_throttled_address(
        self, gateway, address, django_assert_num_queries
    ):
        address.set("192.0.2.1")  # a NAT: alice and a guesser behind it
        assert gateway.get(FAQ).status_code == 200  # now held by this worker
        assert guess(gateway, 4) == [401, 401, 401, 429]

        with django_assert_num_queries(0):
            assert gateway.get(FAQ).status_code == 200

    def test_a_valid_key_the_worker_does_not_hold_waits_like_the_guesser(
        self, gateway, make_consumer
    ):
        # The trade-off authenticate's docstring names: not held means looked up, and a
        # throttled address gets no look-ups.
        _, bob_key = make_consumer("bob")
        assert guess(gateway, 3) == [401, 401, 401]

        assert_problem(gateway.get(FAQ, key=bob_key), 429)

    def test_the_limit_lifts_when_the_window_ends(self, gateway, wall_clock, make_consumer):
        _, bob_key = make_consumer("bob")
        assert guess(gateway, 4) == [401, 401, 401, 429]

        wall_clock.now += 19
        assert guess(gateway, 1) == [429]
        wall_clock.now += 1  # the next minute
        assert gateway.get(FAQ, key=bob_key).status_code == 200
        assert guess(gateway, 4) == [401, 401, 401, 429]

    def test_failures_are_counted_per_address_never_per_consumer(
        self, gateway, key, address, make_consumer
    ):
        # Someone replays alice's old key (and tries names) from one address ...
        auth.consumer_rotate(name="alice")
        address.set("198.51.100.7")
        assert [gateway.get(FAQ, key=key).status_code for _ in range(4)] == [401] * 3 + [429]
        # ... alice's new key, not held anywhere yet, works from hers.
        _, new_key = auth.consumer_rotate(name="alice")
        auth.forget_all()
        address.set("203.0.113.9")
        assert gateway.get(FAQ, key=new_key).status_code == 200

    def test_zero_turns_the_limit_off(self, gateway, settings):
        settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 0

        assert guess(gateway, 40) == [401] * 40

    def test_the_default_is_thirty_a_minute(self, gateway, settings):
        settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 30

        assert guess(gateway, 31) == [401] * 30 + [429]

    def test_counting_a_failure_is_one_cache_operation(self, monkeypatch):
        limiter = ratelimit.FailedAuthLimiter()
        limiter.failed("192.0.2.1")  # opens the window
        calls = []
        cache = ratelimit.hot().cache
        for name in ("get", "set", "add", "incr", "delete"):
            original = getattr(cache, name)

            def counted(*args, _name=name, _original=original, **kwargs):
                calls.append(_name)
                return _original(*args, **kwargs)

            monkeypatch.setattr(cache, name, counted)

        limiter.failed("192.0.2.1")

        # Django's Redis and locmem backends do an INCR in one operation of theirs.
        assert calls == ["incr"]


class TestClientAddress:
    @staticmethod
    def client(forwarded: str | None = None) -> str:
        headers = {} if forwarded is None else {"X-Forwarded-For": forwarded}
        scope = asgi_scope("GET", FAQ, headers)
        scope["client"] = ("10.1.1.1", 40000)  # the router
        return Call(scope, PROXIED.match(FAQ)).client

    def test_without_trusted_hops_it_is_the_socket_peer(self):
        assert self.client("203.0.113.9") == "10.1.1.1"

    def test_one_hop_takes_the_last_entry_the_router_appended(self, settings):
        settings.GATEWAY_TRUSTED_PROXY_HOPS = 1

        assert self.client("203.0.113.9") == "203.0.113.9"
        # What the client wrote itself is to the left of what the router appended.
        assert self.client("6.6.6.6, 203.0.113.9") == "203.0.113.9"

    def test_two_hops_take_the_second_from_the_right(self, settings):
        settings.GATEWAY_TRUSTED_PROXY_HOPS = 2

        assert self.client("6.6.6.6, 203.0.113.9, 10.2.2.2") == "203.0.113.9"

    def test_fewer_entries_than_hops_or_none_fall_back_to_the_peer(self, settings):
        settings.GATEWAY_TRUSTED_PROXY_HOPS = 2

        assert self.client("203.0.113.9") == "10.1.1.1"
        assert self.client(None) == "10.1.1.1"
        settings.GATEWAY_TRUSTED_PROXY_HOPS = 1
        assert self.client("203.0.113.9, ") == "10.1.1.1"
        assert self.client("x" * 65) == "10.1.1.1"

    def test_the_limit_follows_the_forwarded_address_only_with_trusted_hops(
        self, gateway, settings
    ):
        settings.GATEWAY_AUTH_FAILURES_PER_MINUTE = 3
        # Untrusted: every made-up X-Forwarded-For is still the same peer.
        spoofed = [
            gateway.get(FAQ, key=auth.new_key(), headers={"X-Forwarded-For": f"10.9.9.{i}"})
            for i in range(4)
        ]
        assert [r.status_code for r in spoofed] == [401, 401, 401, 429]

        settings.GATEWAY_TRUSTED_PROXY_HOPS = 1
        guesser = {"X-Forwarded-For": "198.51.100.7"}
        assert guess(gateway, 4, headers=guesser) == [401, 401, 401, 429]
        neighbour = {"X-Forwarded-For": "6.6.6.6, 203.0.113.9"}
        assert guess(gateway, 1, headers=neighbour) == [401]
        framed = {"X-Forwarded-For": "203.0.113.9, 198.51.100.7"}
        assert guess(gateway, 1, headers=framed) == [429]


# --- rotation and revocation reach every process -------------------------------------------------


class TestKeyChanges:
    def test_a_held_key_costs_no_query_while_polls_find_no_change(
        self, gateway, steady_clock, django_assert_num_queries
    ):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        for _ in range(5):  # well past a second, confirmed twice a second
            steady_clock.now += 0.5
            auth.poll()
            with django_assert_num_queries(0):
                assert gateway.get(FAQ).status_code == 200

    def test_a_rotation_elsewhere_is_seen_after_one_poll(
        self, gateway, key, django_assert_num_queries
    ):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        new_key = auth.new_key()
        Consumer.objects.filter(name="alice").update(
            key_hash=auth.hash_key(new_key), rotated_at=timezone.now()
        )
        other_process_changed_keys()
        with django_assert_num_queries(0):  # held, and no poll yet: no per-call query
            assert gateway.get(FAQ).status_code == 200

        assert auth.poll() is True

        assert_problem(gateway.get(FAQ, key=key), 401)
        assert gateway.get(FAQ, key=new_key).status_code == 200

    def test_a_revocation_elsewhere_is_seen_after_one_poll(self, gateway):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        Consumer.objects.filter(name="alice").update(revoked_at=timezone.now())
        other_process_changed_keys()

        auth.poll()

        assert_problem(gateway.get(FAQ), 401)

    def test_an_answer_from_the_shared_cache_is_not_trusted_after_a_change(self, gateway):
        # Another worker put alice's key in the shared cache (locmem here: a cache that the
        # process changing the key could never clear).
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        auth._held.clear()
        assert gateway.get(FAQ).status_code == 200  # from the shared cache
        auth._held.clear()
        Consumer.objects.filter(name="alice").update(revoked_at=timezone.now())
        other_process_changed_keys()

        auth.poll()

        assert_problem(gateway.get(FAQ), 401)

    def test_the_shared_cache_saves_the_database_while_the_marker_is_confirmed(
        self, gateway, django_assert_num_queries
    ):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        auth._held.clear()  # another worker, which has not looked alice up itself

        with django_assert_num_queries(0):
            assert gateway.get(FAQ).status_code == 200

    def test_without_a_confirming_poll_a_held_answer_lasts_a_second(
        self, gateway, steady_clock, django_assert_num_queries
    ):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        steady_clock.now += 0.9
        with django_assert_num_queries(0):
            assert gateway.get(FAQ).status_code == 200

        steady_clock.now += 0.2  # the poller stalled (or the database is down)

        with django_assert_num_queries(1):  # not the shared cache either: the marker is old
            assert gateway.get(FAQ).status_code == 200

    def test_a_change_here_is_seen_here_at_once(self, gateway, key):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200

        auth.consumer_revoke(name="alice")

        assert_problem(gateway.get(FAQ, key=key), 401)

    @pytest.mark.parametrize(
        "change",
        [
            lambda: auth.consumer_create(name="carol", owner="C", contact="c@example.com"),
            lambda: auth.consumer_rotate(name="alice"),
            lambda: auth.consumer_revoke(name="alice"),
            lambda: Consumer.objects.filter(name="alice").get().delete(),
            lambda: Consumer.objects.get(name="alice").save(),
        ],
        ids=["create", "rotate", "revoke", "delete", "save"],
    )
    def test_every_change_to_a_consumer_moves_the_marker(self, alice, change):
        before = auth.read_marker()

        change()

        assert auth.read_marker() > before

    def test_a_changed_rate_limit_is_seen_after_a_poll(self, gateway, settings):
        auth.poll()
        assert gateway.get(FAQ).status_code == 200
        consumer = Consumer.objects.get(name="alice")
        consumer.rate_limit_per_minute = 2
        consumer.save()  # here: dropped at once; elsewhere: at the next poll

        # The first call counted already: one more within the new limit of two.
        assert [gateway.get(FAQ).status_code for _ in range(2)] == [200, 429]


@pytest.mark.django_db(transaction=True)
def test_the_poller_thread_starts_on_first_use_sees_changes_and_stops(
    gateway, settings, monkeypatch
):
    monkeypatch.setattr(auth, "_now", time.monotonic)
    settings.GATEWAY_KEY_POLL_SECONDS = 0.05
    assert gateway.get(FAQ).status_code == 200  # the first look-up starts it
    threads = [t for t in threading.enumerate() if t.name == "key-changes"]
    assert len(threads) == 1
    generation = auth._view.generation

    other_process_changed_keys()
    deadline = time.monotonic() + 2
    while auth._view.generation == generation and time.monotonic() < deadline:
        time.sleep(0.01)

    assert auth._view.generation > generation
    assert auth._held == {}
    auth.stop_poller()
    assert not threads[0].is_alive()


def test_the_commands_say_when_the_old_key_stops_working(alice):
    from io import StringIO

    from django.core.management import call_command

    rotated, revoked = StringIO(), StringIO()
    call_command("consumers", "rotate", "alice", stdout=rotated)
    call_command("consumers", "revoke", "alice", stdout=revoked)

    assert "within a second" in rotated.getvalue().splitlines()[0]
    assert "within a second" in revoked.getvalue()
