"""Settings come from the environment, and production mode has no default secret."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from services.kit import settings as kit

ROOT = Path(__file__).resolve().parents[2]


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {"PATH": os.environ["PATH"], "VAR_DIR": os.environ.get("VAR_DIR", str(ROOT / "var"))}
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("TRUE", True), ("off", False), ("", False)]
)
def test_env_bool(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)

    assert kit.env_bool("FLAG") is expected


def test_env_bool_refuses_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "sometimes")

    with pytest.raises(ImproperlyConfigured, match="FLAG='sometimes' is not a boolean"):
        kit.env_bool("FLAG")


def test_env_list(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example.com, ,b.example.com ")

    assert kit.env_list("HOSTS") == ["a.example.com", "b.example.com"]


def test_each_service_defaults_to_its_own_sqlite_file(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(kit, "VAR_DIR", tmp_path)

    config = kit.database_for("faq")

    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(tmp_path / "faq.sqlite3")


def test_database_url_wins_and_keeps_test_databases_apart(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/switchyard")

    config = kit.database_for("faq")

    assert config["ENGINE"] == "django.db.backends.postgresql"
    assert (config["HOST"], config["NAME"]) == ("db.internal", "switchyard")
    assert config["TEST"] == {"NAME": "test_switchyard_faq"}


def test_serving_without_a_secret_key_in_production_mode_is_refused():
    result = run_python("import wsgi", SERVICE="faq", DEBUG="0")

    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_serving_with_a_secret_key_starts():
    result = run_python("import wsgi; print(wsgi.application)", SERVICE="faq", SECRET_KEY="k" * 50)

    assert result.returncode == 0, result.stderr
    assert "WSGIHandler" in result.stdout


def test_management_commands_run_without_a_secret_key():
    result = run_python(
        "from services.kit.entry import configure; configure();"
        "import django; django.setup(); from django.conf import settings;"
        "print(len(settings.SECRET_KEY) > 40, settings.SECRET_KEY_FROM_ENV)",
        SERVICE="faq",
    )

    assert result.stdout.split() == ["True", "False"]


def test_an_unknown_service_is_refused_by_name():
    result = run_python("from services.kit.entry import configure; configure()", SERVICE="nope")

    assert result.returncode != 0
    assert "SERVICE='nope' is not a Switchyard service" in result.stderr


def test_redis_url_selects_the_redis_cache():
    result = run_python(
        "from services.kit.entry import configure; configure();"
        "from django.conf import settings; print(settings.CACHES['default']['BACKEND'])",
        SERVICE="faq",
        REDIS_URL="redis://127.0.0.1:6379/0",
    )

    assert result.stdout.strip() == "django.core.cache.backends.redis.RedisCache"
