"""FAQ API throughput and latency through a real gunicorn, printed as a table.

    .venv/bin/python bench/faq_api.py [--entries 2000] [--requests 2000] [--clients 8]

Starts the FAQ service on a free loopback port with a fresh SQLite database (or, when
DATABASE_URL points at PostgreSQL, a throwaway database created and dropped here), loads entries,
then drives each operation from several client threads over keep-alive connections.
"""

import argparse
import os
import tempfile

import requests
from harness import HEADER, app_env, drive, row, start, stop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    env = app_env("faq", tempfile.mkdtemp(prefix="switchyard-bench-"))
    dropper = None
    server = os.environ.get("DATABASE_URL", "")
    if server.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"switchyard_bench_{os.getpid()}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name

        def dropper():
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    process = start(env)
    base = f"http://127.0.0.1:{env['PORT']}"
    try:
        seed = requests.Session()
        for n in range(args.entries):
            seed.post(
                f"{base}/v2/faqs",
                json={
                    "question": f"How do I do thing number {n}?",
                    "answer": "Like this." if n % 3 else "",
                    "source": {"kind": "ticket", "ref": str(n)},
                },
            ).raise_for_status()
        ids = [e["id"] for e in seed.get(f"{base}/v2/faqs", params={"limit": 100}).json()["items"]]

        pages = max(1, args.entries // 20)
        cases = {
            "v1 list (page of 20)": lambda s, i: s.get(
                f"{base}/v1/faqs", params={"page": 1 + i % pages}
            ),
            "v2 list (20, cursor)": lambda s, i: s.get(f"{base}/v2/faqs"),
            "v2 search q=number": lambda s, i: s.get(
                f"{base}/v2/faqs", params={"q": f"number {i}"}
            ),
            "v1 retrieve": lambda s, i: s.get(f"{base}/v1/faqs/{ids[i % len(ids)]}"),
            "v2 retrieve": lambda s, i: s.get(f"{base}/v2/faqs/{ids[i % len(ids)]}"),
            "v1 create": lambda s, i: s.post(
                f"{base}/v1/faqs", json={"question": f"Bench {i}?", "source": "bench"}
            ),
            "v2 create (2 related)": lambda s, i: s.post(
                f"{base}/v2/faqs",
                json={"question": f"Bench {i}?", "source": {"kind": "chat"}, "related": ids[:2]},
            ),
            "v2 bad input (400)": lambda s, i: s.post(
                f"{base}/v2/faqs", data=b"{nope", headers={"Content-Type": "application/json"}
            ),
        }
        database = "postgresql" if dropper else "sqlite"
        print(
            f"FAQ service, gunicorn 2 workers x 4 threads, {database}, {args.entries} entries, "
            f"{args.requests} requests/case, {args.clients} keep-alive clients"
        )
        print(HEADER)
        for name, request in cases.items():
            elapsed, latencies = drive(request, args.requests, args.clients)
            print(row(name, args.requests, elapsed, latencies))
    finally:
        stop(process)
        if dropper:
            dropper()


if __name__ == "__main__":
    main()
