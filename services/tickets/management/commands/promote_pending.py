"""``manage.py promote_pending [--loop SECONDS] [--retry-failed]``: the FAQ promotion worker.

Sends pending promotions, oldest first, each with its own ``Idempotency-Key``, so a retry after a
lost answer never makes a second FAQ entry. Any number of workers may run: each promotion is sent
by whichever holds its row lock (the others skip it).
"""

from django.core.management.base import BaseCommand, CommandError

from services.kit import worker as kit_worker
from services.tickets import services, worker


class Command(BaseCommand):
    help = "Deliver pending FAQ promotions, oldest first; with --loop, every SECONDS until stopped."

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Keep running, starting a new pass this many seconds after the last one ended "
            "(SIGTERM or Ctrl-C stops it after the promotion in hand).",
        )
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="First make every failed promotion pending again (once what the FAQ refused "
            "is fixed, e.g. GATEWAY_API_KEY).",
        )

    def handle(self, *args, loop=None, retry_failed=False, **options):
        if loop is not None and loop <= 0:
            raise CommandError("--loop needs a positive number of seconds.")
        if retry_failed:
            count = services.promotion_requeue_failed()
            self.stdout.write(f"promote_pending: {count} failed promotion(s) queued again")
        if loop is None:
            self.stdout.write(worker.describe(services.promotion_deliver_pending()))
            return
        with kit_worker.stopped_by_signals() as stop:
            kit_worker.run(
                worker.deliver_promotions, interval=loop, stop=stop, report=self.stdout.write
            )
        self.stdout.write("promote_pending: stopped")
