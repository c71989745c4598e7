import time

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from services.billing import services


class Command(BaseCommand):
    help = (
        "Send pending support-ticket requests (declined cards) to the tickets service. Safe to "
        "run anywhere, any number of times: each request carries its own Idempotency-Key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Keep going: a pass every SECONDS (a worker process), until interrupted.",
        )

    def handle(self, *args, **options):
        interval = options["loop"]
        if interval is not None and not interval > 0:
            raise CommandError("--loop needs a positive number of seconds.")
        while True:
            outcomes = services.ticket_requests_send()
            if outcomes or interval is None:
                self.stdout.write(
                    "ticket requests: "
                    + ", ".join(f"{outcomes[s]} {s}" for s in ("sent", "pending", "refused"))
                )
            if interval is None:
                return
            close_old_connections()
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
