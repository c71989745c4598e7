"""Writes to the FAQ. Every API version calls these; none of them knows about versions."""

from collections.abc import Collection

from django.db import transaction

from services.faq.models import Entry, Source
from services.kit.errors import FieldError, Invalid, NotFound

MAX_RELATED = 20

_UNSET = object()


def _lock(ids: Collection[int]) -> set[int]:
    """Lock these entries' rows, in id order, and return the ids that exist.

    Every write that links or deletes entries locks all of them here first, in one order, so a
    delete cannot slip between a link's check and its insert, and two crossing links
    (A→B while B→A) queue instead of deadlocking.
    """
    query = Entry.objects.select_for_update().filter(pk__in=set(ids)).order_by("pk")
    return set(query.values_list("pk", flat=True))


def _set_related(*, entry: Entry, related: Collection[int], existing: set[int]) -> None:
    ids = set(related)
    if entry.pk in ids:
        raise Invalid.field("related", message="An entry cannot be related to itself.")
    if len(ids) > MAX_RELATED:
        raise Invalid.field("related", message=f"At most {MAX_RELATED} related entries.")
    missing = sorted(ids - existing)
    if missing:
        raise Invalid(
            FieldError(("related",), f"There is no FAQ entry with id {pk}.") for pk in missing
        )
    entry.related.set(ids)


def _apply_source(entry: Entry, source: Source) -> None:
    entry.source_kind = source.kind
    entry.source_ref = source.ref or ""
    entry.source_url = source.url or ""


@transaction.atomic
def entry_create(
    *,
    question: str,
    source: Source,
    answer: str = "",
    related: Collection[int] = (),
) -> Entry:
    existing = _lock(related) if related else set()
    entry = Entry(question=question, answer=answer)
    _apply_source(entry, source)
    entry.full_clean()
    entry.save()
    if related:
        _set_related(entry=entry, related=related, existing=existing)
    return entry


@transaction.atomic
def entry_update(
    *,
    entry_id: int,
    question: str = _UNSET,
    answer: str = _UNSET,
    source: Source = _UNSET,
    related: Collection[int] = _UNSET,
) -> Entry:
    """Change only what is passed; what a version does not know about (v1: related) is kept."""
    changes = {"question": question, "answer": answer, "source": source, "related": related}
    existing = _lock({entry_id, *(() if related is _UNSET else related)})
    if entry_id not in existing:
        raise NotFound.of(Entry, f"There is no FAQ entry with id {entry_id}.")
    entry = Entry.objects.get(pk=entry_id)
    if all(value is _UNSET for value in changes.values()):
        return entry  # nothing asked for, nothing touched (not even updated_at)
    if question is not _UNSET:
        entry.question = question
    if answer is not _UNSET:
        entry.answer = answer
    if source is not _UNSET:
        _apply_source(entry, source)
    entry.full_clean()
    entry.save()
    if related is not _UNSET:
        _set_related(entry=entry, related=related, existing=existing)
    return entry


def entry_answer(*, entry_id: int, answer: str) -> Entry:
    return entry_update(entry_id=entry_id, answer=answer)


@transaction.atomic
def entry_delete(*, entry_id: int) -> None:
    if not _lock({entry_id}):
        raise NotFound.of(Entry, f"There is no FAQ entry with id {entry_id}.")
    Entry.objects.filter(pk=entry_id).delete()
