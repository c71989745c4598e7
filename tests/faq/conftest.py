import pytest
from rest_framework.test import APIClient

from contracts.validation import Contract
from services.faq import services
from services.faq.models import Source


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def make_entry(db):
    """Create an entry through the service layer, as any API version would."""

    def make(question="How do I reset my password?", answer="", source=None, related=()):
        return services.entry_create(
            question=question,
            answer=answer,
            source=source or Source(kind="ticket", ref="4711"),
            related=related,
        )

    return make


@pytest.fixture(scope="session")
def contracts():
    """The committed FAQ contracts, by version."""
    return {version: Contract.published("faq", version) for version in ("v1", "v2")}


@pytest.fixture
def conforms(contracts):
    """Assert that a test-client response is what the committed contract promises."""

    def check(version: str, response, method: str | None = None, path: str | None = None):
        request = response.wsgi_request
        errors = contracts[version].response_errors(
            method or request.method,
            path or request.path,
            status=response.status_code,
            body=response.content,
            content_type=response.headers.get("Content-Type", "").split(";")[0],
            headers=dict(response.headers),
        )
        assert errors == [], errors
        return response

    return check
