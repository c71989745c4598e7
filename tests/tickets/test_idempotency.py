"""Idempotency-Key on ticket creates: billing opens one ticket per declined payment, never two."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from services.tickets.models import Ticket
from tests.helpers import assert_problem

BODIES = {
    "v1": {"subject": "Payment declined", "body": "Order ord_1042.", "requester": "b@example.com"},
    "v2": {
        "subject": "Payment declined",
        "body": "Order ord_1042.",
        "requester": {"email": "b@example.com"},
        "order_ref": "ord_1042",
    },
}
KEY = "declined-payment-pay_7781"


def create(api, version="v2", body=None, key=KEY, **extra):
    body = body or BODIES[version]
    return api.post(f"/{version}/tickets", body, format="json", HTTP_IDEMPOTENCY_KEY=key, **extra)


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["v1", "v2"])
def test_a_retry_with_the_same_key_replays_the_first_ticket(api, conforms, version):
    first = conforms(version, create(api, version))
    again = conforms(version, create(api, version))

    assert first.status_code == again.status_code == 201
    assert again.content == first.content
    assert again["Location"] == first["Location"]
    assert again["Idempotent-Replayed"] == "true"
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_the_same_key_with_another_body_is_refused(api, conforms):
    create(api)

    response = conforms("v2", create(api, body={**BODIES["v2"], "subject": "Another"}))

    assert "different request" in assert_problem(response, 422)["detail"]
    assert Ticket.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_consumer(api):
    create(api, HTTP_X_SWITCHYARD_CONSUMER="billing-app")
    create(api, HTTP_X_SWITCHYARD_CONSUMER="support-app")

    assert Ticket.objects.count() == 2


@pytest.mark.django_db
def test_without_a_key_creates_are_not_deduplicated(api):
    api.post("/v2/tickets", BODIES["v2"], format="json")
    api.post("/v2/tickets", BODIES["v2"], format="json")

    assert Ticket.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "has space"])
def test_an_unusable_key_is_a_400(api, key):
    assert_problem(create(api, key=key), 400)
    assert not Ticket.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers")
@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicates_open_exactly_one_ticket():
    results = []
    barrier = threading.Barrier(8)

    def send():
        try:
            barrier.wait()
            results.append(create(APIClient()))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert Ticket.objects.count() == 1
    done = [r for r in results if r.status_code != 409]
    assert {r.status_code for r in done} == {201}
    assert len({r.content for r in done}) == 1
