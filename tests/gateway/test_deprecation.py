"""gateway/deprecation.py: deprecated versions announce it on every response (RFC 9745, RFC 8594),
and are switched off with a 410 during brownouts and after their sunset.

The header tests read the committed contracts/lifecycle.yaml: faq v1 is deprecated from
2026-11-01, sunsets on 2027-05-01 and is succeeded by v2.
"""

import datetime as dt

import pytest
import yaml

from gateway.deprecation import GONE
from tests.gateway.conftest import UPSTREAM
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

DOCS = "https://docs.switchyard.dev/faq/migrate-to-v2"
DEPRECATION = "@1793491200"  # 2026-11-01T00:00:00Z
SUNSET = "Sat, 01 May 2027 00:00:00 GMT"
LIFECYCLE_HEADERS = ("Deprecation", "Sunset", "Link")


@pytest.fixture
def upstream(upstream):
    for version in ("v1", "v2"):
        upstream.get(f"{UPSTREAM}/{version}/faqs/17", json={"id": 17})
        upstream.get(f"{UPSTREAM}/{version}/faqs", json={"items": []})
        upstream.post(f"{UPSTREAM}/{version}/faqs", status=201, json={"id": 18})
        upstream.delete(f"{UPSTREAM}/{version}/faqs/17", status=204)
    upstream.put(f"{UPSTREAM}/v1/faqs/17/answer", json={"id": 17})
    return upstream


def links(response) -> list[str]:
    return [link.strip() for link in response["Link"].split(",")]


class TestHeaders:
    def test_a_deprecated_version_says_when_it_was_deprecated_and_when_it_ends(
        self, gateway, upstream
    ):
        response = gateway.get("/faq/v1/faqs/17")

        assert response.status_code == 200
        assert response["Deprecation"] == DEPRECATION
        assert response["Sunset"] == SUNSET
        assert links(response) == [
            f'<{DOCS}>; rel="deprecation"; type="text/html"',
            f'<{DOCS}>; rel="sunset"; type="text/html"',
            '</faq/v2/faqs/17>; rel="successor-version"',
        ]

    @pytest.mark.parametrize(
        ("method", "path", "successor"),
        [
            ("GET", "/faq/v1/faqs", "/faq/v2/faqs"),
            ("POST", "/faq/v1/faqs", "/faq/v2/faqs"),
            ("DELETE", "/faq/v1/faqs/17", "/faq/v2/faqs/17"),
        ],
    )
    def test_the_successor_link_names_the_same_operation_in_v2(
        self, gateway, upstream, method, path, successor
    ):
        body = {"question": "Why?", "source": {"kind": "chat"}} if method == "POST" else None

        response = gateway.call(method, path, body)

        assert f'<{successor}>; rel="successor-version"' in links(response)

    def test_an_operation_v2_dropped_gets_no_successor_link(self, gateway, upstream):
        response = gateway.put("/faq/v1/faqs/17/answer", {"answer": "Because."})

        assert response.status_code == 200
        assert response["Deprecation"] == DEPRECATION
        assert response["Sunset"] == SUNSET
        assert not any("successor-version" in link for link in links(response))
        assert len(links(response)) == 2

    def test_a_path_outside_the_contract_gets_no_successor_link(self, gateway, upstream):
        upstream.get(f"{UPSTREAM}/v1/elsewhere", status=404)

        response = gateway.get("/faq/v1/elsewhere")

        assert response["Deprecation"] == DEPRECATION
        assert "successor-version" not in response["Link"]

    @pytest.mark.parametrize(
        ("method", "path"),
        [("GET", "/faq/v2/faqs/17"), ("GET", "/faq/v2/faqs"), ("DELETE", "/faq/v2/faqs/17")],
    )
    def test_the_current_version_carries_none_of_them(self, gateway, upstream, method, path):
        response = gateway.call(method, path)

        assert response.status_code in (200, 204)
        for name in LIFECYCLE_HEADERS:
            assert name not in response.headers, name

    def test_errors_of_a_deprecated_version_are_announced_too(self, gateway, upstream, settings):
        # A client that only ever sees its 429s must still learn that v1 is going away.
        settings.GATEWAY_RATE_LIMIT_PER_MINUTE = 1
        gateway.get("/faq/v1/faqs/17")

        response = gateway.get("/faq/v1/faqs/17")

        assert_problem(response, 429)
        assert response["Deprecation"] == DEPRECATION
        assert response["Sunset"] == SUNSET


def write_lifecycle(tmp_path, settings, v1: dict):
    path = tmp_path / "lifecycle.yaml"
    path.write_text(yaml.safe_dump({"faq": {"v1": v1}}))
    settings.GATEWAY_LIFECYCLE_FILE = str(path)


def iso(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)


def ago(**delta) -> str:
    return iso(NOW - dt.timedelta(**delta))


def ahead(**delta) -> str:
    return iso(NOW + dt.timedelta(**delta))


class TestGone:
    def test_after_the_sunset_the_version_is_410_and_never_reaches_the_upstream(
        self, gateway, upstream, tmp_path, settings
    ):
        write_lifecycle(
            tmp_path,
            settings,
            {
                "deprecated_at": "2024-01-01T00:00:00Z",
                "sunset_at": "2025-06-30T00:00:00Z",
                "successor": "v2",
                "docs": DOCS,
            },
        )

        response = gateway.get("/faq/v1/faqs/17")

        body = assert_problem(response, 410, type=GONE)
        assert body["type"].endswith("/version-gone")
        assert body["successor"] == "v2"
        assert body["docs"] == DOCS
        assert body["state"] == "sunset"
        assert body["detail"] == "faq v1 was switched off on 2025-06-30. Migrate to v2."
        assert response["Sunset"] == "Mon, 30 Jun 2025 00:00:00 GMT"
        assert '</faq/v2/faqs/17>; rel="successor-version"' in response["Link"]
        assert len(upstream.calls) == 0

    @pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
    def test_every_method_is_gone(self, gateway, upstream, tmp_path, settings, method):
        write_lifecycle(
            tmp_path,
            settings,
            {"deprecated_at": ago(days=60), "sunset_at": ago(days=1)},
        )

        response = gateway.call(method, "/faq/v1/faqs/17")

        assert_problem(response, 410, type=GONE)
        assert len(upstream.calls) == 0

    def test_during_a_brownout_the_version_is_410_and_never_reaches_the_upstream(
        self, gateway, upstream, tmp_path, settings
    ):
        write_lifecycle(
            tmp_path,
            settings,
            {
                "deprecated_at": ago(days=30),
                "sunset_at": "2099-01-01T00:00:00Z",
                "successor": "v2",
                "docs": DOCS,
                "brownouts": [{"start": ago(hours=1), "end": ahead(hours=1)}],
            },
        )

        response = gateway.get("/faq/v1/faqs/17")

        body = assert_problem(response, 410, type=GONE)
        assert body["state"] == "brownout"
        assert (body["successor"], body["docs"]) == ("v2", DOCS)
        assert "scheduled brownout" in body["detail"]
        assert "2099-01-01" in body["detail"]
        assert len(upstream.calls) == 0

    def test_outside_its_brownouts_the_version_answers(self, gateway, upstream, tmp_path, settings):
        write_lifecycle(
            tmp_path,
            settings,
            {
                "deprecated_at": ago(days=30),
                "sunset_at": "2099-01-01T00:00:00Z",
                "brownouts": [
                    {"start": ago(hours=3), "end": ago(hours=2)},
                    {"start": ahead(hours=2), "end": ahead(hours=3)},
                ],
            },
        )

        response = gateway.get("/faq/v1/faqs/17")

        assert response.status_code == 200
        assert response["Sunset"] == "Thu, 01 Jan 2099 00:00:00 GMT"
        assert len(upstream.calls) == 1

    def test_the_successor_is_unaffected(self, gateway, upstream, tmp_path, settings):
        write_lifecycle(
            tmp_path,
            settings,
            {
                "deprecated_at": "2024-01-01T00:00:00Z",
                "sunset_at": "2025-01-01T00:00:00Z",
                "successor": "v2",
            },
        )

        assert gateway.get("/faq/v2/faqs/17").status_code == 200

    def test_a_gone_version_still_needs_a_key(self, anonymous, upstream, tmp_path, settings):
        write_lifecycle(
            tmp_path,
            settings,
            {"deprecated_at": "2024-01-01T00:00:00Z", "sunset_at": "2025-01-01T00:00:00Z"},
        )

        assert_problem(anonymous.get("/faq/v1/faqs/17"), 401)

    def test_a_version_not_in_the_file_is_active(self, gateway, upstream, tmp_path, settings):
        path = tmp_path / "lifecycle.yaml"
        path.write_text("faq: {}\n")
        settings.GATEWAY_LIFECYCLE_FILE = str(path)

        response = gateway.get("/faq/v1/faqs/17")

        assert response.status_code == 200
        assert "Deprecation" not in response.headers


def test_the_upstreams_own_link_relations_are_kept(gateway, upstream):
    upstream.replace(
        "GET",
        f"{UPSTREAM}/v1/faqs",
        json={"items": []},
        headers={"Link": '</v1/faqs?cursor=abc>; rel="next"'},
    )

    response = gateway.get("/faq/v1/faqs")

    assert '</v1/faqs?cursor=abc>; rel="next"' in links(response)
    assert '</faq/v2/faqs>; rel="successor-version"' in links(response)
