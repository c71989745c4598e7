"""services/kit/gateway_trust.py, as the FAQ service runs it: with GATEWAY_SECRET set, only calls
the gateway signed (fresh, for this method, path and consumer) reach the views."""

import time

import pytest
from rest_framework.test import APIClient

from services.kit.gateway_trust import CONSUMER_HEADER, SIGNATURE_HEADER, sign, verify
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

SECRET = "shared-by-gateway-and-services"
NOT_THROUGH_GATEWAY = "https://switchyard.dev/problems/not-through-gateway"
PATH = "/v2/faqs"


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def secret(settings):
    settings.GATEWAY_SECRET = SECRET
    return SECRET


def signed(method="GET", path=PATH, consumer="alice", *, secret=SECRET, now=None) -> dict:
    return {
        CONSUMER_HEADER: consumer,
        SIGNATURE_HEADER: sign(secret, method=method, path=path, consumer=consumer, now=now),
    }


@pytest.mark.usefixtures("secret")
class TestWithASecret:
    def test_a_call_without_a_signature_is_403(self, api):
        response = api.get(PATH, headers={CONSUMER_HEADER: "alice"})

        body = assert_problem(response, 403, type=NOT_THROUGH_GATEWAY)
        assert "through the gateway" in body["detail"]

    def test_a_call_with_neither_header_is_403(self, api):
        assert_problem(api.get(PATH), 403, type=NOT_THROUGH_GATEWAY)

    def test_a_valid_signature_passes(self, api):
        response = api.get(PATH, headers=signed())

        assert response.status_code == 200
        assert response.json()["items"] == []

    def test_a_valid_signature_passes_for_writes_too(self, api):
        response = api.post(
            PATH,
            {"question": "Signed?", "source": {"kind": "chat"}},
            format="json",
            headers=signed("POST"),
        )

        assert response.status_code == 201

    def test_a_tampered_signature_is_403(self, api):
        headers = signed()
        timestamp, digest = headers[SIGNATURE_HEADER].split(",")
        flipped = digest[:-1] + ("0" if digest[-1] != "0" else "1")
        headers[SIGNATURE_HEADER] = f"{timestamp},{flipped}"

        assert_problem(api.get(PATH, headers=headers), 403, type=NOT_THROUGH_GATEWAY)

    def test_a_moved_timestamp_is_403(self, api):
        headers = signed()
        timestamp, digest = headers[SIGNATURE_HEADER].split(",")
        moved = int(timestamp.removeprefix("t=")) + 1
        headers[SIGNATURE_HEADER] = f"t={moved},{digest}"

        assert_problem(api.get(PATH, headers=headers), 403, type=NOT_THROUGH_GATEWAY)

    def test_a_signature_for_another_path_is_403(self, api):
        response = api.get(PATH, headers=signed(path="/v2/faqs/1"))

        assert_problem(response, 403, type=NOT_THROUGH_GATEWAY)

    def test_a_signature_for_another_method_is_403(self, api):
        response = api.delete("/v2/faqs/1", headers=signed("GET", "/v2/faqs/1"))

        assert_problem(response, 403, type=NOT_THROUGH_GATEWAY)

    def test_a_signature_for_another_consumer_is_403(self, api):
        headers = signed(consumer="alice")
        headers[CONSUMER_HEADER] = "mallory"

        assert_problem(api.get(PATH, headers=headers), 403, type=NOT_THROUGH_GATEWAY)

    def test_a_signature_made_with_another_secret_is_403(self, api):
        response = api.get(PATH, headers=signed(secret="guessed"))

        assert_problem(response, 403, type=NOT_THROUGH_GATEWAY)

    def test_a_stale_signature_is_403(self, api, settings):
        settings.GATEWAY_SIGNATURE_MAX_AGE = 300
        old = time.time() - 300 - 60

        response = api.get(PATH, headers=signed(now=old))

        assert_problem(response, 403, type=NOT_THROUGH_GATEWAY)

    def test_a_signature_within_the_max_age_passes(self, api, settings):
        settings.GATEWAY_SIGNATURE_MAX_AGE = 300

        response = api.get(PATH, headers=signed(now=time.time() - 200))

        assert response.status_code == 200

    @pytest.mark.parametrize(
        "signature", ["garbage", "t=,v1=", "v1=abc", "t=123", "t=abc,v1=00", "t=1=2,v1"]
    )
    def test_a_garbled_signature_is_403_not_a_crash(self, api, signature):
        response = api.get(PATH, headers={CONSUMER_HEADER: "alice", SIGNATURE_HEADER: signature})

        assert_problem(response, 403, type=NOT_THROUGH_GATEWAY)

    def test_the_health_check_stays_open(self, api):
        response = api.get("/__health__")

        assert response.status_code == 200
        assert response.json()["status"] == "pass"

    def test_unknown_paths_are_refused_before_they_are_looked_up(self, api):
        # Nothing about the service's layout is revealed to callers that bypass the gateway.
        assert_problem(api.get("/no/such/path"), 403, type=NOT_THROUGH_GATEWAY)


def test_without_a_secret_unsigned_calls_pass(api, settings):
    settings.GATEWAY_SECRET = ""

    response = api.get(PATH)

    assert response.status_code == 200


def test_without_a_secret_the_consumer_header_is_still_read(api, settings):
    settings.GATEWAY_SECRET = ""

    assert api.get(PATH, headers={CONSUMER_HEADER: "local-dev"}).status_code == 200


class TestVerify:
    """The signature primitive on its own, with a fixed clock."""

    NOW = 1_800_000_000.0

    def test_a_signature_verifies_for_exactly_what_it_signed(self):
        header = sign(SECRET, method="get", path="/v2/faqs", consumer="alice", now=self.NOW)

        assert verify(
            SECRET,
            header,
            method="GET",
            path="/v2/faqs",
            consumer="alice",
            max_age=300,
            now=self.NOW,
        )

    @pytest.mark.parametrize("age", [-301, 301, 3600])
    def test_signatures_from_outside_the_window_fail(self, age):
        header = sign(SECRET, method="GET", path="/", consumer="c", now=self.NOW)

        assert not verify(
            SECRET,
            header,
            method="GET",
            path="/",
            consumer="c",
            max_age=300,
            now=self.NOW + age,
        )

    @pytest.mark.parametrize("age", [-300, 0, 300])
    def test_signatures_at_the_edge_of_the_window_pass(self, age):
        header = sign(SECRET, method="GET", path="/", consumer="c", now=self.NOW)

        assert verify(
            SECRET,
            header,
            method="GET",
            path="/",
            consumer="c",
            max_age=300,
            now=self.NOW + age,
        )
