"""``tests/kit`` runs in a process of its own (``tests.kit.settings``: the kit's apps and a tiny
outbox app). A few modules test kit parts as a service runs them, through the FAQ's own views and
models: those run in the FAQ's process instead (``bin/test``: ``run faq tests/faq tests/kit``)."""

from pathlib import Path

import pytest
import responses as responses_lib
from django.conf import settings as django_settings

from services.kit import client

AS_THE_FAQ_RUNS_IT = {"test_fields.py", "test_filters.py", "test_gateway_trust.py"}

FAQ_API = "http://faq.test"
FAQ_KEY = "sy_kit-test-key"
FAQS = f"{FAQ_API}/v2/faqs"


def pytest_ignore_collect(collection_path: Path, config):
    if collection_path.suffix != ".py" or not collection_path.name.startswith("test_"):
        return None
    in_the_faq = django_settings.SERVICE_NAME == "faq"
    return (collection_path.name in AS_THE_FAQ_RUNS_IT) != in_the_faq or None


@pytest.fixture
def faq(settings, monkeypatch):
    """The FAQ as an outbox reaches it (``FAQ_API``), answered by ``responses``: a test says what
    it answers; an unregistered call is a connection error (the FAQ is unreachable)."""
    settings.FAQ_API = FAQ_API
    settings.GATEWAY_API_KEY = FAQ_KEY
    monkeypatch.setattr(client, "_sessions", {})
    with responses_lib.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock
