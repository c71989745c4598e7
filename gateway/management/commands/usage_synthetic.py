"""``manage.py usage_synthetic``: fill a database with realistic usage history, for the dashboard's
benchmark and screenshots. Never run it against a database whose usage data matters: with
``--clear`` it deletes every usage row first.

The default is a year of hourly history for 3 services x 2 versions x 50 consumers x 20
operations: each consumer uses a few services, versions and operations, mostly in working hours,
and most have moved from v1 to v2 over the year while a few still call v1.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from gateway import auth
from gateway.models import LATENCY_BUCKETS_MS, Consumer, UsageCoverage, UsageDaily, UsageRollup

SERVICES = ("faq", "tickets", "billing")
RESOURCES = (
    "items",
    "notes",
    "tags",
    "links",
    "exports",
    "events",
    "reports",
    "files",
    "users",
    "teams",
)
TEAMS = (
    "Support",
    "Billing",
    "Growth",
    "Mobile",
    "Web",
    "Data",
    "Search",
    "Partners",
    "Ops",
    "Sales",
)


def operations_for(service: str, version: str, count: int) -> list[tuple[str, str]]:
    found = []
    for resource in RESOURCES:
        found += [("GET", f"/{version}/{resource}"), ("GET", f"/{version}/{resource}/{{id}}")]
        found += [("POST", f"/{version}/{resource}"), ("PATCH", f"/{version}/{resource}/{{id}}")]
    return found[:count]


def histogram(rng: random.Random, count: int, typical_ms: float) -> list[int]:
    buckets = [0] * (len(LATENCY_BUCKETS_MS) + 1)
    for _ in range(min(count, 12)):
        sample = rng.lognormvariate(0, 0.6) * typical_ms
        index = next((i for i, b in enumerate(LATENCY_BUCKETS_MS) if sample <= b), len(buckets) - 1)
        buckets[index] += 1
    scale, total = count / max(1, sum(buckets)), 0
    buckets = [int(b * scale) for b in buckets]
    total = sum(buckets)
    buckets[buckets.index(max(buckets))] += count - total
    return buckets


class Command(BaseCommand):
    help = "Fill the gateway's database with synthetic usage history (benchmarks, screenshots)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=365)
        parser.add_argument("--consumers", type=int, default=50)
        parser.add_argument("--operations", type=int, default=20, help="Per service version.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument(
            "--clear", action="store_true", help="Delete all usage rows first (required if any)."
        )

    def handle(self, *args, days, consumers, operations, seed, clear, **options):
        if UsageRollup.objects.exists() or UsageDaily.objects.exists():
            if not clear:
                raise CommandError("Usage data exists already; pass --clear to replace it.")
            UsageRollup.objects.all().delete()
            UsageDaily.objects.all().delete()
            UsageCoverage.objects.filter(source=UsageCoverage.DEMO).delete()
        rng = random.Random(seed)
        started = time.monotonic()
        plans = self._plans(rng, consumers, operations)
        end = timezone.now().replace(minute=0, second=0, microsecond=0)
        start = end - dt.timedelta(days=days) + dt.timedelta(hours=1)
        hourly_sql, daily_sql = self._statements()
        hourly_rows = daily_rows = 0
        hour = start
        while hour <= end:
            day_end = min(end, hour.replace(hour=23))
            hourly, daily = self._one_day(rng, plans, hour, day_end, start, end)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(hourly_sql, hourly)
                cursor.executemany(daily_sql, daily)
            hourly_rows += len(hourly)
            daily_rows += len(daily)
            hour = day_end + dt.timedelta(hours=1)
        # The sunset verdict counts this history as recorded, and the dashboard says it is not real.
        UsageCoverage.objects.create(since=start, source=UsageCoverage.DEMO)
        self.stdout.write(
            f"{hourly_rows:,} hourly and {daily_rows:,} daily rollups for {len(plans)} "
            f"consumer-version pairs over {days} days in {time.monotonic() - started:.1f} s."
        )

    def _plans(self, rng: random.Random, consumers: int, operations: int) -> list[dict]:
        """Who calls which versions and operations, how much, and when they migrated."""
        plans = []
        for number in range(consumers):
            team = TEAMS[number % len(TEAMS)]
            name = f"{team.lower()}-app-{number:02d}"
            if not Consumer.objects.filter(name=name).exists():
                auth.consumer_create(
                    name=name, owner=team, contact=f"{team.lower()}-{number:02d}@example.com"
                )
            # Most migrated off v1 at some point in the year; about one in eight never did.
            migrated_at = None if rng.random() < 0.12 else rng.uniform(0.15, 0.97)
            for service in rng.sample(SERVICES, rng.randint(1, len(SERVICES))):
                ops = operations_for(service, "v", operations)
                used = rng.sample(range(len(ops)), min(len(ops), rng.randint(2, 6)))
                rate = rng.uniform(2, 120)
                for version in ("v1", "v2"):
                    plans.append(
                        {
                            "consumer": name,
                            "service": service,
                            "version": version,
                            "ops": [
                                (ops[i][0], ops[i][1].replace("/v/", f"/{version}/", 1))
                                for i in used
                            ],
                            "rate": rate,
                            "migrated_at": migrated_at,
                            "typical_ms": rng.uniform(8, 60),
                        }
                    )
        return plans

    def _statements(self) -> tuple[str, str]:
        # Table names come from the models, values are parameters: nothing here is user input.
        dims = "service, version, operation, method, consumer, status_class"
        hourly = "INSERT INTO {} (hour, {}, count, latency_ms_sum, latency_buckets) VALUES ({})"
        daily = "INSERT INTO {} (day, {}, count, latency_ms_sum, latency_buckets, last_seen) "
        daily += "VALUES ({})"
        return (
            hourly.format(UsageRollup._meta.db_table, dims, ", ".join(["%s"] * 10)),
            daily.format(UsageDaily._meta.db_table, dims, ", ".join(["%s"] * 11)),
        )

    def _one_day(self, rng, plans, first_hour, last_hour, start, end):
        ops = connection.ops
        now = timezone.now()
        span = (end - start).total_seconds() or 1
        hourly, daily = [], {}
        hour = first_hour
        while hour <= last_hour:
            progress = (hour - start).total_seconds() / span
            weekday = hour.weekday() < 5
            busy = 8 <= hour.hour < 20
            activity = (1.0 if busy else 0.15) * (1.0 if weekday else 0.3)
            for plan in plans:
                on_v2 = plan["migrated_at"] is not None and progress >= plan["migrated_at"]
                share = (
                    (0.0 if on_v2 else 1.0) if plan["version"] == "v1" else (1.0 if on_v2 else 0.05)
                )
                expected = plan["rate"] * activity * share
                if expected < 0.3 and rng.random() > expected:
                    continue
                for method, template in plan["ops"]:
                    calls = int(rng.expovariate(1 / max(expected, 0.3)) / len(plan["ops"]) + 0.5)
                    if calls <= 0:
                        continue
                    errors = sum(1 for _ in range(min(calls, 20)) if rng.random() < 0.02)
                    for status_class, count in (("2xx", calls - errors), ("4xx", errors)):
                        if count <= 0:
                            continue
                        buckets = histogram(rng, count, plan["typical_ms"])
                        total_ms = count * plan["typical_ms"] * rng.uniform(0.8, 1.3)
                        dims = (
                            plan["service"],
                            plan["version"],
                            template,
                            method,
                            plan["consumer"],
                            status_class,
                        )
                        hourly.append(
                            (
                                ops.adapt_datetimefield_value(hour),
                                *dims,
                                count,
                                total_ms,
                                json.dumps(buckets),
                            )
                        )
                        key = (hour.date(), *dims)
                        seen = min(hour + dt.timedelta(minutes=rng.randint(0, 59)), now)
                        entry = daily.setdefault(key, [0, 0.0, [0] * len(buckets), seen])
                        entry[0] += count
                        entry[1] += total_ms
                        entry[2] = [a + b for a, b in zip(entry[2], buckets, strict=True)]
                        entry[3] = max(entry[3], seen)
            hour += dt.timedelta(hours=1)
        daily_rows = [
            (
                ops.adapt_datefield_value(key[0]),
                *key[1:],
                count,
                total,
                json.dumps(buckets),
                ops.adapt_datetimefield_value(seen),
            )
            for key, (count, total, buckets, seen) in daily.items()
        ]
        return hourly, daily_rows
