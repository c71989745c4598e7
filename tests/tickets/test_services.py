"""The tickets write layer, independent of any API version: the workflow and the outbox."""

import pytest
from django.core.exceptions import ValidationError

from services.tickets import selectors, services
from services.tickets.models import Comment, FaqPromotion, Ticket

pytestmark = pytest.mark.django_db

STATUSES = ["open", "pending", "resolved", "closed"]
ALLOWED = {
    ("open", "pending"),
    ("open", "resolved"),
    ("open", "closed"),
    ("pending", "open"),
    ("pending", "resolved"),
    ("pending", "closed"),
    ("resolved", "open"),
    ("resolved", "closed"),
}


@pytest.mark.parametrize("target", STATUSES)
@pytest.mark.parametrize("current", STATUSES)
def test_every_transition_is_allowed_or_refused_as_declared(make_ticket, current, target):
    ticket = make_ticket(status=current)

    if current == target:
        assert services.ticket_transition(ticket_id=ticket.pk, status=target).status == current
        assert Ticket.objects.get(pk=ticket.pk).updated_at == ticket.updated_at  # untouched
    elif (current, target) in ALLOWED:
        assert services.ticket_transition(ticket_id=ticket.pk, status=target).status == target
        assert Ticket.objects.get(pk=ticket.pk).status == target
    else:
        with pytest.raises(services.IllegalTransition) as refused:
            services.ticket_transition(ticket_id=ticket.pk, status=target)
        assert f"Ticket {ticket.pk} is {current} and cannot become {target}" in str(refused.value)
        assert Ticket.objects.get(pk=ticket.pk).status == current


def test_the_declared_table_is_the_code_s():
    declared = {(a, b) for a, targets in services.TRANSITIONS.items() for b in targets}
    assert declared == ALLOWED


def test_resolving_sets_and_reopening_clears_resolved_at(make_ticket):
    ticket = make_ticket()

    resolved = services.ticket_resolve(ticket_id=ticket.pk, answer="Done.")
    assert (resolved.status, resolved.answer) == ("resolved", "Done.")
    assert resolved.resolved_at is not None

    reopened = services.ticket_transition(ticket_id=ticket.pk, status="open")
    assert reopened.resolved_at is None


@pytest.mark.parametrize("status", ["resolved", "closed"])
def test_only_open_or_pending_tickets_resolve(make_ticket, status):
    ticket = make_ticket(status=status)

    with pytest.raises(services.IllegalTransition):
        services.ticket_resolve(
            ticket_id=ticket.pk, answer="Again.", promote=services.PromotionRequest()
        )

    assert Ticket.objects.get(pk=ticket.pk).answer == ticket.answer
    assert not FaqPromotion.objects.exists()


def test_an_unknown_ticket_does_not_exist():
    with pytest.raises(Ticket.DoesNotExist, match=r"There is no ticket with id 424242\."):
        services.ticket_transition(ticket_id=424242, status="closed")


def test_the_promotion_is_recorded_with_the_resolution(
    make_ticket, django_capture_on_commit_callbacks
):
    ticket = make_ticket(subject="Why was my card declined?")

    with django_capture_on_commit_callbacks() as callbacks:  # not run: no FAQ in this test
        services.ticket_resolve(
            ticket_id=ticket.pk,
            answer="Your bank blocked it.",
            promote=services.PromotionRequest(faq_version="v2", related=(3, 9)),
        )

    promotion = FaqPromotion.objects.get(ticket=ticket)
    assert promotion.status == "pending"
    assert promotion.attempts == 0
    assert promotion.idempotency_key == f"ticket-{ticket.pk}-promotion"
    assert promotion.payload == {
        "question": "Why was my card declined?",
        "answer": "Your bank blocked it.",
        "source": {"kind": "ticket", "ref": str(ticket.pk)},
        "related": [3, 9],
    }
    assert len(callbacks) == 1  # the delivery waits for the commit


def test_a_v1_promotion_has_the_v1_payload(make_ticket, django_capture_on_commit_callbacks):
    ticket = make_ticket(subject="Export?")

    with django_capture_on_commit_callbacks():
        services.ticket_resolve(
            ticket_id=ticket.pk, answer="Settings.", promote=services.PromotionRequest("v1")
        )

    promotion = FaqPromotion.objects.get(ticket=ticket)
    assert promotion.faq_version == "v1"
    assert promotion.payload == {
        "question": "Export?",
        "source": str(ticket.pk),
        "answer": "Settings.",
    }


def test_a_ticket_is_promoted_once(make_ticket, django_capture_on_commit_callbacks):
    ticket = make_ticket()
    with django_capture_on_commit_callbacks():
        services.ticket_resolve(
            ticket_id=ticket.pk, answer="First.", promote=services.PromotionRequest()
        )
    services.ticket_transition(ticket_id=ticket.pk, status="open")

    with pytest.raises(services.AlreadyPromoted):
        services.ticket_resolve(
            ticket_id=ticket.pk, answer="Second.", promote=services.PromotionRequest()
        )

    stored = Ticket.objects.get(pk=ticket.pk)
    assert (stored.status, stored.answer) == ("open", "First.")  # nothing of the refusal stays
    assert FaqPromotion.objects.count() == 1
    # Without promotion the reopened ticket resolves again.
    assert services.ticket_resolve(ticket_id=ticket.pk, answer="Second.").answer == "Second."


def test_comments_touch_the_ticket_and_stop_once_it_is_closed(make_ticket):
    ticket = make_ticket()

    comment = services.comment_create(ticket_id=ticket.pk, author="grace", body="Which card?")

    assert Ticket.objects.get(pk=ticket.pk).updated_at >= comment.created_at
    assert list(selectors.comment_list(ticket_id=ticket.pk)) == [comment]
    services.ticket_transition(ticket_id=ticket.pk, status="closed")
    with pytest.raises(services.TicketClosed):
        services.comment_create(ticket_id=ticket.pk, author="ada", body="Hello?")
    assert Comment.objects.count() == 1


def test_the_email_domain_is_stored_in_lower_case(make_ticket):
    ticket = make_ticket(requester_email="Ada.Lovelace@Example.COM")

    assert ticket.requester_email == "Ada.Lovelace@example.com"


def test_model_validation_guards_the_service():
    with pytest.raises(ValidationError) as error:
        services.ticket_create(subject="Hi", body="x", requester_email="not an email")

    assert "requester_email" in error.value.message_dict
    assert not Ticket.objects.exists()


def test_search_needs_every_word(make_ticket):
    card = make_ticket(subject="Card declined", body="Renewal of my plan")
    make_ticket(subject="Card expired", body="Nothing")

    found = selectors.ticket_search(Ticket.objects.all(), "  CARD   renewal ")

    assert list(found) == [card]
