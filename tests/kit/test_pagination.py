"""services/kit/pagination.py on a view of its own: strict about its parameters (400, never a
silent default or a 404), links and cursors that lead through every row exactly once."""

import pytest
from rest_framework.test import APIClient

from tests.helpers import assert_problem
from tests.kit.app.models import Note

pytestmark = [pytest.mark.urls("tests.kit.urls"), pytest.mark.django_db]


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def notes():
    return [Note.objects.create(question=f"Q{n}?", idempotency_key=f"n-{n}").pk for n in range(5)]


def test_pages_have_the_envelope_and_links_through_every_row(api, notes):
    first = api.get("/notes?page_size=2").json()

    assert (first["count"], first["previous"]) == (5, None)
    assert [item["id"] for item in first["results"]] == notes[:2]
    seen = [item["id"] for item in first["results"]]
    link = first["next"]
    while link:
        page = api.get(link).json()
        seen += [item["id"] for item in page["results"]]
        link = page["next"]
    assert seen == notes


@pytest.mark.parametrize(
    "query", ["page=0", "page=x", "page_size=0", "page_size=-1", "page_size=101", "page_size=1.5"]
)
def test_a_bad_page_parameter_is_a_400_naming_it(api, notes, query):
    body = assert_problem(api.get(f"/notes?{query}"), 400)

    assert query.split("=")[0] in str(body)


def test_cursors_are_opaque_tokens_that_walk_every_row_once(api, notes):
    first = api.get("/notes-by-cursor?limit=2").json()

    assert set(first) == {"items", "next_cursor", "previous_cursor"}
    assert first["previous_cursor"] is None
    assert "/" not in first["next_cursor"] and "http" not in first["next_cursor"]
    seen = [item["id"] for item in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = api.get("/notes-by-cursor", {"limit": 2, "cursor": cursor}).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
    assert seen == sorted(notes, reverse=True)  # newest first


@pytest.mark.parametrize("cursor", ["garbage", "cD05OTk5OTk5OTk5OTk5OTk5OTk5OTk5", ""])
def test_a_cursor_we_did_not_hand_out_is_a_400(api, notes, cursor):
    body = assert_problem(api.get("/notes-by-cursor", {"cursor": cursor}), 400)

    assert "cursor" in str(body)


@pytest.mark.parametrize("limit", ["0", "101", "two"])
def test_a_bad_limit_is_a_400(api, notes, limit):
    assert_problem(api.get("/notes-by-cursor", {"limit": limit}), 400)
