"""FAQ v2: structured source, related entries, cursor pages, ``created_at``/``updated_at``."""

from datetime import timedelta

import pytest
from django.utils import timezone

from services.faq.models import Entry, Source
from tests.helpers import assert_problem, pointers

pytestmark = pytest.mark.django_db


def test_create_with_source_and_related(api, make_entry, conforms):
    first, second = make_entry(question="A?"), make_entry(question="B?")

    response = api.post(
        "/v2/faqs",
        {
            "question": "How do I pay?",
            "source": {"kind": "forum", "ref": "t-318", "url": "https://forum.example.com/t/318"},
            "related": [second.pk, first.pk],
        },
        format="json",
    )

    conforms("v2", response)
    assert response.status_code == 201
    body = response.json()
    assert body["source"] == {
        "kind": "forum",
        "ref": "t-318",
        "url": "https://forum.example.com/t/318",
    }
    assert body["related"] == [first.pk, second.pk]
    assert body["answered"] is False
    assert response["Location"] == f"/v2/faqs/{body['id']}"
    # Relations are symmetric: the related entries now point back.
    assert Entry.objects.get(pk=first.pk).related_ids == [body["id"]]


def test_create_needs_only_question_and_source_kind(api, conforms):
    response = conforms(
        "v2", api.post("/v2/faqs", {"question": "Q?", "source": {"kind": "chat"}}, format="json")
    )

    assert response.status_code == 201
    assert response.json()["source"] == {"kind": "chat", "ref": None, "url": None}
    assert response.json()["related"] == []


def test_create_with_unknown_related_names_them_and_stores_nothing(api, make_entry, conforms):
    existing = make_entry()

    response = api.post(
        "/v2/faqs",
        {"question": "Q?", "source": {"kind": "chat"}, "related": [existing.pk, 998, 999]},
        format="json",
    )

    body = assert_problem(conforms("v2", response), 400)
    assert pointers(body) == {"#/related"}
    assert [e["detail"] for e in body["errors"]] == [
        "There is no FAQ entry with id 998.",
        "There is no FAQ entry with id 999.",
    ]
    assert Entry.objects.count() == 1


def test_retrieve(api, make_entry, conforms):
    other = make_entry(question="Other")
    entry = make_entry(question="Why?", answer="Because.", related=[other.pk])

    response = conforms("v2", api.get(f"/v2/faqs/{entry.pk}"))

    assert response.json() == {
        "id": entry.pk,
        "question": "Why?",
        "answer": "Because.",
        "answered": True,
        "source": {"kind": "ticket", "ref": "4711", "url": None},
        "related": [other.pk],
        "created_at": entry.created_at.isoformat().replace("+00:00", "Z"),
        "updated_at": Entry.objects.get(pk=entry.pk).updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_list_pages_by_cursor_newest_first(api, make_entry, conforms):
    entries = [make_entry(question=f"Q{n}") for n in range(5)]
    seen, cursor = [], None

    for _ in range(5):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = conforms("v2", api.get("/v2/faqs", query)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [e.pk for e in reversed(entries)]


def test_cursor_pages_are_stable_while_entries_are_added(api, make_entry):
    old = [make_entry(question=f"Q{n}") for n in range(4)]
    first = api.get("/v2/faqs", {"limit": 2}).json()

    make_entry(question="Newer than the cursor")
    second = api.get("/v2/faqs", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [i["id"] for i in second["items"]] == [old[1].pk, old[0].pk]


def test_previous_cursor_goes_back(api, make_entry):
    for n in range(4):
        make_entry(question=f"Q{n}")
    first = api.get("/v2/faqs", {"limit": 2}).json()
    second = api.get("/v2/faqs", {"limit": 2, "cursor": first["next_cursor"]}).json()

    back = api.get("/v2/faqs", {"limit": 2, "cursor": second["previous_cursor"]}).json()

    assert back["items"] == first["items"]


def test_list_filters(api, make_entry, conforms):
    hub = make_entry(question="Hub")
    forum = make_entry(question="Password help", source=Source(kind="forum", ref="9"))
    ticket = make_entry(question="Card declined", answer="Call the bank.", related=[hub.pk])

    def ids(**query):
        return {i["id"] for i in conforms("v2", api.get("/v2/faqs", query)).json()["items"]}

    assert ids(source_kind="forum") == {forum.pk}
    assert ids(source_ref="9") == {forum.pk}
    assert ids(related_to=hub.pk) == {ticket.pk}
    assert ids(answered="true") == {ticket.pk}
    assert ids(q="password") == {forum.pk}
    assert ids(q="declined", answered="false") == set()


def test_list_filters_by_time(api, make_entry, conforms):
    old, new = make_entry(question="Old"), make_entry(question="New")
    long_ago = timezone.now() - timedelta(days=30)
    Entry.objects.filter(pk=old.pk).update(created_at=long_ago, updated_at=long_ago)
    cutoff = (timezone.now() - timedelta(days=1)).isoformat()

    def ids(**query):
        return [i["id"] for i in conforms("v2", api.get("/v2/faqs", query)).json()["items"]]

    assert ids(created_after=cutoff) == [new.pk]
    assert ids(created_before=cutoff) == [old.pk]
    assert ids(updated_after=cutoff) == [new.pk]


def test_patch_changes_only_what_is_sent(api, make_entry, conforms):
    hub = make_entry(question="Hub")
    entry = make_entry(question="Before", answer="Old answer", related=[hub.pk])

    response = conforms(
        "v2", api.patch(f"/v2/faqs/{entry.pk}", {"answer": "New answer"}, format="json")
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["question"], body["answer"], body["related"]) == (
        "Before",
        "New answer",
        [hub.pk],
    )


def test_patch_replaces_source_and_related(api, make_entry, conforms):
    a, b = make_entry(question="A"), make_entry(question="B")
    entry = make_entry(related=[a.pk])

    response = conforms(
        "v2",
        api.patch(
            f"/v2/faqs/{entry.pk}",
            {"source": {"kind": "docs", "url": "https://docs.example.com/x"}, "related": [b.pk]},
            format="json",
        ),
    )

    assert response.json()["source"] == {
        "kind": "docs",
        "ref": None,
        "url": "https://docs.example.com/x",
    }
    assert response.json()["related"] == [b.pk]
    assert Entry.objects.get(pk=a.pk).related_ids == []


def test_patch_refuses_self_relation_and_keeps_the_entry(api, make_entry, conforms):
    entry = make_entry(question="Keep me", answer="Kept")

    response = api.patch(
        f"/v2/faqs/{entry.pk}", {"answer": "Changed", "related": [entry.pk]}, format="json"
    )

    body = assert_problem(conforms("v2", response), 400)
    assert pointers(body) == {"#/related"}
    assert Entry.objects.get(pk=entry.pk).answer == "Kept"


def test_delete_removes_the_entry_and_its_links(api, make_entry, conforms):
    hub = make_entry(question="Hub")
    entry = make_entry(related=[hub.pk])

    response = conforms("v2", api.delete(f"/v2/faqs/{entry.pk}"))

    assert response.status_code == 204
    assert Entry.objects.get(pk=hub.pk).related_ids == []
    assert_problem(conforms("v2", api.get(f"/v2/faqs/{entry.pk}")), 404)
