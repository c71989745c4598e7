"""services/kit/outbox.py: claim with a lease, send outside any transaction with the row's
Idempotency-Key, back off, fail for good only on a refusal that would repeat, stop between rows."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import signal
import threading

import pytest
import requests
import responses
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from services.kit import outbox as kit_outbox
from tests.kit.app.models import Note
from tests.kit.app.outbox import notes
from tests.kit.conftest import FAQ_KEY, FAQS

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs row locks (SELECT … FOR UPDATE SKIP LOCKED)"
)


def note(n: int = 1, **fields) -> Note:
    return Note.objects.create(question=f"Q{n}?", idempotency_key=f"note-{n}", **fields)


def created(entry_id: int = 41):
    return {"status": 201, "json": {"id": entry_id}}


def problem(status: int, detail: str = "No.") -> dict:
    body = {"type": "about:blank", "title": "x", "status": status, "detail": detail}
    return {"status": status, "json": body, "content_type": "application/problem+json"}


# -- Claim and lease ----------------------------------------------------------------------------


def test_a_claim_leases_the_oldest_due_row_and_nothing_else():
    first, second = note(1), note(2)

    claimed = notes.claim()

    assert claimed.pk == first.pk
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.leased_until > timezone.now() + dt.timedelta(seconds=50)
    assert (first.status, first.attempts, first.last_attempt_at) == ("pending", 0, None)
    assert second.leased_until is None
    assert notes.claim().pk == second.pk  # the leased one is skipped
    assert notes.claim() is None


def test_an_expired_lease_is_claimed_again():
    row = note(leased_until=timezone.now() - dt.timedelta(seconds=1))

    assert notes.claim().pk == row.pk


def test_a_row_waiting_out_its_back_off_is_left_to_later_unless_sent_explicitly():
    row = note(next_attempt_at=timezone.now() + dt.timedelta(minutes=1))

    assert notes.claim() is None
    assert notes.claim(due_only=False).pk == row.pk


def test_sent_and_failed_rows_are_never_claimed():
    note(1, status="sent")
    note(2, status="failed")

    assert notes.claim(due_only=False) is None


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_a_row_another_transaction_holds_is_skipped_not_waited_for():
    row = note()
    locked, release = threading.Event(), threading.Event()

    def holder():
        with transaction.atomic():
            Note.objects.select_for_update().get(pk=row.pk)
            locked.set()
            release.wait(timeout=30)
        connection.close()

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert locked.wait(timeout=30)
        assert notes.claim() is None
    finally:
        release.set()
        thread.join()
    assert notes.claim().pk == row.pk


@needs_postgresql
@pytest.mark.django_db(transaction=True)
def test_two_senders_at_once_send_each_row_exactly_once(faq):
    rows = [note(n) for n in range(10)]
    seen, lock = [], threading.Lock()

    def answer(request):
        with lock:
            seen.append(request.headers["Idempotency-Key"])
        threading.Event().wait(0.02)  # slow enough for the two senders to overlap
        return 201, {}, json.dumps({"id": len(seen)})

    faq.add_callback(responses.POST, FAQS, callback=answer)
    barrier = threading.Barrier(2)
    runs, errors = [], []

    def sender():
        try:
            barrier.wait()
            runs.append(notes.send_pending())
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(seen) == sorted(row.idempotency_key for row in rows)
    assert sum(run.sent for run in runs) == 10
    assert all(run.sent for run in runs)  # both took part
    assert set(Note.objects.values_list("status", "attempts")) == {("sent", 1)}


# -- Sending ------------------------------------------------------------------------------------


def test_a_row_is_sent_with_its_key_and_payload_and_the_answer_kept(faq):
    faq.add(responses.POST, FAQS, **created(41))
    row = note()

    run = notes.send_pending()

    assert (run.sent, run.failed, run.pending, run.stopped) == (1, 0, 0, False)
    [call] = faq.calls
    assert call.request.headers["Idempotency-Key"] == "note-1"
    assert call.request.headers["Authorization"] == f"Bearer {FAQ_KEY}"
    assert json.loads(call.request.body) == row.payload
    row.refresh_from_db()
    assert (row.status, row.attempts, row.entry_id, row.last_error) == ("sent", 1, 41, "")
    assert row.sent_at is not None and row.last_attempt_at is not None
    assert (row.leased_until, row.next_attempt_at) == (None, None)


@pytest.mark.django_db(transaction=True)
def test_the_send_happens_outside_any_transaction(faq):
    during = []

    def answer(request):
        during.append(connection.in_atomic_block)
        return 201, {}, json.dumps({"id": 1})

    faq.add_callback(responses.POST, FAQS, callback=answer)
    note()

    notes.send_pending()

    assert during == [False]  # no lock is held while the other service answers


def test_a_retry_after_a_lost_answer_carries_the_same_key(faq):
    faq.add(responses.POST, FAQS, body=requests.ConnectionError("reset"))
    faq.add(responses.POST, FAQS, **created(7))
    row = note()

    notes.send_pending(due_only=False)

    keys = {call.request.headers["Idempotency-Key"] for call in faq.calls}
    assert (len(faq.calls), keys) == (2, {"note-1"})  # the client's own retry
    row.refresh_from_db()
    assert (row.status, row.entry_id) == ("sent", 7)


@pytest.mark.parametrize("status", [400, 401, 403, 404, 410, 413, 422])
def test_a_refusal_that_would_repeat_fails_for_good(faq, status):
    faq.add(responses.POST, FAQS, **problem(status, "Refused here."))
    row = note()

    notes.send_pending()
    notes.send_pending(due_only=False)  # not tried again

    assert len(faq.calls) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, None)
    assert "Refused here." in row.last_error


def test_the_hints_say_what_to_fix():
    refused = kit_outbox.ServiceError("faq v2 faq_create -> 401: x", status=401)

    assert "GATEWAY_API_KEY" in kit_outbox.explain(refused)


@pytest.mark.parametrize("status", [408, 409, 425, 429, 500, 502, 503, 504])
def test_an_answer_that_may_change_leaves_the_row_pending_with_a_back_off(faq, status):
    faq.add(responses.POST, FAQS, **problem(status, "Later."))
    row = note()
    before = timezone.now()

    notes.send_pending()

    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "Later." in row.last_error
    assert before + dt.timedelta(seconds=10) <= row.next_attempt_at
    assert row.next_attempt_at <= timezone.now() + dt.timedelta(seconds=10)
    assert notes.claim() is None  # not due before then


def test_a_payload_that_breaks_the_contract_is_never_sent_and_fails(faq):
    row = note()
    Note.objects.filter(pk=row.pk).update(question="")

    notes.send_pending()

    row.refresh_from_db()
    assert len(faq.calls) == 0
    assert row.status == "failed"
    assert row.last_error.startswith("Not sent: faq v2 faq_create")


def test_an_answer_without_what_we_keep_is_retried_not_lost(faq):
    faq.add(responses.POST, FAQS, status=201, json={"no": "id"})
    row = note()

    notes.send_pending()

    row.refresh_from_db()
    assert (row.status, row.entry_id) == ("pending", None)
    assert row.last_error == "KeyError: 'id'"


def test_without_faq_api_the_rows_wait_and_the_pass_stops(faq, settings):
    settings.FAQ_API = ""
    rows = [note(1), note(2)]

    run = notes.send_pending()

    assert (run.pending, run.stopped) == (1, True)
    assert [Note.objects.get(pk=r.pk).attempts for r in rows] == [1, 0]
    assert "FAQ_API is not set" in Note.objects.get(pk=rows[0].pk).last_error


# -- Back-off -----------------------------------------------------------------------------------


def test_the_back_off_doubles_up_to_its_cap():
    assert [notes.backoff(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_each_failed_attempt_waits_longer(faq):
    faq.add(responses.POST, FAQS, **problem(503))
    row = note()
    waits = []
    for _ in range(3):
        notes.send_pending(due_only=False)
        row.refresh_from_db()
        waits.append(round((row.next_attempt_at - row.last_attempt_at).total_seconds()))

    assert waits == [10, 20, 40]
    assert row.attempts == 3


def test_no_answer_ends_the_pass_and_a_slow_down_does_too(faq):
    rows = [note(n) for n in range(3)]  # nothing registered: every call fails to connect

    run = notes.send_pending()

    assert (run.attempted, run.stopped) == (1, True)
    assert [Note.objects.get(pk=r.pk).attempts for r in rows] == [1, 0, 0]
    faq.add(responses.POST, FAQS, **problem(429))
    assert notes.send_pending().attempted == 1


def test_an_error_answer_does_not_end_the_pass(faq):
    faq.add(responses.POST, FAQS, **problem(503))
    note(1), note(2)

    assert notes.send_pending().pending == 2


def test_failed_rows_can_be_queued_again(faq):
    row = note(status="failed", attempts=1)
    faq.add(responses.POST, FAQS, **created())

    assert notes.requeue_failed() == 1
    assert notes.send_pending().sent == 1
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 2)


# -- Leases and crashes -------------------------------------------------------------------------


def test_a_sender_that_outlived_its_lease_does_not_overwrite_the_next_one(faq, caplog):
    row = note()

    def answer(request):
        # Meanwhile another sender took the row over and sent it.
        Note.objects.filter(pk=row.pk).update(
            status="sent", entry_id=99, leased_until=timezone.now() + dt.timedelta(seconds=60)
        )
        return 503, {}, "{}"

    faq.add_callback(responses.POST, FAQS, callback=answer)

    with caplog.at_level(logging.WARNING, logger="switchyard.outbox"):
        notes.send_pending()

    row.refresh_from_db()
    assert (row.status, row.entry_id) == ("sent", 99)
    assert "the lease ran out" in caplog.text


def test_a_crash_in_a_hook_is_recorded_and_retried(faq, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(notes, "client", broken)
    row = note()

    run = notes.send_pending()

    row.refresh_from_db()
    assert run.pending == 1
    assert (row.status, row.attempts, row.leased_until) == ("pending", 1, None)
    assert row.last_error == "RuntimeError: a bug"


def test_send_after_commit_tries_once_and_never_raises(faq, django_capture_on_commit_callbacks):
    faq.add(responses.POST, FAQS, body=requests.ConnectionError("down"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        row = note()
        notes.send_after_commit([row.pk])

    assert len(callbacks) == 1
    assert len(faq.calls) == 1  # no client retry: a caller is waiting
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("pending", 1)


def test_nothing_is_sent_for_a_transaction_that_rolls_back(faq, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                row = note()
                notes.send_after_commit([row.pk])
                raise RuntimeError("the change failed")
        except RuntimeError:
            pass

    assert callbacks == []
    assert len(faq.calls) == 0
    assert not Note.objects.exists()


# -- The worker ---------------------------------------------------------------------------------


def worker(*args) -> str:
    out = io.StringIO()
    call_command("worker", *args, stdout=out)
    return out.getvalue()


# The worker retires stale connections before each pass: outside the test's transaction.
@pytest.mark.django_db(transaction=True)
def test_sigterm_stops_the_worker_between_two_rows(faq):
    rows = [note(n) for n in range(3)]

    def answer(request):
        os.kill(os.getpid(), signal.SIGTERM)  # a deploy, while the first row is being sent
        return 201, {}, json.dumps({"id": 5})

    faq.add_callback(responses.POST, FAQS, callback=answer)
    before = signal.getsignal(signal.SIGTERM)

    out = worker()

    # The row in hand was sent and recorded; the next was not started.
    assert [Note.objects.get(pk=r.pk).status for r in rows] == ["sent", "pending", "pending"]
    assert len(faq.calls) == 1
    assert "notes: 1 sent, 0 failed, 0 still pending" in out
    assert out.strip().endswith("worker: kit stopped")
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.django_db(transaction=True)
def test_once_sends_what_is_pending_due_or_not_and_retry_failed_first_requeues(faq):
    faq.add(responses.POST, FAQS, **created())
    note(1, next_attempt_at=timezone.now() + dt.timedelta(hours=1))
    note(2, status="failed")

    out = worker("--once", "--retry-failed")

    assert "notes: 1 failed note(s) queued again" in out
    assert "notes: 2 sent, 0 failed, 0 still pending" in out
    assert set(Note.objects.values_list("status", flat=True)) == {"sent"}
