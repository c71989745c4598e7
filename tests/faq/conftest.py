import pytest
from rest_framework.test import APIClient

from services.faq import services
from services.faq.models import Source
from tests.helpers import conformance, published_contracts


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
    """The committed faq contracts, by version."""
    return published_contracts("faq")


@pytest.fixture
def conforms(contracts):
    """Assert that a test-client response is what the committed contract promises."""
    return conformance(contracts)
