"""The gateway end to end: real gunicorn processes for the gateway and the FAQ service, real
databases, real sockets, and small upstreams of the test's own where a test needs to see exactly
what the gateway sends (or to make an upstream hang, refuse or lie).

One FAQ service and one gateway in front of it serve most tests; gateways with another
configuration (a past sunset, a dead upstream, an echoing upstream, a long usage flush) start
next to them, all at once, and each test uses consumers of its own so counts are exact.
"""

from __future__ import annotations

import datetime as dt
import gzip
import http.client
import json
import os
import re
import secrets
import signal
import subprocess
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from openapi_spec_validator import validate as validate_spec
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from services.kit.gateway_trust import sign, verify
from tests.e2e.conftest import (
    REQUEST_TIMEOUT,
    STOP_TIMEOUT,
    Launcher,
    Server,
    create_consumer,
    create_consumers,
    free_port,
    manage,
    wait_until_healthy,
)
from tests.e2e.fakes import RefusingPort
from tests.helpers import assert_problem

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
TYPE_BASE = "https://switchyard.dev/problems/"

CONNECT_TIMEOUT = 1.0
READ_TIMEOUT = 2.0
BREAKER_FAILURES = 2
BREAKER_RESET_SECONDS = 30
FLUSH_SECONDS = 0.2
GATEWAY_SETTINGS = {
    "GATEWAY_USAGE_FLUSH_SECONDS": str(FLUSH_SECONDS),
    "GATEWAY_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    "GATEWAY_READ_TIMEOUT": str(READ_TIMEOUT),
    "GATEWAY_BREAKER_FAILURES": str(BREAKER_FAILURES),
    "GATEWAY_BREAKER_RESET_SECONDS": str(BREAKER_RESET_SECONDS),
    "WEB_CONCURRENCY": "2",
}
DOCS = "https://docs.switchyard.dev/faq/migrate-to-v2"
# contracts/lifecycle.yaml: faq v1 deprecated 2026-11-01T00:00:00Z, sunset 2027-05-01T00:00:00Z.
DEPRECATION = "@1793491200"
SUNSET = "Sat, 01 May 2027 00:00:00 GMT"
LIFECYCLE_HEADERS = ("Deprecation", "Sunset", "Link")


def unique() -> str:
    return uuid.uuid4().hex[:12]


def request_id() -> str:
    return f"e2e-gw-{uuid.uuid4()}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def problem(response, status: int, *, type: str | None = None) -> dict:
    """An RFC 9457 problem carrying the id the response was served under."""
    body = assert_problem(response, status, type=type)
    assert body.get("request_id") == response.headers["X-Request-ID"], body
    return body


def links(value: str) -> list[tuple[str, dict[str, str]]]:
    """An RFC 8288 ``Link`` header as (target, parameters) pairs."""
    found = []
    for target, params in re.findall(r"<([^>]*)>((?:\s*;\s*[^;,]+)*)", value):
        pairs = (p.strip().split("=", 1) for p in params.split(";") if p.strip())
        found.append((target, {k.strip(): v.strip().strip('"') for k, v in pairs}))
    return found


# --- raw HTTP: nothing rewrites, normalises or adds headers --------------------------------------


@dataclass
class RawResponse:
    status_code: int
    headers: http.client.HTTPMessage  # case-insensitive; get_all() for repeated fields
    content: bytes


def raw_request(
    port: int,
    method: str,
    target: str,
    headers: list[tuple[str, str]] | dict[str, str] = (),
    *,
    timeout: float = REQUEST_TIMEOUT,
) -> RawResponse:
    """One request without a body on its own connection, with exactly this request target and
    these headers (plus Host)."""
    items = headers.items() if isinstance(headers, dict) else headers
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.putrequest(method, target, skip_accept_encoding=True)
        for name, value in items:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        return RawResponse(response.status, response.msg, response.read())
    finally:
        connection.close()


# --- an upstream of the test's own --------------------------------------------------------------


def gzipped_payload() -> bytes:
    # Incompressible, and larger than the gateway's 64 KiB streaming chunk.
    return gzip.compress(secrets.token_bytes(200 * 1024))


class Upstream:
    """A tiny HTTP/1.1 server on 127.0.0.1 that records every request it gets and answers:

    * ``/__health__``: 200, so a gateway in front of it is healthy;
    * ``.../gzip``: a gzip body with ``Content-Encoding: gzip``, the bytes of :attr:`gzip_body`;
    * ``.../hang``: nothing, ever (until the test ends);
    * anything else: the request line and headers as it received them, as JSON;

    always with ``Connection: X-Internal`` and ``X-Internal: 1`` (hop-by-hop, must not reach the
    caller) next to ``X-Kept: yes`` (end-to-end, must).
    """

    def __init__(self):
        self.requests: list[dict] = []
        self.gzip_body = gzipped_payload()
        self._release = threading.Event()
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def record_and_answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                upstream.requests.append(
                    {"method": self.command, "target": self.path, "headers": self.headers.items()}
                )
                path = self.path.split("?")[0]
                if path.endswith("/hang"):
                    upstream._release.wait(60)
                    self.close_connection = True
                    return
                if path == "/__health__":
                    self._answer(b'{"status": "pass"}', "application/health+json")
                elif path.endswith("/gzip"):
                    self._answer(upstream.gzip_body, "application/octet-stream", gzip=True)
                else:
                    echo = {
                        "method": self.command,
                        "target": self.path,
                        "headers": list(self.headers.items()),
                    }
                    self._answer(json.dumps(echo).encode(), "application/json")

            def _answer(self, body: bytes, content_type: str, *, gzip: bool = False):
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                if gzip:
                    self.send_header("Content-Encoding", "gzip")
                self.send_header("Connection", "X-Internal")
                self.send_header("X-Internal", "1")
                self.send_header("X-Kept", "yes")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = record_and_answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def seen(self, request_id: str) -> list[dict]:
        """The requests that carried this ``X-Request-ID``."""
        return [
            r
            for r in list(self.requests)
            if any(k.lower() == "x-request-id" and v == request_id for k, v in r["headers"])
        ]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


# --- the deployment -----------------------------------------------------------------------------


@dataclass
class Deployment:
    secret: str
    faq: Server
    gateways: dict[str, Server]
    keys: dict[str, str]  # consumer name: key
    metrics_dirs: dict[str, Path]
    echo: Upstream
    refusing: RefusingPort

    def key(self, consumer: str) -> dict[str, str]:
        return bearer(self.keys[consumer])


# Which consumers each gateway gets (name: is platform).
CONSUMERS = {
    "main": {"apps": False, "alice": False, "bob": False, "dave": False, "ops": True},
    "sunset": {"legacy": False},
    "down": {"downer": False},
    "echo": {"echoer": False},
    "sigterm": {"terminator": False, "sigterm-ops": True},
}


def past_sunset_lifecycle() -> str:
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def iso(moment: dt.datetime) -> str:
        return moment.isoformat().replace("+00:00", "Z")

    return yaml.safe_dump(
        {
            "faq": {
                "v1": {
                    "deprecated_at": iso(now - dt.timedelta(days=60)),
                    "sunset_at": iso(now - dt.timedelta(days=1)),
                    "successor": "v2",
                    "docs": DOCS,
                }
            }
        }
    )


def close_all(launchers) -> None:
    with ThreadPoolExecutor() as pool:
        for done in [pool.submit(launcher.close) for launcher in launchers]:
            done.result()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory, http) -> Deployment:
    directory = tmp_path_factory.mktemp("e2e-gateway")
    secret = secrets.token_urlsafe(32)
    lifecycle_file = directory / "lifecycle-past-sunset.yaml"
    lifecycle_file.write_text(past_sunset_lifecycle(), encoding="utf-8")
    with ExitStack() as stack:
        echo = Upstream()
        stack.callback(echo.close)
        refusing = RefusingPort()
        stack.callback(refusing.close)
        faq_port = free_port()
        faq_url = f"http://127.0.0.1:{faq_port}"
        metrics_dirs = {label: directory / f"{label}-metrics" for label in CONSUMERS}
        for path in metrics_dirs.values():
            path.mkdir()

        # Whatever gateway configuration the caller's shell exports (upstreams of other services,
        # retries, validation, a metrics folder ...) stays out: each process gets exactly ours.
        inherited = {
            name: None
            for name in os.environ
            if name.startswith("GATEWAY_")
            or name.endswith("_UPSTREAM")
            or name == "PROMETHEUS_MULTIPROC_DIR"
        }

        def gateway(label: str, upstream: str, **settings: str) -> tuple[str, dict]:
            return "gateway", {
                **inherited,
                **GATEWAY_SETTINGS,
                "GATEWAY_SECRET": secret,
                "FAQ_UPSTREAM": upstream,
                # Each gateway's own folder for its workers' metrics (a fresh one per process).
                "PROMETHEUS_MULTIPROC_DIR": str(metrics_dirs[label]),
                **settings,
            }

        plan = {
            "faq": ("faq", {**inherited, "PORT": str(faq_port), "GATEWAY_SECRET": secret}),
            "main": gateway("main", faq_url),
            "sunset": gateway(
                "sunset", faq_url, GATEWAY_LIFECYCLE_FILE=str(lifecycle_file), WEB_CONCURRENCY="1"
            ),
            # One worker: its breaker is the gateway's breaker.
            "down": gateway("down", refusing.url, WEB_CONCURRENCY="1"),
            # The hang test fails calls on purpose; the breaker must not get in the way here.
            "echo": gateway("echo", echo.url, GATEWAY_BREAKER_FAILURES="1000", WEB_CONCURRENCY="1"),
            "sigterm": gateway("sigterm", faq_url, GATEWAY_USAGE_FLUSH_SECONDS="3600"),
        }
        launchers = {label: Launcher(directory, http) for label in plan}
        # Registered last, so first out: every process stops (and its database goes) at once.
        stack.callback(close_all, launchers.values())

        def boot(label: str) -> tuple[Server, dict[str, str]]:
            service, settings = plan[label]
            server = launchers[label].spawn(service, label=f"gw_{label}", **settings)
            # The database is migrated: make the consumers while gunicorn boots.
            wanted = CONSUMERS.get(label, {})
            if len(wanted) == 1:
                [(name, platform)] = wanted.items()
                return server, {name: create_consumer(server, name, platform=platform)}
            return server, create_consumers(server, wanted) if wanted else {}

        # Migrations, consumers and boots of every process at once; then wait for all of them.
        with ThreadPoolExecutor(max_workers=len(plan)) as pool:
            futures = {label: pool.submit(boot, label) for label in plan}
        servers, keys = {}, {}
        for label, future in futures.items():
            servers[label], found = future.result()
            keys.update(found)
        for server in servers.values():
            wait_until_healthy(server, http)
        yield Deployment(
            secret=secret,
            faq=servers.pop("faq"),
            gateways=servers,
            keys=keys,
            metrics_dirs=metrics_dirs,
            echo=echo,
            refusing=refusing,
        )


@pytest.fixture(scope="module")
def faq(deployment) -> Server:
    return deployment.faq


@pytest.fixture(scope="module")
def gateway(deployment) -> Server:
    return deployment.gateways["main"]


def request_lines(server: Server, request_id: str) -> list[dict]:
    return [
        record
        for record in server.records()
        if record.get("request_id") == request_id and record.get("logger") == "switchyard.request"
    ]


def v1_create(http, gateway, key, **fields) -> dict:
    fields.setdefault("question", f"How do I rotate my API key {unique()}?")
    fields.setdefault("source", f"ticket-{unique()}")
    response = http.post(f"{gateway.url}/faq/v1/faqs", json=fields, headers=key)
    assert response.status_code == 201, response.text
    return response.json()


def v2_create(http, gateway, key, **fields) -> dict:
    fields.setdefault("question", f"How do I export my data {unique()}?")
    fields.setdefault("source", {"kind": "ticket", "ref": f"T-{unique()}"})
    response = http.post(f"{gateway.url}/faq/v2/faqs", json=fields, headers=key)
    assert response.status_code == 201, response.text
    return response.json()


# --- 1. calls through the gateway, keys, and the services' trust in it --------------------------


def test_v1_and_v2_through_the_gateway_create_read_list_across_versions(http, deployment, gateway):
    key = deployment.key("apps")

    created = http.post(
        f"{gateway.url}/faq/v1/faqs",
        json={"question": "How do I rotate my API key?", "source": f"ticket-{unique()}"},
        headers=key,
    )
    assert created.status_code == 201, created.text
    v1 = created.json()
    # The service builds links for the caller's side of the gateway.
    assert created.headers["Location"] == f"/faq/v1/faqs/{v1['id']}"
    read = http.get(f"{gateway.url}/faq/v1/faqs/{v1['id']}", headers=key)
    assert read.status_code == 200, read.text
    assert read.json() == v1
    as_v2 = http.get(f"{gateway.url}/faq/v2/faqs/{v1['id']}", headers=key)
    assert as_v2.status_code == 200, as_v2.text
    assert (as_v2.json()["question"], as_v2.json()["source"]["ref"]) == (
        v1["question"],
        v1["source"],
    )

    v2 = v2_create(http, gateway, key, question="How do I export my data?")
    as_v1 = http.get(f"{gateway.url}/faq/v1/faqs/{v2['id']}", headers=key)
    assert as_v1.status_code == 200, as_v1.text
    assert (as_v1.json()["question"], as_v1.json()["source"]) == (
        v2["question"],
        v2["source"]["ref"],
    )

    v1_create(http, gateway, key)
    page = http.get(f"{gateway.url}/faq/v1/faqs", params={"page_size": 1}, headers=key)
    assert page.status_code == 200, page.text
    assert page.json()["count"] >= 3
    following = urlsplit(page.json()["next"])
    assert (following.netloc, following.path) == (f"127.0.0.1:{gateway.port}", "/faq/v1/faqs")
    listed = http.get(
        f"{gateway.url}/faq/v2/faqs", params={"source_ref": v2["source"]["ref"]}, headers=key
    )
    assert listed.status_code == 200, listed.text
    assert [item["id"] for item in listed.json()["items"]] == [v2["id"]]


@pytest.mark.parametrize(
    "authorization, detail",
    [
        (None, "Send your API key"),
        ("Bearer sy_not-a-key-anyone-was-given", "not valid"),
        ("Basic YWxhZGRpbjpvcGVuc2VzYW1l", "Send your API key"),
        ("Bearer", "Send your API key"),
    ],
    ids=["no-key", "wrong-key", "basic-auth", "empty-bearer"],
)
@pytest.mark.parametrize("method, path", [("GET", "/faq/v1/faqs"), ("POST", "/faq/v2/faqs")])
def test_calls_without_a_valid_key_are_401_problems(
    http, deployment, gateway, faq, authorization, detail, method, path
):
    rid = request_id()
    headers = {"X-Request-ID": rid}
    if authorization:
        headers["Authorization"] = authorization

    body = {"question": "q?", "source": {"kind": "ticket", "ref": "T-1"}}

    response = http.request(
        method, f"{gateway.url}{path}", json=body if method == "POST" else None, headers=headers
    )

    body = problem(response, 401)
    assert detail in body["detail"]
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="switchyard"'
    assert request_lines(faq, rid) == [], "an unauthenticated call reached the service"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Switchyard-Consumer": "apps"},
        {"X-Switchyard-Consumer": "apps", "X-Switchyard-Signature": "t=1,v1=00"},
    ],
    ids=["unsigned", "consumer-claimed", "forged-signature"],
)
@pytest.mark.parametrize("method, path", [("GET", "/v1/faqs"), ("POST", "/v2/faqs")])
def test_the_service_refuses_calls_that_did_not_come_through_the_gateway(
    http, faq, headers, method, path
):
    body = {"question": "q?", "source": {"kind": "ticket", "ref": "T-1"}}

    response = http.request(
        method, f"{faq.url}{path}", json=body if method == "POST" else None, headers=headers
    )

    problem(response, 403, type=TYPE_BASE + "not-through-gateway")


def test_a_signature_for_another_call_is_refused(http, deployment, faq):
    signed = {
        "X-Switchyard-Consumer": "apps",
        "X-Switchyard-Signature": sign(
            deployment.secret, method="GET", path="/v1/faqs", consumer="apps"
        ),
    }

    # The same signature, replayed on another path or as another consumer, proves nothing.
    assert http.get(f"{faq.url}/v1/faqs", headers=signed).status_code == 200
    problem(http.get(f"{faq.url}/v2/faqs", headers=signed), 403)
    problem(http.get(f"{faq.url}/v1/faqs", headers={**signed, "X-Switchyard-Consumer": "ops"}), 403)


def test_the_service_health_stays_reachable_directly(http, faq):
    response = http.get(f"{faq.url}/__health__")

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "pass"


# --- 2. deprecation headers ---------------------------------------------------------------------


def test_deprecated_v1_answers_carry_deprecation_sunset_and_links(http, deployment, gateway):
    key = deployment.key("apps")
    entry = v1_create(http, gateway, key)

    detail = http.get(f"{gateway.url}/faq/v1/faqs/{entry['id']}", headers=key)
    listing = http.get(f"{gateway.url}/faq/v1/faqs", params={"page_size": 1}, headers=key)
    created = http.post(
        f"{gateway.url}/faq/v1/faqs", json={"question": "Q?", "source": "s"}, headers=key
    )

    for response in (detail, listing, created):
        assert response.status_code in (200, 201), response.text
        assert response.headers["Deprecation"] == DEPRECATION
        assert response.headers["Sunset"] == SUNSET
        found = links(response.headers["Link"])
        assert (DOCS, "deprecation") in [(url, params.get("rel")) for url, params in found]
        assert (DOCS, "sunset") in [(url, params.get("rel")) for url, params in found]
    assert f'</faq/v2/faqs/{entry["id"]}>; rel="successor-version"' in detail.headers["Link"]
    assert successors(detail) == [f"/faq/v2/faqs/{entry['id']}"]
    assert successors(listing) == ["/faq/v2/faqs"]
    assert successors(created) == ["/faq/v2/faqs"]


def successors(response) -> list[str]:
    return [url for url, p in links(response.headers["Link"]) if p["rel"] == "successor-version"]


def test_v2_answers_carry_no_lifecycle_headers(http, deployment, gateway):
    key = deployment.key("apps")
    entry = v2_create(http, gateway, key)

    answers = [
        http.get(f"{gateway.url}/faq/v2/faqs/{entry['id']}", headers=key),
        http.get(f"{gateway.url}/faq/v2/faqs", params={"limit": 1}, headers=key),
        http.patch(f"{gateway.url}/faq/v2/faqs/{entry['id']}", json={"answer": "Y."}, headers=key),
    ]

    for response in answers:
        assert response.status_code == 200, response.text
        assert [h for h in LIFECYCLE_HEADERS if h in response.headers] == []


# --- 3. after the sunset ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("GET", "/faq/v1/faqs", None),
        ("GET", "/faq/v1/faqs/1", None),
        ("POST", "/faq/v1/faqs", {"question": "Still there?", "source": "sunset"}),
        ("PUT", "/faq/v1/faqs/1/answer", {"answer": "No."}),
        ("DELETE", "/faq/v1/faqs/1", None),
    ],
    ids=["list", "read", "create", "answer", "delete"],
)
def test_after_the_sunset_v1_is_410_and_never_reaches_the_service(
    http, deployment, faq, method, path, body
):
    sunset = deployment.gateways["sunset"]
    rid = request_id()

    response = http.request(
        method,
        f"{sunset.url}{path}",
        json=body,
        headers={**deployment.key("legacy"), "X-Request-ID": rid},
    )

    found = problem(response, 410, type=TYPE_BASE + "version-gone")
    assert found["successor"] == "v2"
    assert "v2" in found["detail"]
    assert (found["service"], found["version"], found["state"]) == ("faq", "v1", "sunset")
    assert found["docs"] == DOCS
    # Still announced: when it went, and where to read about it.
    assert parsedate_to_datetime(response.headers["Sunset"]) < dt.datetime.now(dt.UTC)
    assert (DOCS, "sunset") in [(url, p.get("rel")) for url, p in links(response.headers["Link"])]
    [request_line] = request_lines(sunset, rid)
    assert request_line["status"] == 410
    assert request_lines(faq, rid) == [], "a call to a switched-off version reached the service"


def test_after_the_sunset_v2_still_works(http, deployment, faq):
    sunset = deployment.gateways["sunset"]
    key = deployment.key("legacy")
    rid = request_id()

    created = http.post(
        f"{sunset.url}/faq/v2/faqs",
        json={"question": "Is v2 still there?", "source": {"kind": "ticket", "ref": unique()}},
        headers={**key, "X-Request-ID": rid},
    )
    read = http.get(f"{sunset.url}/faq/v2/faqs/{created.json()['id']}", headers=key)

    assert created.status_code == 201, created.text
    assert read.status_code == 200, read.text
    assert read.json() == created.json()
    # The service logs calls it gets, under the gateway's request id: the 410s above are absent
    # from its log because they never came, not because it logs nothing.
    [line] = request_lines(faq, rid)
    assert (line["method"], line["path"], line["status"]) == ("POST", "/v2/faqs", 201)
    catalogue = http.get(f"{sunset.url}/__api__/").json()
    assert catalogue["services"]["faq"]["versions"]["v1"]["lifecycle"]["state"] == "sunset"


# --- 4. usage -----------------------------------------------------------------------------------


def usage(http, gateway, key, **params) -> dict:
    response = http.get(f"{gateway.url}/__usage__/", params=params, headers=key)
    assert response.status_code == 200, response.text
    return response.json()


def settled_usage(http, gateway, key, expected_total: int, **params) -> dict:
    """Usage once the workers have flushed at least ``expected_total`` calls, plus a few flush
    intervals more so that any call counted twice would show too."""
    deadline = time.monotonic() + 15
    while True:
        found = usage(http, gateway, key, **params)
        if found["total"] >= expected_total:
            break
        if time.monotonic() > deadline:
            pytest.fail(f"usage never reached {expected_total} calls: {found}")
        time.sleep(FLUSH_SECONDS / 2)
    time.sleep(FLUSH_SECONDS * 5)
    return usage(http, gateway, key, **params)


def tally(rows: list[dict]) -> Counter:
    """Counts by (service, version, operation, method, consumer, status class), over hours."""
    counts = Counter()
    for row in rows:
        counts[
            (
                row["service"],
                row["version"],
                row["operation"],
                row["method"],
                row["consumer"],
                row["status_class"],
            )
        ] += row["count"]
    return counts


def test_usage_counts_every_call_per_consumer_and_operation(http, deployment, gateway):
    alice, bob, ops = deployment.key("alice"), deployment.key("bob"), deployment.key("ops")
    started = dt.datetime.now(dt.UTC)

    first = v1_create(http, gateway, alice)
    v1_create(http, gateway, alice)
    for _ in range(3):
        assert http.get(f"{gateway.url}/faq/v1/faqs/{first['id']}", headers=alice).ok
    missing = http.get(f"{gateway.url}/faq/v1/faqs/999999999999", headers=alice)
    assert missing.status_code == 404, missing.text
    for _ in range(4):
        assert http.get(f"{gateway.url}/faq/v2/faqs", params={"limit": 1}, headers=bob).ok

    a = settled_usage(http, gateway, ops, 6, consumer="alice")
    b = settled_usage(http, gateway, ops, 4, consumer="bob")

    assert tally(a["rows"]) == {
        ("faq", "v1", "/v1/faqs", "POST", "alice", "2xx"): 2,
        ("faq", "v1", "/v1/faqs/{entry_id}", "GET", "alice", "2xx"): 3,
        ("faq", "v1", "/v1/faqs/{entry_id}", "GET", "alice", "4xx"): 1,
    }
    assert a["total"] == 6
    assert tally(b["rows"]) == {("faq", "v2", "/v2/faqs", "GET", "bob", "2xx"): 4}
    assert b["total"] == 4
    for row in a["rows"] + b["rows"]:
        assert sum(row["latency_histogram"]) == row["count"], row
        assert row["latency_ms_sum"] > 0
        hour = dt.datetime.fromisoformat(row["hour"].replace("Z", "+00:00"))
        assert started.replace(minute=0, second=0, microsecond=0) <= hour
    # The filters narrow by service and version too.
    only_v2 = usage(http, gateway, ops, consumer="bob", version="v1")
    assert (only_v2["total"], only_v2["rows"]) == (0, [])
    by_service = usage(http, gateway, ops, service="faq", version="v2", consumer="bob")
    assert by_service["total"] == 4


def test_usage_is_for_platform_keys_only(http, deployment, gateway):
    response = http.get(f"{gateway.url}/__usage__/", headers=deployment.key("apps"))
    problem(response, 403)
    anonymous = http.get(f"{gateway.url}/__usage__/")
    assert anonymous.status_code in (401, 403), anonymous.text
    problem(anonymous, anonymous.status_code)
    wrong = http.get(f"{gateway.url}/__usage__/", headers=bearer("sy_wrong"))
    problem(wrong, 401)


# --- 5. upstream failures -----------------------------------------------------------------------


def test_a_refused_upstream_is_502_then_the_breaker_answers_503_without_trying(http, deployment):
    down = deployment.gateways["down"]
    key = deployment.key("downer")

    for _ in range(BREAKER_FAILURES):
        failed = http.get(f"{down.url}/faq/v2/faqs", headers=key)
        assert "refused" in problem(failed, 502)["detail"]

    # From now on the port accepts connections: any call that still went upstream would be seen
    # here, and would wait for the read timeout instead of failing at once.
    with deployment.refusing.listening() as connected:
        for _ in range(3):
            started = time.monotonic()
            response = http.get(f"{down.url}/faq/v2/faqs", headers=key)
            elapsed = time.monotonic() - started
            problem(response, 503)
            assert 1 <= int(response.headers["Retry-After"]) <= BREAKER_RESET_SECONDS
            assert elapsed < READ_TIMEOUT, elapsed
        assert not connected(), "the gateway connected upstream while its breaker was open"

    health = http.get(f"{down.url}/__health__").json()
    assert health["checks"]["upstream:faq"]["breaker"] == "open"


def test_a_hung_upstream_is_a_504_within_the_read_timeout(http, deployment):
    echo_gateway = deployment.gateways["echo"]
    rid = request_id()

    started = time.monotonic()
    response = http.get(
        f"{echo_gateway.url}/faq/v1/faqs/hang",
        headers={**deployment.key("echoer"), "X-Request-ID": rid},
    )
    elapsed = time.monotonic() - started

    assert "did not answer in time" in problem(response, 504)["detail"]
    assert elapsed < READ_TIMEOUT + 5, elapsed
    assert len(deployment.echo.seen(rid)) == 1, "the call reached the upstream once"


# --- 6. usage survives a graceful stop ----------------------------------------------------------


def requests_by_worker(metrics_dir: Path, consumer: str) -> dict[str, float]:
    """``switchyard_gateway_requests_total`` for ``consumer``, per worker (from the sample files
    each worker writes into the gateway's multiprocess folder)."""
    found = {}
    for path in sorted(metrics_dir.glob("counter_*.db")):
        total = sum(
            sample.value
            for metric in MultiProcessCollector.merge([str(path)], accumulate=False)
            for sample in metric.samples
            if sample.name == "switchyard_gateway_requests_total"
            and sample.labels.get("consumer") == consumer
        )
        if total:
            found[path.stem.removeprefix("counter_")] = total
    return found


def calls_over_every_worker(http, server, metrics_dir, key, consumer, *, at_least: int) -> int:
    """Make ``at_least`` calls, each on a new connection, and more until both workers have
    answered some; returns how many were made."""
    made = 0
    while made < at_least or len(requests_by_worker(metrics_dir, consumer)) < 2:
        response = http.get(
            f"{server.url}/faq/v2/faqs",
            params={"limit": 1},
            headers={**key, "Connection": "close"},
        )
        assert response.status_code == 200, response.text
        made += 1
        assert made < 200, "every call went to the same worker"
    return made


def stored_usage(server: Server, consumer: str) -> list[list]:
    script = (
        "import json; from gateway.models import UsageRollup as U; "
        f"print(json.dumps([[u.operation, u.method, u.status_class, u.count] "
        f"for u in U.objects.filter(consumer={consumer!r})]))"
    )
    return json.loads(manage(server, "shell", "-c", script).strip().splitlines()[-1])


def test_sigterm_flushes_every_counted_call_and_exits_0(http, deployment):
    server = deployment.gateways["sigterm"]
    key = deployment.key("terminator")

    made = calls_over_every_worker(
        http, server, deployment.metrics_dirs["sigterm"], key, "terminator", at_least=7
    )
    # Nothing is written yet: the flush interval is an hour.
    assert usage(http, server, deployment.key("sigterm-ops"), consumer="terminator")["total"] == 0

    server.process.send_signal(signal.SIGTERM)
    try:
        code = server.process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"the gateway did not stop after SIGTERM\n{server.output()}")

    assert code == 0, server.output()
    assert stored_usage(server, "terminator") == [["/v2/faqs", "GET", "2xx", made]]
    flushed = [r for r in server.records() if r.get("message") == "usage flushed on shutdown"]
    assert sum(r["calls"] for r in flushed) == made, flushed


# --- 7. what crosses the gateway, in both directions --------------------------------------------


def header_values(headers: list[tuple[str, str]], name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name.lower()]


def test_hop_by_hop_and_credentials_stay_at_the_gateway(deployment):
    echo_gateway = deployment.gateways["echo"]
    key = deployment.keys["echoer"]
    rid = request_id()

    response = raw_request(
        echo_gateway.port,
        "GET",
        "/faq/v1/faqs/17?expand=1",
        [
            ("Authorization", f"Bearer {key}"),
            ("Connection", "close, X-Secret"),
            ("X-Secret", "leaked"),
            ("Keep-Alive", "300"),
            ("TE", "trailers"),
            ("Upgrade", "h2c"),
            ("Proxy-Authorization", "x"),
            ("X-Request-ID", rid),
            ("X-End-To-End", "kept"),
            # Claims only the gateway may make.
            ("X-Switchyard-Consumer", "ops"),
            ("X-Switchyard-Signature", "t=1,v1=00"),
            ("X-Forwarded-Prefix", "/elsewhere"),
        ],
    )

    assert response.status_code == 200, response.content
    [received] = deployment.echo.seen(rid)
    got = received["headers"]
    names = {name.lower() for name, _ in got}
    for leaked in ("x-secret", "keep-alive", "te", "upgrade", "proxy-authorization"):
        assert leaked not in names, (leaked, got)
    assert header_values(got, "Authorization") == []
    # The gateway's own connection to the upstream may say keep-alive; the caller's tokens stay.
    assert [v for v in header_values(got, "Connection") if v.lower() != "keep-alive"] == []
    assert key not in json.dumps(got)
    assert header_values(got, "X-End-To-End") == ["kept"]
    assert received["target"] == "/v1/faqs/17?expand=1"
    assert header_values(got, "X-Forwarded-For") == ["127.0.0.1"]
    assert header_values(got, "X-Forwarded-Proto") == ["http"]
    assert header_values(got, "X-Forwarded-Host") == [f"127.0.0.1:{echo_gateway.port}"]
    assert header_values(got, "X-Forwarded-Prefix") == ["/faq"]
    assert header_values(got, "X-Request-ID") == [rid]
    assert header_values(got, "X-Switchyard-Consumer") == ["echoer"]
    [signature] = header_values(got, "X-Switchyard-Signature")
    assert verify(
        deployment.secret,
        signature,
        method="GET",
        path="/v1/faqs/17",
        consumer="echoer",
        max_age=300,
    )
    assert not verify(
        deployment.secret, signature, method="GET", path="/v1/faqs/17", consumer="ops", max_age=300
    )
    # And back: the upstream's hop-by-hop headers stay at the gateway, the rest comes through.
    assert response.headers.get_all("X-Internal") is None
    assert "x-internal" not in (response.headers.get("Connection") or "").lower()
    assert response.headers["X-Kept"] == "yes"
    assert response.headers["X-Request-ID"] == rid


@pytest.mark.parametrize("claimed", ["localhost", "evil.example.com"])
def test_the_caller_cannot_choose_the_forwarded_host(deployment, claimed):
    echo_gateway = deployment.gateways["echo"]
    rid = request_id()

    response = raw_request(
        echo_gateway.port,
        "GET",
        "/faq/v1/faqs",
        {
            "Authorization": f"Bearer {deployment.keys['echoer']}",
            "X-Forwarded-Host": claimed,
            "X-Request-ID": rid,
        },
    )

    assert response.status_code == 200, response.content
    [received] = deployment.echo.seen(rid)
    forwarded = header_values(received["headers"], "X-Forwarded-Host")
    assert forwarded == [f"127.0.0.1:{echo_gateway.port}"]


def test_a_gzip_body_arrives_byte_for_byte(deployment):
    echo_gateway = deployment.gateways["echo"]

    response = raw_request(
        echo_gateway.port,
        "GET",
        "/faq/v2/faqs/gzip",
        {"Authorization": f"Bearer {deployment.keys['echoer']}", "Accept-Encoding": "gzip"},
    )

    assert response.status_code == 200, response.content[:300]
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.content == deployment.echo.gzip_body
    assert gzip.decompress(response.content)


# --- 8. paths that try to leave their prefix ----------------------------------------------------


ESCAPES = [
    "/faq/v1/../../x",
    "/faq/v1/../v2/faqs",
    "/faq/v1/..%2f..%2fx",
    "/faq/v1/..%2F..%2Fx",
    "/faq/v1/%2e%2e/v2/faqs",
    "/faq/v1/%2E%2E/v2/faqs",
    "/faq/v1/faqs/%2e%2e",
    "/faq/v1/faqs/.",
    "/faq/v1/./faqs",
    "/faq/v1/faqs%2f1",
    "/faq/v1/faqs/..;/x",
    "/faq/v1/..;/v2/faqs",
    "/faq/v1/faqs/..;x=1/x",
    "/faq/v1/..\\..\\x",
    "/faq/v1/faqs\\..\\..\\x",
    "/faq/v1/..%5c..%5cx",
    "/faq/v1/faqs/%00",
]


@pytest.mark.parametrize("target", ESCAPES)
def test_path_escapes_are_404_and_never_reach_the_upstream(deployment, target):
    echo_gateway = deployment.gateways["echo"]
    rid = request_id()

    response = raw_request(
        echo_gateway.port,
        "GET",
        target,
        {"Authorization": f"Bearer {deployment.keys['echoer']}", "X-Request-ID": rid},
    )

    problem(response, 404)
    assert deployment.echo.seen(rid) == [], "the call was forwarded"


def test_a_plain_path_does_reach_the_upstream(deployment):
    # The counterpart of the escapes above: the same kind of call, routed.
    echo_gateway = deployment.gateways["echo"]
    rid = request_id()

    response = raw_request(
        echo_gateway.port,
        "GET",
        "/faq/v1/faqs/1",
        {"Authorization": f"Bearer {deployment.keys['echoer']}", "X-Request-ID": rid},
    )

    assert response.status_code == 200, response.content
    assert [r["target"] for r in deployment.echo.seen(rid)] == ["/v1/faqs/1"]


# --- 9. the gateway's own pages -----------------------------------------------------------------


def test_api_index_lists_faq_with_each_version_lifecycle(http, gateway):
    response = http.get(f"{gateway.url}/__api__/")

    assert response.status_code == 200, response.text
    versions = response.json()["services"]["faq"]["versions"]
    assert set(versions) == {"v1", "v2"}
    v1, v2 = versions["v1"], versions["v2"]
    assert v1["lifecycle"]["state"] == "deprecated"
    assert v1["lifecycle"]["successor"] == "v2"
    assert v1["lifecycle"]["sunset_at"] == "2027-05-01T00:00:00Z"
    assert v2["lifecycle"]["state"] == "active"
    assert (v2["contract"], v2["docs"], v2["base_path"]) == (
        "/__api__/faq/v2.yaml",
        "/__doc__/faq/v2/",
        "/faq/v2",
    )


def test_the_served_contract_is_the_consumers_view_of_the_gateway(http, gateway):
    """What the issue tracker measured: a client generator fed /__api__/faq/v1.json must know
    the key, the gateway's own answers and where to call."""
    response = http.get(f"{gateway.url}/__api__/faq/v1.json")

    assert response.status_code == 200, response.text
    document = response.json()
    validate_spec(document)
    assert [server["url"] for server in document["servers"]] == [f"{gateway.url}/faq"]
    bearer = document["components"]["securitySchemes"]["consumerKey"]
    assert (bearer["type"], bearer["scheme"]) == ("http", "bearer")
    for item in document["paths"].values():
        for operation in item.values():
            assert operation["security"] == [{"consumerKey": []}]
            assert {"401", "410", "429", "502", "503", "504"} <= set(operation["responses"])
    gone = document["components"]["responses"]["VersionGone"]
    assert {"Deprecation", "Sunset", "Link", "X-Request-ID"} <= set(gone["headers"])
    as_yaml = http.get(f"{gateway.url}/__api__/faq/v1.yaml")
    assert yaml.safe_load(as_yaml.content) == document


def test_the_committed_contract_stays_the_services_own(http, gateway):
    committed = yaml.safe_load((REPO_ROOT / "contracts" / "faq" / "v2.yaml").read_bytes())

    served = http.get(f"{gateway.url}/__api__/faq/v2.json").json()

    assert "servers" not in committed
    assert set(served["paths"]) == set(committed["paths"])
    assert "410" not in served["paths"]["/v2/faqs"]["get"]["responses"]


def test_doc_page_loads_the_console_from_the_gateway_itself(http, gateway):
    response = http.get(f"{gateway.url}/__doc__/faq/v1/")

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/html")
    page = response.text
    scripts = re.findall(r"<script[^>]*\bsrc=\"([^\"]+)\"", page)
    assert scripts and all(src.startswith("/__static__/") for src in scripts), scripts
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.replace(DOCS, "")), page
    assert 'data-spec-url="/__api__/faq/v1.json"' in page
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]
    for src in scripts:
        script = http.get(f"{gateway.url}{src}")
        assert script.status_code == 200, src
        assert "javascript" in script.headers["Content-Type"]
        # Swagger UI's bundle, then the console's own init file.
        assert len(script.content) > (10_000 if "swagger-ui" in src else 200)


def test_health_shows_the_upstream_passing(http, gateway):
    response = http.get(f"{gateway.url}/__health__")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "pass"
    assert body["checks"]["upstream:faq"]["status"] == "pass"
    assert body["checks"]["upstream:faq"]["breaker"] == "closed"


def test_health_warns_but_answers_200_when_the_upstream_is_down(http, deployment):
    response = http.get(f"{deployment.gateways['down'].url}/__health__")

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "warn"
    assert body["checks"]["upstream:faq"]["status"] == "warn"
    assert body["checks"]["database"]["status"] == "pass"


def requests_total(http, gateway, consumer: str, key: dict[str, str]) -> float:
    response = http.get(f"{gateway.url}/metrics", headers=key)
    assert response.status_code == 200, response.text
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "switchyard_gateway_requests_total"
        and sample.labels.get("consumer") == consumer
    )


def test_metrics_count_every_call_across_the_workers(http, deployment, gateway):
    made = calls_over_every_worker(
        http, gateway, deployment.metrics_dirs["main"], deployment.key("dave"), "dave", at_least=10
    )

    assert requests_total(http, gateway, "dave", deployment.key("ops")) == made
    per_worker = requests_by_worker(deployment.metrics_dirs["main"], "dave")
    assert len(per_worker) == 2 and sum(per_worker.values()) == made, per_worker


def test_metrics_name_consumers_so_only_the_platform_team_reads_them(http, deployment, gateway):
    anonymous = http.get(f"{gateway.url}/metrics")
    consumer = http.get(f"{gateway.url}/metrics", headers=deployment.key("dave"))

    assert problem(anonymous, 401) and problem(consumer, 403)
    for response in (anonymous, consumer):
        assert "dave" not in response.text and "switchyard_gateway" not in response.text


@pytest.mark.parametrize("path, status", [("/__health__", 405), ("/no/such/route", 404)])
def test_the_gateway_pages_answer_a_post_with_a_problem(http, gateway, path, status):
    response = http.post(f"{gateway.url}{path}", json={})

    problem(response, status)
