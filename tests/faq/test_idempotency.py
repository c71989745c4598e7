"""Idempotency-Key on FAQ creates: what a retrying client (the tickets service) relies on."""

import datetime as dt
import threading
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from contracts import load as load_contract
from services.faq.models import Entry
from services.kit.idempotency import _fingerprint
from services.kit.models import IdempotencyRecord
from tests.helpers import assert_problem

BODY = {"question": "Promoted?", "source": {"kind": "ticket", "ref": "17"}}


def create(api, body=BODY, key="ticket-17-promotion", version="v2"):
    return api.post(f"/{version}/faqs", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_a_retry_with_the_same_key_replays_the_first_response(api, conforms):
    first = conforms("v2", create(api))
    again = conforms("v2", create(api))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Entry.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(api, conforms):
    create(api)

    response = conforms("v2", create(api, body={**BODY, "question": "Something else?"}))

    body = assert_problem(response, 422)
    assert "different request" in body["detail"]
    assert Entry.objects.count() == 1


@pytest.mark.django_db
def test_a_key_still_in_flight_is_a_409(api, conforms):
    request = SimpleNamespace(
        method="POST",
        path="/v2/faqs",
        body=b'{"question":"Promoted?","source":{"kind":"ticket","ref":"17"}}',
    )
    IdempotencyRecord.objects.create(
        scope="-", key="busy", method="POST", path="/v2/faqs", fingerprint=_fingerprint(request)
    )

    response = api.generic(
        "POST",
        "/v2/faqs",
        request.body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="busy",
    )

    assert_problem(conforms("v2", response), 409)
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_an_abandoned_claim_is_taken_over(api):
    request = SimpleNamespace(
        method="POST",
        path="/v2/faqs",
        body=b'{"question":"Promoted?","source":{"kind":"ticket","ref":"17"}}',
    )
    record = IdempotencyRecord.objects.create(
        scope="-", key="dead", method="POST", path="/v2/faqs", fingerprint=_fingerprint(request)
    )
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        created_at=timezone.now() - dt.timedelta(minutes=5)
    )

    response = api.generic(
        "POST",
        "/v2/faqs",
        request.body,
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="dead",
    )

    assert response.status_code == 201
    assert Entry.objects.count() == 1


@pytest.mark.django_db
def test_a_failed_request_releases_its_key(api):
    bad = create(api, body={"question": ""})
    good = create(api)

    assert bad.status_code == 400
    assert good.status_code == 201
    assert IdempotencyRecord.objects.get().completed_at is not None


@pytest.mark.django_db
def test_keys_are_scoped_per_consumer(api):
    create(api)
    other = api.post(
        "/v2/faqs",
        BODY,
        format="json",
        HTTP_IDEMPOTENCY_KEY="ticket-17-promotion",
        HTTP_X_SWITCHYARD_CONSUMER="someone-else",
    )

    assert other.status_code == 201
    assert Entry.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "has space", "ünï"])
def test_an_unusable_key_is_a_400(api, key):
    assert_problem(create(api, key=key), 400)
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_without_a_key_creates_are_not_deduplicated(api):
    api.post("/v1/faqs", {"question": "Q?", "source": "s"}, format="json")
    api.post("/v1/faqs", {"question": "Q?", "source": "s"}, format="json")

    assert Entry.objects.count() == 2


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_create_exactly_one_entry():
    from rest_framework.test import APIClient

    results = []
    barrier = threading.Barrier(12)

    def send():
        barrier.wait()
        results.append(create(APIClient(), key="race"))
        connection.close()

    threads = [threading.Thread(target=send) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Entry.objects.count() == 1
    done = [r for r in results if r.status_code != 409]
    assert {r.status_code for r in done} == {201}
    assert len({r.content for r in done}) == 1


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_retry_after_the_created_entry_was_deleted_is_a_410_and_creates_nothing(
    api, conforms, version
):
    body = {**BODY, "source": "17"} if version == "v1" else BODY
    first = create(api, body=body, key="deleted-since", version=version)
    assert api.delete(first["Location"]).status_code == 204

    again = conforms(version, create(api, body=body, key="deleted-since", version=version))

    problem = assert_problem(again, 410)
    assert problem["type"].endswith("/idempotency")
    assert first["Location"] in problem["detail"] and "deleted" in problem["detail"]
    assert "Location" not in again and "Idempotent-Replayed" not in again
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_a_retry_through_the_gateway_prefix_after_a_delete_is_a_410(api, conforms):
    prefix = {"HTTP_X_FORWARDED_PREFIX": "/faq"}
    first = api.post("/v2/faqs", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k", **prefix)
    assert first["Location"].startswith("/faq/v2/faqs/")
    Entry.objects.all().delete()

    again = api.post("/v2/faqs", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k", **prefix)

    assert_problem(conforms("v2", again), 410)
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_a_retry_through_the_gateway_prefix_while_the_entry_exists_replays_the_201(api, conforms):
    prefix = {"HTTP_X_FORWARDED_PREFIX": "/faq"}
    first = api.post("/v2/faqs", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k", **prefix)

    again = api.post("/v2/faqs", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k", **prefix)

    assert conforms("v2", again).status_code == 201
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Entry.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "key", ["x" * 256, "clé", "with space", "tab\tinside"], ids=["256", "non-ascii", "space", "tab"]
)
def test_a_key_outside_the_contracts_pattern_is_a_400_and_creates_nothing(api, conforms, key):
    response = api.generic(
        "POST",
        "/v2/faqs",
        b'{"question":"Promoted?","source":{"kind":"ticket"}}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY=key.encode().decode("latin-1"),
    )

    problem = assert_problem(conforms("v2", response), 400)
    assert "1 to 255 visible ASCII characters" in problem["detail"]
    assert Entry.objects.count() == 0


@pytest.mark.django_db
def test_a_key_of_255_visible_characters_is_accepted(api, conforms):
    response = conforms("v2", create(api, key="~" * 255))

    assert response.status_code == 201
    assert Entry.objects.count() == 1


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_the_contract_states_the_keys_pattern(version):
    operation = load_contract("faq", version)["paths"][f"/{version}/faqs"]["post"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")

    assert parameter["schema"] == {
        "type": "string",
        "minLength": 1,
        "maxLength": 255,
        "pattern": "^[\\x21-\\x7e]{1,255}$",
    }
    assert "410" in operation["responses"]
