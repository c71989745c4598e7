"""The running system over HTTP: real gunicorn processes, real databases, real logs.

Everything here goes through a socket, so it also covers what in-process tests cannot: gunicorn's
configuration, the WSGI entry point, the environment the Procfile relies on, and the log stream.
Tests share the session's servers (and so their data): each one makes its own entries and finds
them by id or by a unique source, never by assuming what else is there.
"""

import http.client
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from contextlib import closing
from datetime import datetime
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from tests.helpers import assert_problem

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
JSON = {"Content-Type": "application/json"}
# gunicorn drains at most 64 KiB of a body the app left unread, then closes the connection it had
# just announced as keep-alive; a large body on a pooled connection would break the next test.
LARGE_BODY = {**JSON, "Connection": "close"}
MIB = 1024 * 1024
# What the request-id middleware accepts from a caller, and so what every echoed id must match.
VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:@+=-]{1,128}$")
THIRTY_DIGITS = "123456789012345678901234567890"
TYPE_BASE = "https://switchyard.dev/problems/"


def unique() -> str:
    return uuid.uuid4().hex[:12]


def media_type(response) -> str:
    return response.headers.get("Content-Type", "").split(";")[0].strip()


def problem(response, status: int, *, type: str | None = None) -> dict:
    """An RFC 9457 problem carrying the id the response was served under."""
    body = assert_problem(response, status, type=type)
    assert body.get("request_id") == response.headers["X-Request-ID"], body
    return body


def when(timestamp: str) -> datetime:
    parsed = datetime.fromisoformat(timestamp)
    assert parsed.tzinfo is not None, timestamp
    return parsed


def v1_create(http, faq, *, question: str = "How do I rotate my API key?", **fields) -> dict:
    fields.setdefault("source", f"ticket-{unique()}")
    response = http.post(f"{faq.url}/v1/faqs", json={"question": question, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def v2_create(http, faq, *, question: str = "How do I export my data?", **fields) -> dict:
    fields.setdefault("source", {"kind": "ticket", "ref": f"T-{unique()}"})
    response = http.post(f"{faq.url}/v2/faqs", json={"question": question, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def v1_all(http, faq) -> list[dict]:
    """Every entry through v1, following the ``next`` links the server hands out."""
    url, entries, count = f"{faq.url}/v1/faqs?page_size=100", [], None
    while url:
        # The links must lead back to the server that was asked, not somewhere else.
        assert url.startswith(f"{faq.url}/v1/faqs?"), url
        response = http.get(url)
        assert response.status_code == 200, response.text
        page = response.json()
        count = page["count"] if count is None else count
        entries += page["results"]
        url = page["next"]
        assert len(entries) <= count, "pages repeat entries"
    assert len(entries) == count
    return entries


def v2_pages(http, faq, *, limit: int) -> list[dict]:
    """Every v2 page, newest first, following ``next_cursor`` until there is none."""
    pages, cursor = [], None
    while True:
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = http.get(f"{faq.url}/v2/faqs", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        cursor = pages[-1]["next_cursor"]
        if cursor is None:
            return pages
        assert len(pages) < 10_000, "the cursors never end"


# --- health and process setup -------------------------------------------------------------------


@pytest.mark.parametrize("service", ["faq", "gateway"])
def test_health_passes_with_the_database_checked(http, system, service):
    response = http.get(f"{system[service].url}/__health__")

    assert response.status_code == 200, response.text
    assert media_type(response) == "application/health+json"
    # A cached "pass" would hide an outage from the router.
    assert response.headers["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "pass"
    assert body["service"] == service
    assert body["checks"]["database"]["status"] == "pass"
    if os.environ.get("REDIS_URL"):
        assert body["checks"]["cache"]["status"] == "pass"
    else:
        assert "cache" not in body["checks"]


@pytest.mark.parametrize("service", ["faq", "gateway"])
def test_gunicorn_logs_json_and_listens_on_loopback_only(system, service):
    server = system[service]
    records = server.server_records()

    # Each worker listens on a socket of its own (reuse_port), and says where.
    listening = [r["message"] for r in records if r["message"].startswith("Listening at: http")]
    assert len(listening) == int(server.env["WEB_CONCURRENCY"])
    assert {line.rsplit(" ", 1)[0] for line in listening} == {
        f"Listening at: http://127.0.0.1:{server.port}"
    }
    assert {r["logger"] for r in records} == {"gunicorn.error"}
    # Bound to 127.0.0.1 itself, not to every address: another loopback address is refused.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", server.port), timeout=2).close()


# --- FAQ v1 -------------------------------------------------------------------------------------


def test_v1_create_follow_list_answer_delete(http, faq):
    source = f"ticket-{unique()}"
    response = http.post(
        f"{faq.url}/v1/faqs", json={"question": "How do I rotate my API key?", "source": source}
    )

    assert response.status_code == 201, response.text
    assert media_type(response) == "application/json"
    entry = response.json()
    assert entry["question"] == "How do I rotate my API key?"
    assert entry["source"] == source
    assert entry["answer"] == ""
    location = response.headers["Location"]
    assert urlsplit(location).path == f"/v1/faqs/{entry['id']}"
    detail = urljoin(f"{faq.url}/", location)
    followed = http.get(detail)
    assert followed.status_code == 200, followed.text
    assert followed.json() == entry

    listing = http.get(f"{faq.url}/v1/faqs")
    assert listing.status_code == 200, listing.text
    assert set(listing.json()) == {"count", "next", "previous", "results"}
    assert entry in v1_all(http, faq)
    by_source = http.get(f"{faq.url}/v1/faqs", params={"source": source}).json()
    assert (by_source["count"], by_source["results"]) == (1, [entry])

    answer = "Settings, then API keys, then Rotate. The old key works for 24 hours."
    answered = http.put(f"{detail}/answer", json={"answer": answer})
    assert answered.status_code == 200, answered.text
    assert answered.json()["answer"] == answer
    assert when(answered.json()["updated"]) >= when(entry["updated"])
    assert http.get(detail).json() == answered.json()

    deleted = http.delete(detail)
    assert deleted.status_code == 204, deleted.text
    assert deleted.content == b""
    problem(http.get(detail), 404)
    problem(http.delete(detail), 404)
    assert entry["id"] not in {e["id"] for e in v1_all(http, faq)}


def test_entries_land_in_the_database_named_by_database_url(http, faq):
    entry = v1_create(http, faq, question=f"Where is this stored {unique()}?")
    url = faq.env["DATABASE_URL"]

    if url.startswith("sqlite:"):
        path = urlsplit(url).path
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT question FROM faq_entry WHERE id = ?", [entry["id"]])
            found = rows.fetchall()
    else:
        import psycopg

        with psycopg.connect(url) as db:
            rows = db.execute("SELECT question FROM faq_entry WHERE id = %s", [entry["id"]])
            found = rows.fetchall()

    assert found == [(entry["question"],)]


@pytest.mark.parametrize(
    "prefix, public",
    [("/faq", "/faq"), ("/api/faq", "/api/faq"), ("//evil.example.com", ""), ("/a/../b", "")],
    ids=["gateway-prefix", "nested-prefix", "other-host", "dot-segments"],
)
def test_links_carry_a_valid_forwarded_prefix_only(http, faq, prefix, public):
    headers = {"X-Forwarded-Prefix": prefix}
    v1_create(http, faq)

    created = http.post(
        f"{faq.url}/v1/faqs", json={"question": "Prefixed?", "source": "p"}, headers=headers
    )
    page = http.get(f"{faq.url}/v1/faqs", params={"page_size": 1}, headers=headers)

    assert created.status_code == 201, created.text
    assert created.headers["Location"] == f"{public}/v1/faqs/{created.json()['id']}"
    assert page.status_code == 200, page.text
    assert urlsplit(page.json()["next"]).path == f"{public}/v1/faqs"
    assert urlsplit(page.json()["next"]).netloc == f"127.0.0.1:{faq.port}"


# --- FAQ v2 -------------------------------------------------------------------------------------


def test_v2_create_with_related_read_list_patch(http, faq):
    earlier = v2_create(http, faq, question="Where do I find my invoices?")
    ref = f"F-{unique()}"
    response = http.post(
        f"{faq.url}/v2/faqs",
        json={
            "question": "How do I download an invoice as PDF?",
            "source": {"kind": "forum", "ref": ref},
            "related": [earlier["id"]],
        },
    )

    assert response.status_code == 201, response.text
    created = response.json()
    assert urlsplit(response.headers["Location"]).path == f"/v2/faqs/{created['id']}"
    detail = urljoin(f"{faq.url}/", response.headers["Location"])
    entry = http.get(detail).json()
    assert entry == created
    assert entry["related"] == [earlier["id"]]
    assert entry["source"] == {"kind": "forum", "ref": ref, "url": None}
    assert entry["answered"] is False
    assert when(entry["created_at"]) <= when(entry["updated_at"])
    # Relations are symmetric: the earlier entry now points back.
    assert http.get(f"{faq.url}/v2/faqs/{earlier['id']}").json()["related"] == [entry["id"]]

    listing = http.get(f"{faq.url}/v2/faqs")
    assert listing.status_code == 200, listing.text
    assert set(listing.json()) == {"items", "next_cursor", "previous_cursor"}
    assert entry in [item for page in v2_pages(http, faq, limit=100) for item in page["items"]]
    by_ref = http.get(f"{faq.url}/v2/faqs", params={"source_ref": ref}).json()
    assert by_ref["items"] == [entry]

    url = "https://docs.example.com/billing/invoices"
    patched = http.patch(
        detail, json={"answer": "Billing, then Invoices.", "source": {"kind": "docs", "url": url}}
    )
    assert patched.status_code == 200, patched.text
    changed = patched.json()
    assert changed["answer"] == "Billing, then Invoices."
    assert changed["answered"] is True
    assert changed["source"] == {"kind": "docs", "ref": None, "url": url}
    # What the PATCH did not mention stays as it was.
    assert changed["question"] == entry["question"]
    assert changed["related"] == [earlier["id"]]
    assert changed["created_at"] == entry["created_at"]
    assert when(changed["updated_at"]) >= when(entry["updated_at"])
    assert http.get(detail).json() == changed

    unlinked = http.patch(detail, json={"related": []})
    assert unlinked.status_code == 200, unlinked.text
    assert unlinked.json()["related"] == []
    assert http.get(f"{faq.url}/v2/faqs/{earlier['id']}").json()["related"] == []


def test_v2_cursor_pages_through_everything_once(http, faq):
    mine = {v2_create(http, faq, question=f"Paging question {n}?")["id"] for n in range(3)}
    everything = [item["id"] for page in v2_pages(http, faq, limit=100) for item in page["items"]]

    pages = v2_pages(http, faq, limit=1)

    assert all(len(page["items"]) == 1 for page in pages)
    seen = [page["items"][0]["id"] for page in pages]
    assert len(seen) == len(set(seen)), "an entry came back twice"
    assert seen == everything
    assert seen == sorted(seen, reverse=True), "not newest first"
    assert mine <= set(seen)
    assert pages[0]["previous_cursor"] is None
    assert all(page["previous_cursor"] for page in pages[1:])
    back = http.get(
        f"{faq.url}/v2/faqs", params={"limit": 1, "cursor": pages[1]["previous_cursor"]}
    )
    assert back.status_code == 200, back.text
    assert back.json()["items"] == pages[0]["items"]


# --- one FAQ, two versions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "v1_source, expected",
    [
        ("T-{token}", {"kind": "other", "ref": "T-{token}", "url": None}),
        (
            "https://community.example.com/t/{token}",
            {"kind": "other", "ref": None, "url": "https://community.example.com/t/{token}"},
        ),
    ],
    ids=["reference", "link"],
)
def test_v1_entry_reads_back_through_v2(http, faq, v1_source, expected):
    token = unique()
    entry = v1_create(http, faq, source=v1_source.format(token=token), answer="Yes.")

    response = http.get(f"{faq.url}/v2/faqs/{entry['id']}")

    assert response.status_code == 200, response.text
    v2 = response.json()
    assert v2["source"] == {k: v and v.format(token=token) for k, v in expected.items()}
    assert (v2["question"], v2["answer"], v2["answered"]) == (entry["question"], "Yes.", True)
    assert v2["related"] == []
    assert (v2["created_at"], v2["updated_at"]) == (entry["created"], entry["updated"])


@pytest.mark.parametrize(
    "source, v1_source",
    [
        ({"kind": "ticket", "ref": "R-{token}"}, "R-{token}"),
        (
            {"kind": "forum", "url": "https://forum.example.com/{token}"},
            "https://forum.example.com/{token}",
        ),
        (
            {"kind": "email", "ref": "M-{token}", "url": "https://mail.example.com/{token}"},
            "M-{token}",
        ),
    ],
    ids=["reference", "link-only", "reference-wins-over-link"],
)
def test_v2_entry_reads_back_through_v1(http, faq, source, v1_source):
    token = unique()
    entry = v2_create(http, faq, source={k: v.format(token=token) for k, v in source.items()})

    response = http.get(f"{faq.url}/v1/faqs/{entry['id']}")

    assert response.status_code == 200, response.text
    v1 = response.json()
    assert v1["source"] == v1_source.format(token=token)
    assert (v1["question"], v1["answer"]) == (entry["question"], entry["answer"])
    assert (v1["created"], v1["updated"]) == (entry["created_at"], entry["updated_at"])
    assert set(v1) == {"id", "question", "answer", "source", "created", "updated"}


def test_v1_answer_keeps_the_v2_related_links(http, faq):
    first = v2_create(http, faq, question="How do I add a team member?")
    second = v2_create(http, faq, question="How do I remove a team member?", related=[first["id"]])

    answered = http.put(
        f"{faq.url}/v1/faqs/{second['id']}/answer", json={"answer": "Team, then Remove."}
    )

    assert answered.status_code == 200, answered.text
    v2 = http.get(f"{faq.url}/v2/faqs/{second['id']}").json()
    assert v2["answer"] == "Team, then Remove."
    assert v2["related"] == [first["id"]]
    assert http.get(f"{faq.url}/v2/faqs/{first['id']}").json()["related"] == [second["id"]]


# --- errors -------------------------------------------------------------------------------------


def case(method, path, status, problem_type=None, *, id, **request_kwargs):
    return pytest.param(method, path, request_kwargs, status, problem_type, id=id)


@pytest.mark.parametrize(
    "method, path, request_kwargs, status, problem_type",
    [
        case(
            "POST",
            "/v1/faqs",
            400,
            "malformed-body",
            id="malformed-json-v1",
            data=b'{"question": "unclosed',
            headers=JSON,
        ),
        case(
            "POST",
            "/v2/faqs",
            400,
            "malformed-body",
            id="malformed-json-v2",
            data=b"{'single': 'quotes'}",
            headers=JSON,
        ),
        case(
            "PUT",
            "/v1/faqs/1/answer",
            400,
            "malformed-body",
            id="malformed-json-answer",
            data=b"[1, 2,",
            headers=JSON,
        ),
        case(
            "POST",
            "/v1/faqs",
            415,
            id="text-plain-v1",
            data=b"question=hi",
            headers={"Content-Type": "text/plain"},
        ),
        case(
            "POST",
            "/v2/faqs",
            415,
            id="text-plain-v2",
            data=b"hi",
            headers={"Content-Type": "text/plain"},
        ),
        case("GET", "/no/such/path", 404, id="unknown-path"),
        case("GET", "/v3/faqs", 404, id="unknown-version"),
        case("GET", "/v1/faqs/", 404, id="trailing-slash"),
        case("GET", f"/v1/faqs/{THIRTY_DIGITS}", 404, id="30-digit-id-v1"),
        case("GET", f"/v2/faqs/{THIRTY_DIGITS}", 404, id="30-digit-id-v2"),
        case("DELETE", f"/v2/faqs/{THIRTY_DIGITS}", 404, id="30-digit-id-delete"),
        case(
            "PUT",
            f"/v1/faqs/{THIRTY_DIGITS}/answer",
            404,
            id="30-digit-id-answer",
            json={"answer": "x"},
        ),
        # One past the largest 64-bit id: still a plain 404, never a database overflow.
        case("GET", "/v1/faqs/9223372036854775808", 404, id="id-past-int64"),
        case(
            "GET",
            f"/v2/faqs?related_to={THIRTY_DIGITS}",
            400,
            "invalid-parameters",
            id="30-digit-id-query",
        ),
    ],
)
def test_errors_are_problems_without_traces(
    http, faq, method, path, request_kwargs, status, problem_type
):
    response = http.request(method, f"{faq.url}{path}", **request_kwargs)

    problem(response, status, type=problem_type and TYPE_BASE + problem_type)


@pytest.mark.parametrize(
    "method, path, allowed",
    [
        ("PUT", "/v1/faqs", {"GET", "POST"}),
        ("PATCH", "/v1/faqs/1", {"GET", "DELETE"}),
        ("GET", "/v1/faqs/1/answer", {"PUT"}),
        ("DELETE", "/v2/faqs", {"GET", "POST"}),
        ("PUT", "/v2/faqs/1", {"GET", "PATCH", "DELETE"}),
        ("POST", "/__health__", {"GET", "HEAD"}),
    ],
    ids=["v1-list", "v1-detail", "v1-answer", "v2-list", "v2-detail", "health"],
)
def test_wrong_method_is_405_with_allow(http, faq, method, path, allowed):
    response = http.request(method, f"{faq.url}{path}", json={})

    problem(response, 405)
    allow = {m.strip() for m in response.headers["Allow"].split(",")}
    assert allowed <= allow
    assert method not in allow


def test_oversized_body_is_413(http, faq):
    body = b'{"question": "' + b"a" * MIB + b'", "source": "x"}'
    assert len(body) > MIB

    response = http.post(f"{faq.url}/v1/faqs", data=body, headers=LARGE_BODY)

    found = problem(response, 413, type=TYPE_BASE + "body-too-large")
    assert found["limit"] == MIB
    # Refused from the headers alone: the worker is free for the next request at once.
    after = http.get(f"{faq.url}/__health__")
    assert after.status_code == 200, after.text


def test_a_body_at_the_limit_is_not_refused_for_its_size(http, faq):
    question = "b" * 400
    body = json.dumps({"question": question, "source": "limit"}).encode()
    body += b" " * (MIB - len(body))
    assert len(body) == MIB

    response = http.post(f"{faq.url}/v1/faqs", data=body, headers=LARGE_BODY)

    assert response.status_code == 201, response.text[:500]
    assert response.json()["question"] == question


@pytest.mark.parametrize("size", ["small", "over-limit"])
def test_chunked_body_is_not_silently_dropped(http, faq, size):
    question = f"Chunked question {unique()}?"
    if size == "small":
        body, acceptable = json.dumps({"question": question, "source": "c"}).encode(), {201, 411}
    else:
        body, acceptable = b'{"question": "' + b"a" * (2 * MIB) + b'", "source": "c"}', {411, 413}

    def chunks():
        for start in range(0, len(body), 64 * 1024):
            yield body[start : start + 64 * 1024]

    response = http.post(f"{faq.url}/v1/faqs", data=chunks(), headers=LARGE_BODY)

    # Either the body is read, or it is refused as such (411 Length Required / 413): anything
    # else answers a request the client did not send.
    assert response.status_code in acceptable, response.text[:500]
    if response.status_code == 201:
        assert response.json()["question"] == question
    else:
        problem(response, response.status_code)


@pytest.mark.parametrize(
    "path",
    [
        "/v1/faqs",
        "/v2/faqs",
        "/v1/faqs/1",
        "/v2/faqs/1",
        "/v1/faqs/1/answer",
    ],
)
def test_options_answers_what_allow_advertises(http, faq, path):
    response = http.options(f"{faq.url}{path}")

    assert response.status_code == 200, response.text[:500]
    assert "OPTIONS" in {m.strip() for m in response.headers["Allow"].split(",")}


def test_health_answers_head(http, faq):
    response = http.head(f"{faq.url}/__health__")

    assert response.status_code == 200
    assert media_type(response) == "application/health+json"


def test_a_host_outside_allowed_hosts_is_a_400_not_a_500(http, faq):
    v1_create(http, faq)
    v1_create(http, faq)

    # A page link is built from the Host header, which is where Django checks it.
    response = http.get(
        f"{faq.url}/v1/faqs", params={"page_size": 1}, headers={"Host": "evil.example.com"}
    )

    problem(response, 400)


def test_a_host_outside_allowed_hosts_writes_nothing(http, faq):
    question = f"Smuggled {unique()}?"

    response = http.post(
        f"{faq.url}/v1/faqs",
        json={"question": question, "source": "x"},
        headers={"Host": "evil.example.com"},
    )

    problem(response, 400)
    found = http.get(f"{faq.url}/v2/faqs", params={"q": question}).json()["items"]
    assert found == []


# --- request ids and the request log ------------------------------------------------------------


def request_lines(server, request_id: str) -> list[dict]:
    return [
        record
        for record in server.records()
        if record.get("request_id") == request_id and record.get("logger") == "switchyard.request"
    ]


@pytest.mark.parametrize(
    "method, path, request_kwargs, status",
    [
        ("GET", "/v1/faqs", {"params": {"page_size": 1}}, 200),
        ("POST", "/v2/faqs", {"data": b"{", "headers": JSON}, 400),
    ],
    ids=["success", "problem"],
)
def test_a_valid_request_id_is_echoed_and_logged(http, faq, method, path, request_kwargs, status):
    request_id = f"e2e-{uuid.uuid4()}"
    headers = {**request_kwargs.pop("headers", {}), "X-Request-ID": request_id}

    response = http.request(method, f"{faq.url}{path}", headers=headers, **request_kwargs)

    assert response.status_code == status, response.text
    assert response.headers["X-Request-ID"] == request_id
    if status >= 400:
        assert problem(response, status)["request_id"] == request_id
    [line] = request_lines(faq, request_id)
    assert (line["method"], line["path"], line["status"]) == (method, path, status)
    assert (line["service"], line["level"], line["message"]) == ("faq", "INFO", "request")
    assert line["duration_ms"] >= 0


def test_a_request_id_is_minted_when_none_is_sent(http, faq):
    first = http.get(f"{faq.url}/v2/faqs", params={"limit": 1})
    second = http.get(f"{faq.url}/v2/faqs", params={"limit": 1})

    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert all(VALID_REQUEST_ID.match(request_id) for request_id in ids), ids
    assert ids[0] != ids[1]
    for request_id in ids:
        [line] = request_lines(faq, request_id)
        assert (line["method"], line["path"], line["status"]) == ("GET", "/v2/faqs", 200)


@pytest.mark.parametrize(
    "supplied",
    ["has spaces in it", "a" * 300, "<script>alert(1)</script>", 'quote"and\\backslash'],
    ids=["spaces", "300-chars", "markup", "quotes"],
)
def test_an_invalid_request_id_is_replaced_not_echoed(http, faq, supplied):
    response = http.get(f"{faq.url}/__health__", headers={"X-Request-ID": supplied})

    assert response.status_code == 200, response.text
    minted = response.headers["X-Request-ID"]
    assert minted != supplied
    assert VALID_REQUEST_ID.match(minted), minted
    [line] = request_lines(faq, minted)
    assert line["path"] == "/__health__"
    assert all(record.get("request_id") != supplied for record in faq.records())


# --- the gateway skeleton -----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_gateway_answers_unknown_paths_with_a_problem_404(http, gateway, method):
    request_id = f"e2e-gw-{unique()}"

    response = http.request(
        method, f"{gateway.url}/no/such/route", json={}, headers={"X-Request-ID": request_id}
    )

    problem(response, 404)
    [line] = request_lines(gateway, request_id)
    assert (line["service"], line["path"], line["status"]) == ("gateway", "/no/such/route", 404)


# --- production safety and process lifecycle ----------------------------------------------------


def import_wsgi(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.fixture
def offline_env(make_app_env, tmp_path):
    """An app environment whose database is never opened: loading the app connects nowhere."""

    def env(**settings: str) -> dict[str, str]:
        return make_app_env(
            "faq",
            DATABASE_URL=f"sqlite:///{tmp_path / 'unused.sqlite3'}",
            VAR_DIR=str(tmp_path),
            **settings,
        )

    return env


def test_the_app_refuses_to_load_without_a_secret_key_when_debug_is_off(offline_env):
    env = offline_env()
    assert "SECRET_KEY" not in env and env["DEBUG"] == "0"

    result = import_wsgi(env)

    assert result.returncode != 0, result.stdout
    assert "SECRET_KEY" in result.stderr


def test_the_app_loads_with_a_secret_key_when_debug_is_off(offline_env):
    result = import_wsgi(offline_env(SECRET_KEY=uuid.uuid4().hex * 2))

    assert result.returncode == 0, result.stderr


def test_gunicorn_without_a_secret_key_exits_instead_of_serving(launcher):
    server = launcher.spawn("faq", label="faq_no_key", SECRET_KEY=None)

    try:
        code = server.process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gunicorn kept running without SECRET_KEY\n{server.output()}")

    assert code != 0
    assert "SECRET_KEY" in server.stderr()


def wait_for(predicate, *, timeout: float, what: str, server) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}\n{server.output()}")
        time.sleep(0.05)


def test_sigterm_lets_the_request_in_flight_finish_then_exits_0(launcher):
    graceful_timeout = 10
    server = launcher.start(
        "faq", label="faq_shutdown", GUNICORN_GRACEFUL_TIMEOUT=str(graceful_timeout)
    )
    request_id = f"e2e-shutdown-{unique()}"
    question = f"Does shutdown wait for me {request_id}?"
    body = json.dumps({"question": question, "source": "shutdown"}).encode()

    # Raw http.client, not requests: the body must be held back until shutdown has begun, and
    # "100 Continue" is the server's word that a worker is already handling this request.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=graceful_timeout)
    try:
        connection.putrequest("POST", "/v1/faqs")
        for name, value in {
            "Content-Type": "application/json",
            "Content-Length": str(len(body)),
            "Expect": "100-continue",
            "X-Request-ID": request_id,
        }.items():
            connection.putheader(name, value)
        connection.endheaders()
        interim = b""
        while b"\r\n\r\n" not in interim:
            chunk = connection.sock.recv(1024)
            assert chunk, f"connection closed before 100 Continue: {interim!r}"
            interim += chunk
        assert interim.startswith(b"HTTP/1.1 100"), interim

        server.process.send_signal(signal.SIGTERM)

        # The idle worker leaving proves shutdown is under way; the busy one must wait for us.
        def exits():
            return [r for r in server.server_records() if r["message"].startswith("Worker exiting")]

        wait_for(exits, timeout=graceful_timeout, what="a worker to exit", server=server)
        assert len(exits()) == 1, exits()
        assert server.process.poll() is None

        connection.send(body)
        response = connection.getresponse()
        payload = response.read()
    finally:
        connection.close()

    assert response.status == 201, payload
    assert json.loads(payload)["question"] == question
    try:
        code = server.process.wait(timeout=graceful_timeout)
    except subprocess.TimeoutExpired:
        pytest.fail(f"gunicorn still running {graceful_timeout}s after SIGTERM\n{server.output()}")
    assert code == 0, server.output()
    [line] = request_lines(server, request_id)
    assert (line["method"], line["path"], line["status"]) == ("POST", "/v1/faqs", 201)
