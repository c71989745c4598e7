"""``manage.py can_sunset SERVICE VERSION --quiet-days N``: the deploy pipeline's sunset gate.

Exit codes:

- 0: safe. The recorded usage covers the whole quiet window and no consumer called the version
  in it (unauthenticated calls are reported but not counted, unless ``--strict``).
- 1: not safe. Consumers still call it; they are listed with whom to contact, the operations
  they use and what replaces each.
- 2: not enough data. The gateway has not been recording for the whole window; the output says
  since when it records and when the window will be covered. A fresh install is never safe.
- 64: a bad argument (``--quiet-days 0``).
"""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand

from gateway import dashboard
from gateway.management import tables

HEADLINES = {
    dashboard.SAFE: "SAFE to sunset",
    dashboard.NOT_SAFE: "NOT SAFE to sunset",
    dashboard.NOT_ENOUGH_DATA: "NOT ENOUGH DATA to sunset",
}
EX_USAGE = 64


class Command(BaseCommand):
    help = (
        "Exit 0 only if usage has been recorded for the whole quiet window and no consumer "
        "called SERVICE VERSION in it; 1 if one did, 2 if the history is too short."
    )

    def add_arguments(self, parser):
        parser.add_argument("service")
        parser.add_argument("version")
        parser.add_argument(
            "--quiet-days",
            type=int,
            default=None,
            help="Days without a single call (default: DASHBOARD_QUIET_DAYS).",
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Count calls refused for a missing or unknown key as callers too.",
        )

    def handle(self, *args, service, version, quiet_days, strict, **options):
        quiet = quiet_days if quiet_days is not None else settings.DASHBOARD_QUIET_DAYS
        if quiet < 1:
            self.stderr.write("--quiet-days must be at least 1.")
            sys.exit(EX_USAGE)
        verdict = dashboard.verdict(service, version, quiet_days=quiet, strict=strict)
        self.stdout.write(f"{HEADLINES[verdict.answer]} {service} {version}: {verdict.reason}")
        if verdict.callers:
            self._callers(verdict.callers)
        if verdict.unauthenticated.calls and not verdict.safe:
            counted = "counted (--strict)" if strict else "not counted"
            self.stdout.write(
                f"Unauthenticated in the last {quiet} days ({counted}): "
                f"{verdict.unauthenticated.describe()}."
            )
        self.stdout.write(f"History: {verdict.coverage.describe()}.")
        if verdict.exit_code:
            sys.exit(verdict.exit_code)

    def _callers(self, callers) -> None:
        rows = [
            (
                "CONSUMER",
                "OWNER",
                "CONTACT",
                "LAST SEEN (UTC)",
                "CALLS 7D",
                "CALLS 30D",
                "MIGRATION",
                "NOTIFIED",
            )
        ]
        rows += [
            (
                c.name,
                c.owner,
                c.contact or "-",
                _when(c.last_seen),
                str(c.calls_7),
                str(c.calls_30),
                c.migration,
                _when(c.last_notified),
            )
            for c in callers
        ]
        for line in tables.lines(rows):
            self.stdout.write(line)
        self.stdout.write("Operations (last 30 days) and what replaces them:")
        for c in callers:
            for move in c.moves:
                self.stdout.write(f"  {c.name}: {move.describe()}")


def _when(value) -> str:
    return f"{value:%Y-%m-%d %H:%M}" if value else "-"
