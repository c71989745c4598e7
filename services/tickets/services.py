"""Writes to tickets. Every API version calls these; none of them knows about versions.

Resolving a ticket with promotion writes a ``FaqPromotion`` (an outbox row) in the same
transaction as the resolution; after the commit, and later from ``manage.py promote_pending``
while the FAQ is unreachable, :func:`promotion_deliver` sends it through the contract-driven client.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.db import transaction
from django.utils import timezone

from services.kit.client import ContractViolation, ServiceClient, ServiceError
from services.tickets.models import Comment, FaqPromotion, Ticket

logger = logging.getLogger("switchyard.tickets")

Status = Ticket.Status

# Where a ticket may go from each status. A resolved ticket may be reopened; closed is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}

# faq_create answers after which sending the same request again can succeed: the FAQ (or the way
# there) failed, the same key is still in flight there, or we were asked to slow down.
RETRYABLE_STATUSES = frozenset({409, 429})
# Answers after which the next promotion would fare no better: end the run there.
STOP_RUN_STATUSES = frozenset({None, 429, 502, 503, 504})


class TicketConflict(Exception):
    """A change the ticket's current state does not allow (a 409 at the API)."""


class IllegalTransition(TicketConflict):
    def __init__(self, ticket: Ticket, target: str):
        allowed = sorted(TRANSITIONS[ticket.status])
        if allowed:
            then = f"from {ticket.status} it can become {', '.join(allowed)}."
        else:
            then = f"a {ticket.status} ticket never changes."
        super().__init__(
            f"Ticket {ticket.pk} is {ticket.status} and cannot become {target}: {then}"
        )
        self.current = ticket.status
        self.target = target


class TicketClosed(TicketConflict):
    pass


class AlreadyPromoted(TicketConflict):
    pass


@dataclass(frozen=True)
class PromotionRequest:
    """Promote the answer to the FAQ through this version of its API."""

    faq_version: str = FaqPromotion.FaqVersion.V2
    related: tuple[int, ...] = ()


def _normalize_email(email: str) -> str:
    """The domain part is case-insensitive: store it in lower case (as Django's auth does)."""
    local, _, domain = email.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if local else email.strip()


def _lock(ticket_id: int) -> Ticket:
    """The ticket, its row locked until the transaction ends, so two changes queue."""
    try:
        return Ticket.objects.select_for_update().get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise Ticket.DoesNotExist(f"There is no ticket with id {ticket_id}.") from None


@transaction.atomic
def ticket_create(
    *,
    subject: str,
    body: str,
    requester_email: str,
    requester_name: str = "",
    order_ref: str = "",
) -> Ticket:
    ticket = Ticket(
        subject=subject,
        body=body,
        requester_email=_normalize_email(requester_email),
        requester_name=requester_name,
        order_ref=order_ref,
    )
    ticket.full_clean()
    ticket.save()
    return ticket


@transaction.atomic
def comment_create(*, ticket_id: int, author: str, body: str) -> Comment:
    ticket = _lock(ticket_id)
    if ticket.status == Status.CLOSED:
        raise TicketClosed(f"Ticket {ticket_id} is closed; it takes no more comments.")
    comment = Comment(ticket=ticket, author=author, body=body)
    comment.full_clean()
    comment.save()
    ticket.save(update_fields=["updated_at"])
    return comment


def _check(ticket: Ticket, target: str) -> None:
    if target not in TRANSITIONS[ticket.status]:
        raise IllegalTransition(ticket, target)


def _move(ticket: Ticket, target: str) -> None:
    _check(ticket, target)
    if target == Status.RESOLVED:
        ticket.resolved_at = timezone.now()
    elif target == Status.OPEN:
        ticket.resolved_at = None  # reopened
    ticket.status = target


@transaction.atomic
def ticket_transition(*, ticket_id: int, status: str) -> Ticket:
    """Move the ticket to ``status``; asking for the status it has already changes nothing."""
    ticket = _lock(ticket_id)
    if ticket.status == status:
        return ticket
    _move(ticket, status)
    ticket.save()
    return ticket


def _faq_payload(ticket: Ticket, answer: str, promote: PromotionRequest) -> dict:
    """The ``faq_create`` body of each FAQ version, as its published contract describes it."""
    if promote.faq_version == FaqPromotion.FaqVersion.V1:
        return {"question": ticket.subject, "source": str(ticket.pk), "answer": answer}
    return {
        "question": ticket.subject,
        "answer": answer,
        "source": {"kind": "ticket", "ref": str(ticket.pk)},
        "related": list(promote.related),
    }


@transaction.atomic
def ticket_resolve(
    *, ticket_id: int, answer: str, promote: PromotionRequest | None = None
) -> Ticket:
    """Resolve with an answer; with ``promote``, also queue the answer for the FAQ.

    The promotion is recorded in this same transaction and sent once it commits: the FAQ being
    down never undoes or delays a resolution, and a resolution that rolls back sends nothing.
    """
    ticket = _lock(ticket_id)
    _check(ticket, Status.RESOLVED)
    if promote is not None and FaqPromotion.objects.filter(ticket=ticket).exists():
        raise AlreadyPromoted(
            f"Ticket {ticket_id} was promoted to the FAQ already; resolve it without promoting."
        )
    _move(ticket, Status.RESOLVED)
    ticket.answer = answer
    ticket.full_clean()
    ticket.save()
    if promote is not None:
        promotion = FaqPromotion.objects.create(
            ticket=ticket,
            faq_version=promote.faq_version,
            payload=_faq_payload(ticket, answer, promote),
            idempotency_key=f"ticket-{ticket.pk}-promotion",
        )
        transaction.on_commit(lambda pk=promotion.pk: _deliver_after_commit(pk), robust=True)
    return ticket


def _deliver_after_commit(promotion_id: int) -> None:
    """The first attempt, once the resolution is committed: whatever goes wrong here must not
    turn the (done) resolution into an error; the promotion stays pending for the worker."""
    try:
        # One try and no back-off: the caller is waiting for its response; the worker retries.
        promotion_deliver(promotion_id=promotion_id, retries=0)
    except Exception:
        logger.exception(
            "faq promotion: delivery crashed; promote_pending retries it",
            extra={"promotion_id": promotion_id},
        )


# -- Delivering promotions --------------------------------------------------------------------


def _is_retryable(error: ServiceError) -> bool:
    if isinstance(error, ContractViolation):
        return False  # nothing was sent, and the same payload would break the contract again
    if error.status is None:
        return True  # no answer (or FAQ_API not set yet)
    return error.status >= 500 or error.status in RETRYABLE_STATUSES


def _explain(error: ServiceError) -> str:
    """``last_error``: what the FAQ said, each invalid member included, and what to do about it."""
    text = str(error)
    for item in error.problem.get("errors") or []:
        if isinstance(item, dict):
            where = item.get("pointer") or item.get("parameter") or "#"
            text += f"\n{where}: {item.get('detail', '')}"
    hints = {
        401: "The gateway refused our key: check GATEWAY_API_KEY.",
        403: "The FAQ refused the call: check GATEWAY_API_KEY and the gateway's signature secret.",
        410: "This FAQ version is switched off (sunset or brownout): promote through its "
        "successor.",
    }
    if isinstance(error, ContractViolation):
        return f"Not sent: {text}"
    if error.status in hints:
        return f"{hints[error.status]}\n{text}"
    return text


def _attempt(
    promotion: FaqPromotion, clients: dict[str, ServiceClient], *, retries: int = 2
) -> bool:
    """Send ``promotion`` once and record the outcome on it (unsaved). True when the FAQ was
    unreachable or asked us to slow down: a run then stops instead of trying the others in vain."""
    promotion.attempts += 1
    stop_run = False
    try:
        client = clients.get(promotion.faq_version)
        if client is None:
            client = ServiceClient("faq", promotion.faq_version, retries=retries)
            clients[promotion.faq_version] = client
        response = client.call(
            "faq_create", json=promotion.payload, idempotency_key=promotion.idempotency_key
        )
        entry_id = int(response.json()["id"])
    except ServiceError as error:
        retryable = _is_retryable(error)
        stop_run = retryable and error.status in STOP_RUN_STATUSES
        promotion.last_error = _explain(error)
        if not retryable:
            promotion.status = FaqPromotion.Status.FAILED
    except requests.RequestException as error:  # FAQ_API is no usable URL, say: fix and retry
        stop_run = True
        promotion.last_error = f"faq: {type(error).__name__}: {error}"
    except (ValueError, KeyError, TypeError) as error:  # a 2xx without the entry's id
        promotion.last_error = f"The FAQ's answer has no entry id: {type(error).__name__}"
    else:
        promotion.status = FaqPromotion.Status.DONE
        promotion.faq_entry_id = entry_id
        promotion.last_error = ""
        promotion.delivered_at = timezone.now()
    log = logger.info if promotion.status == FaqPromotion.Status.DONE else logger.warning
    log(
        "faq promotion %s",
        promotion.status,
        extra={
            "ticket_id": promotion.ticket_id,
            "faq_version": promotion.faq_version,
            "attempts": promotion.attempts,
            "faq_entry_id": promotion.faq_entry_id,
            "error": promotion.last_error[:500],
        },
    )
    return stop_run


def promotion_deliver(*, promotion_id: int, retries: int = 2) -> FaqPromotion | None:
    """Send one pending promotion now (``retries``: the client's own immediate retries when the
    connection fails). ``None`` when it is not pending (anymore), or another worker holds its row
    and is sending it right now."""
    with transaction.atomic():
        promotion = (
            FaqPromotion.objects.select_for_update(skip_locked=True)
            .filter(pk=promotion_id, status=FaqPromotion.Status.PENDING)
            .first()
        )
        if promotion is None:
            return None
        _attempt(promotion, {}, retries=retries)
        promotion.save()
    return promotion


@dataclass
class DeliveryRun:
    done: int = 0
    failed: int = 0
    pending: int = 0
    stopped: bool = False  # the FAQ was unreachable or busy: the rest waits for the next run

    @property
    def attempted(self) -> int:
        return self.done + self.failed + self.pending


def promotion_deliver_pending(
    *, limit: int | None = None, stop: Callable[[], bool] | None = None
) -> DeliveryRun:
    """Send pending promotions, oldest first, each at most once per run.

    Each is sent while its row is locked (``SKIP LOCKED``): concurrent runs share the work and
    never send the same promotion at the same time. A run stops at the first promotion the FAQ
    does not answer (or answers "slow down"), leaving the rest pending, or when ``stop()`` says
    so.
    """
    run = DeliveryRun()
    clients: dict[str, ServiceClient] = {}
    last_id = 0
    while limit is None or run.attempted < limit:
        if stop is not None and stop():
            break
        with transaction.atomic():
            promotion = (
                FaqPromotion.objects.select_for_update(skip_locked=True)
                .filter(status=FaqPromotion.Status.PENDING, pk__gt=last_id)
                .order_by("pk")
                .first()
            )
            if promotion is None:
                break
            last_id = promotion.pk
            stop_run = _attempt(promotion, clients)
            promotion.save()
        setattr(run, promotion.status, getattr(run, promotion.status) + 1)
        if stop_run:
            run.stopped = True
            break
    return run


@transaction.atomic
def promotion_requeue_failed() -> int:
    """Make failed promotions pending again (after fixing what the FAQ refused); how many."""
    failed = FaqPromotion.objects.filter(status=FaqPromotion.Status.FAILED)
    return failed.update(status=FaqPromotion.Status.PENDING, updated_at=timezone.now())
