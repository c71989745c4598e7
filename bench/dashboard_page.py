"""How long /__dashboard__/ takes on a year of usage history.

    .venv/bin/python bench/dashboard_page.py [--days 365] [--consumers 50] [--renders 10]

Fills a fresh database (SQLite under a temp folder; or, when DATABASE_URL names PostgreSQL, a
throwaway database created and dropped here) with ``usage_synthetic``: 3 services x 2 versions x
50 consumers x 20 operations of hourly history. Then renders the dashboard and a consumer
drill-down in-process as a logged-in staff user and prints the times.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--consumers", type=int, default=50)
    parser.add_argument("--renders", type=int, default=10)
    args = parser.parse_args()

    os.environ.update(SERVICE="gateway", VAR_DIR=tempfile.mkdtemp(prefix="switchyard-bench-"))
    os.environ.setdefault("SECRET_KEY", "bench-only")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")  # the test client calls over plain HTTP
    server = os.environ.get("DATABASE_URL", "")
    dropper = None
    if server.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"switchyard_bench_dash_{os.getpid()}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name

        def dropper():
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        os.environ.pop("DATABASE_URL", None)
    try:
        run(args)
    finally:
        if dropper:
            from django.db import connections

            connections.close_all()
            dropper()


def run(args) -> None:
    from services.kit.entry import configure

    configure()
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from gateway.models import UsageDaily, UsageRollup

    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("usage_synthetic", days=args.days, consumers=args.consumers, stdout=sys.stdout)
    print(f"fill: {time.monotonic() - started:.1f} s")
    print(
        f"rows: {UsageRollup.objects.count():,} hourly, {UsageDaily.objects.count():,} daily "
        f"({connection.vendor})"
    )
    password = os.urandom(12).hex()
    get_user_model().objects.create_superuser("bench", "bench@example.com", password)
    client = Client(HTTP_HOST="localhost")
    client.login(username="bench", password=password)
    consumer = UsageDaily.objects.values_list("consumer", flat=True).first()

    for label, url in (
        ("dashboard", "/__dashboard__/"),
        ("consumer drill-down", f"/__dashboard__/consumers/{consumer}/"),
        ("versions CSV", "/__dashboard__/export/versions.csv"),
        ("consumers CSV", "/__dashboard__/export/consumers/faq/v1.csv"),
    ):
        times, size = [], 0
        for _ in range(args.renders):
            began = time.perf_counter()
            response = client.get(url)
            times.append(time.perf_counter() - began)
            assert response.status_code == 200, response.status_code
            size = len(response.content)
        print(
            f"{label:<22} median {statistics.median(times) * 1000:7.1f} ms   "
            f"min {min(times) * 1000:7.1f} ms   max {max(times) * 1000:7.1f} ms   "
            f"{size / 1024:6.1f} KiB"
        )


if __name__ == "__main__":
    main()
