from django.core.management.base import BaseCommand

from services.kit.idempotency import purge


class Command(BaseCommand):
    help = "Delete Idempotency-Key records older than IDEMPOTENCY_TTL_HOURS (24 by default)."

    def handle(self, *args, **options):
        self.stdout.write(f"Deleted {purge()} idempotency records.")
