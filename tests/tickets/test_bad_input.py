"""Bad input to both tickets API versions: a clear problem+json 4xx, never a 500, nothing written.

Each test sends one kind of bad input to every operation it can reach, checks the response against
RFC 9457 and against the committed contract wherever that operation documents the status, and
that every stored ticket, comment and promotion is exactly as it was.
"""

from contextlib import contextmanager

import pytest
from django.conf import settings as django_settings
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from services.kit import problems
from services.tickets.models import Comment, FaqPromotion, Ticket
from tests.helpers import (
    ABSENT_ID,
    MAX_DB_INT,
    assert_problem,
    operation_id,
    pointers,
    problem_checker,
    send,
)

pytestmark = pytest.mark.django_db


# (version, method, path) of every operation that reads a JSON body; {id} is an existing ticket.
BODY_OPERATIONS = [
    ("v1", "post", "/v1/tickets"),
    ("v1", "post", "/v1/tickets/{id}/comments"),
    ("v1", "post", "/v1/tickets/{id}/status"),
    ("v1", "post", "/v1/tickets/{id}/resolve"),
    ("v2", "post", "/v2/tickets"),
    ("v2", "patch", "/v2/tickets/{id}"),
    ("v2", "post", "/v2/tickets/{id}/comments"),
    ("v2", "post", "/v2/tickets/{id}/resolve"),
]
ID_OPERATIONS = [
    ("v1", "get", "/v1/tickets/{id}"),
    ("v1", "get", "/v1/tickets/{id}/comments"),
    ("v1", "post", "/v1/tickets/{id}/comments"),
    ("v1", "post", "/v1/tickets/{id}/status"),
    ("v1", "post", "/v1/tickets/{id}/resolve"),
    ("v2", "get", "/v2/tickets/{id}"),
    ("v2", "patch", "/v2/tickets/{id}"),
    ("v2", "post", "/v2/tickets/{id}/comments"),
    ("v2", "post", "/v2/tickets/{id}/resolve"),
]
# A body the operation would accept, so that only the thing under test is wrong.
VALID_BODY = {
    "/v1/tickets": {"subject": "Hi", "body": "Help", "requester": "ada@example.com"},
    "/v1/tickets/{id}/comments": {"author": "grace", "body": "Which card?"},
    "/v1/tickets/{id}/status": {"status": "pending"},
    "/v1/tickets/{id}/resolve": {"answer": "Fixed.", "promote": False},
    "/v2/tickets": {"subject": "Hi", "body": "Help", "requester": {"email": "ada@example.com"}},
    "/v2/tickets/{id}": {"status": "pending"},
    "/v2/tickets/{id}/comments": {"author": "grace", "body": "Which card?"},
    "/v2/tickets/{id}/resolve": {"answer": "Fixed."},
}


def stored() -> dict:
    """Every row the API can write, as stored."""
    return {
        "tickets": list(Ticket.objects.order_by("pk").values()),
        "comments": list(Comment.objects.order_by("pk").values()),
        "promotions": list(FaqPromotion.objects.order_by("pk").values()),
    }


@contextmanager
def nothing_written():
    before = stored()
    yield
    assert stored() == before


@pytest.fixture
def ticket(make_ticket):
    """An open ticket with every column set and a comment, so that any partial write would show."""
    from services.tickets import services

    ticket = make_ticket(requester_name="Ada", order_ref="ord_1042")
    services.comment_create(ticket_id=ticket.pk, author="grace", body="Which card?")
    return ticket


@pytest.fixture
def expect_problem(contracts, conforms):
    return problem_checker(contracts, conforms)


# -- Malformed and foreign bodies -------------------------------------------------------------

MALFORMED_BODIES = {
    "truncated": b'{"subject": "Hi", "body": "Help"',
    "trailing garbage": b'{"status": "pending"} trailing',
    "NaN": b'{"subject": NaN}',
    "single quotes": b"{'status': 'pending'}",
    "invalid UTF-8": b'{"subject": "\xff\xfe"}',
    "lone surrogate": b'{"subject": "\\ud800", "author": "\\ud800", "answer": "\\ud800"}',
    "nested 100000 deep": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("body", MALFORMED_BODIES.values(), ids=MALFORMED_BODIES.keys())
def test_malformed_json_is_a_malformed_body_problem(api, ticket, expect_problem, operation, body):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), body)

        expect_problem(version, response, 400, type=problems.MALFORMED_BODY)


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("body", ["hello", 42, [1, 2], None, True], ids=str)
def test_a_body_that_is_not_an_object_points_at_the_document(
    api, ticket, expect_problem, operation, body
):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), body)

        problem = expect_problem(version, response, 400, type=problems.VALIDATION)
        assert pointers(problem) == {"#"}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_an_empty_body_is_rejected(api, ticket, expect_problem, operation):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), b"")

        expect_problem(version, response, 400, type=problems.MALFORMED_BODY)


NOT_JSON = {
    "text/plain": ("text/plain", b'{"status": "pending"}'),
    "form-encoded": ("application/x-www-form-urlencoded", b"status=pending"),
    "multipart": (MULTIPART_CONTENT, encode_multipart(BOUNDARY, {"status": "pending"})),
}


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("content", NOT_JSON.values(), ids=NOT_JSON.keys())
def test_a_body_that_is_not_json_is_unsupported(api, ticket, expect_problem, operation, content):
    version, method, path = operation
    content_type, body = content

    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), body, content_type)

        expect_problem(version, response, 415)


@pytest.mark.parametrize("operation", BODY_OPERATIONS, ids=operation_id)
def test_a_body_over_one_mebibyte_is_413(api, ticket, expect_problem, operation):
    version, method, path = operation
    body = {**VALID_BODY[path], "body": "x" * (1024 * 1024)}

    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), body)

        problem = expect_problem(version, response, 413, type=problems.BODY_TOO_LARGE)
        assert problem["limit"] == django_settings.MAX_REQUEST_BODY_BYTES


# -- Methods and ids --------------------------------------------------------------------------

WRONG_METHODS = [
    ("v1", "put", "/v1/tickets", {"GET", "POST"}),
    ("v1", "delete", "/v1/tickets", {"GET", "POST"}),
    ("v1", "patch", "/v1/tickets/{id}", {"GET"}),
    ("v1", "delete", "/v1/tickets/{id}", {"GET"}),
    ("v1", "put", "/v1/tickets/{id}/comments", {"GET", "POST"}),
    ("v1", "get", "/v1/tickets/{id}/status", {"POST"}),
    ("v1", "put", "/v1/tickets/{id}/status", {"POST"}),
    ("v1", "get", "/v1/tickets/{id}/resolve", {"POST"}),
    ("v2", "delete", "/v2/tickets", {"GET", "POST"}),
    ("v2", "put", "/v2/tickets/{id}", {"GET", "PATCH"}),
    ("v2", "delete", "/v2/tickets/{id}", {"GET", "PATCH"}),
    ("v2", "get", "/v2/tickets/{id}/comments", {"POST"}),
    ("v2", "get", "/v2/tickets/{id}/resolve", {"POST"}),
]


@pytest.mark.parametrize(
    ("version", "method", "path", "allowed"),
    WRONG_METHODS,
    ids=[f"{m.upper()} {p}" for _, m, p, _ in WRONG_METHODS],
)
def test_a_wrong_method_is_405_with_allow(
    api, ticket, expect_problem, version, method, path, allowed
):
    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), {"status": "closed"})

        # The contract documents 405 on every operation of the path, not on the missing method.
        expect_problem(version, response, 405, method=sorted(allowed)[0])
        advertised = {m.strip() for m in response.headers["Allow"].split(",")}
        assert allowed <= advertised
        assert method.upper() not in advertised


def test_v1_paths_that_v2_dropped_are_404_there(api, ticket, expect_problem):
    for path in (f"/v2/tickets/{ticket.pk}/status", "/v3/tickets"):
        assert_problem(api.post(path, {"status": "closed"}, format="json"), 404)


BAD_IDS = ["0", "9" * 19, str(MAX_DB_INT), str(10**30), "abc", "-1", "1.5", str(ABSENT_ID)]


@pytest.mark.parametrize("operation", ID_OPERATIONS, ids=operation_id)
@pytest.mark.parametrize("ticket_id", BAD_IDS)
def test_an_id_that_names_no_ticket_is_404(api, ticket, expect_problem, operation, ticket_id):
    version, method, path = operation
    body = VALID_BODY.get(path, b"")

    with nothing_written():
        response = send(api, method, path.format(id=ticket_id), body)

        expect_problem(version, response, 404)


# -- Members of the body ----------------------------------------------------------------------

V1_CREATE = ("v1", "post", "/v1/tickets")
V1_COMMENT = ("v1", "post", "/v1/tickets/{id}/comments")
V1_STATUS = ("v1", "post", "/v1/tickets/{id}/status")
V1_RESOLVE = ("v1", "post", "/v1/tickets/{id}/resolve")
V2_CREATE = ("v2", "post", "/v2/tickets")
V2_PATCH = ("v2", "patch", "/v2/tickets/{id}")
V2_COMMENT = ("v2", "post", "/v2/tickets/{id}/comments")
V2_RESOLVE = ("v2", "post", "/v2/tickets/{id}/resolve")
REQUESTER = {"email": "ada@example.com"}

INVALID_MEMBERS = [
    (V1_CREATE, {}, {"#/subject", "#/body", "#/requester"}, "nothing"),
    (
        V1_CREATE,
        {"subject": 42, "body": ["x"], "requester": True},
        {"#/subject", "#/body", "#/requester"},
        "wrong types",
    ),
    (
        V1_CREATE,
        {"subject": " ", "body": "b", "requester": "ada"},
        {"#/subject", "#/requester"},
        "blank, bad email",
    ),
    (
        V1_CREATE,
        {"subject": "s", "body": "b", "requester": REQUESTER},
        {"#/requester"},
        "v2 requester",
    ),
    (
        V1_CREATE,
        {"subject": "s" * 201, "body": "b", "requester": "a@b.co", "order_ref": "o" * 65},
        {"#/subject", "#/order_ref"},
        "over-long",
    ),
    (V1_CREATE, {"subject": "s\x00", "body": "b", "requester": "a@b.co"}, {"#/subject"}, "NUL"),
    (V1_COMMENT, {"author": "", "body": None}, {"#/author", "#/body"}, "blank and null"),
    (V1_STATUS, {}, {"#/status"}, "no status"),
    (V1_STATUS, {"status": "archived"}, {"#/status"}, "unknown status"),
    (V1_STATUS, {"status": ["open"]}, {"#/status"}, "list status"),
    (V1_RESOLVE, {"answer": "A."}, {"#/promote"}, "no promote"),
    (V1_RESOLVE, {"answer": "A.", "promote": "true"}, {"#/promote"}, "string promote"),
    (V1_RESOLVE, {"answer": "A.", "promote": 1}, {"#/promote"}, "number promote"),
    (V1_RESOLVE, {"answer": "", "promote": False}, {"#/answer"}, "empty answer"),
    (V1_RESOLVE, {"answer": "a" * 20_001, "promote": False}, {"#/answer"}, "over-long answer"),
    (
        V2_CREATE,
        {"subject": "s", "body": "b", "requester": "ada@example.com"},
        {"#/requester"},
        "v1 requester",
    ),
    (V2_CREATE, {"subject": "s", "body": "b", "requester": {}}, {"#/requester/email"}, "no email"),
    (
        V2_CREATE,
        {"subject": "s", "body": "b", "requester": {"email": "nope", "name": 7}},
        {"#/requester/email", "#/requester/name"},
        "bad requester",
    ),
    (V2_PATCH, {"status": "archived"}, {"#/status"}, "unknown status"),
    (V2_PATCH, {"status": None}, {"#/status"}, "null status"),
    (V2_COMMENT, {"author": 1, "body": "b"}, {"#/author"}, "number author"),
    (V2_RESOLVE, {"answer": "A.", "promote": True}, {"#/promote"}, "v1 promote"),
    (V2_RESOLVE, {"answer": "A.", "promote": None}, {"#/promote"}, "null promote"),
    (
        V2_RESOLVE,
        {"answer": "A.", "promote": {"related": "3"}},
        {"#/promote/related"},
        "str related",
    ),
    (
        V2_RESOLVE,
        {"answer": "A.", "promote": {"related": [1, "x", 0, 2**63]}},
        {"#/promote/related/1", "#/promote/related/2", "#/promote/related/3"},
        "bad related ids",
    ),
    (
        V2_RESOLVE,
        {"answer": "A.", "promote": {"related": list(range(1, 22))}},
        {"#/promote/related"},
        "too many related",
    ),
]


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        pytest.param(op, body, expected, id=f"{op[1]}-{op[0]}{op[2][-9:]}-{name}")
        for op, body, expected, name in INVALID_MEMBERS
    ],
)
def test_invalid_members_are_named_by_pointer(
    api, ticket, expect_problem, operation, body, expected
):
    version, method, path = operation

    with nothing_written():
        response = send(api, method, path.format(id=ticket.pk), body)

        problem = expect_problem(version, response, 400, type=problems.VALIDATION)
        assert pointers(problem) == expected


# -- Query parameters -------------------------------------------------------------------------

INVALID_PARAMETERS = [
    ("v1", "/v1/tickets", {"status": "archived"}, {"status"}),
    ("v1", "/v1/tickets", {"page": "0"}, {"page"}),
    ("v1", "/v1/tickets", {"page_size": "1000"}, {"page_size"}),
    ("v1", "/v1/tickets", {"q": "card\x00"}, {"q"}),
    ("v1", "/v1/tickets", {"requester": "r" * 255}, {"requester"}),
    ("v1", "/v1/tickets/{id}/comments", {"page": "abc"}, {"page"}),
    ("v2", "/v2/tickets", {"limit": "0"}, {"limit"}),
    ("v2", "/v2/tickets", {"cursor": "garbage"}, {"cursor"}),
    ("v2", "/v2/tickets", {"order_ref": "o" * 65}, {"order_ref"}),
    ("v2", "/v2/tickets", {"status": "nope", "q": "x\x00"}, {"status", "q"}),
]


@pytest.mark.parametrize(
    ("version", "path", "params", "expected"),
    INVALID_PARAMETERS,
    ids=[f"{v}-{'&'.join(p)}-{n}" for n, (v, _, p, _) in enumerate(INVALID_PARAMETERS)],
)
def test_invalid_query_parameters_are_named(
    api, ticket, expect_problem, version, path, params, expected
):
    response = api.get(path.format(id=ticket.pk), params)

    problem = expect_problem(version, response, 400, type=problems.INVALID_PARAMETERS)
    assert pointers(problem) == expected
