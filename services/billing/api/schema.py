"""What both versions' contracts share: example data, and the kit's problem responses with
billing's own examples and the meaning of a 409 here."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from services.kit import problems
from services.kit.schema import ProblemSerializer, problem_responses

MENU_ITEMS = [
    {"code": "salad", "name": "Garden salad", "price": 850},
    {"code": "omelet", "name": "Omelet", "price": 950},
    {"code": "coffee", "name": "Coffee", "price": 300},
]
CARD = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}

_EXAMPLES = {
    400: [
        OpenApiExample(
            "Validation failed",
            value={
                "type": problems.VALIDATION,
                "title": "Your request is not valid",
                "status": 400,
                "detail": "1 field failed validation; see errors.",
                "errors": [
                    {
                        "pointer": "#/payments/0/amount",
                        "detail": "Ensure this value is greater than or equal to 1.",
                        "code": "min_value",
                    }
                ],
                "request_id": "6f1c0e0fd2a44d0c9a4f7f7f1f2b3c4d",
            },
        ),
        OpenApiExample(
            "Malformed JSON",
            value={
                "type": problems.MALFORMED_BODY,
                "title": "Malformed request body",
                "status": 400,
                "detail": "The body is not valid JSON: Expecting value: line 1 column 1 (char 0)",
            },
        ),
        OpenApiExample(
            "No Idempotency-Key",
            value={
                "type": problems.problem_type("idempotency"),
                "title": "Bad Request",
                "status": 400,
                "detail": "This call needs an Idempotency-Key header (a fresh UUID).",
            },
        ),
    ],
    404: [
        OpenApiExample(
            "Not found",
            value={
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "There is no order with id 17.",
            },
        )
    ],
    409: [
        OpenApiExample(
            "Closed order",
            value={
                "type": "about:blank",
                "title": "Conflict",
                "status": 409,
                "detail": "Order 17 is billed: it takes no more changes.",
            },
        ),
        OpenApiExample(
            "Key in flight",
            value={
                "type": problems.problem_type("idempotency"),
                "title": "Conflict",
                "status": 409,
                "detail": "A request with Idempotency-Key 'b3c1…' is still being handled; retry "
                "shortly.",
            },
        ),
    ],
}

_DESCRIPTIONS = {
    400: "The request is malformed, its body is invalid (`errors` names each invalid member), "
    "or a required Idempotency-Key is missing or unusable.",
    409: "The order's state does not allow this (closed, already paid, nothing pending, more "
    "than is due), or a request with the same Idempotency-Key is still being handled.",
}


def billing_problems(*codes: int) -> dict:
    """``problem_responses(*codes)``, described and exemplified for billing."""
    responses = problem_responses(*codes)
    for code in codes:
        key = (code, problems.CONTENT_TYPE)
        if code in _EXAMPLES or code in _DESCRIPTIONS:
            kit = responses[key]
            responses[key] = OpenApiResponse(
                response=ProblemSerializer,
                description=_DESCRIPTIONS.get(code, kit.description),
                examples=_EXAMPLES.get(code, kit.examples),
            )
    return responses
