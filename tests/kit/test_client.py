"""The service client takes its configuration from settings and fails only with ServiceError."""

import pytest

from services.kit import client
from services.kit.client import NoContract, ServiceClient, ServiceError


@pytest.fixture(autouse=True)
def _fresh_sessions(monkeypatch):
    monkeypatch.setattr(client, "_sessions", {})


def test_where_and_how_it_calls_come_from_settings(settings):
    settings.FAQ_API = "http://faq.test/"
    settings.GATEWAY_API_KEY = "sy_key"
    settings.SERVICE_CLIENT_CONNECT_TIMEOUT = 0.5
    settings.SERVICE_CLIENT_READ_TIMEOUT = 3.0

    faq = ServiceClient("faq", "v2")

    assert (faq.base_url, faq.api_key, faq.timeout) == ("http://faq.test", "sy_key", (0.5, 3.0))


def test_without_a_base_url_it_says_which_setting_is_missing(settings):
    settings.TICKETS_API = ""

    with pytest.raises(ServiceError, match="TICKETS_API is not set"):
        ServiceClient("tickets", "v1")


def test_the_pool_size_is_a_setting(settings):
    settings.SERVICE_CLIENT_POOL_SIZE = 3

    session = client._new_session("http://faq.test")

    assert session.get_adapter("http://faq.test")._pool_maxsize == 3


def test_one_session_per_base_url():
    first = client.pooled(client._sessions, "http://a.test", client._new_session)

    assert client.pooled(client._sessions, "http://a.test", client._new_session) is first
    assert client.pooled(client._sessions, "http://b.test", client._new_session) is not first


def test_a_version_with_no_published_contract_is_a_service_error(settings):
    settings.FAQ_API = "http://faq.test"

    with pytest.raises(NoContract, match="faq: No published contract for faq v9") as error:
        ServiceClient("faq", "v9")

    assert isinstance(error.value, ServiceError)
    assert error.value.status is None  # nothing was sent


def test_an_operation_the_contract_lacks_is_a_service_error(settings):
    settings.FAQ_API = "http://faq.test"

    with pytest.raises(NoContract, match="no_such_operation"):
        ServiceClient("faq", "v2").call("no_such_operation")
