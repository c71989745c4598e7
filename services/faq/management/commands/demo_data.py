from django.core.management.base import BaseCommand
from django.db import transaction

from services.faq import services
from services.faq.models import Entry, Source

DEMO = [
    (
        "How do I reset my password?",
        "Use the 'Forgot password' link on the sign-in page; the link in the email is valid "
        "for one hour.",
        Source(kind="ticket", ref="4711"),
    ),
    (
        "Can I change the email address on my account?",
        "Yes: Settings, then Account, then Email. We send a confirmation to the new address.",
        Source(kind="forum", url="https://community.example.com/t/change-email/318"),
    ),
    (
        "Do you offer refunds for annual plans?",
        "Within 30 days of purchase, in full. After that, pro rata for the unused months.",
        Source(kind="docs", url="https://docs.example.com/billing/refunds"),
    ),
    ("Why was my card declined?", "", Source(kind="ticket", ref="5120")),
    ("Is there an API rate limit?", "", Source(kind="chat")),
]


class Command(BaseCommand):
    help = "Load a few demo FAQ entries (only into an empty FAQ)."

    @transaction.atomic
    def handle(self, *args, **options):
        if Entry.objects.exists():
            self.stdout.write("faq: entries exist already; demo data not loaded")
            return
        created = [
            services.entry_create(question=question, answer=answer, source=source)
            for question, answer, source in DEMO
        ]
        services.entry_update(entry_id=created[0].pk, related=[created[1].pk])
        self.stdout.write(f"faq: loaded {len(created)} demo entries")
