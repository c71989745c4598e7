"""gateway/served.py: the contracts the gateway serves are the consumer's view of each version.

Each served document is checked twice: for what it declares (servers, the bearer scheme, the
gateway's own answers and headers), and against what the gateway really answers, with
openapi-core judging real responses of the ASGI gateway by the document the same gateway serves.
"""

from __future__ import annotations

import json

import pytest
import time_machine
import yaml
from openapi_spec_validator import validate

import contracts
from contracts.validation import Contract
from contracts.validation import operations as contract_operations
from gateway import served
from tests.gateway.conftest import UPSTREAM, refused
from tests.helpers import run_command

pytestmark = pytest.mark.django_db

ALL = [(s, v) for s, versions in contracts.published().items() for v in versions]
GATEWAY_STATUSES = {"401", "429", "502", "503", "504"}
LIFECYCLE_HEADERS = {"Deprecation", "Sunset", "Link"}


@pytest.fixture(autouse=True)
def every_service_routed(settings, upstream):
    settings.GATEWAY_UPSTREAMS = {
        **{service: f"http://{service}.internal" for service, _ in ALL},
        "faq": UPSTREAM,
    }


def operations(document: dict):
    for operation in contract_operations(document).values():
        yield f"{operation.method.upper()} {operation.path}", operation.spec


def deref(document: dict, node: dict) -> dict:
    """``node`` itself, or what its ``$ref`` points at (within the document)."""
    while "$ref" in node:
        target = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def served_json(gateway, service: str, version: str) -> dict:
    response = gateway.get(f"/__api__/{service}/{version}.json")
    assert response.status_code == 200, response.content[:300]
    return json.loads(response.body)


class TestTheDocument:
    @pytest.mark.parametrize(("service", "version"), ALL)
    def test_it_is_valid_openapi_and_points_at_the_gateway(self, anonymous, service, version):
        document = served_json(anonymous, service, version)

        validate(document)
        assert document["servers"][0]["url"] == f"http://testserver/{service}"

    def test_a_configured_public_url_wins_over_the_request(self, anonymous, settings):
        settings.GATEWAY_PUBLIC_URL = "https://api.example.com/"

        document = served_json(anonymous, "faq", "v2")

        assert [s["url"] for s in document["servers"]] == ["https://api.example.com/faq"]

    @pytest.mark.parametrize(("service", "version"), ALL)
    def test_every_operation_needs_a_bearer_key_and_may_get_the_gateways_answers(
        self, anonymous, service, version
    ):
        document = served_json(anonymous, service, version)

        scheme = document["components"]["securitySchemes"][served.SCHEME]
        assert (scheme["type"], scheme["scheme"]) == ("http", "bearer")
        assert document["security"] == [{served.SCHEME: []}]
        found = list(operations(document))
        assert found
        for name, operation in found:
            assert operation["security"] == [{served.SCHEME: []}], name
            assert set(operation["responses"]) >= GATEWAY_STATUSES, name
            too_many = deref(document, operation["responses"]["429"])
            assert "Retry-After" in too_many["headers"], name
            unauthorized = deref(document, operation["responses"]["401"])
            assert "WWW-Authenticate" in unauthorized["headers"], name
            for status, response in operation["responses"].items():
                assert "X-Request-ID" in deref(document, response)["headers"], (name, status)

    def test_a_deprecated_version_declares_its_410_and_lifecycle_headers(self, anonymous):
        document = served_json(anonymous, "faq", "v1")

        for name, operation in operations(document):
            assert operation["deprecated"] is True, name
            gone = deref(document, operation["responses"]["410"])
            assert set(gone["headers"]) >= LIFECYCLE_HEADERS, name
            assert "SwitchedOff" in gone["content"]["application/problem+json"]["examples"], name
            ok = deref(document, operation["responses"][_success(operation)])
            assert set(ok["headers"]) >= LIFECYCLE_HEADERS, name
            unauthorized = deref(document, operation["responses"]["401"])
            assert not LIFECYCLE_HEADERS & set(unauthorized["headers"]), name
        headers = document["components"]["headers"]
        assert headers["Deprecation"]["example"] == "@1793491200"
        assert headers["Sunset"]["example"] == "Sat, 01 May 2027 00:00:00 GMT"

    def test_a_status_both_answer_keeps_the_services_meaning_and_adds_the_gateways(self, anonymous):
        document = served_json(anonymous, "faq", "v1")

        gone = document["paths"]["/v1/faqs"]["post"]["responses"]["410"]
        assert "deleted since" in gone["description"]  # the service's replay of a deleted entry
        assert "410 by the gateway during a scheduled brownout" in gone["description"]
        assert set(gone["headers"]) >= LIFECYCLE_HEADERS | {"X-Request-ID"}

    def test_an_active_version_has_no_gateway_410_nor_lifecycle_headers(self, anonymous):
        document = served_json(anonymous, "faq", "v2")

        assert "Deprecation" not in document["components"]["headers"]
        assert "VersionGone" not in document["components"]["responses"]
        for name, operation in operations(document):
            # A 410 the service declares itself (a replay of a deleted entry's create) stays.
            gone = operation["responses"].get("410", {})
            assert gone.get("$ref") != "#/components/responses/VersionGone", name
            ok = deref(document, operation["responses"][_success(operation)])
            assert not LIFECYCLE_HEADERS & set(ok["headers"]), name

    def test_yaml_and_json_are_the_same_document(self, anonymous):
        as_yaml = anonymous.get("/__api__/faq/v1.yaml")
        as_json = served_json(anonymous, "faq", "v1")

        assert as_yaml.status_code == 200
        assert as_yaml["Content-Type"].startswith("application/yaml")
        assert yaml.safe_load(as_yaml.body) == as_json
        assert b"&id" not in as_yaml.body  # no YAML anchors: some tools cannot follow them

    def test_the_committed_contract_stays_the_services_view(self, anonymous):
        served_json(anonymous, "faq", "v1")

        committed = contracts.load("faq", "v1")
        assert "servers" not in committed
        assert "securitySchemes" not in committed.get("components", {})

    def test_the_command_writes_what_the_gateway_serves(self, anonymous, tmp_path):
        status, out = run_command(
            "served_contracts", "--server", "http://testserver", "--out", str(tmp_path)
        )

        assert status == 0

        written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.yaml"))
        assert written == sorted(f"{s}/{v}.yaml" for s, v in ALL)
        assert "faq/v1.yaml" in out
        on_disk = yaml.safe_load((tmp_path / "faq" / "v1.yaml").read_text())
        assert on_disk == served_json(anonymous, "faq", "v1")

    def test_an_unknown_version_is_a_404(self, anonymous):
        assert anonymous.get("/__api__/faq/v9.json").status_code == 404


def _success(operation: dict) -> str:
    return next(status for status in operation["responses"] if status.startswith("2"))


class TestRealAnswersConform:
    """The gateway's own answers, judged by the document it serves."""

    @pytest.fixture
    def judge(self, anonymous):
        def judge(response, method: str, path: str, version: str = "v1") -> list[str]:
            document = served_json(anonymous, "faq", version)
            contract = Contract(document, host="http://testserver")
            return contract.response_errors(
                method,
                path,
                status=response.status_code,
                body=response.body,
                content_type=response["Content-Type"].split(";")[0],
                headers=dict(response.items()),
            )

        return judge

    def test_a_missing_key(self, anonymous, judge):
        response = anonymous.get("/faq/v1/faqs")

        assert response.status_code == 401
        assert judge(response, "GET", "/faq/v1/faqs") == []

    def test_over_the_rate_limit(self, gateway, upstream, judge, settings):
        settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 1
        upstream.get(
            f"{UPSTREAM}/v1/faqs", json={"count": 0, "next": None, "previous": None, "results": []}
        )
        assert gateway.get("/faq/v1/faqs").status_code == 200

        response = gateway.get("/faq/v1/faqs")

        assert response.status_code == 429
        assert response["Retry-After"]
        assert response["Deprecation"]
        assert judge(response, "GET", "/faq/v1/faqs") == []

    def test_the_service_refuses_then_is_marked_down(self, gateway, upstream, judge, settings):
        settings.GATEWAY_BREAKER_FAILURES = 1
        upstream.get(f"{UPSTREAM}/v2/faqs/17", body=refused())

        first = gateway.get("/faq/v2/faqs/17")
        second = gateway.get("/faq/v2/faqs/17")

        assert (first.status_code, second.status_code) == (502, 503)
        assert judge(first, "GET", "/faq/v2/faqs/17", "v2") == []
        assert judge(second, "GET", "/faq/v2/faqs/17", "v2") == []

    @time_machine.travel("2027-03-03T14:30:00Z", tick=False)
    def test_a_brownout(self, gateway, upstream, judge):
        response = gateway.get("/faq/v1/faqs/17")

        assert response.status_code == 410
        assert response["Sunset"] == "Sat, 01 May 2027 00:00:00 GMT"
        assert judge(response, "GET", "/faq/v1/faqs/17") == []

    def test_a_deprecated_versions_answer_and_its_headers(self, gateway, upstream, judge):
        entry = {
            "id": 17,
            "question": "How do I reset my password?",
            "answer": "",
            "source": "4711",
            "created": "2026-11-02T09:30:00Z",
            "updated": "2026-11-02T10:05:12Z",
        }
        upstream.get(f"{UPSTREAM}/v1/faqs/17", json=entry)

        response = gateway.get("/faq/v1/faqs/17")

        assert response.status_code == 200
        assert response["Deprecation"] == "@1793491200"
        assert response["X-Request-ID"]
        assert judge(response, "GET", "/faq/v1/faqs/17") == []
