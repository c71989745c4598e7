"""``manage.py worker [--once] [--retry-failed]``: the Procfile's ``worker`` process for the app
``SERVICE`` names.

Tickets deliver their FAQ promotions, billing its ticket requests (each an outbox of
``services.kit.outbox``, named by ``OUTBOX_SENDER``); the FAQ and the gateway have nothing to
drain and idle until stopped. SIGTERM stops it between two rows, exit status 0. ``--once`` sends
every pending row now, due or not, and exits; ``--retry-failed`` first makes failed rows pending.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.module_loading import import_string

from services.kit import worker
from services.kit.outbox import Outbox


class Command(BaseCommand):
    help = "Run this app's outbox worker until SIGTERM (idle if the app has nothing to send)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between passes (default: WORKER_INTERVAL).",
        )
        parser.add_argument(
            "--once",
            action="store_true",
            help="One pass over every pending row, due or not (no back-off wait), then exit.",
        )
        self.add_retry_failed(parser)

    @staticmethod
    def add_retry_failed(parser):
        parser.add_argument(
            "--retry-failed",
            action="store_true",
            help="First make every failed row pending again (once what the other service "
            "refused is fixed, e.g. GATEWAY_API_KEY).",
        )

    def handle(self, *args, interval=None, once=False, retry_failed=False, **options):
        name = settings.SERVICE_NAME
        dotted = getattr(settings, "OUTBOX_SENDER", None)
        sender = import_string(dotted) if dotted else None
        if interval is not None and not interval > 0:
            raise CommandError("The interval needs a positive number of seconds.")
        if (once or retry_failed) and not isinstance(sender, Outbox):
            raise CommandError(f"{name} has no outbox: --once and --retry-failed do not apply.")
        if retry_failed:
            count = sender.requeue_failed()
            self.say(f"{sender.noun}s: {count} failed {sender.noun}(s) queued again")
        if once:
            self.say(sender.describe(sender.send_pending(due_only=False)))
            return
        with worker.stopped_by_signals() as stop:
            if sender is None:
                self.say(
                    f"worker: {name} has nothing to send; idling until stopped "
                    "(scaling this process is harmless)"
                )
                while not stop.wait(1):
                    pass
            else:
                seconds = interval if interval is not None else settings.WORKER_INTERVAL
                self.say(f"worker: {name} sends its outbox every {seconds:g} s")
                worker.run(sender, interval=seconds, stop=stop, report=self.say)
        self.say(f"worker: {name} stopped")

    def say(self, line: str) -> None:
        """A line on stdout at once: a platform's log drain reads it as it comes."""
        self.stdout.write(line)
        self.stdout.flush()


class AliasCommand(Command):
    """``[--loop SECONDS] [--retry-failed]``: ``worker --once`` by default; with ``--loop``, the
    worker with that interval. For the commands an app had before its outbox moved here."""

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Keep going: a pass every SECONDS (as the worker process), until SIGTERM or "
            "Ctrl-C, which stop it between two rows.",
        )
        self.add_retry_failed(parser)

    def handle(self, *args, loop=None, retry_failed=False, **options):
        if loop is not None and not loop > 0:
            raise CommandError("--loop needs a positive number of seconds.")
        super().handle(interval=loop, once=loop is None, retry_failed=retry_failed)
