"""``manage.py can_sunset SERVICE VERSION --quiet-days N``: the deploy pipeline's sunset gate.

Exits 0 only when no consumer called the version in the last N days; otherwise exits 1 and
prints who did, whom to contact, and when they were last seen.
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from gateway import dashboard


class Command(BaseCommand):
    help = "Exit 0 only if nobody called SERVICE VERSION within the quiet window."

    def add_arguments(self, parser):
        parser.add_argument("service")
        parser.add_argument("version")
        parser.add_argument(
            "--quiet-days",
            type=int,
            default=None,
            help="Days without a single call (default: DASHBOARD_QUIET_DAYS).",
        )

    def handle(self, *args, service, version, quiet_days, **options):
        quiet = quiet_days if quiet_days is not None else settings.DASHBOARD_QUIET_DAYS
        if quiet < 1:
            self.stderr.write("--quiet-days must be at least 1.")
            sys.exit(2)
        verdict = dashboard.verdict(service, version, quiet_days=quiet)
        if verdict.safe:
            self.stdout.write(f"SAFE to sunset {service} {version}: {verdict.reason}")
            return
        self.stdout.write(f"NOT SAFE to sunset {service} {version}: {verdict.reason}")
        rows = [("CONSUMER", "OWNER", "CONTACT", "LAST SEEN (UTC)", "CALLS 7D", "CALLS 30D")]
        rows += [
            (
                c.name,
                c.owner,
                c.contact or "-",
                f"{c.last_seen:%Y-%m-%d %H:%M}" if c.last_seen else "-",
                str(c.calls_7),
                str(c.calls_30),
            )
            for c in verdict.callers
        ]
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        for row in rows:
            cells = zip(row, widths, strict=True)
            self.stdout.write("  ".join(cell.ljust(width) for cell, width in cells).rstrip())
        sys.exit(1)
