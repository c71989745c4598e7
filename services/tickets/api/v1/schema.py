"""Tickets v1's contract, operation by operation: ids, texts, parameters, responses and
examples. Each name decorates the view method of the same operation."""

from drf_spectacular.utils import OpenApiExample, extend_schema

from services.kit.schema import (
    BODY_ERRORS,
    COMMON_ERRORS,
    IDEMPOTENCY_ERRORS,
    idempotency_key,
)
from services.tickets.api.schema import (
    CLOSED_CONFLICT,
    COMMENT_EXAMPLE,
    RESOLVE_CONFLICT,
    TRANSITION_CONFLICT,
    ticket_problems,
)
from services.tickets.api.v1.serializers import (
    CommentCreateSerializer,
    CommentSerializer,
    ResolveSerializer,
    StatusSerializer,
    TicketCreateSerializer,
    TicketSerializer,
)

TAGS = ["tickets"]
TICKET_EXAMPLE = {
    "id": 17,
    "subject": "My card was declined",
    "body": "The renewal of order ord_1042 failed although the card is valid.",
    "requester": "ada@example.com",
    "status": "open",
    "order_ref": "ord_1042",
    "answer": "",
    "promotion": None,
    "created_at": "2026-11-02T09:30:00Z",
    "updated_at": "2026-11-02T09:30:00Z",
    "resolved_at": None,
}
RESOLVED_EXAMPLE = {
    **TICKET_EXAMPLE,
    "status": "resolved",
    "answer": "Your bank blocked the payment; it goes through once they allow it.",
    "promotion": {
        "status": "done",
        "faq_version": "v1",
        "faq_entry_id": 41,
        "attempts": 1,
        "last_error": None,
        "created_at": "2026-11-02T10:05:12Z",
        "delivered_at": "2026-11-02T10:05:12Z",
    },
    "updated_at": "2026-11-02T10:05:12Z",
    "resolved_at": "2026-11-02T10:05:12Z",
}


ticket_list = extend_schema(
    operation_id="ticket_list",
    summary="List tickets, oldest first",
    description=(
        "Pages of tickets (`page`, `page_size` up to 100), filtered by text, requester or status."
    ),
    tags=TAGS,
    # 404: a page number past the last page.
    responses={200: TicketSerializer(many=True), **ticket_problems(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("A page", response_only=True, value=TICKET_EXAMPLE)],
)

ticket_create = extend_schema(
    operation_id="ticket_create",
    summary="Open a ticket",
    description="Send an `Idempotency-Key` (billing: one per declined payment) and a retry "
    "can never open a second ticket.",
    tags=TAGS,
    request=TicketCreateSerializer,
    parameters=[idempotency_key()],
    responses={
        201: TicketSerializer,
        **ticket_problems(*BODY_ERRORS, *IDEMPOTENCY_ERRORS, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "About an order",
            request_only=True,
            value={
                "subject": "My card was declined",
                "body": "The renewal of order ord_1042 failed although the card is valid.",
                "requester": "ada@example.com",
                "order_ref": "ord_1042",
            },
        ),
        OpenApiExample("Opened", response_only=True, status_codes=[201], value=TICKET_EXAMPLE),
    ],
)

ticket_retrieve = extend_schema(
    operation_id="ticket_retrieve",
    summary="Get a ticket",
    description="One ticket by id; 404 when there is none.",
    tags=TAGS,
    responses={200: TicketSerializer, **ticket_problems(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("A ticket", response_only=True, value=TICKET_EXAMPLE)],
)

comment_list = extend_schema(
    operation_id="ticket_comment_list",
    summary="List a ticket's comments, oldest first",
    description=(
        "Pages of the ticket's comments (`page`, `page_size` up to 100); 404 when there is no "
        "such ticket."
    ),
    tags=TAGS,
    # 404: no such ticket, or a page number past the last page.
    responses={200: CommentSerializer(many=True), **ticket_problems(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("A page", response_only=True, value=COMMENT_EXAMPLE)],
)

comment_create = extend_schema(
    operation_id="ticket_comment_create",
    summary="Comment on a ticket",
    description="Adds a comment and returns it; 404 when there is no such ticket.",
    tags=TAGS,
    request=CommentCreateSerializer,
    responses={
        201: CommentSerializer,
        **ticket_problems(*BODY_ERRORS, 404, *COMMON_ERRORS, conflict=CLOSED_CONFLICT),
    },
    examples=[
        OpenApiExample(
            "A question back",
            request_only=True,
            value={"author": COMMENT_EXAMPLE["author"], "body": COMMENT_EXAMPLE["body"]},
        ),
        OpenApiExample("Commented", response_only=True, status_codes=[201], value=COMMENT_EXAMPLE),
    ],
)

ticket_status = extend_schema(
    operation_id="ticket_status",
    summary="Change a ticket's status",
    description=(
        "Moves the ticket along its workflow (open → pending → resolved / closed); a move the "
        "workflow does not allow is refused."
    ),
    tags=TAGS,
    request=StatusSerializer,
    responses={
        200: TicketSerializer,
        **ticket_problems(*BODY_ERRORS, 404, *COMMON_ERRORS, conflict=TRANSITION_CONFLICT),
    },
    examples=[
        OpenApiExample("Wait for the requester", request_only=True, value={"status": "pending"}),
        OpenApiExample(
            "Changed", response_only=True, value={**TICKET_EXAMPLE, "status": "pending"}
        ),
    ],
)

ticket_resolve = extend_schema(
    operation_id="ticket_resolve",
    summary="Resolve a ticket with an answer, and promote it to the FAQ",
    description="With `promote`, the subject and the answer become a FAQ entry. The ticket "
    "is resolved whether or not the FAQ is reachable: `promotion.status` stays `pending` "
    "and the promotion is retried until the FAQ takes it (exactly once).",
    tags=TAGS,
    request=ResolveSerializer,
    responses={
        200: TicketSerializer,
        **ticket_problems(*BODY_ERRORS, 404, *COMMON_ERRORS, conflict=RESOLVE_CONFLICT),
    },
    examples=[
        OpenApiExample(
            "Resolve and promote",
            request_only=True,
            value={"answer": RESOLVED_EXAMPLE["answer"], "promote": True},
        ),
        OpenApiExample("Resolved", response_only=True, value=RESOLVED_EXAMPLE),
    ],
)
