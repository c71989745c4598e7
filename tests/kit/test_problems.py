"""Every error leaves as RFC 9457 problem+json; unexpected ones without internals."""

import logging

import pytest
from rest_framework.test import APIClient

from tests.helpers import assert_problem

pytestmark = [pytest.mark.urls("tests.kit.urls")]


@pytest.fixture
def api():
    return APIClient()


def test_nested_validation_errors_point_at_each_member(api):
    response = api.post(
        "/echo",
        {"items": [{"name": "ok"}, {}], "tags": [1, "x"], "meta": {"a/b": "nope"}},
        format="json",
    )

    body = assert_problem(response, 400, type="https://switchyard.dev/problems/validation-error")
    assert body["title"] == "Your request is not valid"
    assert body["detail"] == "3 fields failed validation; see errors."
    assert body["errors"] == [
        {"pointer": "#/items/1/name", "detail": "This field is required.", "code": "required"},
        {"pointer": "#/tags/1", "detail": "A valid integer is required.", "code": "invalid"},
        {"pointer": "#/meta/a~1b", "detail": "A valid integer is required.", "code": "invalid"},
    ]


def test_top_level_type_error_points_at_the_document(api):
    response = api.post("/echo", [1, 2], format="json")

    body = assert_problem(response, 400)
    assert body["errors"][0]["pointer"] == "#"
    assert body["errors"][0]["code"] == "invalid"


def test_django_validation_error_from_a_service_is_a_400(api):
    body = assert_problem(api.get("/raise/django-validation"), 400)

    assert body["errors"] == [{"pointer": "#/a~1b~0c", "detail": "Bad.", "code": "invalid"}]


def test_throttled_says_when_to_retry(api):
    response = api.get("/raise/throttled")

    assert_problem(response, 429)
    assert response["Retry-After"] == "7"


def test_permission_denied_keeps_its_detail(api):
    body = assert_problem(api.get("/raise/denied"), 403)

    assert body["detail"] == "Not yours."


def test_unexpected_error_is_a_bare_500_and_logged_with_its_trace(api, caplog):
    caplog.set_level(logging.ERROR, logger="switchyard.errors")

    response = api.get("/raise/crash", HTTP_X_REQUEST_ID="req-crash-1")

    body = assert_problem(response, 500)
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert body["request_id"] == "req-crash-1"
    [record] = [r for r in caplog.records if r.name == "switchyard.errors"]
    assert record.exc_info[0] is RuntimeError
    assert record.request_id == "req-crash-1"


def test_malformed_json_is_a_400_with_its_own_type(api):
    response = api.generic("POST", "/echo", b'{"items": [', content_type="application/json")

    body = assert_problem(response, 400, type="https://switchyard.dev/problems/malformed-body")
    assert body["detail"].startswith("The body is not valid JSON")


def test_unknown_path_is_a_problem_even_with_debug_on(api, settings):
    settings.DEBUG = True

    body = assert_problem(api.get("/no/such/thing"), 404)

    assert (
        body["detail"] == "No resource at /no/such/thing. See the service's contract for its paths."
    )


def test_wrong_method_lists_the_allowed_ones(api):
    response = api.delete("/echo")

    assert_problem(response, 405)
    assert response["Allow"] == "POST, OPTIONS"


def test_unacceptable_accept_is_a_406_in_json(api):
    response = api.post("/echo", {}, format="json", HTTP_ACCEPT="text/html")

    assert_problem(response, 406)


def test_http404_from_a_plain_django_view_is_a_problem_404_not_a_500(api):
    body = assert_problem(api.get("/raise/http404"), 404)

    assert body["detail"] == "No such thing."
