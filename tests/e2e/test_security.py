"""The security suite of issue 10 ("Hardening"): hostile callers against real processes.

Real gunicorn processes on 127.0.0.1: the FAQ service, a gateway in front of it (``main``, edge
validation of faq v2 on) and a gateway in front of a recording upstream of this module's own
(``rec``, one worker, a low failed-authentication limit), so a test sees exactly which requests
got past the gateway. Each case asserts the exact status and that nothing leaked: no stack trace,
no internal address, no key, no other consumer's data, and no call upstream where none may go.

The map, OWASP API Security Top 10 (2023):

======================================================  ==========================================
API1 Broken object level authorization                  private / Vary-dependent cached answers
API2 Broken authentication                              key guessing (429, nothing logged), a
                                                        bearer-key oracle on /__usage__/ and
                                                        /metrics, direct service calls unsigned,
                                                        replayed, stale or tampered, the login's
                                                        CSRF
API3 Broken object property level authorization         (nothing here: contracts, test_gateway)
API4 Unrestricted resource consumption                  oversized header and body, deep JSON
API5 Broken function level authorization                dashboard, /__usage__/, /metrics without
                                                        rights
API8 Security misconfiguration                          request smuggling (CL+TE, obfuscated TE,
                                                        two lengths, bare LF, obs-fold), encoded
                                                        path escapes, secrets in the logs
======================================================  ==========================================

Already asserted elsewhere and not repeated: plain path escapes and hop-by-hop/credential headers
(test_gateway), unsigned and forged direct calls (test_gateway), rotation and revocation on every
worker within a second and 429 for guesses while a held key works (test_keys), HTTPS-only API
calls and HSTS (test_https).

Each case was run once in a copy of the tree with its protection removed, and failed: the
problem answers of gunicorn's refusals (431, and the smuggling cases' problem type), the guard's
length check (413), the ``RecursionError`` handling at the edge and in the services' parser
(deep JSON), routing's encoded-escape check (the double-encoded and overlong cases; the others
are also caught by the decoded ``..`` check), the failed-authentication limiter (guessing, on
calls and pages), the cache's ``private``/``Vary`` rules (cache), authentication before the
cache (public entries), the ``revoked_at`` filter (revocation), ``verify``'s digest and age
checks (signatures), the pages' permission class and ``staff_member_required`` (rights),
``CsrfViewMiddleware`` together with ``LoginView``'s own ``csrf_protect`` (CSRF; either alone
still refuses), and a request log line carrying the ``Authorization`` header (logs). The
smuggling cases are refused by gunicorn's parser before the app's guard sees them (the C one;
the Python one, which ``permit_obsolete_folding`` selects, too: 400, 501 for ``xchunked``). A
parser without those checks cannot be swapped in, so
:func:`test_two_well_framed_requests_on_one_connection_are_both_seen` shows instead that a
second request that did get through would be answered and seen upstream.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import socket
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from services.kit.gateway_trust import sign
from tests.e2e.conftest import (
    REQUEST_TIMEOUT,
    Launcher,
    Server,
    create_consumers,
    free_port,
    manage,
    wait_until_healthy,
)
from tests.helpers import assert_problem

pytestmark = pytest.mark.e2e

TYPE_BASE = "https://switchyard.dev/problems/"
GUESS_LIMIT = 10  # failed authentications per minute on the recording gateway (one worker)
MAX_BODY = 64 * 1024
MAX_AGE = 300  # the services' GATEWAY_SIGNATURE_MAX_AGE (default)
STAFF_PASSWORD = secrets.token_urlsafe(18)
VIEWER_PASSWORD = secrets.token_urlsafe(18)


def rid() -> str:
    return f"e2e-sec-{uuid.uuid4()}"


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# --- a recording upstream -----------------------------------------------------------------------

# What the upstream answers for GET /v2/faqs/<id>: the Cache-Control and Vary it sends.
CACHE_RULES = {
    "101": ("private, max-age=60", None),
    "102": ("public, max-age=60", "Authorization"),
    "103": ("public, max-age=60", "X-Switchyard-Consumer"),
    "104": ("public, max-age=60", None),
}


class Recorder:
    """An HTTP/1.1 upstream on 127.0.0.1 that records every request (method, target, headers,
    body) and answers JSON naming the consumer the gateway said it called for."""

    def __init__(self):
        self.requests: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format, *args):
                pass

            def handle_one(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.requests.append(
                    {
                        "method": self.command,
                        "target": self.path,
                        "headers": self.headers.items(),
                        "body": body,
                    }
                )
                if self.path == "/__health__":
                    payload, headers = b'{"status": "pass"}', {}
                else:
                    consumer = self.headers.get("X-Switchyard-Consumer", "")
                    number = self.path.split("?")[0].rsplit("/", 1)[-1]
                    payload = json.dumps(
                        {"id": number, "for": consumer, "secret": f"data-of-{consumer}"}
                    ).encode()
                    headers = {}
                    if number in CACHE_RULES:
                        control, vary = CACHE_RULES[number]
                        headers["Cache-Control"] = control
                        if vary:
                            headers["Vary"] = vary
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def mentioning(self, marker: str) -> list[dict]:
        """The requests whose request line or headers contain ``marker``."""
        return [
            r
            for r in list(self.requests)
            if marker in r["target"] or any(marker in v for _, v in r["headers"])
        ]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the deployment -----------------------------------------------------------------------------


@dataclass
class Stack:
    secret: str
    faq: Server
    main: Server
    rec: Server
    recorder: Recorder
    keys: dict[str, str]  # consumer name: key, on either gateway
    secrets_seen: set[str] = field(default_factory=set)  # everything no log may contain

    @property
    def servers(self) -> list[Server]:
        return [self.faq, self.main, self.rec]


def _make_users(server: Server) -> None:
    script = (
        "from django.contrib.auth.models import User\n"
        f"User.objects.create_superuser('ops', 'ops@example.com', {STAFF_PASSWORD!r})\n"
        f"User.objects.create_user('viewer', 'viewer@example.com', {VIEWER_PASSWORD!r})\n"
    )
    manage(server, "shell", "-c", script)


@pytest.fixture(scope="module")
def stack(tmp_path_factory, http) -> Stack:
    directory = tmp_path_factory.mktemp("e2e-security")
    secret = secrets.token_urlsafe(32)
    with ExitStack() as exits:
        recorder = Recorder()
        exits.callback(recorder.close)
        inherited = {
            name: None
            for name in os.environ
            if name.startswith(("GATEWAY_", "GUNICORN_"))
            or name.endswith("_UPSTREAM")
            or name == "PROMETHEUS_MULTIPROC_DIR"
        }
        faq_port = free_port()
        faq_url = f"http://127.0.0.1:{faq_port}"
        common = {
            **inherited,
            "GATEWAY_SECRET": secret,
            "MAX_REQUEST_BODY_BYTES": str(MAX_BODY),
            "GATEWAY_RATE_LIMIT_PER_MINUTE": "0",
        }
        plan = {
            "faq": ("faq", {**common, "PORT": str(faq_port), "WEB_CONCURRENCY": "1"}),
            "main": (
                "gateway",
                {**common, "FAQ_UPSTREAM": faq_url, "GATEWAY_VALIDATE": "faq:v2"},
            ),
            "rec": (
                "gateway",
                {
                    **common,
                    "FAQ_UPSTREAM": recorder.url,
                    "WEB_CONCURRENCY": "1",
                    "GATEWAY_AUTH_FAILURES_PER_MINUTE": str(GUESS_LIMIT),
                    # Each guessing case claims an address of its own (a documentation range).
                    "GATEWAY_TRUSTED_PROXY_HOPS": "1",
                },
            ),
        }
        consumers = {
            "main": {"alice": False, "bob": False, "ops-team": True},
            "rec": {"carol": False, "dan": False},
        }
        launchers = {label: Launcher(directory, http) for label in plan}
        for launcher in launchers.values():
            exits.callback(launcher.close)

        def boot(label: str):
            service, settings = plan[label]
            server = launchers[label].spawn(service, label=f"sec_{label}", **settings)
            keys = create_consumers(server, consumers[label]) if label in consumers else {}
            if label == "main":
                _make_users(server)
            return server, keys

        with ThreadPoolExecutor(max_workers=len(plan)) as pool:
            futures = {label: pool.submit(boot, label) for label in plan}
        servers, keys = {}, {}
        for label, future in futures.items():
            servers[label], found = future.result()
            keys.update(found)
        for server in servers.values():
            wait_until_healthy(server, http)
        found = Stack(
            secret=secret,
            faq=servers["faq"],
            main=servers["main"],
            rec=servers["rec"],
            recorder=recorder,
            keys=keys,
        )
        found.secrets_seen.update(keys.values())
        found.secrets_seen.update({secret, STAFF_PASSWORD, VIEWER_PASSWORD})
        found.secrets_seen.update(server.env["SECRET_KEY"] for server in found.servers)
        yield found


def assert_nothing_leaked(stack: Stack, body: bytes | str) -> None:
    """No stack trace, internal address or secret in what a caller got back."""
    text = body.decode("latin-1") if isinstance(body, bytes) else body
    assert "Traceback" not in text and 'File "' not in text, text[:500]
    for upstream in (stack.faq.url, stack.recorder.url):  # internal addresses
        assert upstream.split("//", 1)[1] not in text, text[:500]
    for value in stack.secrets_seen:
        assert value not in text, "a secret came back to the caller"


def problem(response, status: int, stack: Stack, *, type: str | None = None) -> dict:
    body = assert_problem(response, status, type=type)
    assert_nothing_leaked(stack, response.text)
    return body


# --- raw sockets --------------------------------------------------------------------------------


def exchange(port: int, payload: bytes, *, wait: float = 1.5) -> bytes:
    """Send ``payload`` on a fresh connection and read whatever comes back until the server
    closes it or stays quiet for ``wait`` seconds."""
    with socket.create_connection(("127.0.0.1", port), timeout=REQUEST_TIMEOUT) as sock:
        sock.sendall(payload)
        sock.settimeout(wait)
        chunks = []
        try:
            while True:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
        except TimeoutError:
            pass
        except ConnectionResetError:
            pass
    return b"".join(chunks)


STATUS_LINE = re.compile(rb"HTTP/1\.[01] (\d{3}) ")


def statuses_in(raw: bytes) -> list[int]:
    return [int(code) for code in STATUS_LINE.findall(raw)]


def head_and_body(raw: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(lines[0].split()[1]), headers, body


# --- API8: request smuggling --------------------------------------------------------------------


def smuggled(port: int, key: str, marker: str) -> bytes:
    """A complete second request, for the upstream to get if the gateway misreads the first."""
    return (
        f"GET /faq/v2/faqs/7?{marker} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nX-Request-ID: {marker}\r\n\r\n"
    ).encode()


def first_request(port: int, key: str, framing: list[str], body: bytes) -> bytes:
    head = [
        "POST /faq/v2/faqs HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"Authorization: Bearer {key}",
        "Content-Type: application/json",
        *framing,
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _te_case(te_lines: list[str]):
    """A chunked body that ends at once ("0"), the smuggled request after it, and a
    Content-Length covering both: a reader that honours TE sees two requests, CL one."""

    def build(port, key, marker):
        tail = smuggled(port, key, marker)
        body = b"0\r\n\r\n" + tail
        return first_request(port, key, [f"Content-Length: {len(body)}", *te_lines], body)

    return build


def _two_lengths(port, key, marker):
    tail = smuggled(port, key, marker)
    body = b"{}"
    return first_request(
        port, key, ["Content-Length: 2", f"Content-Length: {2 + len(tail)}"], body + tail
    )


def _bare_lf(port, key, marker):
    tail = smuggled(port, key, marker)
    head = (
        f"POST /faq/v2/faqs HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
        "Content-Length: 2\nTransfer-Encoding: chunked\r\n\r\n"
    ).encode()
    return head + b"0\r\n\r\n" + tail


def _obs_fold(port, key, marker):
    tail = smuggled(port, key, marker)
    body = b"0\r\n\r\n" + tail
    return first_request(
        port,
        key,
        [f"Content-Length: {len(body)}", "X-Folded: a", " Transfer-Encoding: chunked"],
        body,
    )


SMUGGLING = {
    "cl-and-te": _te_case(["Transfer-Encoding: chunked"]),
    "te-xchunked": _te_case(["Transfer-Encoding: xchunked"]),
    "te-leading-space": _te_case(["Transfer-Encoding:  chunked"]),
    "te-space-before-colon": _te_case(["Transfer-Encoding : chunked"]),
    "te-chunked-identity": _te_case(["Transfer-Encoding: chunked, identity"]),
    "te-tab": _te_case(["Transfer-Encoding:\tchunked"]),
    "te-twice": _te_case(["Transfer-Encoding: chunked", "Transfer-Encoding: identity"]),
    "two-content-lengths": _two_lengths,
    "bare-lf": _bare_lf,
    "obs-fold": _obs_fold,
}


@pytest.mark.parametrize("case", list(SMUGGLING))
def test_smuggling_is_refused_and_the_second_request_never_reaches_the_upstream(stack, http, case):
    """API8 Security misconfiguration: request smuggling (desync) through the gateway."""
    marker = rid()
    key = stack.keys["carol"]
    raw = exchange(stack.rec.port, SMUGGLING[case](stack.rec.port, key, marker))

    codes = statuses_in(raw)
    assert codes, f"no answer at all: {raw[:300]!r}"
    # gunicorn's parser refuses every one of them before the app (and its request guard, which
    # would answer a chunked body 411) sees anything.
    assert codes[0] == 400, (case, codes, raw[:400])
    assert b"application/problem+json" in raw.partition(b"\r\n\r\n")[0]
    assert len(codes) == 1, f"a second response on the connection: {raw[:600]!r}"
    assert_nothing_leaked(stack, raw)
    time.sleep(0.2)
    assert stack.recorder.mentioning(marker) == [], "the smuggled request reached the upstream"
    assert [r for r in stack.recorder.requests if r["target"].split("?")[0] == "/v2/faqs/7"] == []
    assert http.get(f"{stack.rec.url}/__health__").status_code == 200


def test_two_well_framed_requests_on_one_connection_are_both_seen(stack):
    """The control of the smuggling cases: two pipelined requests, each framed once, get two
    answers and both reach the upstream, so the checks above would see a smuggled one."""
    first, second = rid(), rid()
    key = stack.keys["carol"]
    payload = smuggled(stack.rec.port, key, first).replace(b"/7?", b"/80?") + smuggled(
        stack.rec.port, key, second
    ).replace(b"/7?", b"/81?")

    assert statuses_in(exchange(stack.rec.port, payload)) == [200, 200]
    assert len(stack.recorder.mentioning(first)) == len(stack.recorder.mentioning(second)) == 1


def test_a_well_framed_call_on_the_same_route_does_reach_the_upstream(stack):
    """The counterpart of the smuggling cases: the same POST, framed once, gets through."""
    marker = rid()
    body = b'{"question": "q?"}'
    payload = first_request(
        stack.rec.port,
        stack.keys["carol"],
        [f"Content-Length: {len(body)}", f"X-Request-ID: {marker}", "Connection: close"],
        body,
    )

    assert statuses_in(exchange(stack.rec.port, payload)) == [200]
    assert len(stack.recorder.mentioning(marker)) == 1


# --- API4: unrestricted resource consumption ----------------------------------------------------


def test_an_oversized_header_is_a_431_problem(stack, http):
    """API4 Unrestricted resource consumption: a header past gunicorn's field limit."""
    marker = rid()
    payload = (
        f"GET /faq/v2/faqs/8 HTTP/1.1\r\nHost: 127.0.0.1:{stack.rec.port}\r\n"
        f"Authorization: Bearer {stack.keys['carol']}\r\nX-Request-ID: {marker}\r\n"
        f"X-Big: {'a' * 20000}\r\n\r\n"
    ).encode()

    raw = exchange(stack.rec.port, payload)

    status, headers, body = head_and_body(raw)
    assert status == 431, raw[:300]
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["status"] == 431
    assert_nothing_leaked(stack, raw)
    assert stack.recorder.mentioning(marker) == []
    assert http.get(f"{stack.rec.url}/__health__").status_code == 200


def test_too_many_headers_are_a_431_problem(stack):
    """API4: more header fields than gunicorn takes."""
    lines = "".join(f"X-H{i}: v\r\n" for i in range(150))
    payload = (
        f"GET /faq/v2/faqs/8 HTTP/1.1\r\nHost: 127.0.0.1:{stack.rec.port}\r\n{lines}\r\n"
    ).encode()

    status, headers, _ = head_and_body(exchange(stack.rec.port, payload))

    assert status == 431
    assert headers["content-type"] == "application/problem+json"


def test_an_oversized_body_is_a_413_problem_and_never_travels(stack, http):
    """API4: a body over MAX_REQUEST_BODY_BYTES, announced and actually sent."""
    marker = rid()
    response = http.post(
        f"{stack.rec.url}/faq/v2/faqs",
        data=b'{"q": "' + b"x" * (MAX_BODY + 10) + b'"}',
        headers={
            **bearer(stack.keys["carol"]),
            "Content-Type": "application/json",
            "X-Request-ID": marker,
        },
    )

    body = problem(response, 413, stack, type=TYPE_BASE + "body-too-large")
    assert body["limit"] == MAX_BODY
    assert stack.recorder.mentioning(marker) == []


DEPTH = 10_000


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_deeply_nested_json_is_a_400_problem_not_a_500(stack, http, version):
    """API4: 10 000 nested arrays; v2 is checked at the gateway's edge, v1 by the service."""
    body = "[" * DEPTH + "]" * DEPTH
    response = http.post(
        f"{stack.main.url}/faq/{version}/faqs",
        data=body,
        headers={**bearer(stack.keys["alice"]), "Content-Type": "application/json"},
    )

    problem(response, 400, stack)
    assert http.get(f"{stack.main.url}/__health__").status_code == 200


# --- API8: encoded path escapes -----------------------------------------------------------------

ENCODED_ESCAPES = [
    "/faq/v2/%2e%2e/v1/faqs",
    "/faq/v2/faqs/%2e%2e/%2e%2e/x",
    "/faq/v2/.%2e/v1/faqs",
    "/faq/v2/%2e./v1/faqs",
    "/faq/v2/faqs%2F..%2F..%2Fx",
    "/faq/v2/%252e%252e/v1/faqs",
    "/faq/v2/faqs/%252e%252e%252fx",
    "/faq/v2/faqs/..%3b/x",
    "/faq/v2/faqs/..;/x",
    "/faq/v2/faqs/%2e%2e;/x",
    "/faq/v2/faqs/%c0%ae%c0%ae/x",
    "/faq/v2/faqs/%u002e%u002e/x",
    "/faq/v2/faqs/..%00/x",
]


@pytest.mark.parametrize("target", ENCODED_ESCAPES)
def test_encoded_path_escapes_are_404_and_never_reach_the_upstream(stack, target):
    """API8: percent-, double- and overlong-encoded dots and slashes (test_gateway has the plain
    ones)."""
    marker = rid()
    connection = http.client.HTTPConnection("127.0.0.1", stack.rec.port, timeout=REQUEST_TIMEOUT)
    try:
        connection.putrequest("GET", target, skip_accept_encoding=True)
        connection.putheader("Authorization", f"Bearer {stack.keys['carol']}")
        connection.putheader("X-Request-ID", marker)
        connection.endheaders()
        response = connection.getresponse()
        status, content_type, text = (
            response.status,
            response.getheader("Content-Type"),
            response.read(),
        )
    finally:
        connection.close()

    assert status == 404, text
    assert content_type == "application/problem+json"
    assert_nothing_leaked(stack, text)
    assert stack.recorder.mentioning(marker) == [], "the call was forwarded"


# --- API1: cached answers and whose they are ----------------------------------------------------


def cached_get(stack: Stack, key: str, number: str, marker: str) -> requests.Response:
    return requests.get(
        f"{stack.rec.url}/faq/v2/faqs/{number}",
        headers={**bearer(key), "X-Request-ID": marker},
        timeout=REQUEST_TIMEOUT,
    )


@pytest.mark.parametrize(
    "number", ["101", "102", "103"], ids=["private", "public-vary-authorization", "vary-consumer"]
)
def test_a_cached_answer_for_one_consumer_is_never_served_to_another(stack, number):
    """API1 Broken object level authorization: the response cache. ``private`` answers and those
    that vary on the caller are kept per consumer; a ``Vary: Authorization`` (a header the cache
    key does not hold) is not cached at all."""
    carol, dan = stack.keys["carol"], stack.keys["dan"]
    first = cached_get(stack, carol, number, rid())
    assert first.json()["for"] == "carol"
    # The second call of carol: the cache may answer it, for carol only.
    again = cached_get(stack, carol, number, rid())
    assert again.json()["for"] == "carol"
    if number != "102":
        assert again.headers.get("X-Cache") == "HIT", "the case is meant to be cached"

    marker = rid()
    other = cached_get(stack, dan, number, marker)

    assert other.status_code == 200
    assert other.json() == {"id": number, "for": "dan", "secret": "data-of-dan"}
    assert "data-of-carol" not in other.text
    assert other.headers.get("X-Cache") != "HIT"
    assert len(stack.recorder.mentioning(marker)) == 1, "dan's call did not go upstream"


def test_a_cached_public_answer_needs_a_key_all_the_same(stack):
    """API1/API2: a shared (``public``) entry is served only after authentication."""
    assert cached_get(stack, stack.keys["carol"], "104", rid()).status_code == 200
    assert cached_get(stack, stack.keys["carol"], "104", rid()).headers.get("X-Cache") == "HIT"

    anonymous = requests.get(f"{stack.rec.url}/faq/v2/faqs/104", timeout=REQUEST_TIMEOUT)
    wrong = requests.get(
        f"{stack.rec.url}/faq/v2/faqs/104", headers=bearer("sy_" + "0" * 40), timeout=10
    )

    for response in (anonymous, wrong):
        problem(response, 401, stack)
        assert "data-of" not in response.text


# --- API2: keys ---------------------------------------------------------------------------------


def test_guessed_keys_get_429_with_retry_after_and_are_logged_nowhere(stack):
    """API2 Broken authentication: guessing keys from one address (test_keys: the held key of a
    consumer behind the same address keeps working). The pages that take keys count the same
    failures, so they are no way around the limit."""
    address = {"X-Forwarded-For": "198.51.100.23"}
    guesses = [f"sy_guess_{secrets.token_hex(16)}" for _ in range(GUESS_LIMIT + 5)]
    stack.secrets_seen.update(guesses)

    answers = [
        requests.get(f"{stack.rec.url}/faq/v2/faqs/9", headers={**bearer(g), **address}, timeout=10)
        for g in guesses
    ]
    pages = [
        requests.get(f"{stack.rec.url}{path}", headers={**bearer(g), **address}, timeout=10)
        for path in ("/__usage__/", "/metrics")
        for g in guesses[:2]
    ]

    codes = [a.status_code for a in answers]
    assert codes == [401] * GUESS_LIMIT + [429] * 5, codes
    for response in answers[GUESS_LIMIT:] + pages:
        body = problem(response, 429, stack)
        assert 1 <= int(response.headers["Retry-After"]) <= 61
        assert "failed authentications" in body["detail"]
    assert [r for r in stack.recorder.requests if r["target"].startswith("/v2/faqs/9")] == []
    logs = stack.rec.stdout() + stack.rec.stderr()
    assert not [g for g in guesses if g in logs], "a guessed key is in the gateway's log"


def test_the_pages_count_failed_keys_against_the_address_too(stack):
    """API2: /__usage__/ and /metrics take bearer keys; guessing there ends in 429 as well, and
    the count is the same one the proxied calls use."""
    address = {"X-Forwarded-For": "198.51.100.24"}
    guesses = [f"sy_page_{secrets.token_hex(16)}" for _ in range(GUESS_LIMIT + 2)]
    stack.secrets_seen.update(guesses)

    codes = [
        requests.get(
            f"{stack.rec.url}/__usage__/", headers={**bearer(g), **address}, timeout=10
        ).status_code
        for g in guesses
    ]
    proxied = requests.get(
        f"{stack.rec.url}/faq/v2/faqs/9", headers={**bearer(guesses[0]), **address}, timeout=10
    )

    assert codes == [401] * GUESS_LIMIT + [429] * 2, codes
    problem(proxied, 429, stack)


def test_revoked_and_rotated_keys_are_refused(stack):
    """API2: the short form of test_keys' cases: a revoked key and a rotated-out key are 401 and
    reach nothing."""
    keys = create_consumers(stack.rec, {"eve": False, "frank": False})
    stack.secrets_seen.update(keys.values())
    for key in keys.values():
        assert cached_get(stack, key, "10", rid()).status_code == 200
    manage(stack.rec, "consumers", "revoke", "eve")
    rotated = manage(stack.rec, "consumers", "rotate", "frank").strip().splitlines()[-1]
    stack.secrets_seen.add(rotated)
    time.sleep(1.0)  # test_keys: refused everywhere within a second

    for key in keys.values():
        marker = rid()
        problem(cached_get(stack, key, "10", marker), 401, stack)
        assert stack.recorder.mentioning(marker) == []
    assert cached_get(stack, rotated, "10", rid()).json()["for"] == "frank"


# --- API2: calls around the gateway -------------------------------------------------------------


def captured_signature(stack: Stack) -> tuple[str, str, str]:
    """What the gateway sent upstream for one of dan's GETs: (path, consumer, signature)."""
    marker = rid()
    assert cached_get(stack, stack.keys["dan"], "11", marker).status_code == 200
    [seen] = stack.recorder.mentioning(marker)
    headers = dict(seen["headers"])
    return seen["target"], headers["X-Switchyard-Consumer"], headers["X-Switchyard-Signature"]


def direct(stack: Stack, method: str, path: str, consumer: str, signature: str, **kwargs):
    headers = {"X-Switchyard-Consumer": consumer, "X-Switchyard-Signature": signature}
    return requests.request(method, f"{stack.faq.url}{path}", headers=headers, timeout=10, **kwargs)


def tamper(signature: str) -> str:
    head, digest = signature.rsplit("=", 1)
    flipped = ("1" if digest[0] != "1" else "2") + digest[1:]
    return f"{head}={flipped}"


def test_a_captured_signature_proves_nothing_for_another_call(stack):
    """API2: a signature the gateway sent (captured upstream) replayed directly on the service:
    on another path, another method, as another consumer, tampered with, or stale."""
    path, consumer, signature = captured_signature(stack)
    assert path == "/v2/faqs/11" and consumer == "dan"
    now = time.time()
    stale = sign(stack.secret, method="GET", path="/v2/faqs", consumer="dan", now=now - MAX_AGE - 5)
    future = sign(
        stack.secret, method="GET", path="/v2/faqs", consumer="dan", now=now + MAX_AGE + 5
    )
    other_secret = sign("not-the-secret", method="GET", path="/v2/faqs", consumer="dan")
    body = {"question": "Smuggled in?", "source": {"kind": "other"}}

    # The same signature on the exact call it was made for is accepted by design (no nonce;
    # test_gateway shows it): every variation is not.
    refused = [
        direct(stack, "GET", "/v2/faqs", consumer, signature),
        direct(stack, "POST", path, consumer, signature, json=body),
        direct(stack, "DELETE", path, consumer, signature),
        direct(stack, "GET", path, "alice", signature),
        direct(stack, "GET", path, consumer, tamper(signature)),
        direct(stack, "GET", path, consumer, signature.split(",")[0]),
        direct(stack, "GET", path, "dan", stale),
        direct(stack, "GET", path, "dan", future),
        direct(stack, "GET", "/v2/faqs", "dan", other_secret),
        direct(stack, "POST", "/v2/faqs", "", "", json=body),
    ]

    for response in refused:
        problem(response, 403, stack, type=TYPE_BASE + "not-through-gateway")
    assert not any(r["logger"] == "switchyard.errors" for r in stack.faq.records())


@pytest.mark.xfail(
    strict=True,
    reason="the signature covers time, method, path and consumer, not the query or the body: "
    "within GATEWAY_SIGNATURE_MAX_AGE a captured one is good for any query of the same call",
)
def test_a_captured_signature_is_not_good_for_another_query(stack):
    """API2: known gap, left as it is (changing the signature is a change of the trust
    protocol between the gateway and every service)."""
    path, consumer, signature = captured_signature(stack)

    response = direct(stack, "GET", f"{path}?page_size=100", consumer, signature)

    problem(response, 403, stack, type=TYPE_BASE + "not-through-gateway")


# --- API5: the platform team's pages ------------------------------------------------------------


def login(stack: Stack, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{stack.main.url}/__login__/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        f"{stack.main.url}/__login__/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 302, answer.text[:300]
    return session


MAIN_CONSUMERS = ["alice", "bob", "ops-team"]


@pytest.fixture(scope="module")
def viewer(stack) -> requests.Session:
    with login(stack, "viewer", VIEWER_PASSWORD) as session:
        yield session


@pytest.fixture(scope="module")
def staff(stack) -> requests.Session:
    with login(stack, "ops", STAFF_PASSWORD) as session:
        yield session


def test_the_dashboard_without_staff_rights_redirects_to_the_login(stack, viewer):
    """API5 Broken function level authorization: the dashboard and its CSV."""
    # A call that puts a consumer's name into the usage data.
    assert (
        requests.get(
            f"{stack.main.url}/faq/v2/faqs", headers=bearer(stack.keys["alice"]), timeout=10
        ).status_code
        == 200
    )
    for path in ("/__dashboard__/", "/__dashboard__/export/versions.csv"):
        for who in (requests.Session(), viewer):
            response = who.get(f"{stack.main.url}{path}", allow_redirects=False, timeout=10)
            assert response.status_code == 302, (path, response.status_code)
            assert response.headers["Location"].startswith("/__login__/?next=")
            assert not any(name in response.text for name in MAIN_CONSUMERS)
        keyed = requests.get(
            f"{stack.main.url}{path}",
            headers=bearer(stack.keys["ops-team"]),
            allow_redirects=False,
            timeout=10,
        )
        assert keyed.status_code == 302  # a key is no login


@pytest.mark.parametrize("path", ["/__usage__/", "/metrics"])
def test_usage_and_metrics_need_a_platform_key_or_a_staff_login(stack, viewer, staff, path):
    """API5: usage rows and metrics name consumers: anonymous 401, a consumer's key or a
    non-staff login 403; a platform key and a staff login get them."""
    url = f"{stack.main.url}{path}"
    anonymous = requests.get(url, timeout=10)
    consumer = requests.get(url, headers=bearer(stack.keys["bob"]), timeout=10)
    logged_in = viewer.get(url, timeout=10)

    problem(anonymous, 401, stack)
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="switchyard"'
    problem(consumer, 403, stack)
    problem(logged_in, 403, stack)
    for response in (anonymous, consumer, logged_in):
        assert not any(name in response.text for name in MAIN_CONSUMERS)
    assert requests.get(url, headers=bearer(stack.keys["ops-team"]), timeout=10).status_code == 200
    assert staff.get(url, timeout=10).status_code == 200


# --- API2: the login form's CSRF ----------------------------------------------------------------


def test_the_login_needs_its_csrf_token(stack):
    """API2 (and CSRF): a login POST without the token, with a wrong one, and with the right one."""
    url = f"{stack.main.url}/__login__/"
    form = {"username": "ops", "password": STAFF_PASSWORD}
    with requests.Session() as session:
        page = session.get(url, timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
        missing = session.post(url, data=form, allow_redirects=False, timeout=10)
        wrong = session.post(
            url,
            data={**form, "csrfmiddlewaretoken": "x" * len(token)},
            allow_redirects=False,
            timeout=10,
        )
        no_cookie = requests.post(
            url, data={**form, "csrfmiddlewaretoken": token}, allow_redirects=False, timeout=10
        )
        right = session.post(
            url, data={**form, "csrfmiddlewaretoken": token}, allow_redirects=False, timeout=10
        )

    for response in (missing, wrong, no_cookie):
        body = problem(response, 403, stack)
        assert "CSRF" in body["detail"]
        assert "sessionid" not in response.headers.get("Set-Cookie", "")
    assert right.status_code == 302
    assert right.headers["Location"] == "/__dashboard__/"
    assert "sessionid" in right.headers["Set-Cookie"]


# --- API8: secrets in the logs (last: it reads what every case above wrote) ---------------------


def test_no_key_or_secret_is_in_any_log(stack):
    """API8 Security misconfiguration: every key made or guessed in this module, the
    GATEWAY_SECRET, each process's SECRET_KEY and the passwords, in no process's stdout or
    stderr."""
    time.sleep(0.3)
    assert len(stack.secrets_seen) > 10
    for server in stack.servers:
        text = server.stdout() + server.stderr()
        assert text, f"{server.label} wrote nothing: the check would prove nothing"
        leaked = [value for value in stack.secrets_seen if value in text]
        assert not leaked, f"{server.label}'s log holds {len(leaked)} secret(s)"
        # Every line is JSON (the reader raises otherwise), and none carries a trace to a caller.
        server.records()
        server.server_records()
