"""``manage.py usage``: the usage rollups as a table (what the dashboard shows, in a terminal)."""

import datetime as dt

from django.core.management.base import BaseCommand
from django.db.models import Max, Q, Sum
from django.utils import timezone

from gateway.management import tables
from gateway.models import UsageDaily


class Command(BaseCommand):
    help = "Print calls per service, version and consumer over the last N days."

    def add_arguments(self, parser):
        parser.add_argument("service", nargs="?", help="Only this service.")
        parser.add_argument("version", nargs="?", help="Only this version (e.g. v1).")
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--consumer", help="Only this consumer.")
        parser.add_argument(
            "--by-operation", action="store_true", help="One row per operation too."
        )

    def handle(self, *args, days, service, version, consumer, by_operation, **options):
        since = timezone.now().date() - dt.timedelta(days=days - 1)
        rows = UsageDaily.objects.filter(day__gte=since)
        for name, value in (("service", service), ("version", version), ("consumer", consumer)):
            if value:
                rows = rows.filter(**{name: value})
        keys = ["service", "version", "consumer"] + (
            ["method", "operation"] if by_operation else []
        )
        table = (
            rows.values_list(*keys)
            .annotate(
                calls=Sum("count"),
                errors=Sum("count", filter=Q(status_class__in=["4xx", "5xx"])),
                last=Max("last_seen"),
            )
            .order_by(*keys)
        )
        header = [k.upper() for k in keys] + ["CALLS", "ERRORS", "LAST SEEN (UTC)"]
        lines = [header]
        for *dims, calls, errors, last in table:
            lines.append([*dims, str(calls), str(errors or 0), f"{last:%Y-%m-%d %H:%M}"])
        if len(lines) == 1:
            self.stdout.write(f"No calls in the last {days} days.")
            return
        for line in tables.lines(lines):
            self.stdout.write(line)
        total = sum(int(line[len(keys)]) for line in lines[1:])
        self.stdout.write(f"{total} calls in the last {days} days.")
