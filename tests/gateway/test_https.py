"""HTTPS in production: pages redirect to https, proxied calls over plain HTTP are refused, HTTPS
answers carry HSTS, cookies are https-only, and the platform's health checks stay on plain HTTP.

The settings are the gateway's own, as a fresh process reads them from a production environment
(``tests.helpers.production_env``): drop one from gateway/settings.py or the kit and a test here
fails. The platform terminates TLS and says so in ``X-Forwarded-Proto``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from gateway.edge import HTTPS_REQUIRED
from tests.helpers import REPO_ROOT, assert_problem, production_env

pytestmark = pytest.mark.django_db

HTTPS_SETTINGS = [
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
]
READ = f"""
import json
from services.kit.entry import configure
configure()
from django.conf import settings
print(json.dumps({{name: getattr(settings, name) for name in {HTTPS_SETTINGS!r}}}))
"""
HTTPS = {"X-Forwarded-Proto": "https"}
YEAR = "max-age=31536000"


@pytest.fixture(scope="session")
def production_settings(tmp_path_factory) -> dict:
    env = production_env("gateway", tmp_path_factory.mktemp("production"))
    result = subprocess.run(
        [sys.executable, "-c", READ],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    values = json.loads(result.stdout.strip().splitlines()[-1])
    values["SECURE_PROXY_SSL_HEADER"] = tuple(values["SECURE_PROXY_SSL_HEADER"])
    return values


@pytest.fixture
def production(settings, production_settings):
    for name, value in production_settings.items():
        setattr(settings, name, value)


@pytest.fixture
def staff():
    get_user_model().objects.create_user("ops", "ops@example.com", "pw", is_staff=True)


def test_production_defaults(production_settings):
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SECURE_HSTS_SECONDS"] == 31536000
    # Subdomains and preloading are the domain owner's to decide.
    assert production_settings["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert production_settings["SECURE_HSTS_PRELOAD"] is False


def test_a_page_over_plain_http_is_redirected_to_https(production):
    response = Client().get("/__login__/?next=/__dashboard__/")

    assert response.status_code == 301
    assert response["Location"] == "https://testserver/__login__/?next=/__dashboard__/"
    assert "Strict-Transport-Security" not in response  # never over plain HTTP (RFC 6797)


def test_a_page_over_https_is_served_with_hsts(production):
    response = Client().get("/__login__/", headers=HTTPS)

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == YEAR


def test_the_health_check_stays_on_plain_http(production):
    response = Client().get("/__health__")

    assert response.status_code == 200
    assert response.json()["service"] == "gateway"


def test_the_login_cookies_are_https_only(production, staff):
    client = Client()
    page = client.get("/__login__/", headers=HTTPS)
    logged_in = client.post(
        "/__login__/",
        {"username": "ops", "password": "pw", "csrfmiddlewaretoken": page.context["csrf_token"]},
        headers=HTTPS,
    )

    assert logged_in.status_code == 302
    assert logged_in["Location"] == "/__dashboard__/"
    assert page.cookies["csrftoken"]["secure"] is True
    assert logged_in.cookies["sessionid"]["secure"] is True


def test_a_proxied_call_over_plain_http_is_refused_not_redirected(production, gateway, upstream):
    response = gateway.post("/faq/v2/faqs?q=x", {"question": "Q?"})

    body = assert_problem(response, 403, type=HTTPS_REQUIRED)
    assert "https://testserver/faq/v2/faqs" in body["detail"]
    assert "Location" not in response
    assert "Strict-Transport-Security" not in response
    assert upstream.calls == []


@pytest.mark.parametrize("how", ["forwarded", "tls"])
def test_a_proxied_call_over_https_goes_through_with_hsts(production, gateway, upstream, how):
    upstream.get(
        "http://faq.internal/v2/faqs/1",
        json={"id": 1},
        headers={"Strict-Transport-Security": "max-age=60"},  # the gateway's policy wins
    )
    if how == "forwarded":
        response = gateway.get("/faq/v2/faqs/1", headers=HTTPS)
    else:
        response = gateway.get("/faq/v2/faqs/1", secure=True)

    assert response.status_code == 200
    assert [v for k, v in response.raw_headers if k.lower() == b"strict-transport-security"] == [
        YEAR.encode()
    ]
    assert upstream.calls[0].request.headers["X-Forwarded-Proto"] == "https"


def test_locally_plain_http_calls_go_through(gateway, upstream):
    upstream.get("http://faq.internal/v2/faqs/1", json={"id": 1})

    response = gateway.get("/faq/v2/faqs/1")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response
