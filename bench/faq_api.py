"""FAQ API throughput and latency through a real gunicorn, printed as a table.

    .venv/bin/python bench/faq_api.py [--entries 2000] [--requests 2000] [--clients 8]

Starts the FAQ service on a free loopback port with a fresh SQLite database (or, when
DATABASE_URL points at PostgreSQL, a throwaway database created and dropped here), loads entries,
then drives each operation from several client threads over keep-alive connections.
"""

import argparse
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(env: dict) -> subprocess.Popen:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=open(Path(env["VAR_DIR"]) / "faq.log", "wb"),  # noqa: SIM115
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{env['PORT']}/__health__"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("the FAQ service did not come up")


def drive(base: str, make_request, total: int, clients: int) -> tuple[float, list[float]]:
    local = {}

    def one(index: int) -> float:
        session = local.setdefault(os.getpid() * 1000 + index % clients, requests.Session())
        started = time.perf_counter()
        response = make_request(session, base, index)
        elapsed = time.perf_counter() - started
        if response.status_code >= 400:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, range(total)))
    return time.perf_counter() - started, latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    tmp = tempfile.mkdtemp(prefix="switchyard-bench-")
    port = free_port()
    env = {
        **os.environ,
        "SERVICE": "faq",
        "PORT": str(port),
        "HOST": "127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": tmp,
    }
    dropper = None
    if env.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        import psycopg

        server = env["DATABASE_URL"]
        name = f"switchyard_bench_{os.getpid()}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        env["DATABASE_URL"] = server.rsplit("/", 1)[0] + "/" + name

        def dropper():
            with psycopg.connect(server, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp}/faq.sqlite3"

    process = start(env)
    base = f"http://127.0.0.1:{port}"
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
            "v1 list (page of 20)": lambda s, b, i: s.get(
                f"{b}/v1/faqs", params={"page": 1 + i % pages}
            ),
            "v2 list (20, cursor)": lambda s, b, i: s.get(f"{b}/v2/faqs"),
            "v2 search q=number": lambda s, b, i: s.get(
                f"{b}/v2/faqs", params={"q": f"number {i}"}
            ),
            "v1 retrieve": lambda s, b, i: s.get(f"{b}/v1/faqs/{ids[i % len(ids)]}"),
            "v2 retrieve": lambda s, b, i: s.get(f"{b}/v2/faqs/{ids[i % len(ids)]}"),
            "v1 create": lambda s, b, i: s.post(
                f"{b}/v1/faqs", json={"question": f"Bench {i}?", "source": "bench"}
            ),
            "v2 create (2 related)": lambda s, b, i: s.post(
                f"{b}/v2/faqs",
                json={"question": f"Bench {i}?", "source": {"kind": "chat"}, "related": ids[:2]},
            ),
            "v2 bad input (400)": lambda s, b, i: s.post(
                f"{b}/v2/faqs", data=b"{nope", headers={"Content-Type": "application/json"}
            ),
        }
        workers = env.get("WEB_CONCURRENCY", "2")
        database = "postgresql" if dropper else "sqlite"
        print(
            f"FAQ service, gunicorn {workers} workers x 4 threads, {database}, "
            f"{args.entries} entries, {args.requests} requests/case, {args.clients} clients"
        )
        print(f"{'case':<24}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
        for name, request in cases.items():
            if name.endswith("(400)"):

                def request(s, b, i, _r=request):
                    response = _r(s, b, i)
                    response.status_code = 200 if response.status_code == 400 else 599
                    return response

            elapsed, latencies = drive(base, request, args.requests, args.clients)
            latencies.sort()
            p95 = latencies[int(len(latencies) * 0.95) - 1]
            print(
                f"{name:<24}{args.requests / elapsed:>9.0f}"
                f"{statistics.median(latencies) * 1000:>9.1f}{p95 * 1000:>9.1f}"
                f"{latencies[-1] * 1000:>9.1f}"
            )
    finally:
        process.terminate()
        process.wait(timeout=20)
        if dropper:
            dropper()


if __name__ == "__main__":
    main()
