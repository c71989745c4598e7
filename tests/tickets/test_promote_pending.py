"""`manage.py promote_pending`: promotions outlive an FAQ outage, and reach it exactly once."""

import io
import os
import signal
import threading

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from rest_framework.test import APIClient

from services.kit.outbox import Pass
from services.tickets import services
from services.tickets.models import FaqPromotion
from services.tickets.worker import promotions
from tests.tickets.fakes import FakeFaq, sent_json


def promote_pending(*args) -> str:
    out = io.StringIO()
    call_command("promote_pending", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db(transaction=True)
def test_resolved_while_the_faq_is_down_then_delivered_once_when_it_is_back(faq, conforms):
    # Nothing answers at FAQ_API yet: every call fails to connect.
    api = APIClient()
    created = api.post(
        "/v2/tickets",
        {
            "subject": "Why was my card declined?",
            "body": "Renewal failed.",
            "requester": {"email": "ada@example.com"},
        },
        format="json",
    ).json()

    response = conforms(
        "v2",
        api.post(
            f"/v2/tickets/{created['id']}/resolve",
            {"answer": "Your bank blocked it.", "promote": {"related": []}},
            format="json",
        ),
    )

    # Resolved all the same; the promotion waits.
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "resolved"
    assert body["promotion"]["status"] == "pending"
    assert body["promotion"]["attempts"] == 1
    assert "unreachable" in body["promotion"]["last_error"]
    assert FaqPromotion.objects.get().status == "pending"

    fake = FakeFaq(faq, "v2")
    assert "1 sent, 0 failed, 0 still pending" in promote_pending()
    assert "0 sent, 0 failed, 0 still pending" in promote_pending()

    assert len(fake.requests) == 1
    assert len(fake.entries) == 1
    promotion = FaqPromotion.objects.get()
    assert (promotion.status, promotion.faq_entry_id, promotion.attempts) == ("sent", 41, 2)
    assert promotion.last_error == ""
    shown = conforms("v2", api.get(f"/v2/tickets/{created['id']}")).json()["promotion"]
    assert (shown["status"], shown["faq_entry_id"], shown["last_error"]) == ("done", 41, None)


@pytest.mark.django_db(transaction=True)
def test_the_resolve_response_shows_a_delivered_promotion(faq, conforms):
    FakeFaq(faq, "v1")
    api = APIClient()
    created = api.post(
        "/v1/tickets",
        {"subject": "Export?", "body": "How?", "requester": "ada@example.com"},
        format="json",
    ).json()

    response = conforms(
        "v1",
        api.post(
            f"/v1/tickets/{created['id']}/resolve",
            {"answer": "Settings, then Export.", "promote": True},
            format="json",
        ),
    )

    promotion = response.json()["promotion"]
    assert (promotion["status"], promotion["faq_version"], promotion["faq_entry_id"]) == (
        "done",
        "v1",
        41,
    )


@pytest.mark.django_db(transaction=True)
def test_a_crash_while_delivering_never_fails_the_resolution(faq, monkeypatch, make_ticket):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug in the delivery")

    monkeypatch.setattr(promotions, "client", broken)
    ticket = make_ticket()

    response = APIClient().post(
        f"/v1/tickets/{ticket.pk}/resolve", {"answer": "A.", "promote": True}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["status"] == "resolved"
    assert response.json()["promotion"]["status"] == "pending"
    promotion = FaqPromotion.objects.get()  # the crash is recorded; the worker retries it
    assert (promotion.status, promotion.attempts) == ("pending", 1)
    assert promotion.last_error == "RuntimeError: a bug in the delivery"


@pytest.mark.django_db
def test_a_retry_after_a_lost_answer_sends_the_same_key_and_makes_no_second_entry(faq, promote):
    # The FAQ creates the entry, but its answer is lost three times: after the commit's try, and
    # on the worker's try and the client's first retry of it (both replays there).
    fake = FakeFaq(faq, "v2", lose=3)
    promotion = promote("v2", related=[7])
    assert promotion.status == "pending"

    promote_pending()

    promotion.refresh_from_db()
    assert (promotion.status, promotion.faq_entry_id) == ("sent", 41)
    assert fake.keys() == [f"ticket-{promotion.ticket_id}-promotion"] * 4
    assert [sent_json(request) for request in fake.requests] == [promotion.payload] * 4
    assert list(fake.entries) == [41]


@pytest.mark.django_db
def test_pending_promotions_go_oldest_first_and_a_down_faq_stops_the_run(faq, promote, make_ticket):
    promotions = [promote("v2", ticket=make_ticket(subject=f"Q{n}?")) for n in range(3)]
    assert {p.status for p in promotions} == {"pending"}

    out = promote_pending()

    # The first one found the FAQ still down; the others were not tried in vain.
    assert "0 sent, 0 failed, 1 still pending (the faq service is unreachable or busy" in out
    attempts = [FaqPromotion.objects.get(pk=p.pk).attempts for p in promotions]
    assert attempts == [2, 1, 1]

    fake = FakeFaq(faq, "v2")
    assert "3 sent" in promote_pending()
    assert fake.keys() == [f"ticket-{p.ticket_id}-promotion" for p in promotions]


@pytest.mark.django_db
def test_failed_promotions_wait_for_retry_failed(faq, promote):
    faq.add("POST", "http://faq.test/v2/faqs", status=401, json={"status": 401, "title": "x"})
    promotion = promote("v2")
    assert promotion.status == "failed"
    faq.reset()
    fake = FakeFaq(faq, "v2")

    promote_pending()
    assert fake.requests == []

    out = promote_pending("--retry-failed")

    assert "1 failed promotion(s) queued again" in out
    assert "1 sent" in out
    promotion.refresh_from_db()
    assert (promotion.status, promotion.attempts) == ("sent", 2)


@pytest.mark.django_db
def test_a_done_promotion_is_never_sent_again(faq, promote):
    fake = FakeFaq(faq, "v1")
    promotion = promote("v1")

    assert services.promotion_deliver(promotion_id=promotion.pk) is None
    promote_pending()

    assert len(fake.requests) == 1


@pytest.mark.django_db
def test_loop_runs_until_sigterm_and_survives_a_failed_pass(monkeypatch):
    passes = []

    def deliver(**kwargs):
        passes.append(kwargs)
        if len(passes) == 1:
            raise RuntimeError("database went away")
        os.kill(os.getpid(), signal.SIGTERM)  # a deploy stops the worker
        return Pass()

    monkeypatch.setattr(promotions, "send_pending", deliver)
    before = signal.getsignal(signal.SIGTERM)

    out = promote_pending("--loop", "0.01")

    assert len(passes) == 2
    assert out.strip().endswith("worker: tickets stopped")
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("seconds", ["0", "-5"])
def test_loop_needs_a_positive_interval(seconds):
    with pytest.raises(CommandError):
        promote_pending("--loop", seconds)


# -- Concurrent workers (PostgreSQL: SQLite has no row locks) ---------------------------------

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks (SELECT … FOR UPDATE SKIP LOCKED)"
)


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_runs_deliver_each_promotion_once(faq, make_ticket):
    tickets = [make_ticket(subject=f"Q{n}?") for n in range(8)]
    for ticket in tickets:  # recorded, never attempted: no on_commit delivery outside a request
        FaqPromotion.objects.create(
            ticket=ticket,
            faq_version="v2",
            payload={"question": ticket.subject, "source": {"kind": "ticket"}, "related": []},
            idempotency_key=f"ticket-{ticket.pk}-promotion",
        )
    # Slow answers, so that both runs are busy at once.
    fake = FakeFaq(faq, "v2", delay=0.05)
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def worker():
        try:
            barrier.wait()
            runs.append(services.promotion_deliver_pending())
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(fake.keys()) == sorted(f"ticket-{t.pk}-promotion" for t in tickets)
    assert len(fake.entries) == 8
    assert sum(run.sent for run in runs) == 8
    assert set(FaqPromotion.objects.values_list("status", "attempts")) == {("sent", 1)}


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_promotion_a_worker_holds_is_skipped_not_sent_twice(faq, make_ticket):
    ticket = make_ticket()
    promotion = FaqPromotion.objects.create(
        ticket=ticket,
        faq_version="v1",
        payload={"question": "Q?", "source": str(ticket.pk), "answer": "A."},
        idempotency_key=f"ticket-{ticket.pk}-promotion",
    )
    fake = FakeFaq(faq, "v1")
    locked, release = threading.Event(), threading.Event()

    def worker_holding_the_row():
        with transaction.atomic():
            FaqPromotion.objects.select_for_update().get(pk=promotion.pk)
            locked.set()
            release.wait(timeout=30)
        connection.close()

    holder = threading.Thread(target=worker_holding_the_row)
    holder.start()
    try:
        assert locked.wait(timeout=30)
        assert services.promotion_deliver(promotion_id=promotion.pk) is None
        assert services.promotion_deliver_pending().attempted == 0
    finally:
        release.set()
        holder.join()

    assert fake.requests == []
    assert FaqPromotion.objects.get().status == "pending"
