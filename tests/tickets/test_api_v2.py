"""Tickets v2: ``requester: {email, name}``, embedded comments, ``PATCH`` for the status, cursor
pages, and ``promote: {related}`` through FAQ v2."""

import pytest

from services.tickets import services
from services.tickets.models import FaqPromotion, Ticket
from tests.helpers import assert_problem
from tests.tickets.fakes import FakeFaq

pytestmark = pytest.mark.django_db

TICKET = {
    "subject": "My card was declined",
    "body": "The renewal of order ord_1042 failed.",
    "requester": {"email": "ada@example.com", "name": "Ada Lovelace"},
    "order_ref": "ord_1042",
}


def stamp(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_create(api, conforms):
    response = conforms("v2", api.post("/v2/tickets", TICKET, format="json"))

    assert response.status_code == 201
    body = response.json()
    stored = Ticket.objects.get(pk=body["id"])
    assert body == {
        "id": stored.pk,
        "subject": "My card was declined",
        "body": "The renewal of order ord_1042 failed.",
        "requester": {"email": "ada@example.com", "name": "Ada Lovelace"},
        "status": "open",
        "order_ref": "ord_1042",
        "answer": "",
        "comments": [],
        "promotion": None,
        "created_at": stamp(stored.created_at),
        "updated_at": stamp(stored.updated_at),
        "resolved_at": None,
    }
    assert response["Location"] == f"/v2/tickets/{stored.pk}"
    assert (stored.requester_email, stored.requester_name) == ("ada@example.com", "Ada Lovelace")


@pytest.mark.parametrize(
    "requester", [{"email": "ada@example.com"}, {"email": "ada@example.com", "name": None}]
)
def test_the_requester_name_is_optional(api, conforms, requester):
    body = {"subject": "Hi", "body": "Help", "requester": requester}

    response = conforms("v2", api.post("/v2/tickets", body, format="json"))

    assert response.json()["requester"] == {"email": "ada@example.com", "name": None}
    assert response.json()["order_ref"] is None


def test_retrieve_embeds_the_comments(api, make_ticket, conforms):
    ticket = make_ticket()
    first = services.comment_create(ticket_id=ticket.pk, author="grace", body="Which card?")
    second = services.comment_create(ticket_id=ticket.pk, author="ada", body="Visa.")

    body = conforms("v2", api.get(f"/v2/tickets/{ticket.pk}")).json()

    assert body["comments"] == [
        {"id": c.pk, "author": c.author, "body": c.body, "created_at": stamp(c.created_at)}
        for c in (first, second)
    ]
    assert_problem(conforms("v2", api.get("/v2/tickets/424242")), 404)


def test_list_pages_by_cursor_newest_first(api, make_ticket, conforms):
    tickets = [make_ticket(subject=f"Q{n}") for n in range(5)]
    seen, cursor = [], None

    for _ in range(5):
        query = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = conforms("v2", api.get("/v2/tickets", query)).json()
        seen.extend(item["id"] for item in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen == [t.pk for t in reversed(tickets)]


def test_list_filters(api, make_ticket, conforms):
    card = make_ticket(subject="Card declined", order_ref="ord_1")
    export = make_ticket(subject="Export invoices", requester_email="linus@example.com")
    pending = make_ticket(subject="Card expired", order_ref="ord_2", status="pending")

    def ids(**query):
        return {t["id"] for t in conforms("v2", api.get("/v2/tickets", query)).json()["items"]}

    assert ids(order_ref="ord_1") == {card.pk}
    assert ids(status="pending") == {pending.pk}
    assert ids(requester="linus@EXAMPLE.com") == {export.pk}
    assert ids(q="card") == {card.pk, pending.pk}
    assert ids(q="card", order_ref="ord_2") == {pending.pk}


def test_patch_changes_the_status(api, make_ticket, conforms):
    ticket = make_ticket()

    response = conforms("v2", api.patch(f"/v2/tickets/{ticket.pk}", {"status": "pending"}, "json"))

    assert (response.status_code, response.json()["status"]) == (200, "pending")
    assert Ticket.objects.get(pk=ticket.pk).status == "pending"


def test_patch_with_nothing_changes_nothing(api, make_ticket, conforms):
    ticket = make_ticket()

    response = conforms("v2", api.patch(f"/v2/tickets/{ticket.pk}", {}, "json"))

    assert response.json()["status"] == "open"
    assert Ticket.objects.get(pk=ticket.pk).updated_at == ticket.updated_at


@pytest.mark.parametrize(
    ("status", "target"), [("closed", "open"), ("closed", "resolved"), ("resolved", "pending")]
)
def test_an_illegal_transition_is_409(api, make_ticket, conforms, status, target):
    ticket = make_ticket(status=status)

    response = api.patch(f"/v2/tickets/{ticket.pk}", {"status": target}, "json")

    problem = assert_problem(conforms("v2", response), 409)
    assert f"is {status} and cannot become {target}" in problem["detail"]
    assert Ticket.objects.get(pk=ticket.pk).status == status


def test_comment_then_see_it_embedded(api, make_ticket, conforms):
    ticket = make_ticket()

    created = conforms(
        "v2",
        api.post(f"/v2/tickets/{ticket.pk}/comments", {"author": "grace", "body": "Hi"}, "json"),
    )

    assert created.status_code == 201
    shown = api.get(f"/v2/tickets/{ticket.pk}").json()["comments"]
    assert shown == [created.json()]


def test_a_closed_ticket_takes_no_comments(api, make_ticket, conforms):
    ticket = make_ticket(status="closed")

    response = api.post(f"/v2/tickets/{ticket.pk}/comments", {"author": "a", "body": "b"}, "json")

    assert_problem(conforms("v2", response), 409)


def test_resolve_without_promotion(api, make_ticket, conforms):
    ticket = make_ticket()

    response = conforms(
        "v2", api.post(f"/v2/tickets/{ticket.pk}/resolve", {"answer": "Fixed."}, "json")
    )

    assert (response.json()["status"], response.json()["promotion"]) == ("resolved", None)
    assert not FaqPromotion.objects.exists()


@pytest.mark.parametrize(("promote", "related"), [({}, []), ({"related": [9, 3]}, [9, 3])])
def test_resolve_with_promotion_goes_to_faq_v2(
    api, make_ticket, conforms, faq, django_capture_on_commit_callbacks, promote, related
):
    fake = FakeFaq(faq, "v2")
    ticket = make_ticket(subject="Why was my card declined?")

    with django_capture_on_commit_callbacks(execute=True):
        response = conforms(
            "v2",
            api.post(
                f"/v2/tickets/{ticket.pk}/resolve",
                {"answer": "Your bank blocked it.", "promote": promote},
                format="json",
            ),
        )

    assert response.status_code == 200
    [request] = fake.requests
    assert request.url == "http://faq.test/v2/faqs"
    assert FaqPromotion.objects.get().payload["related"] == related
    shown = conforms("v2", api.get(f"/v2/tickets/{ticket.pk}")).json()["promotion"]
    assert (shown["status"], shown["faq_version"], shown["faq_entry_id"]) == ("done", "v2", 41)


def test_an_unknown_related_faq_entry_fails_the_promotion_not_the_resolution(
    api, make_ticket, conforms, faq, django_capture_on_commit_callbacks
):
    faq.add(
        "POST",
        "http://faq.test/v2/faqs",
        status=400,
        content_type="application/problem+json",
        json={
            "type": "https://switchyard.dev/problems/validation-error",
            "title": "Your request is not valid",
            "status": 400,
            "detail": "1 field failed validation; see errors.",
            "errors": [
                {
                    "pointer": "#/related",
                    "detail": "There is no FAQ entry with id 998.",
                    "code": "invalid",
                }
            ],
        },
    )
    ticket = make_ticket()

    with django_capture_on_commit_callbacks(execute=True):
        resolved = api.post(
            f"/v2/tickets/{ticket.pk}/resolve",
            {"answer": "A.", "promote": {"related": [998]}},
            format="json",
        )

    assert resolved.status_code == 200
    body = conforms("v2", api.get(f"/v2/tickets/{ticket.pk}")).json()
    assert body["status"] == "resolved"
    assert body["promotion"]["status"] == "failed"
    assert "#/related: There is no FAQ entry with id 998." in body["promotion"]["last_error"]


def test_a_ticket_is_promoted_only_once(
    api, make_ticket, conforms, django_capture_on_commit_callbacks
):
    ticket = make_ticket()
    with django_capture_on_commit_callbacks():
        api.post(f"/v2/tickets/{ticket.pk}/resolve", {"answer": "A.", "promote": {}}, "json")
    api.patch(f"/v2/tickets/{ticket.pk}", {"status": "open"}, "json")

    response = api.post(f"/v2/tickets/{ticket.pk}/resolve", {"answer": "B.", "promote": {}}, "json")

    problem = assert_problem(conforms("v2", response), 409)
    assert "promoted to the FAQ already" in problem["detail"]
    assert Ticket.objects.get(pk=ticket.pk).status == "open"
    assert FaqPromotion.objects.count() == 1
