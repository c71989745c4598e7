"""gateway/routing.py: ``/{service}/{version}/{path}`` goes to ``{upstream}/{version}/{path}``,
for configured services and published versions only, and never anywhere else."""

import re

import pytest

from gateway import routing
from tests.gateway.conftest import UPSTREAM
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ANY_UPSTREAM_URL = re.compile(r"https?://.*")


@pytest.fixture
def upstream(upstream):
    # Whatever gets through answers 200, so a leak shows up as a call rather than a 502.
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
        upstream.add(method, ANY_UPSTREAM_URL, json={"ok": True})
    return upstream


def test_a_call_goes_to_the_same_version_and_path_upstream(gateway, upstream):
    response = gateway.get("/faq/v2/faqs/17")

    assert response.status_code == 200
    assert response.body == b'{"ok": true}'
    [call] = upstream.calls
    assert call.request.url == f"{UPSTREAM}/v2/faqs/17"


def test_the_version_root_is_routed_without_a_trailing_path(gateway, upstream):
    gateway.get("/faq/v1")

    assert [call.request.url for call in upstream.calls] == [f"{UPSTREAM}/v1"]


def test_non_ascii_path_segments_are_percent_encoded_again_upstream(gateway, upstream):
    gateway.get("/faq/v2/faqs/caf%C3%A9")

    assert upstream.calls[0].request.url == f"{UPSTREAM}/v2/faqs/caf%C3%A9"


def test_the_query_string_is_forwarded_unchanged(gateway, upstream):
    query = "q=caf%C3%A9+au+lait&tag=b&tag=a&empty=&flag&slash=%2F%3F%26&order=-created_at"

    gateway.get(f"/faq/v2/faqs?{query}")

    assert upstream.calls[0].request.url == f"{UPSTREAM}/v2/faqs?{query}"


def test_only_configured_services_are_routed(gateway, upstream, settings):
    settings.GATEWAY_UPSTREAMS = {}

    response = gateway.get("/faq/v2/faqs")

    body = assert_problem(response, 404)
    assert "no service 'faq'" in body["detail"]
    assert len(upstream.calls) == 0


@pytest.mark.parametrize("path", ["/search/v1/items", "/metricsx/v1/", "/admin/v1/login"])
def test_an_unknown_service_is_a_404_problem_without_an_outbound_call(gateway, upstream, path):
    response = gateway.get(path)

    assert_problem(response, 404)
    assert len(upstream.calls) == 0


def test_a_configured_service_without_a_contract_is_not_routed(gateway, upstream, settings):
    # An upstream alone is not enough: only versions with a published contract exist.
    settings.GATEWAY_UPSTREAMS = {"faq": UPSTREAM, "search": "http://search.internal"}

    response = gateway.get("/search/v1/items")

    assert_problem(response, 404)
    assert len(upstream.calls) == 0


@pytest.mark.parametrize("version", ["v3", "v0", "v01", "v9999"])
def test_only_published_versions_are_routed(gateway, upstream, version):
    response = gateway.get(f"/faq/{version}/faqs")

    body = assert_problem(response, 404)
    assert "published: v1, v2" in body["detail"]
    assert len(upstream.calls) == 0


def test_routing_needs_no_key_to_say_404(anonymous, upstream):
    # Unknown places are 404 for everyone: a key is only asked for where there is something.
    assert_problem(anonymous.get("/faq/v3/faqs"), 404)


# Gunicorn passes the path exactly as sent in RAW_URI; PATH_INFO is already decoded.
ESCAPES = [
    "/faq/v2/../v1/faqs",
    "/faq/v2/faqs/..",
    "/faq/v2/./faqs",
    "/faq/v2/%2e%2e/v1/faqs",
    "/faq/v2/%2E%2E/v1/faqs",
    "/faq/v2/faqs/%2e",
    "/faq/v2/..%2f..%2fadmin",
    "/faq/v2/faqs%2f17",
    "/faq/v2/faqs%2F17",
    "/faq/v2/faqs%5c17",
    "/faq/v2/faqs%5C..%5Cadmin",
    "/faq/v2/faqs%00",
    "/faq/v2/faqs/17%00.json",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_paths_that_could_leave_their_prefix_are_not_routed(gateway, upstream, path):
    response = gateway.get(path, RAW_URI=path)

    assert_problem(response, 404)
    assert len(upstream.calls) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/faq/v2/../v1/faqs",
        "/faq/v2/./faqs",
        "/faq/v2/%2e%2e/v1/faqs",
        "/faq/v2/a%5cb",
        "/faq/v2/a%00",
    ],
)
def test_decoded_escapes_are_caught_even_without_the_raw_path(gateway, upstream, path):
    # Servers other than gunicorn (runserver, the test client) give no RAW_URI.
    response = gateway.get(path)

    assert_problem(response, 404)
    assert len(upstream.calls) == 0


@pytest.mark.parametrize(
    "path",
    [
        "/faq/v2/faqs/%252e%252e",
        "/faq/v2/%252E%252E/v1/faqs",
        "/faq/v2/faqs%252f17",
        "/faq/v2/faqs/%25252e%25252e",
        "/faq/v2/faqs/%c0%ae%c0%ae/x",
        "/faq/v2/faqs/%C0%AF",
        "/faq/v2/faqs/%e0%80%ae",
        "/faq/v2/faqs/%u002e%u002e/x",
    ],
)
def test_double_encoded_and_overlong_escapes_are_not_routed(gateway, upstream, path):
    # %252e is "." to anything behind the gateway that decodes once more; %c0%ae and %u002e are
    # "." to servers that accept overlong UTF-8 or IIS' encoding. None of them names a real entry.
    response = gateway.get(path, RAW_URI=path)

    assert_problem(response, 404)
    assert len(upstream.calls) == 0


def test_an_encoded_percent_sign_before_other_characters_is_still_routed(gateway, upstream):
    gateway.get("/faq/v2/faqs/100%2541", RAW_URI="/faq/v2/faqs/100%2541")

    assert upstream.calls[0].request.url == f"{UPSTREAM}/v2/faqs/100%2541"


def test_an_encoded_query_separator_in_the_path_stays_in_the_path(gateway, upstream):
    gateway.get("/faq/v2/faqs/a%3Fb=1")

    assert upstream.calls[0].request.url == f"{UPSTREAM}/v2/faqs/a%3Fb=1"


@pytest.mark.usefixtures("routed")
class TestOperations:
    """The operation a call is counted under: the contract's template, not the raw path."""

    @pytest.mark.parametrize(
        ("version", "method", "rest", "template", "operation_id", "params"),
        [
            ("v1", "GET", "/faqs/17", "/v1/faqs/{entry_id}", "faq_retrieve", {"entry_id": "17"}),
            ("v1", "GET", "/faqs", "/v1/faqs", "faq_list", {}),
            ("v1", "POST", "/faqs", "/v1/faqs", "faq_create", {}),
            (
                "v1",
                "PUT",
                "/faqs/17/answer",
                "/v1/faqs/{entry_id}/answer",
                "faq_answer",
                {"entry_id": "17"},
            ),
            ("v2", "PATCH", "/faqs/9", "/v2/faqs/{entry_id}", "faq_update", {"entry_id": "9"}),
            ("v2", "DELETE", "/faqs/9", "/v2/faqs/{entry_id}", "faq_delete", {"entry_id": "9"}),
            ("v2", "HEAD", "/faqs/9", "/v2/faqs/{entry_id}", "faq_retrieve", {"entry_id": "9"}),
        ],
    )
    def test_the_path_is_matched_to_the_contracts_template(
        self, version, method, rest, template, operation_id, params
    ):
        route = routing.resolve("faq", version, rest, f"/faq/{version}{rest}", method)

        assert route.path == f"/{version}{rest}"
        assert route.operation == routing.Operation(operation_id, template, params)
        assert route.operation_name == template

    def test_a_method_the_contract_lacks_keeps_the_template_but_no_operation_id(self):
        route = routing.resolve("faq", "v1", "/faqs/17", "/faq/v1/faqs/17", "PATCH")

        assert route.operation == routing.Operation("", "/v1/faqs/{entry_id}", {"entry_id": "17"})

    @pytest.mark.parametrize("rest", ["/nowhere", "/faqs/17/extra", ""])
    def test_a_path_outside_the_contract_is_unmatched(self, rest):
        route = routing.resolve("faq", "v2", rest, f"/faq/v2{rest}", "GET")

        assert route.operation is None
        assert route.operation_name == "(unmatched)"


def test_unmatched_paths_are_still_forwarded(gateway, upstream):
    # The service answers for paths its contract does not list (its own 404s, say).
    response = gateway.get("/faq/v2/nowhere")

    assert response.status_code == 200
    assert upstream.calls[0].request.url == f"{UPSTREAM}/v2/nowhere"


def test_the_upstream_gets_the_method_it_was_called_with(gateway, upstream):
    gateway.delete("/faq/v2/faqs/3")

    assert upstream.calls[0].request.method == "DELETE"
