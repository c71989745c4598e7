"""``manage.py demo_usage [--days 21] | --remove``: the demo's few weeks of usage history.

Demo data, not calls that were made: ``bin/up`` writes it so that the dashboard's first view tells
the story the gateway exists for. ``mobile-app`` moved from faq v1 to v2 over the weeks,
``legacy-partner`` still calls v1 only, ``support-app`` has always used v2. It is recorded as demo
coverage (the sunset verdict counts it as history, and the dashboard says it is demo data), and
``--remove`` deletes all of it, leaving every call the gateway counted itself.
"""

from __future__ import annotations

import datetime as dt
import random

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from gateway.models import UsageCoverage, UsageDaily, UsageRollup

# consumer: (operations, calls per working hour, its share on v2 at the start and in the end);
# the share moves over the first quarter of the history, so mobile-app is done before the
# quiet window, and legacy-partner never starts.
PLANS = {
    "mobile-app": (
        [("GET", "/{v}/faqs"), ("GET", "/{v}/faqs/{{entry_id}}")],
        40,
        (0.0, 1.0),
    ),
    "legacy-partner": (
        [("GET", "/{v}/faqs"), ("PUT", "/{v}/faqs/{{entry_id}}/answer")],
        12,
        (0.0, 0.0),
    ),
    "support-app": ([("GET", "/{v}/faqs"), ("POST", "/{v}/faqs")], 25, (1.0, 1.0)),
}


class Command(BaseCommand):
    help = "Write (or --remove) the demo's usage history: clearly demo data, not real calls."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=21)
        parser.add_argument("--seed", type=int, default=11)
        parser.add_argument("--remove", action="store_true", help="Delete the demo history.")

    def handle(self, *args, days, seed, remove, **options):
        with transaction.atomic():
            removed = self._remove()
            if remove:
                self.stdout.write(f"demo_usage: removed {removed} demo rollups")
                return
            written = self._write(days, random.Random(seed))
        self.stdout.write(f"demo_usage: {written} demo rollups over {days} days (demo data)")

    def _remove(self) -> int:
        demo = UsageCoverage.objects.filter(source=UsageCoverage.DEMO).first()
        if demo is None:
            return 0
        # Everything before the demo was written, for the demo's consumers, is demo data.
        until = demo.recorded_at.replace(minute=0, second=0, microsecond=0)
        hourly = UsageRollup.objects.filter(consumer__in=PLANS, hour__lt=until)
        daily = UsageDaily.objects.filter(consumer__in=PLANS, day__lt=until.date())
        count = hourly.delete()[0]
        daily.delete()
        UsageCoverage.objects.filter(source=UsageCoverage.DEMO).delete()
        return count

    def _write(self, days: int, rng: random.Random) -> int:
        # Whole days, ending yesterday: today belongs to the live calls.
        end = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - dt.timedelta(days=days)
        hourly: list[UsageRollup] = []
        daily: dict[tuple, UsageDaily] = {}
        hour = start
        while hour < end:
            progress = (hour - start) / (end - start)
            busy = 8 <= hour.hour < 19 and hour.weekday() < 5
            for consumer, (operations, rate, (v2_from, v2_to)) in PLANS.items():
                on_v2 = v2_from + (v2_to - v2_from) * min(1.0, progress / 0.25)
                for version, share in (("v1", 1 - on_v2), ("v2", on_v2)):
                    expected = rate * share * (1.0 if busy else 0.1) / len(operations)
                    for method, template in operations:
                        calls = int(rng.uniform(0.6, 1.4) * expected + rng.random())
                        if calls:
                            row = self._rollup(hour, consumer, version, method, template, calls)
                            hourly.append(row)
                            self._add_daily(daily, row)
            hour += dt.timedelta(hours=1)
        UsageRollup.objects.bulk_create(hourly, batch_size=1000)
        UsageDaily.objects.bulk_create(daily.values(), batch_size=1000)
        UsageCoverage.objects.create(since=start, source=UsageCoverage.DEMO)
        return len(hourly)

    @staticmethod
    def _rollup(hour, consumer, version, method, template, calls) -> UsageRollup:
        fast = max(1, int(calls * 0.8))
        return UsageRollup(
            hour=hour,
            service="faq",
            version=version,
            operation=template.format(v=version),
            method=method,
            consumer=consumer,
            status_class="2xx",
            count=calls,
            latency_ms_sum=calls * 12.0,
            latency_buckets=[0, fast, calls - fast] + [0] * 9,
        )

    @staticmethod
    def _add_daily(daily: dict, row: UsageRollup) -> None:
        key = (row.hour.date(), row.version, row.operation, row.method, row.consumer)
        day = daily.get(key)
        if day is None:
            day = daily[key] = UsageDaily(
                day=row.hour.date(),
                service=row.service,
                version=row.version,
                operation=row.operation,
                method=row.method,
                consumer=row.consumer,
                status_class=row.status_class,
                latency_buckets=[0] * 12,
                last_seen=row.hour,
            )
        day.count += row.count
        day.latency_ms_sum += row.latency_ms_sum
        day.latency_buckets = [
            a + b for a, b in zip(day.latency_buckets, row.latency_buckets, strict=True)
        ]
        day.last_seen = max(day.last_seen, row.hour + dt.timedelta(minutes=59))
