"""One domain, two versions: what either version writes, the other reads back correctly."""

import pytest

pytestmark = pytest.mark.django_db


def test_written_by_v1_reads_back_through_v2(api, conforms):
    created = api.post(
        "/v1/faqs",
        {"question": "How do I pay?", "source": "4711", "answer": "By card."},
        format="json",
    ).json()

    v2 = conforms("v2", api.get(f"/v2/faqs/{created['id']}")).json()

    assert v2["question"] == "How do I pay?"
    assert v2["answer"] == "By card."
    assert v2["answered"] is True
    assert v2["source"] == {"kind": "other", "ref": "4711", "url": None}
    assert v2["related"] == []
    assert v2["created_at"] == created["created"]


def test_v1_link_source_is_a_v2_url(api, conforms):
    created = api.post(
        "/v1/faqs", {"question": "Q?", "source": "https://forum.example.com/t/1"}, format="json"
    ).json()

    v2 = conforms("v2", api.get(f"/v2/faqs/{created['id']}")).json()

    assert v2["source"] == {"kind": "other", "ref": None, "url": "https://forum.example.com/t/1"}


@pytest.mark.parametrize(
    ("source", "v1_source"),
    [
        ({"kind": "ticket", "ref": "4711"}, "4711"),
        ({"kind": "ticket", "ref": "4711", "url": "https://t.example.com/4711"}, "4711"),
        ({"kind": "docs", "url": "https://docs.example.com/x"}, "https://docs.example.com/x"),
        ({"kind": "chat"}, "chat"),
    ],
)
def test_written_by_v2_reads_back_through_v1(api, conforms, source, v1_source):
    created = api.post(
        "/v2/faqs", {"question": "Q?", "answer": "A.", "source": source}, format="json"
    ).json()

    v1 = conforms("v1", api.get(f"/v1/faqs/{created['id']}")).json()

    assert v1["question"] == "Q?"
    assert v1["answer"] == "A."
    assert v1["source"] == v1_source
    assert v1["updated"] == created["updated_at"]


def test_v1_answer_keeps_what_only_v2_knows(api, make_entry, conforms):
    hub = make_entry(question="Hub")
    created = api.post(
        "/v2/faqs",
        {"question": "Q?", "source": {"kind": "forum", "ref": "9"}, "related": [hub.pk]},
        format="json",
    ).json()

    api.put(f"/v1/faqs/{created['id']}/answer", {"answer": "Now answered."}, format="json")
    v2 = conforms("v2", api.get(f"/v2/faqs/{created['id']}")).json()

    assert v2["answer"] == "Now answered."
    assert v2["related"] == [hub.pk]
    assert v2["source"] == {"kind": "forum", "ref": "9", "url": None}


def test_both_versions_list_the_same_entries(api, make_entry):
    made = {make_entry(question=f"Q{n}").pk for n in range(3)}
    api.post("/v1/faqs", {"question": "Via v1", "source": "s"}, format="json")

    v1_ids = {e["id"] for e in api.get("/v1/faqs").json()["results"]}
    v2_ids = {e["id"] for e in api.get("/v2/faqs").json()["items"]}

    assert v1_ids == v2_ids
    assert made < v1_ids
