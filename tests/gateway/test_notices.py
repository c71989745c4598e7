"""``manage.py notify_laggards``: one recorded notice per laggard, never twice within --every."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from gateway import dashboard
from gateway.models import Notice, UsageCoverage, UsageDaily
from gateway.usage import ANONYMOUS

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)


def history(
    consumer: str, *, days_ago: int, count: int, operation="/v1/faqs", method="GET", version="v1"
):
    seen = NOW - dt.timedelta(days=days_ago)
    UsageDaily.objects.create(
        day=seen.date(),
        service="faq",
        version=version,
        operation=operation,
        method=method,
        consumer=consumer,
        status_class="2xx",
        count=count,
        latency_buckets=[count] + [0] * 11,
        last_seen=seen,
    )


@pytest.fixture
def laggards(make_consumer):
    """Synthetic history: two consumers still on faq v1 (one migrating), one long gone, one
    that has moved, and unauthenticated calls."""
    UsageCoverage.objects.create(since=NOW - dt.timedelta(days=120))
    make_consumer("legacy-partner")
    make_consumer("mobile-app")
    make_consumer("old-tool")
    history("legacy-partner", days_ago=1, count=40)
    history(
        "legacy-partner", days_ago=2, count=2, operation="/v1/faqs/{entry_id}/answer", method="PUT"
    )
    history("mobile-app", days_ago=3, count=5)
    history("mobile-app", days_ago=1, count=50, operation="/v2/faqs", version="v2")
    history("old-tool", days_ago=40, count=9)
    history(ANONYMOUS, days_ago=1, count=7)


def run(*args) -> tuple[int, str]:
    out = io.StringIO()
    try:
        with time_machine.travel(NOW, tick=False):
            call_command("notify_laggards", *args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()


def test_a_dry_run_prints_one_message_per_laggard_and_sends_nothing(laggards):
    code, out = run("faq", "v1", "--dry-run")

    assert code == 0
    assert out.count("Subject: [Switchyard] faq v1 is being switched off on 2027-05-01") == 2
    assert "To: legacy-partner@example.com" in out and "To: mobile-app@example.com" in out
    assert "old-tool" not in out and ANONYMOUS not in out
    assert "would send (dry run): 2 (legacy-partner, mobile-app)" in out
    assert mail.outbox == []
    assert not Notice.objects.exists()


def test_the_message_says_what_to_move_to_when_and_where(laggards):
    run("faq", "v1")

    [message] = [m for m in mail.outbox if m.to == ["legacy-partner@example.com"]]
    body = message.body
    assert "Hello Team legacy-partner," in body
    assert "called faq v1 42 times in the last 30 days" in body
    assert "From 2027-05-01 00:00 UTC every call to it will be answered 410 Gone." in body
    assert "  - 2027-03-03 14:00 to 15:00 UTC" in body
    assert "  - 2027-04-07 14:00 to 18:00 UTC" in body
    assert "  - GET /v1/faqs (faq_list) -> GET /v2/faqs (faq_list): not started" in body
    assert (
        "  - PUT /v1/faqs/{entry_id}/answer (faq_answer) -> PATCH /v2/faqs/{entry_id} "
        "(faq_update): not started"
    ) in body
    assert "How to migrate: https://docs.switchyard.dev/faq/migrate-to-v2" in body


def test_a_second_run_within_the_interval_sends_nothing(laggards):
    first, first_out = run("faq", "v1")
    sent = len(mail.outbox)
    second, second_out = run("faq", "v1")

    assert (first, second) == (0, 0)
    assert sent == 2
    assert len(mail.outbox) == 2
    assert "sent: 2 (legacy-partner, mobile-app)" in first_out
    assert "notified recently: 2" in second_out
    assert set(Notice.objects.values_list("consumer", "sent_at")) == {
        ("legacy-partner", NOW),
        ("mobile-app", NOW),
    }


def test_after_the_interval_they_are_told_again(laggards):
    run("faq", "v1", "--every", "3")
    Notice.objects.update(sent_at=NOW - dt.timedelta(days=4))

    run("faq", "v1", "--every", "3")

    assert len(mail.outbox) == 4
    assert Notice.objects.count() == 4


def test_the_dashboard_shows_when_each_laggard_was_last_notified(laggards):
    run("faq", "v1")

    with time_machine.travel(NOW, tick=False):
        people = {c.name: c for c in dashboard.consumers_of("faq", "v1", quiet_days=14)}

    assert people["legacy-partner"].last_notified == NOW
    assert people["old-tool"].last_notified is None


def test_a_failed_send_is_not_recorded_and_the_others_still_go(laggards, monkeypatch):
    from django.core.mail import EmailMessage

    real_send = EmailMessage.send

    def send(self, fail_silently=False):
        if self.to == ["mobile-app@example.com"]:
            raise OSError("SMTP server refused")
        return real_send(self, fail_silently)

    monkeypatch.setattr(EmailMessage, "send", send)

    code, out = run("faq", "v1")

    assert code == 1
    assert "failed: 1 (mobile-app)" in out
    assert list(Notice.objects.values_list("consumer", flat=True)) == ["legacy-partner"]
