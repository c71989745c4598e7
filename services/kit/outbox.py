"""One outbox for every service that must reach another one reliably.

A service writes an :class:`OutboxMessage` row in the same transaction as the change that calls
for it, so the message exists exactly when the change does. An :class:`Outbox` sends it through
the contract-driven :class:`~services.kit.client.ServiceClient`, always with the row's own
``Idempotency-Key``, so however often it is retried, by whichever process, the receiver acts once.

Sending one row:

1. **claim**: a short transaction picks the oldest due row, locked with
   ``select_for_update(skip_locked=True)`` on PostgreSQL (another sender skips it instead of
   waiting), and sets only its lease (``leased_until``). The update is conditional on the row still
   being free, which is what keeps two senders apart on SQLite (no row locks there);
2. **send**, outside any transaction: no lock is held while the other service answers;
3. **record** the outcome, only if the lease is still ours (a sender slower than its lease lets the
   next one take over, and the key makes their two sends one):

   - a 2xx: ``sent``, with what the service keeps of the answer (:meth:`Outbox.answered`);
   - a refusal that the same request would get again: ``failed``, for good (until
     ``--retry-failed``). That is every 4xx except 408 (timeout), 409 (the same key still in
     flight there), 425 (too early) and 429 (slow down), and a request our copy of the contract
     already refuses (never sent). 401, 403 and 410 are in it: a wrong key or a switched-off
     version needs a person, not a retry every few minutes;
   - anything else (no answer, 5xx, 408/409/425/429, an answer we cannot read): ``pending``
     again, due after an exponential back-off (``backoff_base`` doubling per attempt, at most
     ``backoff_cap``).

A pass stops early when the other service gave no answer or asked us to slow down (the next row
would fare no better), and between rows when its ``stop`` says so (SIGTERM in the worker): a row is
sent and recorded, or left for the next sender; a sender that dies leaves its lease to expire.
The worker process (``manage.py worker``, ``OUTBOX_SENDER``) runs :meth:`Outbox.__call__`, which
sends only due rows; an explicit send (after the commit, ``worker --once``, one row by id) sends
pending rows whether due or not.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection
from typing import Any

import requests
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from services.kit.client import ContractViolation, ServiceClient, ServiceError

logger = logging.getLogger("switchyard.outbox")

# 4xx answers after which the same request can succeed later.
RETRYABLE_4XX = frozenset({408, 409, 425, 429})
# Answers after which the next row would fare no better: the pass ends there.
STOP_PASS_STATUSES = frozenset({None, 429})
HINTS = {
    401: "The gateway refused our key: check GATEWAY_API_KEY.",
    403: "The call was refused: check GATEWAY_API_KEY and the gateway's signature secret.",
    410: "This version is switched off (sunset or brownout): send through its successor.",
}


class OutboxMessage(models.Model):
    """A message on its way to another service. A service's model adds what it sends."""

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENT = "sent", "Sent"
        FAILED = "failed", "Refused for good"

    idempotency_key = models.CharField(max_length=255, unique=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Not sent by the worker before then (back-off)."
    )
    # Being sent by someone until then; a sender that died leaves it to the next one after.
    leased_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "id"], name="%(app_label)s_%(class)s_queue")]

    def __str__(self) -> str:
        return f"{self._meta.verbose_name} {self.pk} ({self.status})"


Status = OutboxMessage.Status


class Pass(Counter):
    """What a pass did: how many rows it left ``sent``, ``failed`` or ``pending``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stopped = False  # the other service was unreachable or busy: the rest waits

    sent = property(lambda self: self[Status.SENT])
    failed = property(lambda self: self[Status.FAILED])
    pending = property(lambda self: self[Status.PENDING])
    attempted = property(lambda self: self.total())


class Outbox:
    """How one model's rows are sent. A service declares what is its own:

    - ``model``, ``service`` (the receiver), ``operation`` (its contract's operation id) and
      ``noun`` (what a row is, in logs and report lines);
    - how to build the call: :meth:`version` and :meth:`payload` (``row.payload`` by default);
    - what to do with the answer: :meth:`answered` (the fields to store from it).
    """

    model: type[OutboxMessage]
    service: str
    operation: str
    noun = "message"
    api_version = "v1"
    retries = 2  # the client's own immediate retries of a failed connection (same key)
    lease = dt.timedelta(seconds=60)  # longer than a send can take, timeouts and retries included
    backoff_base = dt.timedelta(seconds=2)
    backoff_cap = dt.timedelta(minutes=5)

    # -- What a service declares ------------------------------------------------------------

    def version(self, row: OutboxMessage) -> str:
        return self.api_version

    def payload(self, row: OutboxMessage) -> Any:
        return row.payload

    def answered(self, row: OutboxMessage, response: requests.Response) -> dict[str, Any]:
        """The fields to store from a 2xx answer. An exception here leaves the row pending."""
        return {}

    def client(self, version: str, *, retries: int) -> ServiceClient:
        return ServiceClient(self.service, version, retries=retries)

    # -- Sending ----------------------------------------------------------------------------

    def __call__(self, stop: Callable[[], bool]) -> str | None:
        """The worker's pass (``OUTBOX_SENDER``): due rows, until done or ``stop()``."""
        run = self.send_pending(stop=stop)
        return self.describe(run) if run.attempted else None

    def send_pending(
        self,
        *,
        due_only: bool = True,
        ids: Collection[int] | None = None,
        limit: int | None = None,
        stop: Callable[[], bool] | None = None,
        retries: int | None = None,
    ) -> Pass:
        """Send pending rows (``ids``, or any), oldest first, each at most once per pass."""
        run = Pass()
        clients: dict[str, ServiceClient] = {}
        last = 0
        while limit is None or run.attempted < limit:
            if stop is not None and stop():
                break
            row = self.claim(after=last, ids=ids, due_only=due_only)
            if row is None:
                break
            last = row.pk
            stop_pass = self._send(row, clients, self.retries if retries is None else retries)
            run[row.status] += 1
            if stop_pass:
                run.stopped = True
                break
        return run

    def send(self, pk: int, *, retries: int | None = None) -> OutboxMessage | None:
        """Send this row now, due or not; ``None`` if it is not pending or another sender has it."""
        row = self.claim(ids=[pk], due_only=False)
        if row is not None:
            self._send(row, {}, self.retries if retries is None else retries)
        return row

    def send_after_commit(self, ids: Collection[int], *, background: bool = False) -> None:
        """Once the current transaction commits, try these rows at once: inline with no retry (a
        caller is waiting), or from a thread of their own. Whatever fails there, the rows stay
        pending for the worker, and the transaction's own outcome stands."""
        wanted = list(ids)
        if background:
            transaction.on_commit(lambda: self._start_thread(wanted))
        else:
            transaction.on_commit(lambda: self._send_quietly(wanted, retries=0), robust=True)

    @property
    def thread_name(self) -> str:
        return f"outbox-{self.model._meta.label_lower}"

    def _start_thread(self, ids: list[int]) -> None:
        context = contextvars.copy_context()  # the request id travels with the call
        threading.Thread(
            target=context.run,
            args=(self._send_in_thread, ids),
            name=self.thread_name,
            daemon=True,
        ).start()

    def _send_in_thread(self, ids: list[int]) -> None:
        try:
            self._send_quietly(ids, retries=None)
        finally:
            connection.close()

    def _send_quietly(self, ids: list[int], *, retries: int | None) -> None:
        try:
            self.send_pending(ids=ids, due_only=False, retries=retries)
        except Exception:
            logger.exception(
                "%s: sending after the commit crashed; the worker retries it",
                self.noun,
                extra={"ids": ids},
            )

    @transaction.atomic
    def requeue_failed(self) -> int:
        """Make failed rows pending again, due at once (after fixing what was refused)."""
        failed = self.model.objects.filter(status=Status.FAILED)
        return failed.update(status=Status.PENDING, next_attempt_at=None)

    def describe(self, run: Pass) -> str:
        line = f"{self.noun}s: {run.sent} sent, {run.failed} failed, {run.pending} still pending"
        if run.stopped:
            line += (
                f" (the {self.service} service is unreachable or busy: the rest waits for the "
                "next pass)"
            )
        return line

    # -- The steps --------------------------------------------------------------------------

    def claim(
        self, *, after: int = 0, ids: Collection[int] | None = None, due_only: bool = True
    ) -> OutboxMessage | None:
        """The oldest pending row past ``after`` that nobody holds, leased to us; or ``None``."""
        now = timezone.now()
        free = Q(leased_until__isnull=True) | Q(leased_until__lte=now)
        rows = self.model.objects.filter(free, status=Status.PENDING)
        if due_only:
            rows = rows.filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        if ids is not None:
            rows = rows.filter(pk__in=list(ids))
        for _ in range(3):  # another sender may win a row between our read and our update
            with transaction.atomic():
                row = rows.filter(pk__gt=after).select_for_update(skip_locked=True)
                row = row.order_by("pk").first()
                if row is None:
                    return None
                lease = now + self.lease
                taken = self.model.objects.filter(free, pk=row.pk, status=Status.PENDING)
                if taken.update(leased_until=lease):
                    row.leased_until = lease
                    return row
            after = row.pk
        return None

    def _send(self, row: OutboxMessage, clients: dict[str, ServiceClient], retries: int) -> bool:
        """Send a claimed row and record what became of it; True when the pass should stop."""
        started = timezone.now()
        status, error, stop_pass, fields = Status.PENDING, "", False, {}
        try:
            version = self.version(row)
            client = clients.get(version)
            if client is None:
                client = clients[version] = self.client(version, retries=retries)
            response = client.call(
                self.operation, json=self.payload(row), idempotency_key=row.idempotency_key
            )
            fields = self.answered(row, response)
        except ServiceError as exc:
            error = explain(exc)
            if is_permanent(exc):
                status = Status.FAILED
            stop_pass = exc.status in STOP_PASS_STATUSES and not isinstance(exc, ContractViolation)
        except requests.RequestException as exc:  # the base URL is no usable URL, say
            error, stop_pass = f"{self.service}: {type(exc).__name__}: {exc}", True
        except Exception as exc:  # a bug, or an answer we cannot use: retried, never lost
            logger.exception("%s %s: sending crashed", self.noun, row.pk)
            error = f"{type(exc).__name__}: {exc}"
        else:
            status = Status.SENT
        self._record(row, status=status, error=error, started=started, fields=fields)
        return stop_pass

    def backoff(self, attempts: int) -> dt.timedelta:
        """How long a row waits after its ``attempts``-th failed attempt."""
        return min(self.backoff_cap, self.backoff_base * 2 ** max(attempts - 1, 0))

    def _record(self, row, *, status: str, error: str, started, fields: dict) -> None:
        row.status = status
        row.attempts += 1
        row.last_attempt_at = started
        row.last_error = error
        if status == Status.SENT:
            row.sent_at = timezone.now()
            row.next_attempt_at = None
        elif status == Status.PENDING:
            row.next_attempt_at = timezone.now() + self.backoff(row.attempts)
        lease, row.leased_until = row.leased_until, None
        for name, value in fields.items():
            setattr(row, name, value)
        names = ["status", "attempts", "last_attempt_at", "last_error", "sent_at"]
        names += ["next_attempt_at", "leased_until", *fields]
        values = {name: getattr(row, name) for name in names}
        if not self.model.objects.filter(pk=row.pk, leased_until=lease).update(**values):
            logger.warning(
                "%s %s: the lease ran out during the send; the next sender's outcome stands",
                self.noun,
                row.pk,
            )
        log = {
            Status.SENT: (logging.INFO, "%s sent"),
            Status.FAILED: (logging.ERROR, "%s refused for good; not retried"),
            Status.PENDING: (logging.WARNING, "%s not sent; will retry"),
        }[status]
        logger.log(
            log[0],
            log[1],
            self.noun,
            extra={
                "outbox": self.model._meta.label_lower,
                "row_id": row.pk,
                "attempts": row.attempts,
                "error": error[:500],
            },
        )


def is_permanent(error: ServiceError) -> bool:
    """Would the same request be refused again? (Then retrying it only adds load.)"""
    if isinstance(error, ContractViolation):
        return True  # nothing was sent, and the same payload breaks the contract again
    status = error.status
    return status is not None and 400 <= status < 500 and status not in RETRYABLE_4XX


def explain(error: ServiceError) -> str:
    """``last_error``: what the other side said, each invalid member, and what to do about it."""
    text = str(error)
    for item in error.problem.get("errors") or []:
        if isinstance(item, dict):
            where = item.get("pointer") or item.get("parameter") or "#"
            text += f"\n{where}: {item.get('detail', '')}"
    if isinstance(error, ContractViolation):
        return f"Not sent: {text}"
    if error.status in HINTS:
        return f"{HINTS[error.status]}\n{text}"
    return text
