"""Assertions shared by every suite; works on Django test responses and ``requests`` responses."""

import json

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
