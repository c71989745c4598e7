"""``manage.py demo_data``: a few tickets in every state, loaded only into an empty database."""

import io

import pytest
from django.core.management import call_command

from services.tickets.models import Comment, FaqPromotion, Ticket

pytestmark = pytest.mark.django_db


def demo_data() -> str:
    out = io.StringIO()
    call_command("demo_data", stdout=out)
    return out.getvalue()


def test_loads_tickets_in_every_state_once():
    assert demo_data().strip() == "tickets: loaded 4 demo tickets"
    assert demo_data().strip() == "tickets: tickets exist already; demo data not loaded"

    assert sorted(Ticket.objects.values_list("status", flat=True)) == [
        "closed",
        "open",
        "pending",
        "resolved",
    ]
    assert Comment.objects.count() == 1
    assert not FaqPromotion.objects.exists()  # nothing to send to an FAQ that may not run


def test_the_demo_tickets_read_back_through_both_versions(api, conforms):
    demo_data()

    conforms("v1", api.get("/v1/tickets"))
    conforms("v2", api.get("/v2/tickets"))
