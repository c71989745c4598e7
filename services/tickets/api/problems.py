"""What both API versions share about errors: the domain's conflicts as 409 problems, and their
documentation in the contracts."""

from collections.abc import Iterator
from contextlib import contextmanager

from drf_spectacular.utils import OpenApiExample, OpenApiResponse
from rest_framework.exceptions import APIException

from services.kit import problems
from services.kit.schema import ProblemSerializer, problem_responses
from services.tickets.services import TicketConflict

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


class Conflict(APIException):
    status_code = 409
    default_detail = "The ticket's current state does not allow this change."
    default_code = "conflict"


@contextmanager
def conflicts() -> Iterator[None]:
    """Turn the domain's refusals (an illegal transition, a closed ticket) into 409 problems."""
    try:
        yield
    except TicketConflict as exc:
        raise Conflict(str(exc)) from exc


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
