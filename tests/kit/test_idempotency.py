"""services/kit/idempotency.py on a view of its own: the first answer replayed, another body a 422,
a key in flight a 409, none a 400, and a failed attempt leaves nothing behind."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from services.kit.idempotency import purge
from services.kit.models import IdempotencyRecord
from tests.helpers import assert_problem
from tests.kit.app.models import Note

pytestmark = [pytest.mark.urls("tests.kit.urls"), pytest.mark.django_db]

IDEMPOTENCY = "https://switchyard.dev/problems/idempotency"


@pytest.fixture
def api():
    return APIClient()


def post(api, body, key="k-1", **headers):
    return api.post("/notes", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **headers)


def test_the_same_key_and_body_replay_the_first_answer_and_do_nothing_again(api):
    first = post(api, {"question": "Q?"})
    again = post(api, {"question": "Q?"})

    assert first.status_code == 201
    assert (again.status_code, again.content) == (201, first.content)
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert Note.objects.count() == 1


def test_the_same_key_with_another_body_is_a_422_and_does_nothing(api):
    post(api, {"question": "Q?"})

    response = post(api, {"question": "Another?"})

    body = assert_problem(response, 422, type=IDEMPOTENCY)
    assert "different request" in body["detail"]
    assert Note.objects.count() == 1


def test_a_key_still_in_flight_is_a_409(api):
    post(api, {"question": "Q?"}, key="elsewhere")  # the fingerprint of the same request
    IdempotencyRecord.objects.update(completed_at=None, status=None)  # as if still running

    response = post(api, {"question": "Q?"}, key="elsewhere")

    assert_problem(response, 409, type=IDEMPOTENCY)
    assert Note.objects.count() == 1


def test_an_abandoned_claim_can_be_taken_over(api):
    post(api, {"question": "Q?"})
    IdempotencyRecord.objects.update(
        completed_at=None, created_at=timezone.now() - dt.timedelta(minutes=5)
    )

    assert post(api, {"question": "Q?"}).status_code == 201
    assert Note.objects.count() == 2


def test_a_required_key_that_is_missing_or_malformed_is_a_400(api):
    missing = api.post("/notes", {"question": "Q?"}, format="json")
    malformed = post(api, {"question": "Q?"}, key="é" * 3)
    too_long = post(api, {"question": "Q?"}, key="k" * 256)

    assert "Idempotency-Key header" in assert_problem(missing, 400, type=IDEMPOTENCY)["detail"]
    assert_problem(malformed, 400, type=IDEMPOTENCY)
    assert_problem(too_long, 400, type=IDEMPOTENCY)
    assert not Note.objects.exists()


def test_a_failed_attempt_is_undone_and_the_key_may_be_retried(api):
    failed = post(api, {"question": "Q?", "fail": True})

    assert failed.status_code == 503
    assert not Note.objects.exists()  # the work rolled back with the failure
    assert not IdempotencyRecord.objects.exists()
    assert post(api, {"question": "Q?", "fail": True}).status_code == 503
    assert post(api, {"question": "Q?"}).status_code == 201


def test_keys_are_scoped_by_caller(api, monkeypatch):
    post(api, {"question": "Q?"})
    IdempotencyRecord.objects.update(scope="another-consumer")

    assert "Idempotent-Replayed" not in post(api, {"question": "Q?"})
    assert Note.objects.count() == 2


def test_purge_removes_only_old_keys(api):
    post(api, {"question": "Q?"}, key="old")
    post(api, {"question": "Q?"}, key="new")
    IdempotencyRecord.objects.filter(key="old").update(
        created_at=timezone.now() - dt.timedelta(hours=25)
    )

    assert purge() == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
