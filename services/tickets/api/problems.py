"""What both API versions share about errors: their documentation in the contracts (the kit's
exception handler renders the domain's conflicts as 409 problems)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from services.kit import problems
from services.kit.schema import ProblemSerializer, problem_responses

NOT_FOUND_EXAMPLE = OpenApiExample(
    "Not found",
    value={
        "type": "about:blank",
        "title": "Not Found",
        "status": 404,
        "detail": "There is no ticket with id 17.",
    },
)
CONFLICT_EXAMPLE = OpenApiExample(
    "Not allowed in this status",
    value={
        "type": "about:blank",
        "title": "Conflict",
        "status": 409,
        "detail": "Ticket 17 is closed and cannot become open: a closed ticket never changes.",
    },
)


def ticket_problems(*codes: int, conflict: str | None = None) -> dict:
    """``problem_responses(*codes)`` with a ticket's 404 example and, with ``conflict``, a 409
    that says which state conflicts (the kit's own 409 is about Idempotency-Key)."""
    responses = problem_responses(*codes)
    key = (404, problems.CONTENT_TYPE)
    if key in responses:
        responses[key] = OpenApiResponse(
            response=ProblemSerializer,
            description=responses[key].description,
            examples=[NOT_FOUND_EXAMPLE],
        )
    if conflict:
        responses[(409, problems.CONTENT_TYPE)] = OpenApiResponse(
            response=ProblemSerializer, description=conflict, examples=[CONFLICT_EXAMPLE]
        )
    return responses
