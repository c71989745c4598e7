import pytest
from rest_framework.test import APIClient

from services.kit import views
from tests.helpers import assert_problem

pytestmark = [pytest.mark.urls("tests.kit.urls"), pytest.mark.django_db]


def test_health_passes_with_a_working_database(settings):
    response = APIClient().get("/__health__")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["status"] == "pass"
    assert body["service"] == "kit"  # the project the tests run in
    assert body["checks"]["database"]["status"] == "pass"
    assert ("cache" in body["checks"]) == bool(settings.REDIS_URL)


def test_health_fails_with_503_when_the_database_does(monkeypatch):
    def broken():
        raise ConnectionRefusedError("db down")

    monkeypatch.setattr(views, "_database", broken)

    response = APIClient().get("/__health__")

    assert response.status_code == 503
    assert response.json()["status"] == "fail"
    assert response.json()["checks"]["database"] == {
        "status": "fail",
        "output": "ConnectionRefusedError",
    }


def test_health_answers_head_for_uptime_monitors():
    response = APIClient().head("/__health__")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/health+json"


def test_health_refuses_other_methods_as_a_problem():
    response = APIClient().post("/__health__")

    assert_problem(response, 405)
    assert response["Allow"] == "GET, HEAD"
