"""FAQ v2's contract, operation by operation: ids, texts, parameters, responses and
examples. Each name decorates the view method of the same operation."""

from drf_spectacular.utils import OpenApiExample, extend_schema

from services.faq.api.v2.serializers import (
    EntryCreateSerializer,
    EntrySerializer,
    EntryUpdateSerializer,
)
from services.kit.schema import (
    BODY_ERRORS,
    COMMON_ERRORS,
    IDEMPOTENCY_ERRORS,
    REPLAY_GONE,
    idempotency_key,
    problem_responses,
)

TAGS = ["faq"]
ENTRY_EXAMPLE = {
    "id": 17,
    "question": "How do I reset my password?",
    "answer": "Use the 'Forgot password' link on the sign-in page.",
    "answered": True,
    "source": {"kind": "ticket", "ref": "4711", "url": None},
    "related": [3, 9],
    "created_at": "2026-11-02T09:30:00Z",
    "updated_at": "2026-11-02T10:05:12Z",
}


entry_list = extend_schema(
    operation_id="faq_list",
    summary="List FAQ entries, newest first",
    description=(
        "A cursor page (`cursor`, `limit` up to 100) that stays stable while entries come and "
        "go; filter by text, source, related entry and dates."
    ),
    tags=TAGS,
    responses={200: EntrySerializer(many=True), **problem_responses(*COMMON_ERRORS)},
    examples=[OpenApiExample("A page", response_only=True, value=ENTRY_EXAMPLE)],
)

entry_create = extend_schema(
    operation_id="faq_create",
    summary="Create a FAQ entry",
    description=(
        "`source` says where the question came from; `related` names existing entries. "
        "Retrying with the same `Idempotency-Key` and body replays the first answer."
    ),
    tags=TAGS,
    request=EntryCreateSerializer,
    parameters=[idempotency_key()],
    responses={
        201: EntrySerializer,
        **problem_responses(*BODY_ERRORS, *IDEMPOTENCY_ERRORS, REPLAY_GONE, *COMMON_ERRORS),
    },
    examples=[
        OpenApiExample(
            "From a ticket, with related entries",
            request_only=True,
            value={
                "question": "How do I reset my password?",
                "source": {"kind": "ticket", "ref": "4711"},
                "related": [3, 9],
            },
        ),
        OpenApiExample("Created", response_only=True, status_codes=[201], value=ENTRY_EXAMPLE),
    ],
)

entry_retrieve = extend_schema(
    operation_id="faq_retrieve",
    summary="Get a FAQ entry",
    description=("One entry by id, with its source and related entries; 404 when there is none."),
    tags=TAGS,
    responses={200: EntrySerializer, **problem_responses(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("An entry", response_only=True, value=ENTRY_EXAMPLE)],
)

entry_update = extend_schema(
    operation_id="faq_update",
    summary="Change a FAQ entry",
    description=("Changes only the fields sent (answer, related entries) and returns the entry."),
    tags=TAGS,
    request=EntryUpdateSerializer,
    responses={200: EntrySerializer, **problem_responses(*BODY_ERRORS, 404, *COMMON_ERRORS)},
    examples=[
        OpenApiExample(
            "Answer and relate",
            request_only=True,
            value={"answer": "Use the 'Forgot password' link.", "related": [3]},
        ),
        OpenApiExample("Changed", response_only=True, value=ENTRY_EXAMPLE),
    ],
)

entry_delete = extend_schema(
    operation_id="faq_delete",
    summary="Delete a FAQ entry",
    description="Deletes the entry for good; 404 when there is none.",
    tags=TAGS,
    responses={204: None, **problem_responses(404, *COMMON_ERRORS)},
)
