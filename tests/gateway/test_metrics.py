"""/metrics: Prometheus' view of the gateway. Its labels name every consumer, so only the
platform team reads it: the scrape token, a platform consumer's key, or a staff login."""

import pytest
from django.contrib.auth.models import User

from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

TOKEN = "scrape-token-for-tests"


def metrics(client, **headers):
    return client.get("/metrics", headers=headers)


def test_without_credentials_it_is_a_401_challenge(client):
    response = metrics(client)

    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == 'Bearer realm="switchyard"'


def test_a_consumer_that_is_not_the_platform_team_is_refused(client, make_consumer):
    _, key = make_consumer("support-app")

    assert_problem(metrics(client, Authorization=f"Bearer {key}"), 403)


def test_a_platform_key_reads_it(client, make_consumer):
    _, key = make_consumer("ops", is_platform=True)

    response = metrics(client, Authorization=f"Bearer {key}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert b"switchyard_gateway_requests_total" in response.content


def test_the_scrape_token_reads_it_and_a_wrong_one_does_not(client, settings):
    settings.GATEWAY_METRICS_TOKEN = TOKEN

    assert metrics(client, Authorization=f"Bearer {TOKEN}").status_code == 200
    assert_problem(metrics(client, Authorization=f"Bearer {TOKEN}x"), 401)


def test_no_token_is_configured_by_default_so_none_works(client, settings):
    settings.GATEWAY_METRICS_TOKEN = ""

    assert_problem(metrics(client, Authorization="Bearer "), 401)


def test_a_staff_login_reads_it(client):
    staff = User.objects.create_user("admin", password="pw-for-tests", is_staff=True)
    client.force_login(staff)

    assert metrics(client).status_code == 200
