"""The FAQ's write layer, independent of any API version."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from services.faq import selectors, services
from services.faq.models import Entry, Source


@pytest.mark.django_db
def test_source_from_v1_text():
    assert Source.from_text("4711") == Source(ref="4711")
    assert Source.from_text(" https://x.example.com/a ") == Source(url="https://x.example.com/a")
    assert Source.from_text("HTTP://X.EXAMPLE.COM") == Source(url="HTTP://X.EXAMPLE.COM")
    assert Source(kind="chat").as_text() == "chat"
    assert Source().as_text() == ""


@pytest.mark.django_db
def test_update_leaves_unsent_fields_alone(make_entry):
    hub = make_entry(question="Hub")
    entry = make_entry(question="Q", answer="A", related=[hub.pk])

    services.entry_update(entry_id=entry.pk, question="Q2")

    stored = selectors.entry_get(entry_id=entry.pk)
    assert (stored.question, stored.answer, stored.related_ids) == ("Q2", "A", [hub.pk])


@pytest.mark.django_db
def test_failed_related_update_rolls_back_the_other_changes(make_entry):
    entry = make_entry(question="Before")

    with pytest.raises(ValidationError):
        services.entry_update(entry_id=entry.pk, question="After", related=[10**9])

    assert Entry.objects.get(pk=entry.pk).question == "Before"


@pytest.mark.django_db
def test_model_validation_guards_the_service(make_entry):
    with pytest.raises(ValidationError) as error:
        services.entry_create(question="Q", source=Source(kind="ticket", url="not a url"))

    assert "source_url" in error.value.message_dict
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_delete_unknown_raises_does_not_exist():
    with pytest.raises(Entry.DoesNotExist):
        services.entry_delete(entry_id=12345)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writes"
)
@pytest.mark.django_db(transaction=True)
def test_linking_races_a_delete_without_dangling_rows(make_entry):
    """A link and a delete of its target, concurrently: either the link wins and the delete then
    removes it, or the delete wins and the link is refused. Never a half-written relation."""
    for _ in range(10):
        target = make_entry(question="Target")
        entry = make_entry(question="Entry")

        errors = _race(
            lambda e=entry, t=target: services.entry_update(entry_id=e.pk, related=[t.pk]),
            lambda t=target: services.entry_delete(entry_id=t.pk),
        )

        link_error, delete_error = errors
        assert delete_error is None
        assert link_error is None or isinstance(link_error, ValidationError)
        assert not Entry.objects.filter(pk=target.pk).exists()
        assert Entry.objects.get(pk=entry.pk).related_ids == []


def _race(*actions):
    """Run the actions at once, each on its own database connection; return their errors."""
    barrier = threading.Barrier(len(actions))
    errors: list[BaseException | None] = [None] * len(actions)

    def run(index, action):
        barrier.wait()
        try:
            action()
        except BaseException as exc:
            errors[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=pair) for pair in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite serialises writes"
)
@pytest.mark.django_db(transaction=True)
def test_crossing_links_queue_instead_of_deadlocking(make_entry):
    for _ in range(10):
        a, b = make_entry(question="A"), make_entry(question="B")

        errors = _race(
            lambda a=a, b=b: services.entry_update(entry_id=a.pk, related=[b.pk]),
            lambda a=a, b=b: services.entry_update(entry_id=b.pk, related=[a.pk]),
        )

        assert errors == [None, None]
        assert Entry.objects.get(pk=a.pk).related_ids == [b.pk]
