"""FAQ v1: the seed's contract: ``{question, source}``, page numbers, ``created``/``updated``."""

import pytest

from services.faq.models import Entry
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def test_create_takes_question_and_source(api, conforms):
    response = api.post("/v1/faqs", {"question": "How do I pay?", "source": "123"}, format="json")

    conforms("v1", response)
    assert response.status_code == 201
    body = response.json()
    assert body["question"] == "How do I pay?"
    assert body["source"] == "123"
    assert body["answer"] == ""
    assert set(body) == {"id", "question", "answer", "source", "created", "updated"}
    assert response["Location"] == f"/v1/faqs/{body['id']}"
    stored = Entry.objects.get(pk=body["id"])
    assert (stored.source_kind, stored.source_ref, stored.source_url) == ("other", "123", "")


def test_create_accepts_an_answer_and_a_link_as_source(api, conforms):
    response = api.post(
        "/v1/faqs",
        {"question": "Refunds?", "source": "https://docs.example.com/r", "answer": "30 days."},
        format="json",
    )

    conforms("v1", response)
    body = response.json()
    assert body["answer"] == "30 days."
    assert body["source"] == "https://docs.example.com/r"
    assert Entry.objects.get(pk=body["id"]).source_url == "https://docs.example.com/r"


def test_location_honours_the_gateway_prefix(api):
    response = api.post(
        "/v1/faqs",
        {"question": "Q?", "source": "s"},
        format="json",
        HTTP_X_FORWARDED_PREFIX="/faq",
    )

    assert response["Location"] == f"/faq/v1/faqs/{response.json()['id']}"


def test_retrieve(api, make_entry, conforms):
    entry = make_entry(question="Why?", answer="Because.")

    response = conforms("v1", api.get(f"/v1/faqs/{entry.pk}"))

    assert response.status_code == 200
    assert response.json() == {
        "id": entry.pk,
        "question": "Why?",
        "answer": "Because.",
        "source": "4711",
        "created": entry.created_at.isoformat().replace("+00:00", "Z"),
        "updated": entry.updated_at.isoformat().replace("+00:00", "Z"),
    }


def test_retrieve_unknown_is_a_problem(api, conforms):
    response = conforms("v1", api.get("/v1/faqs/424242"))

    body = assert_problem(response, 404)
    assert body["detail"] == "There is no FAQ entry with id 424242."


def test_list_pages_by_number(api, make_entry, conforms):
    entries = [make_entry(question=f"Question {n}") for n in range(5)]

    first = conforms("v1", api.get("/v1/faqs?page_size=2"))
    last = conforms("v1", api.get("/v1/faqs?page_size=2&page=3"))

    assert first.json()["count"] == 5
    assert [e["id"] for e in first.json()["results"]] == [entries[0].pk, entries[1].pk]
    assert first.json()["next"] == "http://testserver/v1/faqs?page=2&page_size=2"
    assert first.json()["previous"] is None
    assert [e["id"] for e in last.json()["results"]] == [entries[4].pk]
    assert last.json()["next"] is None


def test_list_links_carry_the_gateway_prefix(api, make_entry):
    for n in range(3):
        make_entry(question=f"Q{n}")

    response = api.get("/v1/faqs?page_size=1", HTTP_X_FORWARDED_PREFIX="/faq")

    assert response.json()["next"] == "http://testserver/faq/v1/faqs?page=2&page_size=1"


def test_list_searches_question_and_answer(api, make_entry, conforms):
    reset = make_entry(question="How do I reset my password?")
    make_entry(question="Where is my invoice?", answer="Under Billing.")
    answered = make_entry(question="Locked out", answer="Reset the PASSWORD from the login page.")

    response = conforms("v1", api.get("/v1/faqs", {"q": "password reset"}))

    assert [e["id"] for e in response.json()["results"]] == [reset.pk, answered.pk]


def test_list_filters_by_answered_and_source(api, make_entry, conforms):
    from services.faq.models import Source

    unanswered = make_entry(source=Source(ref="77"))
    answered = make_entry(answer="Yes.", source=Source(url="https://forum.example.com/t/1"))

    def ids(**query):
        return [e["id"] for e in conforms("v1", api.get("/v1/faqs", query)).json()["results"]]

    assert ids(answered="true") == [answered.pk]
    assert ids(answered="false") == [unanswered.pk]
    assert ids(source="77") == [unanswered.pk]
    assert ids(source="https://forum.example.com/t/1") == [answered.pk]


def test_answer_sets_and_clears_the_answer(api, make_entry, conforms):
    entry = make_entry()

    set_ = conforms(
        "v1", api.put(f"/v1/faqs/{entry.pk}/answer", {"answer": "Do X."}, format="json")
    )
    cleared = conforms("v1", api.put(f"/v1/faqs/{entry.pk}/answer", {"answer": ""}, format="json"))

    assert set_.status_code == 200
    assert set_.json()["answer"] == "Do X."
    assert cleared.json()["answer"] == ""
    assert Entry.objects.get(pk=entry.pk).answer == ""


def test_answer_of_unknown_entry_is_a_problem(api, conforms):
    response = api.put("/v1/faqs/999/answer", {"answer": "x"}, format="json")

    assert_problem(conforms("v1", response), 404)


def test_delete(api, make_entry, conforms):
    entry = make_entry()

    response = conforms("v1", api.delete(f"/v1/faqs/{entry.pk}"))
    again = conforms("v1", api.delete(f"/v1/faqs/{entry.pk}"))

    assert response.status_code == 204
    assert response.content == b""
    assert not Entry.objects.filter(pk=entry.pk).exists()
    assert_problem(again, 404)


def test_create_reports_every_invalid_field(api, conforms):
    response = conforms("v1", api.post("/v1/faqs", {"question": ""}, format="json"))

    body = assert_problem(response, 400, type="https://switchyard.dev/problems/validation-error")
    assert body["errors"] == [
        {"pointer": "#/question", "detail": "This field may not be blank.", "code": "blank"},
        {"pointer": "#/source", "detail": "This field is required.", "code": "required"},
    ]
    assert Entry.objects.count() == 0
