"""Reads from tickets, shared by every API version."""

from django.db.models import Q, QuerySet

from services.kit.errors import NotFound
from services.tickets.models import Comment, Ticket

MAX_SEARCH_TERMS = 10


def ticket_list(*, with_comments: bool = False) -> QuerySet[Ticket]:
    tickets = Ticket.objects.select_related("promotion")
    return tickets.prefetch_related("comments") if with_comments else tickets


def ticket_get(*, ticket_id: int, with_comments: bool = False) -> Ticket:
    """The ticket, or :class:`NotFound` (also a ``Ticket.DoesNotExist``)."""
    try:
        return ticket_list(with_comments=with_comments).get(pk=ticket_id)
    except Ticket.DoesNotExist:
        raise NotFound.of(Ticket, f"There is no ticket with id {ticket_id}.") from None


def comment_list(*, ticket_id: int) -> QuerySet[Comment]:
    """The ticket's comments, oldest first, or :class:`NotFound`."""
    if not Ticket.objects.filter(pk=ticket_id).exists():
        raise NotFound.of(Ticket, f"There is no ticket with id {ticket_id}.")
    return Comment.objects.filter(ticket_id=ticket_id).order_by("id")


def ticket_search(queryset: QuerySet[Ticket], text: str) -> QuerySet[Ticket]:
    """Tickets whose subject or body contains every word of ``text`` (case-insensitive)."""
    for term in text.split()[:MAX_SEARCH_TERMS]:
        queryset = queryset.filter(Q(subject__icontains=term) | Q(body__icontains=term))
    return queryset


def ticket_filter_requester(queryset: QuerySet[Ticket], email: str) -> QuerySet[Ticket]:
    return queryset.filter(requester_email__iexact=email.strip())
