"""Tickets v1: `requester` is an email; comments and status have endpoints; page numbers."""

import pytest

from services.tickets.models import Comment, FaqPromotion, Ticket
from tests.helpers import assert_problem
from tests.tickets.fakes import FakeFaq

pytestmark = pytest.mark.django_db

TICKET = {
    "subject": "My card was declined",
    "body": "The renewal of order ord_1042 failed.",
    "requester": "ada@Example.com",
    "order_ref": "ord_1042",
}


def stamp(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def test_create(api, conforms):
    response = conforms("v1", api.post("/v1/tickets", TICKET, format="json"))

    assert response.status_code == 201
    body = response.json()
    stored = Ticket.objects.get(pk=body["id"])
    assert body == {
        "id": stored.pk,
        "subject": "My card was declined",
        "body": "The renewal of order ord_1042 failed.",
        "requester": "ada@example.com",
        "status": "open",
        "order_ref": "ord_1042",
        "answer": "",
        "promotion": None,
        "created_at": stamp(stored.created_at),
        "updated_at": stamp(stored.updated_at),
        "resolved_at": None,
    }
    assert response["Location"] == f"/v1/tickets/{stored.pk}"
    assert (stored.requester_email, stored.requester_name, stored.order_ref) == (
        "ada@example.com",
        "",
        "ord_1042",
    )


def test_create_without_order_ref(api, conforms):
    body = {key: value for key, value in TICKET.items() if key != "order_ref"}

    response = conforms("v1", api.post("/v1/tickets", body, format="json"))

    assert response.json()["order_ref"] is None
    assert Ticket.objects.get().order_ref == ""


def test_location_honours_the_gateway_prefix(api):
    response = api.post("/v1/tickets", TICKET, format="json", HTTP_X_FORWARDED_PREFIX="/tickets")

    assert response["Location"] == f"/tickets/v1/tickets/{response.json()['id']}"


def test_retrieve_and_unknown(api, make_ticket, conforms):
    ticket = make_ticket()

    assert conforms("v1", api.get(f"/v1/tickets/{ticket.pk}")).json()["id"] == ticket.pk
    problem = assert_problem(conforms("v1", api.get("/v1/tickets/424242")), 404)
    assert problem["detail"] == "There is no ticket with id 424242."


def test_list_pages_by_number_oldest_first(api, make_ticket, conforms):
    tickets = [make_ticket(subject=f"Question {n}") for n in range(5)]

    first = conforms("v1", api.get("/v1/tickets?page_size=2")).json()
    last = conforms("v1", api.get("/v1/tickets?page_size=2&page=3")).json()

    assert first["count"] == 5
    assert [t["id"] for t in first["results"]] == [tickets[0].pk, tickets[1].pk]
    assert first["next"] == "http://testserver/v1/tickets?page=2&page_size=2"
    assert [t["id"] for t in last["results"]] == [tickets[4].pk]
    assert last["next"] is None
    assert_problem(conforms("v1", api.get("/v1/tickets?page_size=2&page=4")), 404)


def test_list_filters(api, make_ticket, conforms):
    card = make_ticket(subject="Card declined", requester_email="ada@example.com")
    export = make_ticket(subject="Export invoices", requester_email="linus@example.com")
    closed = make_ticket(subject="Card charged twice", status="closed")

    def ids(**query):
        return {t["id"] for t in conforms("v1", api.get("/v1/tickets", query)).json()["results"]}

    assert ids(status="open") == {card.pk, export.pk}
    assert ids(status="closed") == {closed.pk}
    assert ids(requester="LINUS@example.com") == {export.pk}
    assert ids(q="card") == {card.pk, closed.pk}
    assert ids(q="card", status="open") == {card.pk}


def test_comments_are_added_and_listed_oldest_first(api, make_ticket, conforms):
    ticket = make_ticket()

    created = conforms(
        "v1",
        api.post(
            f"/v1/tickets/{ticket.pk}/comments",
            {"author": "grace", "body": "Which card?"},
            format="json",
        ),
    )
    api.post(f"/v1/tickets/{ticket.pk}/comments", {"author": "ada", "body": "Visa."}, "json")
    listing = conforms("v1", api.get(f"/v1/tickets/{ticket.pk}/comments")).json()

    assert created.status_code == 201
    stored = Comment.objects.get(pk=created.json()["id"])
    assert created.json() == {
        "id": stored.pk,
        "author": "grace",
        "body": "Which card?",
        "created_at": stamp(stored.created_at),
    }
    assert listing["count"] == 2
    assert [c["body"] for c in listing["results"]] == ["Which card?", "Visa."]


def test_comments_of_an_unknown_ticket_are_404(api, conforms):
    assert_problem(conforms("v1", api.get("/v1/tickets/424242/comments")), 404)
    response = api.post("/v1/tickets/424242/comments", {"author": "a", "body": "b"}, "json")
    assert_problem(conforms("v1", response), 404)


def test_a_closed_ticket_takes_no_comments(api, make_ticket, conforms):
    ticket = make_ticket(status="closed")

    response = api.post(f"/v1/tickets/{ticket.pk}/comments", {"author": "a", "body": "b"}, "json")

    problem = assert_problem(conforms("v1", response), 409)
    assert problem["detail"] == f"Ticket {ticket.pk} is closed; it takes no more comments."
    assert not Comment.objects.exists()


def test_status_moves_along_the_workflow(api, make_ticket, conforms):
    ticket = make_ticket()

    pending = conforms(
        "v1", api.post(f"/v1/tickets/{ticket.pk}/status", {"status": "pending"}, "json")
    )
    closed = conforms(
        "v1", api.post(f"/v1/tickets/{ticket.pk}/status", {"status": "closed"}, "json")
    )

    assert (pending.status_code, pending.json()["status"]) == (200, "pending")
    assert closed.json()["status"] == "closed"
    assert Ticket.objects.get(pk=ticket.pk).status == "closed"


def test_an_illegal_transition_is_409_and_changes_nothing(api, make_ticket, conforms):
    ticket = make_ticket(status="closed")

    response = api.post(f"/v1/tickets/{ticket.pk}/status", {"status": "open"}, "json")

    problem = assert_problem(conforms("v1", response), 409)
    assert problem["detail"] == (
        f"Ticket {ticket.pk} is closed and cannot become open: a closed ticket never changes."
    )
    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.updated_at) == ("closed", ticket.updated_at)


def test_the_current_status_is_a_no_op(api, make_ticket, conforms):
    ticket = make_ticket(status="pending")

    response = conforms(
        "v1", api.post(f"/v1/tickets/{ticket.pk}/status", {"status": "pending"}, "json")
    )

    assert response.status_code == 200
    assert Ticket.objects.get(pk=ticket.pk).updated_at == ticket.updated_at


def test_resolve_without_promotion(api, make_ticket, conforms):
    ticket = make_ticket()

    response = conforms(
        "v1",
        api.post(
            f"/v1/tickets/{ticket.pk}/resolve", {"answer": "Fixed.", "promote": False}, "json"
        ),
    )

    body = response.json()
    assert (body["status"], body["answer"], body["promotion"]) == ("resolved", "Fixed.", None)
    assert body["resolved_at"] is not None
    assert not FaqPromotion.objects.exists()


def test_resolve_with_promotion_goes_to_faq_v1(
    api, make_ticket, conforms, faq, django_capture_on_commit_callbacks
):
    fake = FakeFaq(faq, "v1")
    ticket = make_ticket(subject="How do I export?")

    with django_capture_on_commit_callbacks(execute=True):
        response = conforms(
            "v1",
            api.post(
                f"/v1/tickets/{ticket.pk}/resolve",
                {"answer": "Settings, then Export.", "promote": True},
                format="json",
            ),
        )

    assert response.status_code == 200
    assert response.json()["promotion"]["faq_version"] == "v1"
    [request] = fake.requests
    assert request.url == "http://faq.test/v1/faqs"
    shown = conforms("v1", api.get(f"/v1/tickets/{ticket.pk}")).json()["promotion"]
    assert (shown["status"], shown["faq_entry_id"], shown["attempts"]) == ("done", 41, 1)


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_resolving_twice_or_a_closed_ticket_is_409(api, make_ticket, conforms, status):
    ticket = make_ticket(status=status)

    response = api.post(
        f"/v1/tickets/{ticket.pk}/resolve", {"answer": "Again.", "promote": True}, "json"
    )

    assert_problem(conforms("v1", response), 409)
    assert Ticket.objects.get(pk=ticket.pk).answer == ticket.answer
    assert not FaqPromotion.objects.exists()
