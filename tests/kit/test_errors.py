"""The domain's errors (services.kit.errors) leave as the same problems DRF's and Django's did.

This module is its own URLconf: each view raises what a service would.
"""

import pytest
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404
from django.urls import path
from rest_framework import exceptions
from rest_framework.test import APIClient
from rest_framework.views import APIView

from services.kit.errors import Conflict, DomainError, FieldError, Invalid, NotFound, Unavailable
from services.kit.models import IdempotencyRecord
from tests.helpers import assert_problem

pytestmark = [pytest.mark.urls(__name__)]

RAISED = {
    "not-found": lambda: NotFound.of(IdempotencyRecord, "There is no record with id 7."),
    "drf-not-found": lambda: exceptions.NotFound("There is no record with id 7."),
    "conflict": lambda: Conflict("Order 7 is paid already."),
    "drf-conflict": lambda: _DrfConflict("Order 7 is paid already."),
    "invalid": lambda: Invalid(
        [
            FieldError(("items", 1, "item"), "'lobster' is not on the menu.", "does_not_exist"),
            FieldError(("discount_code",), "Not a valid discount code."),
            FieldError(("a/b~c",), "Escaped."),
        ]
    ),
    "unavailable": lambda: Unavailable("The FAQ is unreachable.", retry_after=30),
    "unavailable-bare": lambda: Unavailable(),
    "refused": lambda: DomainError("Not like this."),
}


class _DrfConflict(exceptions.APIException):
    status_code = 409


class Raises(APIView):
    def get(self, request, kind):
        raise RAISED[kind]()


def plain_view(request, kind):  # no DRF: the kit's middleware renders it
    raise RAISED[kind]()


urlpatterns = [
    path("drf/<str:kind>", Raises.as_view()),
    path("plain/<str:kind>", plain_view),
]


@pytest.fixture
def api():
    return APIClient()


def without_request_id(body: dict) -> dict:
    return {name: value for name, value in body.items() if name != "request_id"}


@pytest.mark.parametrize("base", ["drf", "plain"])
def test_not_found_is_the_404_that_django_and_drf_give(api, base):
    body = assert_problem(api.get(f"/{base}/not-found"), 404)

    assert without_request_id(body) == {
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "There is no record with id 7.",
    }
    assert body == {
        **assert_problem(api.get("/drf/drf-not-found"), 404),
        "request_id": body["request_id"],
    }


def test_not_found_of_a_model_is_also_its_does_not_exist():
    error = NotFound.of(IdempotencyRecord, "gone")

    assert isinstance(error, IdempotencyRecord.DoesNotExist)
    assert isinstance(error, ObjectDoesNotExist)
    assert type(error) is type(NotFound.of(IdempotencyRecord, "again"))  # one class per model
    with pytest.raises(IdempotencyRecord.DoesNotExist, match="gone"):
        raise error


@pytest.mark.parametrize("base", ["drf", "plain"])
def test_conflict_is_a_409_with_its_detail(api, base):
    body = assert_problem(api.get(f"/{base}/conflict"), 409)

    assert without_request_id(body) == {
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "Order 7 is paid already.",
    }
    assert without_request_id(body) == without_request_id(
        assert_problem(api.get("/drf/drf-conflict"), 409)
    )


@pytest.mark.parametrize("base", ["drf", "plain"])
def test_invalid_points_at_each_field_error(api, base):
    body = assert_problem(
        api.get(f"/{base}/invalid"), 400, type="https://switchyard.dev/problems/validation-error"
    )

    assert body["title"] == "Your request is not valid"
    assert body["detail"] == "3 fields failed validation; see errors."
    assert body["errors"] == [
        {
            "pointer": "#/items/1/item",
            "detail": "'lobster' is not on the menu.",
            "code": "does_not_exist",
        },
        {"pointer": "#/discount_code", "detail": "Not a valid discount code.", "code": "invalid"},
        {"pointer": "#/a~1b~0c", "detail": "Escaped.", "code": "invalid"},
    ]


def test_invalid_is_a_django_validation_error_keyed_by_field_name():
    error = Invalid(
        [
            FieldError(("items", 0, "item"), "'lobster' is not on the menu."),
            FieldError(("items", 2, "item"), "'caviar' is not on the menu."),
            FieldError(("order_id",), "There is no order with id 7.", "does_not_exist"),
        ]
    )

    assert isinstance(error, ValidationError)
    assert error.message_dict == {
        "item": ["'lobster' is not on the menu.", "'caviar' is not on the menu."],
        "order_id": ["There is no order with id 7."],
    }
    assert [e.code for e in error.error_dict["order_id"]] == ["does_not_exist"]
    assert str(error).startswith("items/0/item: 'lobster' is not on the menu.")


def test_invalid_field_names_one_value():
    error = Invalid.field("discount_code", message="Not a valid discount code.")

    assert error.errors == (FieldError(("discount_code",), "Not a valid discount code."),)


@pytest.mark.parametrize("base", ["drf", "plain"])
def test_unavailable_is_a_503_that_says_when_to_retry(api, base):
    response = api.get(f"/{base}/unavailable")

    body = assert_problem(response, 503)
    assert (body["title"], body["detail"]) == ("Service Unavailable", "The FAQ is unreachable.")
    assert response["Retry-After"] == "30"


def test_unavailable_without_a_known_delay_has_no_retry_after(api):
    response = api.get("/drf/unavailable-bare")

    assert assert_problem(response, 503)["detail"] == Unavailable.default_detail
    assert "Retry-After" not in response


def test_any_other_domain_refusal_is_a_400(api):
    body = assert_problem(api.get("/drf/refused"), 400)

    assert (body["title"], body["detail"]) == ("Bad Request", "Not like this.")


def test_domain_errors_carry_nothing_of_http():
    for make in RAISED.values():
        error = make()
        if isinstance(error, DomainError):
            assert not isinstance(error, exceptions.APIException | Http404)
            assert not hasattr(error, "status_code")
