"""Reads from the FAQ, shared by every API version."""

from django.db.models import Prefetch, Q, QuerySet

from services.faq.models import Entry
from services.kit.errors import NotFound

MAX_SEARCH_TERMS = 10


def entry_list() -> QuerySet[Entry]:
    return Entry.objects.prefetch_related(
        Prefetch("related", queryset=Entry.objects.only("id").order_by())
    )


def entry_get(*, entry_id: int) -> Entry:
    """The entry, or :class:`NotFound` (also an ``Entry.DoesNotExist``)."""
    try:
        return entry_list().get(pk=entry_id)
    except Entry.DoesNotExist:
        raise NotFound.of(Entry, f"There is no FAQ entry with id {entry_id}.") from None


def entry_search(queryset: QuerySet[Entry], text: str) -> QuerySet[Entry]:
    """Entries whose question or answer contains every word of ``text`` (case-insensitive)."""
    for term in text.split()[:MAX_SEARCH_TERMS]:
        queryset = queryset.filter(Q(question__icontains=term) | Q(answer__icontains=term))
    return queryset


def entry_filter_answered(queryset: QuerySet[Entry], answered: bool) -> QuerySet[Entry]:
    unanswered = Q(answer="")
    return queryset.exclude(unanswered) if answered else queryset.filter(unanswered)


def entry_filter_source_text(queryset: QuerySet[Entry], text: str) -> QuerySet[Entry]:
    """v1's ``source``: matches the reference or the link, whichever was given."""
    return queryset.filter(Q(source_ref=text) | Q(source_url=text))
