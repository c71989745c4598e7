"""Text fields: trimmed before they are stored, measured as sent, and the contract says both."""

import re

import pytest
from rest_framework.test import APIClient

from contracts import load as load_contract
from services.faq.models import Entry
from services.kit.fields import HTTP_URL, NOT_BLANK
from tests.helpers import assert_problem, conformance, published_contracts, rolled_back

QUESTION_MAX = 500


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(scope="module")
def conforms():
    return conformance(published_contracts("faq"))


def create(api, question: str):
    body = {"question": question, "source": {"kind": "ticket", "ref": "4711"}}
    return api.post("/v2/faqs", body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize("padding", [" ", "\n", "\t "])
def test_text_over_the_limit_only_by_its_padding_is_refused(api, conforms, padding):
    question = "q" * QUESTION_MAX + padding

    with rolled_back():
        response = conforms("v2", create(api, question))

    problem = assert_problem(response, 400)
    assert problem["errors"] == [
        {
            "pointer": "#/question",
            "code": "max_length",
            "detail": f"Ensure this field has no more than {QUESTION_MAX} characters.",
        }
    ]
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_text_at_the_limit_with_its_padding_is_stored_trimmed(api, conforms):
    question = " " + "q" * (QUESTION_MAX - 2) + " "

    response = conforms("v2", create(api, question))

    assert response.status_code == 201
    assert response.json()["question"] == "q" * (QUESTION_MAX - 2)
    assert Entry.objects.get().question == "q" * (QUESTION_MAX - 2)


@pytest.mark.django_db
def test_text_of_spaces_only_is_blank(api, conforms):
    response = conforms("v2", create(api, "   "))

    problem = assert_problem(response, 400)
    assert [error["code"] for error in problem["errors"]] == ["blank"]
    assert Entry.objects.count() == 0


def test_the_contract_says_lengths_count_as_sent_and_blank_text_is_refused():
    schema = load_contract("faq", "v2")["components"]["schemas"]["EntryCreateRequest"]
    question = schema["properties"]["question"]

    assert question["maxLength"] == QUESTION_MAX
    assert question["minLength"] == 1
    assert question["pattern"] == NOT_BLANK
    assert (
        re.match(NOT_BLANK, " q ")
        and not re.match(NOT_BLANK, " \t")
        and not re.match(NOT_BLANK, "q\x00")
    )
    assert "as sent" in load_contract("faq", "v2")["info"]["description"]


@pytest.mark.parametrize(
    ("url", "in_pattern", "accepted"),
    [
        ("https://example.com/a/b", True, True),
        ("http://docs.example.org", True, True),
        ("HTTP://user:pw@docs.example.org:8080/?q#f", False, True),  # a subset: still taken
        ("http://0?000", False, False),  # no dotted host name: Django refuses it
        ("ftp://example.com/", False, True),
        ("https://example.com/a b", False, False),
        ("http://*é:à@example.com/", False, False),  # not a URI: to be percent-encoded
    ],
)
@pytest.mark.django_db
def test_every_url_the_contracts_pattern_allows_is_accepted(api, url, in_pattern, accepted):
    body = {"question": "Where?", "source": {"kind": "docs", "url": url}}

    response = api.post("/v2/faqs", body, format="json")

    assert bool(re.match(HTTP_URL, url)) is in_pattern
    assert response.status_code == (201 if accepted else 400), response.content
