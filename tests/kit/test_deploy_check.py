"""``manage.py check --deploy`` passes on every app with production settings (DEBUG off, nothing
overridden), and it is those settings that pass it: DEBUG, or bin/up's plain HTTP, fail it."""

import re
import subprocess
import sys

import pytest

from tests.helpers import REPO_ROOT, production_env

APPS = ["gateway", "faq", "tickets", "billing"]
# What bin/up and the end-to-end tests set to serve production mode over plain HTTP.
PLAIN_HTTP = {"SECURE_SSL_REDIRECT": "0", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0"}


def deploy_check(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("service", APPS)
def test_production_settings_pass_the_deploy_check(service, tmp_path):
    result = deploy_check(production_env(service, tmp_path))

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout
    assert "WARNING" not in result.stderr, result.stderr


@pytest.mark.parametrize(
    ("service", "overrides", "expected"),
    [
        # DEBUG turns off HSTS, the redirect and the secure cookies; the check says so.
        ("gateway", {"DEBUG": "1"}, ["W004", "W008", "W012", "W016", "W018"]),
        ("faq", {"DEBUG": "1"}, ["W004", "W018"]),
        # bin/up's plain HTTP on loopback is not a deployment.
        ("gateway", PLAIN_HTTP, ["W008", "W012", "W016"]),
        ("tickets", {"SECURE_HSTS_SECONDS": "0"}, ["W004"]),
    ],
)
def test_what_turns_https_off_fails_the_deploy_check(service, overrides, expected, tmp_path):
    result = deploy_check(production_env(service, tmp_path, **overrides))

    assert result.returncode != 0, result.stdout + result.stderr
    found = sorted(set(re.findall(r"\(security\.(W\d+)\)", result.stderr)))
    assert found == expected, result.stderr
