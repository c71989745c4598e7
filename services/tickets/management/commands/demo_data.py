from django.core.management.base import BaseCommand
from django.db import transaction

from services.tickets import services
from services.tickets.models import Ticket


class Command(BaseCommand):
    help = "Load a few demo tickets (only into an empty database)."

    @transaction.atomic
    def handle(self, *args, **options):
        if Ticket.objects.exists():
            self.stdout.write("tickets: tickets exist already; demo data not loaded")
            return
        declined = services.ticket_create(
            subject="My card was declined",
            body="The renewal of order ord_1042 failed although the card is valid.",
            requester_email="ada@example.com",
            requester_name="Ada Lovelace",
            order_ref="ord_1042",
        )
        services.comment_create(
            ticket_id=declined.pk,
            author="agent.grace@example.com",
            body="Could you tell us the last four digits of the card?",
        )
        export = services.ticket_create(
            subject="How do I export my invoices?",
            body="I need every invoice of 2026 as PDF for my accountant.",
            requester_email="linus@example.com",
        )
        services.ticket_transition(ticket_id=export.pk, status="pending")
        password = services.ticket_create(
            subject="The password reset email never arrives",
            body="I asked three times; nothing in spam either.",
            requester_email="margaret@example.com",
            requester_name="Margaret Hamilton",
        )
        services.ticket_resolve(
            ticket_id=password.pk,
            answer="Our mail provider had a delay; the emails arrive again. The link in them "
            "is valid for one hour.",
        )
        duplicate = services.ticket_create(
            subject="Charged twice",
            body="Order ord_0999 shows two payments.",
            requester_email="alan@example.com",
            order_ref="ord_0999",
        )
        services.ticket_transition(ticket_id=duplicate.pk, status="closed")
        self.stdout.write(f"tickets: loaded {Ticket.objects.count()} demo tickets")
