"""FAQ v1's contract, operation by operation: ids, texts, parameters, responses and
examples. Each name decorates the view method of the same operation."""

from drf_spectacular.utils import OpenApiExample, extend_schema

from services.faq.api.v1.serializers import AnswerSerializer, EntryCreateSerializer, EntrySerializer
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
    "source": "4711",
    "created": "2026-11-02T09:30:00Z",
    "updated": "2026-11-02T10:05:12Z",
}


entry_list = extend_schema(
    operation_id="faq_list",
    summary="List FAQ entries",
    description=(
        "Pages of entries (`page`, `page_size` up to 100); `q` searches questions and "
        "answers, `source` keeps one kind of source."
    ),
    tags=TAGS,
    # 404: a page number past the last page.
    responses={200: EntrySerializer(many=True), **problem_responses(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("A page", response_only=True, value=ENTRY_EXAMPLE)],
)

entry_create = extend_schema(
    operation_id="faq_create",
    summary="Create a FAQ entry",
    description=(
        "The answer may come later (`PUT …/answer`). Retrying with the same `Idempotency-Key` "
        "and body replays the first answer."
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
            "From a ticket",
            request_only=True,
            value={"question": "How do I reset my password?", "source": "4711"},
        ),
        OpenApiExample("Created", response_only=True, status_codes=[201], value=ENTRY_EXAMPLE),
    ],
)

entry_retrieve = extend_schema(
    operation_id="faq_retrieve",
    summary="Get a FAQ entry",
    description="One entry by id; 404 when there is none.",
    tags=TAGS,
    responses={200: EntrySerializer, **problem_responses(404, *COMMON_ERRORS)},
    examples=[OpenApiExample("An entry", response_only=True, value=ENTRY_EXAMPLE)],
)

entry_delete = extend_schema(
    operation_id="faq_delete",
    summary="Delete a FAQ entry",
    description="Deletes the entry for good; 404 when there is none.",
    tags=TAGS,
    responses={204: None, **problem_responses(404, *COMMON_ERRORS)},
)

entry_answer = extend_schema(
    operation_id="faq_answer",
    summary="Set the answer of a FAQ entry",
    description="Replaces the entry's answer and returns the entry.",
    tags=TAGS,
    request=AnswerSerializer,
    responses={200: EntrySerializer, **problem_responses(*BODY_ERRORS, 404, *COMMON_ERRORS)},
    examples=[
        OpenApiExample(
            "Answer",
            request_only=True,
            value={"answer": "Use the 'Forgot password' link on the sign-in page."},
        ),
        OpenApiExample("Answered", response_only=True, value=ENTRY_EXAMPLE),
    ],
)
