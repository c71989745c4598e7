"""``manage.py worker``: the Procfile's ``worker`` process for the app ``SERVICE`` names.

Tickets deliver their FAQ promotions, billing its ticket requests; the FAQ and the gateway have
nothing to drain and idle until stopped. SIGTERM stops it within a pass's row, exit status 0.
"""

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils.module_loading import import_string

from services.kit import worker


class Command(BaseCommand):
    help = "Run this app's outbox worker until SIGTERM (idle if the app has nothing to send)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--interval",
            type=float,
            default=None,
            help="Seconds between passes (default: WORKER_INTERVAL).",
        )

    def handle(self, *args, interval, **options):
        name = settings.SERVICE_NAME
        dotted = getattr(settings, "OUTBOX_SENDER", None)
        with worker.stopped_by_signals() as stop:
            if not dotted:
                self.say(
                    f"worker: {name} has nothing to send; idling until stopped "
                    "(scaling this process is harmless)"
                )
                while not stop.wait(1):
                    pass
            else:
                seconds = interval if interval is not None else settings.WORKER_INTERVAL
                self.say(f"worker: {name} sends its outbox every {seconds:g} s")
                worker.run(import_string(dotted), interval=seconds, stop=stop, report=self.say)
        self.say(f"worker: {name} stopped")

    def say(self, line: str) -> None:
        """A line on stdout at once: a platform's log drain reads it as it comes."""
        self.stdout.write(line)
        self.stdout.flush()
