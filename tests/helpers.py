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
