"""What both API versions' contracts share: example data, the texts of the 409s, and the
documentation of errors (the kit's exception handler renders the domain's conflicts as 409
problems)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from services.kit import problems
from services.kit.schema import ProblemSerializer, problem_responses

COMMENT_EXAMPLE = {
    "id": 5,
    "author": "agent.grace@example.com",
    "body": "Could you tell us the last four digits of the card?",
    "created_at": "2026-11-02T09:41:00Z",
}
TRANSITION_CONFLICT = "The ticket's status does not allow this change (closed is final)."
CLOSED_CONFLICT = "The ticket is closed and takes no more comments."
RESOLVE_CONFLICT = (
    "The ticket cannot be resolved in its status (it is resolved or closed), or it was "
    "promoted to the FAQ already."
)

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
