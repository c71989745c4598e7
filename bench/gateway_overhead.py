"""What the gateway costs per call: the same FAQ reads, direct and through the gateway.

    .venv/bin/python bench/gateway_overhead.py [--requests 2000] [--clients 8]

Starts a FAQ service and a gateway in front of it (gunicorn, 2 workers x 4 threads each, SQLite,
loopback), with a consumer key and the signed-call check on, then drives GET /v2/faqs/{id} and
GET /v1/faqs/{id} (deprecated: lifecycle headers added) both ways.
"""

import argparse
import secrets
import tempfile

from harness import HEADER, app_env, drive, manage, row, start, stop


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()

    var = tempfile.mkdtemp(prefix="switchyard-bench-")
    faq_secretless = app_env("faq", var)
    gateway_secret = secrets.token_urlsafe(32)
    faq = app_env(
        "faq", var, GATEWAY_SECRET=gateway_secret, DATABASE_URL=faq_secretless["DATABASE_URL"]
    )
    gateway = app_env(
        "gateway",
        var,
        GATEWAY_SECRET=gateway_secret,
        FAQ_UPSTREAM=f"http://127.0.0.1:{faq['PORT']}",
        GATEWAY_RATE_LIMIT_PER_MINUTE="0",
    )
    processes = [start(faq_secretless), start(faq), start(gateway)]
    try:
        key = manage(
            gateway, "consumers", "create", "bench", "--owner", "B", "--contact", "b@example.com"
        )
        key = key.strip().splitlines()[-1]
        manage(faq, "demo_data")
        direct = f"http://127.0.0.1:{faq_secretless['PORT']}"
        routed = f"http://127.0.0.1:{gateway['PORT']}/faq"
        auth = {"Authorization": f"Bearer {key}"}
        cases = {
            "v2 retrieve, direct": lambda s, i: s.get(f"{direct}/v2/faqs/{1 + i % 5}"),
            "v2 retrieve, through gateway": lambda s, i: s.get(
                f"{routed}/v2/faqs/{1 + i % 5}", headers=auth
            ),
            "v1 retrieve, direct": lambda s, i: s.get(f"{direct}/v1/faqs/{1 + i % 5}"),
            "v1 retrieve, gateway (deprecated)": lambda s, i: s.get(
                f"{routed}/v1/faqs/{1 + i % 5}", headers=auth
            ),
            "no key, gateway (401)": lambda s, i: s.get(f"{routed}/v2/faqs/1"),
        }
        print(
            f"{args.requests} requests per case, {args.clients} keep-alive clients; "
            "each app: gunicorn 2 workers x 4 threads, SQLite"
        )
        print(HEADER)
        for name, request in cases.items():
            drive(request, min(200, args.requests), args.clients)  # warm pools and caches
            elapsed, latencies = drive(request, args.requests, args.clients)
            print(row(name, args.requests, elapsed, latencies))
    finally:
        stop(*processes)


if __name__ == "__main__":
    main()
