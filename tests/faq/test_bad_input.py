"""Bad input to both FAQ API versions: a clear problem+json 4xx, never a 500, nothing half-written.

Each test sends one kind of bad input to every operation it can reach, then checks the response
against RFC 9457, against the committed contract wherever that operation documents the status, and,
for writes, that every stored entry (links and timestamps included) is exactly as it was.
"""

import base64
from contextlib import contextmanager
from urllib.parse import quote, quote_from_bytes

import pytest
from django.conf import settings as django_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from services.faq.models import Entry, Source
from services.kit import problems
from tests.helpers import (
    ABSENT_ID,
    JSON,
    MAX_DB_INT,
    body_of,
    operation_id,
    pointers,
    problem_checker,
    rolled_back,
    send,
)

pytestmark = pytest.mark.django_db


# (version, method, path) of every operation that reads a JSON body; {id} is an existing entry.
BODY_OPERATIONS = [
    ("v1", "post", "/v1/faqs"),
    ("v1", "put", "/v1/faqs/{id}/answer"),
    ("v2", "post", "/v2/faqs"),
    ("v2", "patch", "/v2/faqs/{id}"),
]
ID_OPERATIONS = [
    ("v1", "get", "/v1/faqs/{id}"),
    ("v1", "delete", "/v1/faqs/{id}"),
    ("v1", "put", "/v1/faqs/{id}/answer"),
    ("v2", "get", "/v2/faqs/{id}"),
    ("v2", "patch", "/v2/faqs/{id}"),
    ("v2", "delete", "/v2/faqs/{id}"),
]
# One operation per path: what goes wrong before dispatch goes wrong for every method alike.
ONE_PER_PATH = [
    ("v1", "get", "/v1/faqs"),
    ("v1", "get", "/v1/faqs/{id}"),
    ("v1", "put", "/v1/faqs/{id}/answer"),
    ("v2", "get", "/v2/faqs"),
    ("v2", "get", "/v2/faqs/{id}"),
]
V1_FILTERS = ["answered", "page", "page_size", "q", "source"]
V2_FILTERS = [
    "answered",
    "created_after",
    "created_before",
    "cursor",
    "limit",
    "q",
    "related_to",
    "source_kind",
    "source_ref",
    "updated_after",
]
# A body the operation would accept, so that only the thing under test is wrong.
VALID_BODY = {
    ("v1", "post"): {"question": "How do I export?", "source": "4711"},
    ("v1", "put"): {"answer": "From the settings page."},
    ("v2", "post"): {"question": "How do I export?", "source": {"kind": "ticket", "ref": "4711"}},
    ("v2", "patch"): {"answer": "From the settings page."},
}


def stored() -> dict:
    """Every entry as stored, links and timestamps included."""
    return {
        entry.pk: {
            "question": entry.question,
            "answer": entry.answer,
            "source": (entry.source_kind, entry.source_ref, entry.source_url),
            "related": entry.related_ids,
            "created_at": entry.created_at,
            "updated_at": entry.updated_at,
        }
        for entry in Entry.objects.prefetch_related("related")
    }


@contextmanager
def nothing_written():
    """Wrap a request and the assertions on its response: if those pass, every stored row must be
    exactly as before. A wrong response fails first, so its own message is the one reported."""
    before = stored()
    yield
    assert stored() == before


@pytest.fixture
def entry(make_entry):
    """An entry with every column set and two links, so that any partial write would show."""
    first = make_entry(question="Where are my invoices?", source=Source(kind="email", ref="m-1"))
    second = make_entry(question="How do refunds work?", answer="Within 14 days.")
    return make_entry(
        question="How do I reset my password?",
        answer="Use the 'Forgot password' link.",
        source=Source(kind="forum", ref="t-9", url="https://forum.example.com/t/9"),
        related=[first.pk, second.pk],
    )


@pytest.fixture
def expect_problem(contracts, conforms):
    return problem_checker(contracts, conforms)


def test_the_fuzzed_filters_are_every_filter_the_contracts_publish(contracts):
    # Query fuzzing below names its parameters up front; a new filter must not escape it.
    for version, names in (("v1", V1_FILTERS), ("v2", V2_FILTERS)):
        listing = contracts[version].operation("faq_list").spec
        assert sorted(p["name"] for p in listing["parameters"] if p["in"] == "query") == names


# -- Malformed bodies -------------------------------------------------------------------------

MALFORMED_BODIES = {
    "truncated": b'{"question": "How?", "source": "4711"',
    "trailing garbage": b'{"question": "How?", "source": "4711"} trailing',
    "NaN": b'{"question": NaN, "source": "4711"}',
    "Infinity": b'{"question": "How?", "related": [Infinity]}',
    "-Infinity": b'{"question": "How?", "answer": -Infinity}',
    "single quotes": b"{'question': 'How?'}",
    "invalid UTF-8": b'{"question": "\xff\xfe\xc3", "source": "4711"}',
    "lone surrogate": b'{"question": "\\ud800", "source": "4711", "answer": "\\ud800"}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
    "member nested 100000 deep": b'{"question": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
    "integer beyond Python's digit limit": b'{"related": [%b]}' % (b"9" * 5000),
    "whitespace only": b" \r\n\t ",
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_json_is_a_malformed_body_problem(api, entry, expect_problem, operation, body):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), body)

        problem = expect_problem(version, response, 400, type=problems.MALFORMED_BODY)
        assert "errors" not in problem


NOT_OBJECTS = {"string": "hello", "number": 42, "array": [1, 2], "null": None, "true": True}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("body", NOT_OBJECTS.values(), ids=NOT_OBJECTS.keys())
def test_a_body_that_is_not_an_object_points_at_the_document(
    api, entry, expect_problem, operation, body
):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), body)

        problem = expect_problem(version, response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#"}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_an_empty_json_body_is_rejected(api, entry, expect_problem, operation):
    # DRF never hands a zero-length body to the parser, so "no document at all" must still be
    # caught somewhere; a PATCH that silently succeeds also bumps updated_at.
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), b"")

        problem = expect_problem(version, response, 400)
        assert problem["type"] in {problems.MALFORMED_BODY, problems.VALIDATION}


# Charsets Python knows but cannot decode text with: bytes-to-bytes and text-to-text codecs, and
# punycode, which fails with a bare UnicodeError. utf-16 is the control: a real text encoding.
@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("charset", ["base64", "rot13", "punycode", "utf-16"])
def test_a_charset_that_cannot_decode_the_body_is_a_client_error(
    api, entry, expect_problem, operation, charset
):
    version, method, path = operation
    content_type = f"{JSON}; charset={charset}"

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), b'{"answer": "x"}', content_type)

        assert response.status_code in {400, 415}, (response.status_code, response.content[:300])
        expect_problem(version, response, response.status_code)


# -- Content types, methods, sizes, headers ---------------------------------------------------

NOT_JSON = {
    "text/plain": ("text/plain", b'{"question": "How?", "source": "4711"}'),
    "form-encoded": ("application/x-www-form-urlencoded", b"question=How%3F&source=4711"),
    "multipart": (
        MULTIPART_CONTENT,
        encode_multipart(BOUNDARY, {"question": "How?", "source": "4711", "answer": "x"}),
    ),
    "xml": ("application/xml", b"<question>How?</question>"),
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("content", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_unsupported(api, entry, expect_problem, operation, content):
    version, method, path = operation
    content_type, body = content

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), body, content_type)

        expect_problem(version, response, 415)


WRONG_METHODS = [
    ("v1", "put", "/v1/faqs", {"GET", "POST"}),
    ("v1", "patch", "/v1/faqs", {"GET", "POST"}),
    ("v1", "delete", "/v1/faqs", {"GET", "POST"}),
    ("v1", "patch", "/v1/faqs/{id}", {"GET", "DELETE"}),
    ("v1", "put", "/v1/faqs/{id}", {"GET", "DELETE"}),
    ("v1", "post", "/v1/faqs/{id}", {"GET", "DELETE"}),
    ("v1", "get", "/v1/faqs/{id}/answer", {"PUT"}),
    ("v1", "post", "/v1/faqs/{id}/answer", {"PUT"}),
    ("v1", "delete", "/v1/faqs/{id}/answer", {"PUT"}),
    ("v2", "put", "/v2/faqs", {"GET", "POST"}),
    ("v2", "delete", "/v2/faqs", {"GET", "POST"}),
    ("v2", "post", "/v2/faqs/{id}", {"GET", "PATCH", "DELETE"}),
    ("v2", "put", "/v2/faqs/{id}", {"GET", "PATCH", "DELETE"}),
]


@pytest.mark.parametrize(
    ("version", "method", "path", "allowed"),
    WRONG_METHODS,
    ids=[f"{m.upper()} {p}" for _, m, p, _ in WRONG_METHODS],
)
def test_a_wrong_method_is_405_with_allow(
    api, entry, expect_problem, version, method, path, allowed
):
    body = {"question": "How?", "source": "4711", "answer": "x"}

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), body)

        # The contract documents 405 on every operation of the path, not on the missing method.
        expect_problem(version, response, 405, method=sorted(allowed)[0])
        advertised = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= advertised
        assert method.upper() not in advertised


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_a_body_over_one_mebibyte_is_413(api, entry, expect_problem, operation):
    version, method, path = operation
    body = {**VALID_BODY[version, method], "answer": "x" * (1024 * 1024)}

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), body)

        problem = expect_problem(version, response, 413, type=problems.BODY_TOO_LARGE)
        assert problem["limit"] == django_settings.MAX_REQUEST_BODY_BYTES


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_a_content_length_that_is_not_a_number_is_400(api, entry, expect_problem, operation):
    version, method, path = operation

    with nothing_written():
        response = send(
            api, method, path.format(id=entry.pk), VALID_BODY[version, method], CONTENT_LENGTH="1e3"
        )

        expect_problem(version, response, 400)


@pytest.mark.parametrize("operation", ONE_PER_PATH, ids=operation_id)
def test_an_unsatisfiable_accept_is_406(api, entry, expect_problem, operation):
    version, method, path = operation

    body = VALID_BODY.get((version, method), b"")

    response = send(api, method, path.format(id=entry.pk), body, HTTP_ACCEPT="text/html")

    expect_problem(version, response, 406)


@pytest.mark.parametrize("operation", ONE_PER_PATH, ids=operation_id)
def test_too_many_query_parameters_is_400(api, entry, expect_problem, operation):
    # Django refuses more than DATA_UPLOAD_MAX_NUMBER_FIELDS with a SuspiciousOperation: a client
    # error, whichever view the request was for.
    version, method, path = operation
    query = "&".join(f"x{n}=1" for n in range(django_settings.DATA_UPLOAD_MAX_NUMBER_FIELDS + 1))
    body = VALID_BODY.get((version, method), b"")

    with nothing_written():
        response = send(api, method, f"{path.format(id=entry.pk)}?{query}", body)

        expect_problem(version, response, 400)


# -- Path ids ---------------------------------------------------------------------------------

BAD_IDS = ["0", "9" * 19, str(MAX_DB_INT), str(10**30), "abc", "-1", "1.5", "1e3", str(ABSENT_ID)]


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("entry_id", BAD_IDS)
def test_an_id_that_names_no_entry_is_404(api, entry, expect_problem, operation, entry_id):
    version, method, path = operation
    body = VALID_BODY.get((version, method), b"")

    with nothing_written():
        response = send(api, method, path.format(id=entry_id), body)

        expect_problem(version, response, 404)


# -- Members of the body ----------------------------------------------------------------------

SOURCE = {"kind": "ticket", "ref": "4711"}
V1_POST = ("v1", "post", "/v1/faqs")
V1_PUT = ("v1", "put", "/v1/faqs/{id}/answer")
V2_POST = ("v2", "post", "/v2/faqs")
V2_PATCH = ("v2", "patch", "/v2/faqs/{id}")

INVALID_MEMBERS = [
    # v1: create
    (V1_POST, {}, {"#/question", "#/source"}, "nothing"),
    (V1_POST, {"source": "4711"}, {"#/question"}, "no question"),
    (V1_POST, {"question": "How?"}, {"#/source"}, "no source"),
    (V1_POST, {"question": 42, "source": "4711"}, {"#/question"}, "number question"),
    (V1_POST, {"question": ["How?"], "source": "4711"}, {"#/question"}, "list question"),
    (V1_POST, {"question": True, "source": "4711"}, {"#/question"}, "boolean question"),
    (V1_POST, {"question": "How?", "source": SOURCE}, {"#/source"}, "object source"),
    (V1_POST, {"question": "", "source": "4711"}, {"#/question"}, "empty question"),
    (V1_POST, {"question": " \t\n", "source": "4711"}, {"#/question"}, "blank question"),
    (V1_POST, {"question": "How?", "source": ""}, {"#/source"}, "empty source"),
    (
        V1_POST,
        {"question": "q" * 501, "answer": "a" * 20_001, "source": "s" * 501},
        {"#/question", "#/answer", "#/source"},
        "over-long",
    ),
    (
        V1_POST,
        {"question": "How\x00?", "answer": "\x00", "source": "47\x0011"},
        {"#/question", "#/answer", "#/source"},
        "NUL",
    ),
    (
        V1_POST,
        {"question": None, "answer": None, "source": None},
        {"#/question", "#/answer", "#/source"},
        "nulls",
    ),
    # v1: answer
    (V1_PUT, {}, {"#/answer"}, "nothing"),
    (V1_PUT, {"answer": None}, {"#/answer"}, "null answer"),
    (V1_PUT, {"answer": 7}, {"#/answer"}, "number answer"),
    (V1_PUT, {"answer": ["x"]}, {"#/answer"}, "list answer"),
    (V1_PUT, {"answer": "a" * 20_001}, {"#/answer"}, "over-long answer"),
    (V1_PUT, {"answer": "Use\x00 the link."}, {"#/answer"}, "NUL answer"),
    # v2: create
    (V2_POST, {}, {"#/question", "#/source"}, "nothing"),
    (V2_POST, {"question": "How?", "source": {}}, {"#/source/kind"}, "no source kind"),
    (V2_POST, {"question": 42, "source": SOURCE}, {"#/question"}, "number question"),
    (V2_POST, {"question": "How?", "source": "ticket"}, {"#/source"}, "string source"),
    (V2_POST, {"question": "How?", "source": ["ticket"]}, {"#/source"}, "list source"),
    (V2_POST, {"question": "How?", "source": None}, {"#/source"}, "null source"),
    (V2_POST, {"question": "How?", "source": {"kind": "nope"}}, {"#/source/kind"}, "unknown kind"),
    (V2_POST, {"question": "How?", "source": {"kind": None}}, {"#/source/kind"}, "null kind"),
    (
        V2_POST,
        {"question": "How?", "source": {"kind": "ticket", "url": "not a url"}},
        {"#/source/url"},
        "bad url",
    ),
    (
        V2_POST,
        {"question": "How?", "source": {"kind": "docs", "url": "javascript:alert(1)"}},
        {"#/source/url"},
        "script url",
    ),
    (
        V2_POST,
        {"question": "How?", "source": {"kind": "docs", "url": "https://example.com/\x00"}},
        {"#/source/url"},
        "NUL url",
    ),
    (
        V2_POST,
        {
            "question": "How?",
            "source": {"kind": "ticket", "ref": "r" * 201, "url": "https://e.com/" + "u" * 500},
        },
        {"#/source/ref", "#/source/url"},
        "over-long source",
    ),
    (
        V2_POST,
        {"question": "How\x00?", "answer": "\x00", "source": {"kind": "chat", "ref": "\x00"}},
        {"#/question", "#/answer", "#/source/ref"},
        "NUL",
    ),
    (
        V2_POST,
        {"question": "q" * 501, "answer": "a" * 20_001, "source": SOURCE},
        {"#/question", "#/answer"},
        "over-long",
    ),
    (V2_POST, {"question": " ", "source": SOURCE}, {"#/question"}, "blank question"),
    (V2_POST, {"question": "How?", "source": SOURCE, "related": "3"}, {"#/related"}, "str related"),
    (
        V2_POST,
        {"question": "How?", "source": SOURCE, "related": {"3": 3}},
        {"#/related"},
        "object related",
    ),
    (V2_POST, {"question": "How?", "source": SOURCE, "related": None}, {"#/related"}, "null rel"),
    (
        V2_POST,
        {"question": "How?", "source": SOURCE, "related": ["a", "b"]},
        {"#/related/0", "#/related/1"},
        "list of strings related",
    ),
    (
        V2_POST,
        {"question": "How?", "source": SOURCE, "related": [1, "x"]},
        {"#/related/1"},
        "one string in related",
    ),
    (
        V2_POST,
        {"question": "How?", "source": SOURCE, "related": [1.5, None, [1], {"id": 1}]},
        {"#/related/0", "#/related/1", "#/related/2", "#/related/3"},
        "odd related items",
    ),
    # v2: change
    (V2_PATCH, {"question": ""}, {"#/question"}, "empty question"),
    (V2_PATCH, {"question": 42}, {"#/question"}, "number question"),
    (V2_PATCH, {"answer": "a" * 20_001}, {"#/answer"}, "over-long answer"),
    (V2_PATCH, {"source": "ticket"}, {"#/source"}, "string source"),
    (V2_PATCH, {"source": {"ref": "4711"}}, {"#/source/kind"}, "source without kind"),
    (V2_PATCH, {"source": {"kind": "nope"}}, {"#/source/kind"}, "unknown kind"),
    (V2_PATCH, {"source": {"kind": "docs", "url": "ftp//x"}}, {"#/source/url"}, "bad url"),
    (V2_PATCH, {"related": "3"}, {"#/related"}, "string related"),
    (V2_PATCH, {"related": [1, "x"]}, {"#/related/1"}, "one string in related"),
    (
        V2_PATCH,
        {"question": None, "answer": None, "source": None, "related": None},
        {"#/question", "#/answer", "#/source", "#/related"},
        "nulls",
    ),
]


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        pytest.param(op, body, expected, id=f"{op[1]}-{op[0]}-{name}")
        for op, body, expected, name in INVALID_MEMBERS
    ],
)
def test_invalid_members_are_named_by_pointer(
    api, entry, expect_problem, operation, body, expected
):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=entry.pk), body)

        problem = expect_problem(version, response, 400, type=problems.VALIDATION)
        assert pointers(problem) == expected


@pytest.mark.parametrize(
    "source",
    ["r" * 201, "http://exa mple.com", "http://", "https://" + "a" * 70 + ".example.com"],
    ids=["reference over 200", "url with a space", "scheme only", "url label over 63"],
)
def test_v1_source_text_the_model_cannot_store_is_blamed_on_source(
    api, expect_problem, conforms, source
):
    # v1 publishes one free-text ``source`` (maxLength 500) that the service splits into a
    # reference or a link. Storing it as sent and refusing it are both fair answers; refusing it
    # in the words of columns the client has never heard of is not.
    before = stored()

    response = send(api, "post", "/v1/faqs", {"question": "How?", "source": source})

    assert response.status_code in {201, 400}, (response.status_code, response.content[:300])
    if response.status_code == 201:
        assert body_of(conforms("v1", response))["source"] == source
    else:
        problem = expect_problem("v1", response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#/source"}
        assert stored() == before


# -- v2 related -------------------------------------------------------------------------------


def related_target(entry, method):
    return ("post", "/v2/faqs") if method == "post" else ("patch", f"/v2/faqs/{entry.pk}")


def related_body(method, related):
    return {**VALID_BODY["v2", method], "related": related}


@pytest.mark.parametrize("method", ["post", "patch"])
def test_unknown_related_ids_are_named(api, entry, expect_problem, method):
    known = entry.related_ids[0]
    missing = [ABSENT_ID, MAX_DB_INT]
    verb, path = related_target(entry, method)

    with nothing_written():
        response = send(api, verb, path, related_body(method, [known, *missing]))

        problem = expect_problem("v2", response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#/related"}
        details = " ".join(error["detail"] for error in problem["errors"])
        assert all(str(pk) in details for pk in missing), details
        assert f"id {known}." not in details


def test_an_entry_cannot_be_related_to_itself(api, entry, expect_problem):
    body = {"answer": "Changed.", "related": [entry.related_ids[0], entry.pk]}

    with nothing_written():
        response = send(api, "patch", f"/v2/faqs/{entry.pk}", body)

        problem = expect_problem("v2", response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#/related"}


@pytest.mark.parametrize("method", ["post", "patch"])
@pytest.mark.parametrize("bad_id", [0, -1, 2**63, 10**30, -(2**63) - 1], ids=str)
def test_a_related_id_outside_the_database_range_is_400(api, entry, expect_problem, method, bad_id):
    verb, path = related_target(entry, method)

    with nothing_written():
        response = send(api, verb, path, related_body(method, [entry.related_ids[0], bad_id]))

        problem = expect_problem("v2", response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#/related/1"}


@pytest.mark.parametrize("method", ["post", "patch"])
def test_more_than_twenty_related_entries_is_400(api, entry, expect_problem, method):
    verb, path = related_target(entry, method)

    with nothing_written():
        response = send(api, verb, path, related_body(method, list(range(1, 22))))

        problem = expect_problem("v2", response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#/related"}


# -- Nothing lost or half-written -------------------------------------------------------------
# Bodies the serializer passes but the service refuses after it has already written the row are
# the ones that could leave half a change behind; the others guard the order of the checks.

PARTIAL_PATCHES = {
    "missing related after every other member": lambda e: {
        "question": "Changed?",
        "answer": "Changed.",
        "source": {"kind": "chat", "ref": "c-1", "url": "https://chat.example.com/1"},
        "related": [ABSENT_ID],
    },
    "itself among related": lambda e: {"question": "Changed?", "related": [e.pk]},
    "known and missing related": lambda e: {
        "answer": "Changed.",
        "related": [e.related_ids[0], ABSENT_ID],
    },
    "related id out of range": lambda e: {"question": "Changed?", "related": [0]},
    "too many related": lambda e: {"answer": "Changed.", "related": list(range(1, 22))},
    "blank question": lambda e: {"question": "", "answer": "Changed."},
    "unknown kind": lambda e: {"answer": "Changed.", "source": {"kind": "nope"}},
    "bad url": lambda e: {"question": "Changed?", "source": {"kind": "docs", "url": "nope"}},
    "malformed": lambda e: b'{"question": "Changed?", "related": [',
}


@pytest.mark.parametrize("make_body", PARTIAL_PATCHES.values(), ids=PARTIAL_PATCHES.keys())
def test_a_failed_patch_leaves_every_entry_as_it_was(api, entry, expect_problem, make_body):
    with nothing_written():
        response = send(api, "patch", f"/v2/faqs/{entry.pk}", make_body(entry))

        expect_problem("v2", response, 400)


@pytest.mark.parametrize(
    "body",
    [{"answer": None}, {"answer": "a" * 20_001}, {"answer": "Changed\x00"}, b'{"answer": "Ch'],
    ids=["null", "over-long", "NUL", "malformed"],
)
def test_a_failed_answer_leaves_every_entry_as_it_was(api, entry, expect_problem, body):
    with nothing_written():
        response = send(api, "put", f"/v1/faqs/{entry.pk}/answer", body)

        expect_problem("v1", response, 400)


# The entry row is saved before its links are checked: only the transaction undoes it.
FAILED_CREATES = {
    "v2 missing related": ("v2", lambda e: related_body("post", [ABSENT_ID])),
    "v2 known and missing related": (
        "v2",
        lambda e: related_body("post", [e.pk, e.related_ids[0], ABSENT_ID]),
    ),
    "v2 related out of range": ("v2", lambda e: related_body("post", [e.pk, 2**63])),
    "v2 bad url": ("v2", lambda e: {"question": "How?", "source": {"kind": "docs", "url": "x"}}),
    "v1 over-long source": ("v1", lambda e: {"question": "How?", "source": "s" * 501}),
    "v1 NUL in answer": ("v1", lambda e: {**VALID_BODY["v1", "post"], "answer": "\x00"}),
}


@pytest.mark.parametrize(
    ("version", "make_body"), FAILED_CREATES.values(), ids=FAILED_CREATES.keys()
)
def test_a_failed_create_stores_nothing(api, entry, expect_problem, version, make_body):
    count = Entry.objects.count()

    with nothing_written():
        response = send(api, "post", f"/{version}/faqs", make_body(entry))

        expect_problem(version, response, 400)
        assert Entry.objects.count() == count


# -- Query parameters -------------------------------------------------------------------------


def cursor(raw: str) -> str:
    return base64.b64encode(raw.encode()).decode()


INVALID_PARAMETERS = [
    ("v1", {"answered": "maybe"}, {"answered"}),
    ("v1", {"page": "0"}, {"page"}),
    ("v1", {"page": "abc"}, {"page"}),
    ("v1", {"page": str(10**30)}, {"page"}),
    ("v1", {"page": "-1"}, {"page"}),
    ("v1", {"page_size": "1000"}, {"page_size"}),
    ("v1", {"page_size": "-1"}, {"page_size"}),
    ("v1", {"page_size": "0"}, {"page_size"}),
    ("v1", {"q": "pass\x00word"}, {"q"}),
    ("v1", {"q": "x" * 201}, {"q"}),
    ("v1", {"source": "47\x0011"}, {"source"}),
    ("v2", {"limit": "0"}, {"limit"}),
    ("v2", {"limit": "abc"}, {"limit"}),
    ("v2", {"limit": "1000"}, {"limit"}),
    ("v2", {"cursor": "garbage"}, {"cursor"}),
    ("v2", {"cursor": cursor("p=abc")}, {"cursor"}),
    ("v2", {"cursor": cursor(f"p={10**30}")}, {"cursor"}),
    ("v2", {"cursor": cursor(f"p={MAX_DB_INT + 1}")}, {"cursor"}),
    ("v2", {"cursor": cursor("o=-1")}, {"cursor"}),
    ("v2", {"related_to": "abc"}, {"related_to"}),
    ("v2", {"related_to": str(10**30)}, {"related_to"}),
    ("v2", {"related_to": "0"}, {"related_to"}),
    ("v2", {"created_after": "not-a-date"}, {"created_after"}),
    ("v2", {"created_before": "2024-13-45T00:00:00Z"}, {"created_before"}),
    ("v2", {"updated_after": "2024-01-01T25:00:00"}, {"updated_after"}),
    ("v2", {"source_kind": "nope"}, {"source_kind"}),
    ("v2", {"source_ref": "r" * 201}, {"source_ref"}),
    ("v2", {"source_ref": "47\x0011"}, {"source_ref"}),
    ("v2", {"q": "pass\x00word"}, {"q"}),
    ("v2", {"answered": "maybe", "source_kind": "nope"}, {"answered", "source_kind"}),
]


@pytest.mark.parametrize(
    ("version", "params", "expected"),
    INVALID_PARAMETERS,
    ids=[f"{v}-{'&'.join(p)}-{n}" for n, (v, p, _) in enumerate(INVALID_PARAMETERS)],
)
def test_invalid_query_parameters_are_named(api, entry, expect_problem, version, params, expected):
    response = api.get(f"/{version}/faqs", params)

    problem = expect_problem(version, response, 400, type=problems.INVALID_PARAMETERS)
    assert pointers(problem) == expected
    assert all("parameter" in error for error in problem["errors"])


@pytest.mark.parametrize("page", ["2", "999999999999999999"])
def test_a_v1_page_past_the_end_is_404(api, entry, expect_problem, page):
    # v1's contract does not document 404 for faq_list, so only the problem shape is checked.
    expect_problem("v1", api.get("/v1/faqs", {"page": page}), 404)


# Well-formed values at the edge of what the code can represent: a plain 200 is as good as a 400,
# as long as neither the database adapter nor the pagination code falls over.
EDGE_PARAMETERS = [
    ("created_before", "9999-12-31T23:59:59-23:59"),
    ("created_after", "0001-01-01T00:00:00+23:59"),
    ("updated_after", "9999-12-31T23:59:59.999999-12:00"),
    ("created_after", "2024-06-01T12:00:00+20:00"),  # PostgreSQL takes offsets up to 15:59 only
    ("cursor", cursor("o=5&r=1")),
    ("cursor", cursor("r=1")),
    ("cursor", cursor(f"o={10**24}&p=1")),
    ("cursor", cursor(f"p={MAX_DB_INT}")),
    ("cursor", "\x00"),
    ("related_to", str(MAX_DB_INT)),
]


@pytest.mark.parametrize(
    ("name", "value"), EDGE_PARAMETERS, ids=[f"{n}={v}" for n, v in EDGE_PARAMETERS]
)
def test_edge_values_of_v2_filters_are_never_a_server_error(
    api, make_entry, expect_problem, conforms, name, value
):
    for n in range(3):
        make_entry(question=f"Question {n}?")

    response = api.get("/v2/faqs", {name: value})

    assert response.status_code in {200, 400}, (response.status_code, response.content[:300])
    if response.status_code == 200:
        conforms("v2", response)
    else:
        problem = expect_problem("v2", response, 400, type=problems.INVALID_PARAMETERS)
        assert pointers(problem) == {name}


# -- Property-based ---------------------------------------------------------------------------

FIELD_NAMES = ["question", "answer", "source", "related", "kind", "ref", "url"]
# Lone surrogates, NUL and other control characters included on purpose.
odd_text = st.text(st.characters(exclude_categories=()), max_size=30)
texts = odd_text | st.sampled_from(
    [
        *["", " ", "\x00", "ticket", "docs", "https://example.com/x", "http://exa mple"],
        *["r" * 201, "s" * 501, "a" * 20_001],
    ]
)
integers = st.integers() | st.sampled_from(
    [0, -1, 1, 2, 3, MAX_DB_INT, 2**63, -(2**63) - 1, 10**30, ABSENT_ID]
)
scalars = (
    st.none() | st.booleans() | integers | st.floats(allow_nan=False, allow_infinity=False) | texts
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=5)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=15,
)
# Bodies shaped like the real ones get past "expected an object" to the serializers' and the
# services' checks, and now and then all the way to a 2xx whose body the contract must describe.
plain_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=40)
urls = st.sampled_from(
    ["https://example.com/t/1", "http://例え.jp/x", "https://e.com/" + "u" * 490]
)
sources = st.fixed_dictionaries(
    {"kind": st.sampled_from(["ticket", "forum", "email", "chat", "docs", "other"]) | texts},
    optional={"ref": st.none() | plain_text | json_values, "url": st.none() | urls | texts},
)
members = {
    "question": plain_text | texts | json_values,
    "answer": plain_text | texts | json_values,
    "source": plain_text | urls | sources | json_values,
    "related": st.lists(integers, max_size=25) | json_values,
}
json_bodies = (
    json_values
    | st.fixed_dictionaries({}, optional=members)
    | st.fixed_dictionaries(
        {"question": members["question"], "source": members["source"]},
        optional={"answer": members["answer"], "related": st.just([]) | members["related"]},
    )
)
FUZZ = settings(
    max_examples=100,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@FUZZ
@given(body=json_bodies)
@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_random_json_bodies_never_break_the_api(
    api, entry, expect_problem, conforms, operation, body
):
    version, method, path = operation

    with rolled_back():
        response = send(api, method, path.format(id=entry.pk), body)
        event(f"status {response.status_code}")  # --hypothesis-show-statistics: is 2xx reached?

        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            expect_problem(version, response, response.status_code)
        else:
            conforms(version, response)


query_values = (
    st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
    | st.binary(max_size=16)  # percent-encoded as is: invalid UTF-8 too
    | st.integers().map(str)
    | st.sampled_from(["true", "0", "2024-01-01T00:00:00Z", "ticket", cursor("p=1"), ""])
)


def query_string(params: dict) -> str:
    return "&".join(
        f"{quote(name)}={quote_from_bytes(v if isinstance(v, bytes) else v.encode(), safe='')}"
        for name, v in params.items()
    )


@FUZZ
@given(data=st.data())
@pytest.mark.parametrize(("version", "names"), [("v1", V1_FILTERS), ("v2", V2_FILTERS)])
def test_random_query_values_never_break_the_list(
    api, entry, expect_problem, conforms, version, names, data
):
    params = data.draw(
        st.dictionaries(st.sampled_from(names), query_values, min_size=1, max_size=3)
    )

    with rolled_back():
        response = api.get(f"/{version}/faqs?{query_string(params)}")
        event(f"status {response.status_code}")

        assert response.status_code < 500, (response.status_code, response.content[:300])
        if response.status_code >= 400:
            problem = expect_problem(version, response, response.status_code)
            assert pointers(problem) <= set(params), body_of(response)
        else:
            conforms(version, response)
