"""Deprecation notices: one message to each consumer still calling an old version, recorded.

A laggard is a consumer that holds the sunset up (it called the version within the quiet
window). Its notice says what it uses, what replaces each operation, the sunset date, the
brownout windows, the migration guide and how much it called; it goes out through Django's
email framework (``EMAIL_*`` settings) and is recorded as a :class:`~gateway.models.Notice`, so
that nobody is told twice about the same version within ``every`` days.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone

from contracts.lifecycle import Lifecycle
from gateway import dashboard, deprecation
from gateway.models import Notice

logger = logging.getLogger("switchyard.notices")

SENT, DUE, RECENT, NO_CONTACT, FAILED = "sent", "due", "notified recently", "no contact", "failed"


@dataclass
class Outcome:
    consumer: str
    status: str  # SENT, DUE (a dry run), RECENT, NO_CONTACT or FAILED
    message: EmailMessage | None = None
    last_notified: dt.datetime | None = None


def _when(moment: dt.datetime) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"


def compose(
    usage: dashboard.ConsumerUsage, lc: Lifecycle, *, now: dt.datetime, every_days: int = 7
) -> EmailMessage:
    """The notice for one laggard of ``lc``'s version."""
    name, version = f"{lc.service} {lc.version}", lc.version
    when = f"on {lc.sunset_at:%Y-%m-%d}" if lc.sunset_at else "soon (no date is set yet)"
    subject = f"[Switchyard] {name} is being switched off {when}: {usage.name} still calls it"
    lines = [
        f"Hello {usage.owner},",
        "",
        f"Your consumer {usage.name} called {name} {usage.calls_30:,} times in the last 30 days "
        f"(last on {_when(usage.last_seen)}).",
    ]
    if lc.deprecated_at:
        lines.append(f"{name} is deprecated since {lc.deprecated_at:%Y-%m-%d}.")
    if lc.sunset_at:
        lines.append(f"From {_when(lc.sunset_at)} every call to it will be answered 410 Gone.")
    upcoming = [b for b in lc.brownouts if b.end > now]
    lines.append("")
    if upcoming:
        lines.append("Before that it is switched off (410 Gone) during these brownouts:")
        lines += [f"  - {b.start:%Y-%m-%d %H:%M} to {b.end:%H:%M} UTC" for b in upcoming]
    else:
        lines.append("No brownouts are scheduled.")
    lines += [
        "",
        f"The operations you call, and what replaces each in {lc.successor or 'a successor'}:",
    ]
    lines += [f"  - {move.describe()}" for move in usage.moves] or ["  (none recorded in 30 days)"]
    if lc.docs:
        lines += ["", f"How to migrate: {lc.docs}"]
    lines += [
        "",
        f"You get this because you are the contact for {usage.name} at the Switchyard gateway; "
        f"the next reminder about {version} comes in {every_days} days at the earliest.",
    ]
    return EmailMessage(
        subject=subject,
        body="\n".join(lines) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[usage.contact],
    )


def notify_laggards(
    service: str,
    version: str,
    *,
    quiet_days: int,
    every_days: int = 7,
    dry_run: bool = False,
    now: dt.datetime | None = None,
) -> list[Outcome]:
    """Tell each laggard, unless it was told about this version within ``every_days``.

    Each message is sent, then recorded, on its own: one that fails is not recorded (the next
    run tries it again) and does not stop the others. A dry run sends and records nothing.
    """
    now = now or timezone.now()
    lc = deprecation.lifecycle(service, version)
    verdict = dashboard.verdict(service, version, quiet_days=quiet_days, now=now)
    outcomes = []
    for usage in verdict.callers:
        if not usage.contact:
            outcomes.append(Outcome(usage.name, NO_CONTACT))
            continue
        if usage.last_notified and usage.last_notified > now - dt.timedelta(days=every_days):
            outcomes.append(Outcome(usage.name, RECENT, last_notified=usage.last_notified))
            continue
        message = compose(usage, lc, now=now, every_days=every_days)
        if dry_run:
            outcomes.append(Outcome(usage.name, DUE, message, usage.last_notified))
            continue
        outcomes.append(_send(usage, service, version, message, now))
    return outcomes


def _send(usage, service: str, version: str, message: EmailMessage, now) -> Outcome:
    try:
        message.send(fail_silently=False)
    except Exception:
        logger.exception("deprecation notice failed", extra={"consumer": usage.name})
        return Outcome(usage.name, FAILED, message, usage.last_notified)
    with transaction.atomic():
        Notice.objects.create(
            consumer=usage.name,
            service=service,
            version=version,
            sent_at=now,
            recipients=", ".join(message.to),
            subject=message.subject,
            body=message.body,
        )
    return Outcome(usage.name, SENT, message, now)
