"""Request ids, body limits and the JSON request log."""

import json
import logging

import pytest
from rest_framework.test import APIClient

from services.kit.logging import JsonFormatter, RequestIdFilter
from tests.helpers import assert_problem

pytestmark = [pytest.mark.urls("tests.kit.urls"), pytest.mark.django_db]


@pytest.fixture
def api():
    return APIClient()


def test_request_id_is_echoed(api):
    response = api.get("/__health__", HTTP_X_REQUEST_ID="abc-123.x:y")

    assert response["X-Request-ID"] == "abc-123.x:y"


def test_request_id_is_generated_when_missing(api):
    first, second = api.get("/__health__"), api.get("/__health__")

    assert len(first["X-Request-ID"]) == 32
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize("bad", ["has space", "x" * 129, "<script>", "a\tb", "ünïcode"])
def test_unsafe_request_ids_are_replaced_not_echoed(api, bad):
    response = api.get("/__health__", HTTP_X_REQUEST_ID=bad)

    assert response["X-Request-ID"] != bad
    assert len(response["X-Request-ID"]) == 32


def test_each_request_is_logged_once_as_json_with_its_id(api, caplog):
    caplog.set_level(logging.INFO, logger="switchyard.request")

    api.get("/no/such", HTTP_X_REQUEST_ID="log-me")

    [record] = [r for r in caplog.records if r.name == "switchyard.request"]
    line = json.loads(JsonFormatter().format(record))
    assert line["request_id"] == "log-me"
    assert (line["method"], line["path"], line["status"]) == ("GET", "/no/such", 404)
    assert line["service"] == "kit"  # the project the tests run in
    assert line["level"] == "INFO"
    assert isinstance(line["duration_ms"], float)


def test_log_lines_outside_a_request_have_no_id():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hello", None, None)
    RequestIdFilter().filter(record)

    assert json.loads(JsonFormatter().format(record))["request_id"] is None


def test_a_body_over_the_limit_is_refused_before_parsing(api, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100

    response = api.post("/echo", {"items": [], "tags": [], "pad": "x" * 200}, format="json")

    body = assert_problem(response, 413, type="https://switchyard.dev/problems/body-too-large")
    assert body["limit"] == 100


def test_a_body_at_the_limit_is_parsed(api, settings):
    settings.MAX_REQUEST_BODY_BYTES = 100
    payload = b'{"items": [], "tags": []}'

    response = api.generic("POST", "/echo", payload, content_type="application/json")

    assert response.status_code == 200


def test_a_garbled_content_length_is_a_400(api):
    response = api.generic(
        "POST", "/echo", b"{}", content_type="application/json", CONTENT_LENGTH="ten"
    )

    assert_problem(response, 400)


def test_a_host_outside_allowed_hosts_is_refused_on_every_request(api):
    response = api.get("/__health__", HTTP_HOST="evil.example.com")

    body = assert_problem(response, 400)
    assert body["detail"] == "This host name is not served here."


def test_a_chunked_body_is_refused_rather_than_read_as_empty(api):
    response = api.generic(
        "POST", "/echo", b"", content_type="application/json", HTTP_TRANSFER_ENCODING="chunked"
    )

    assert_problem(response, 411)


def test_an_empty_json_body_is_malformed(api):
    response = api.generic("POST", "/echo", b"", content_type="application/json")

    assert_problem(response, 400, type="https://switchyard.dev/problems/malformed-body")


def test_options_describes_the_endpoint_without_a_server_error(api):
    response = api.options("/echo")

    assert response.status_code == 200
    assert response.json()["parses"] == ["application/json"]
