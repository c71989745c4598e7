"""Assertions shared by every suite; works on Django test responses and ``requests`` responses."""

import json
import os
import shutil
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

PROBLEM = "application/problem+json"


def body_of(response) -> dict:
    raw = response.content
    return json.loads(raw) if raw else {}


def assert_problem(response, status: int, *, type: str | None = None) -> dict:
    """The response is an RFC 9457 problem with this status; returns its body."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response.headers["Content-Type"].split(";")[0] == PROBLEM, response.headers
    body = body_of(response)
    assert body["status"] == status
    assert body["title"]
    assert body["type"] == (type or body["type"])
    assert "Traceback" not in response.content.decode("utf-8", "replace")
    return body


def pointers(problem: dict) -> set[str]:
    return {error.get("pointer") or error.get("parameter") for error in problem.get("errors", [])}


def published_contracts(service: str, versions=("v1", "v2")) -> dict:
    """The committed contracts of ``service``, by version."""
    from contracts.validation import Contract

    return {version: Contract.published(service, version) for version in versions}


def conformance(published: dict):
    """``check(version, response)``: assert that a test-client response is what the committed
    contract promises (status, content type, body); returns the response."""

    def check(version: str, response, method: str | None = None, path: str | None = None):
        request = response.wsgi_request
        errors = published[version].response_errors(
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


# --- bad input: what every service's test_bad_input.py shares ----------------------------------

JSON = "application/json"
MAX_DB_INT = 2**63 - 1
ABSENT_ID = 999_999_999_999  # routable, and no test creates anywhere near this many rows


def operation_id(operation) -> str:
    _, method, path = operation
    return f"{method.upper()} {path}"


def documented_statuses(document: dict, method: str, path: str) -> set[str]:
    """The statuses the contract documents for the operation serving ``method path``."""
    parts = path.strip("/").split("/")
    for template, item in document["paths"].items():
        segments = template.strip("/").split("/")
        if len(segments) == len(parts) and all(
            s == p or s.startswith("{") for s, p in zip(segments, parts, strict=True)
        ):
            return set(item.get(method, {}).get("responses", {}))
    return set()


def encode(body) -> bytes:
    return body if isinstance(body, bytes) else json.dumps(body).encode()


def send(api, method, path, body=b"", content_type=JSON, **extra):
    return api.generic(method.upper(), path, encode(body), content_type=content_type, **extra)


@contextmanager
def rolled_back():
    """Hypothesis runs many examples in one test: each starts from the same rows, and a database
    error in one (PostgreSQL aborts the whole transaction) cannot poison the next."""
    from django.db import transaction

    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def problem_checker(published: dict, conforms):
    """``check(version, response, status)``: ``assert_problem`` with RFC 9457's members and each
    error's shape checked, and the response validated against the contract wherever the operation
    documents the status; returns the problem."""

    def check(version, response, status, *, type=None, method=None):
        body = assert_problem(response, status, type=type)
        assert body.get("detail"), body
        for error in body.get("errors", []):
            assert error.get("detail") and error.get("code"), error
            assert ("pointer" in error) != ("parameter" in error), error
        method = (method or response.wsgi_request.method).lower()
        path = response.wsgi_request.path
        if str(status) in documented_statuses(published[version].document, method, path):
            conforms(version, response, method=method)
        return body

    return check


# --- contract drift: a copy of the project to edit, and CI's check run over it -----------------

REPO_ROOT = Path(__file__).resolve().parents[1]


def project_copy(destination: Path) -> Path:
    """A copy of the project to edit, so a test can change code the way a developer would."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("contracts", "services", "gateway"):
        shutil.copytree(REPO_ROOT / name, destination / name, ignore=ignore)
    for name in ("manage.py", "wsgi.py"):
        shutil.copy(REPO_ROOT / name, destination / name)
    return destination


def run_contracts_check(checkout: Path, *services: str) -> subprocess.CompletedProcess:
    """``manage.py contracts check`` as CI runs it: its own process, no SERVICE, no secrets."""
    return subprocess.run(
        [sys.executable, "manage.py", "contracts", "check", *services],
        cwd=checkout,
        env={"PATH": os.environ["PATH"], "VAR_DIR": str(checkout / "var")},
        capture_output=True,
        text=True,
        check=False,
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- production settings: an app's environment on a platform, nothing from this shell -----------


def production_env(service: str, var_dir: Path, **overrides: str | None) -> dict[str, str]:
    """What a platform gives ``service``: a long random key, DEBUG off, its host name, and none of
    the local overrides (bin/up's plain HTTP). ``overrides`` add to it; ``None`` removes one."""
    import secrets

    env = {
        "PATH": os.environ["PATH"],
        "SERVICE": service,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": f"{service}.example.com",
        "VAR_DIR": str(var_dir),
    }
    env.update(overrides)
    return {name: value for name, value in env.items() if value is not None}


def run_command(*args) -> tuple[int, str]:
    """A management command's exit status and standard output, as a deploy pipeline sees them."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command(*args, stdout=out)
    except SystemExit as exit_:
        return exit_.code, out.getvalue()
    return 0, out.getvalue()
