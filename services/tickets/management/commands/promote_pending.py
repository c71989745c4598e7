"""``manage.py promote_pending [--loop SECONDS] [--retry-failed]``: the FAQ promotion worker.

Sends pending promotions, oldest first, each with its own ``Idempotency-Key``, so a retry after a
lost answer never makes a second FAQ entry. Any number of workers may run: each promotion is sent
by whichever holds its row lock (the others skip it).
"""

import logging
import signal
import threading

from django.core.management.base import BaseCommand, CommandError
from django.db import close_old_connections

from services.tickets import services

logger = logging.getLogger("switchyard.tickets")


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
            self._report(services.promotion_deliver_pending(), quiet=False)
            return
        stop = threading.Event()
        previous = self._stop_on_signals(stop)
        try:
            while not stop.is_set():
                close_old_connections()  # the database may have restarted since the last pass
                try:
                    run = services.promotion_deliver_pending(stop=stop.is_set)
                except Exception:
                    logger.exception("promote_pending: the pass failed; retrying in %s s", loop)
                else:
                    self._report(run, quiet=True)
                stop.wait(loop)
        finally:
            for number, handler in previous.items():
                signal.signal(number, handler)
        self.stdout.write("promote_pending: stopped")

    def _stop_on_signals(self, stop: threading.Event) -> dict:
        """SIGTERM (a deploy) and SIGINT stop the loop after the promotion in hand; the handlers
        they replace, to put back."""
        if threading.current_thread() is not threading.main_thread():
            return {}  # only the main thread may handle signals
        previous = {}
        for number in (signal.SIGTERM, signal.SIGINT):
            previous[number] = signal.signal(number, lambda *_: stop.set())
        return previous

    def _report(self, run: services.DeliveryRun, *, quiet: bool) -> None:
        if quiet and not run.attempted:
            return
        line = (
            f"promote_pending: {run.done} delivered, {run.failed} failed, "
            f"{run.pending} still pending"
        )
        if run.stopped:
            line += " (the FAQ is unreachable or busy: the rest waits for the next pass)"
        self.stdout.write(line)
