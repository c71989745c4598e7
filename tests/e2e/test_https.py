"""A gateway with production's HTTPS settings (none of bin/up's plain-HTTP overrides), as a real
gunicorn process behind a platform that terminates TLS and sets ``X-Forwarded-Proto``."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Launcher, create_consumer

pytestmark = pytest.mark.e2e

HTTPS = {"X-Forwarded-Proto": "https"}
HSTS = "max-age=31536000"


@pytest.fixture(scope="module")
def https_gateway(tmp_path_factory, http, system):
    launcher = Launcher(tmp_path_factory.mktemp("e2e-https"), http)
    try:
        gateway = launcher.start(
            "gateway",
            label="https-gateway",
            FAQ_UPSTREAM=system["faq"].url,
            SECURE_SSL_REDIRECT=None,
            SESSION_COOKIE_SECURE=None,
            CSRF_COOKIE_SECURE=None,
        )
        yield gateway, create_consumer(gateway, "tls-app")
    finally:
        launcher.close()


def test_health_answers_plain_http(http, https_gateway):
    gateway, _ = https_gateway
    response = http.get(f"{gateway.url}/__health__", allow_redirects=False)

    assert response.status_code == 200, response.text


def test_pages_redirect_to_https_and_answer_it_with_hsts_and_secure_cookies(http, https_gateway):
    gateway, _ = https_gateway
    plain = http.get(f"{gateway.url}/__login__/", allow_redirects=False)
    secure = http.get(f"{gateway.url}/__login__/", headers=HTTPS, allow_redirects=False)

    assert plain.status_code == 301
    assert plain.headers["Location"] == f"https://127.0.0.1:{gateway.port}/__login__/"
    assert secure.status_code == 200
    assert secure.headers["Strict-Transport-Security"] == HSTS
    assert "secure" in secure.headers["Set-Cookie"].lower()


def test_api_calls_need_https(http, https_gateway):
    gateway, key = https_gateway
    auth = {"Authorization": f"Bearer {key}"}
    plain = http.get(f"{gateway.url}/faq/v2/faqs", headers=auth, allow_redirects=False)
    secure = http.get(f"{gateway.url}/faq/v2/faqs", headers={**auth, **HTTPS})

    assert plain.status_code == 403
    assert plain.headers["Content-Type"] == "application/problem+json"
    assert plain.json()["type"].endswith("/https-required")
    assert "Strict-Transport-Security" not in plain.headers
    assert secure.status_code == 200, secure.text
    assert secure.headers["Strict-Transport-Security"] == HSTS
