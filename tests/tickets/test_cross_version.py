"""One domain, two versions: what either version writes, the other reads back correctly."""

import pytest

from tests.tickets.fakes import FakeFaq

pytestmark = pytest.mark.django_db


def test_written_by_v1_reads_back_through_v2(api, conforms):
    created = api.post(
        "/v1/tickets",
        {"subject": "Export?", "body": "How?", "requester": "ada@example.com", "order_ref": "o-1"},
        format="json",
    ).json()
    api.post(f"/v1/tickets/{created['id']}/comments", {"author": "grace", "body": "PDF?"}, "json")
    api.post(f"/v1/tickets/{created['id']}/status", {"status": "pending"}, "json")

    v2 = conforms("v2", api.get(f"/v2/tickets/{created['id']}")).json()

    assert v2["requester"] == {"email": "ada@example.com", "name": None}
    assert (v2["subject"], v2["order_ref"], v2["status"]) == ("Export?", "o-1", "pending")
    assert [(c["author"], c["body"]) for c in v2["comments"]] == [("grace", "PDF?")]
    assert v2["created_at"] == created["created_at"]


def test_written_by_v2_reads_back_through_v1(api, conforms):
    created = api.post(
        "/v2/tickets",
        {
            "subject": "Refund?",
            "body": "Please.",
            "requester": {"email": "ada@example.com", "name": "Ada"},
        },
        format="json",
    ).json()
    api.post(
        f"/v2/tickets/{created['id']}/comments", {"author": "ada", "body": "Any news?"}, "json"
    )
    api.patch(f"/v2/tickets/{created['id']}", {"status": "closed"}, "json")

    v1 = conforms("v1", api.get(f"/v1/tickets/{created['id']}")).json()
    comments = conforms("v1", api.get(f"/v1/tickets/{created['id']}/comments")).json()

    assert (v1["requester"], v1["status"], v1["order_ref"]) == ("ada@example.com", "closed", None)
    assert [c["body"] for c in comments["results"]] == ["Any news?"]
    # Either version's rules are the same rules: closed is final in v1 too.
    response = api.post(f"/v1/tickets/{created['id']}/status", {"status": "open"}, "json")
    assert conforms("v1", response).status_code == 409


def test_a_v1_promotion_shows_in_v2_and_the_other_way_round(
    api, make_ticket, conforms, faq, django_capture_on_commit_callbacks
):
    FakeFaq(faq, "v1")
    FakeFaq(faq, "v2")
    by_v1, by_v2 = make_ticket(subject="One?"), make_ticket(subject="Two?")

    with django_capture_on_commit_callbacks(execute=True):
        api.post(f"/v1/tickets/{by_v1.pk}/resolve", {"answer": "A.", "promote": True}, "json")
        api.post(f"/v2/tickets/{by_v2.pk}/resolve", {"answer": "B.", "promote": {}}, "json")

    seen_by_v2 = conforms("v2", api.get(f"/v2/tickets/{by_v1.pk}")).json()["promotion"]
    seen_by_v1 = conforms("v1", api.get(f"/v1/tickets/{by_v2.pk}")).json()["promotion"]
    assert (seen_by_v2["faq_version"], seen_by_v2["status"]) == ("v1", "done")
    assert (seen_by_v1["faq_version"], seen_by_v1["status"]) == ("v2", "done")
