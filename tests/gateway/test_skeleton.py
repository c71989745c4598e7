"""The gateway project stands alone: its own settings, database and health check."""

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


def test_runs_with_its_own_settings():
    assert settings.SERVICE_NAME == "gateway"
    assert "services.faq" not in settings.INSTALLED_APPS


def test_health():
    response = APIClient().get("/__health__")

    assert response.status_code == 200
    assert response.json()["service"] == "gateway"
    assert response.json()["checks"]["database"]["status"] == "pass"


def test_everything_else_is_a_problem_404():
    response = APIClient().get("/faq/v1/faqs")

    assert_problem(response, 404)
