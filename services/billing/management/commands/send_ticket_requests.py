from django.core.management.base import BaseCommand, CommandError

from services.billing import services, worker
from services.kit import worker as kit_worker


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
            help="Keep going: a pass every SECONDS (a worker process), until SIGTERM or Ctrl-C, "
            "which stop it after the request in hand.",
        )

    def handle(self, *args, **options):
        interval = options["loop"]
        if interval is not None and not interval > 0:
            raise CommandError("--loop needs a positive number of seconds.")
        if interval is None:
            self.stdout.write(worker.describe(services.ticket_requests_send()))
            return
        with kit_worker.stopped_by_signals() as stop:
            kit_worker.run(
                worker.send_ticket_requests, interval=interval, stop=stop, report=self.stdout.write
            )
        self.stdout.write("ticket requests: stopped")
