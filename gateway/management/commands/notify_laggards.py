"""``manage.py notify_laggards SERVICE VERSION``: tell every consumer still calling it.

One message per laggard (a consumer that called the version within the quiet window), through
Django's email framework: the console by default, SMTP when ``EMAIL_HOST`` is set. Each notice
is recorded; a consumer told about this version within ``--every`` days is not told again.
``--dry-run`` prints the messages and sends and records nothing. Exits 1 if a message failed.
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from gateway import notices


class Command(BaseCommand):
    help = "Send each consumer still calling SERVICE VERSION a deprecation notice (recorded)."

    def add_arguments(self, parser):
        parser.add_argument("service")
        parser.add_argument("version")
        parser.add_argument(
            "--every",
            type=int,
            default=7,
            metavar="DAYS",
            help="Tell the same consumer about this version at most once in DAYS (default 7).",
        )
        parser.add_argument(
            "--quiet-days",
            type=int,
            default=None,
            help="Who counts as a laggard: called within DAYS (default: DASHBOARD_QUIET_DAYS).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Print, send nothing.")

    def handle(self, *args, service, version, every, quiet_days, dry_run, **options):
        quiet = quiet_days if quiet_days is not None else settings.DASHBOARD_QUIET_DAYS
        outcomes = notices.notify_laggards(
            service, version, quiet_days=quiet, every_days=every, dry_run=dry_run
        )
        for outcome in outcomes:
            if outcome.status == notices.DUE:
                message = outcome.message
                self.stdout.write(f"To: {', '.join(message.to)}\nSubject: {message.subject}\n")
                self.stdout.write(message.body)
                self.stdout.write("-" * 72)
        tally = {}
        for outcome in outcomes:
            tally.setdefault(outcome.status, []).append(outcome.consumer)
        if not outcomes:
            self.stdout.write(f"Nobody called {service} {version} in the last {quiet} days.")
        for status, names in tally.items():
            label = "would send (dry run)" if status == notices.DUE else status
            self.stdout.write(f"{label}: {len(names)} ({', '.join(names)})")
        if notices.FAILED in tally:
            sys.exit(1)
