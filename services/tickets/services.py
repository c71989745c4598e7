"""Writes to tickets. Every API version calls these; none of them knows about versions.

Resolving a ticket with promotion writes a ``FaqPromotion`` (an outbox row) in the same
transaction as the resolution; the kit's outbox sends it after the commit and, while the FAQ is
unreachable, from the worker (``services.tickets.worker``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from services.kit.errors import Conflict, NotFound
from services.kit.outbox import Pass
from services.tickets.models import Comment, FaqPromotion, Ticket
from services.tickets.worker import promotions

Status = Ticket.Status

# Where a ticket may go from each status. A resolved ticket may be reopened; closed is final.
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.OPEN: frozenset({Status.PENDING, Status.RESOLVED, Status.CLOSED}),
    Status.PENDING: frozenset({Status.OPEN, Status.RESOLVED, Status.CLOSED}),
    Status.RESOLVED: frozenset({Status.OPEN, Status.CLOSED}),
    Status.CLOSED: frozenset(),
}


class TicketConflict(Conflict):
    """A change the ticket's current state does not allow."""


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
        raise NotFound.of(Ticket, f"There is no ticket with id {ticket_id}.") from None


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
        # The first attempt, once committed, while the caller waits (one try, no back-off).
        promotions.send_after_commit([promotion.pk])
    return ticket


# -- Delivering promotions (services.kit.outbox does the sending) ------------------------------


def promotion_deliver(*, promotion_id: int) -> FaqPromotion | None:
    """Send one pending promotion now; ``None`` when it is not pending (anymore), or another
    worker is sending it right now."""
    return promotions.send(promotion_id)


def promotion_deliver_pending(
    *, limit: int | None = None, stop: Callable[[], bool] | None = None
) -> Pass:
    """Send every pending promotion now (due or not), oldest first, each at most once."""
    return promotions.send_pending(due_only=False, limit=limit, stop=stop)


def promotion_requeue_failed() -> int:
    """Make failed promotions pending again (after fixing what the FAQ refused); how many."""
    return promotions.requeue_failed()
