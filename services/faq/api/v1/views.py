from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.faq import selectors, services
from services.faq.api.v1.filters import EntryFilter
from services.faq.api.v1.serializers import AnswerSerializer, EntryCreateSerializer, EntrySerializer
from services.faq.models import Source
from services.kit.http import created
from services.kit.idempotency import idempotent
from services.kit.pagination import PageNumberPagination
from services.kit.schema import (
    BODY_ERRORS,
    COMMON_ERRORS,
    IDEMPOTENCY_ERRORS,
    REPLAY_GONE,
    idempotency_key,
    problem_responses,
)
from services.kit.views_api import CollectionApi

TAGS = ["faq"]
ENTRY_EXAMPLE = {
    "id": 17,
    "question": "How do I reset my password?",
    "answer": "Use the 'Forgot password' link on the sign-in page.",
    "source": "4711",
    "created": "2026-11-02T09:30:00Z",
    "updated": "2026-11-02T10:05:12Z",
}


class EntryCollectionApi(CollectionApi):
    pagination_class = PageNumberPagination
    filterset_class = EntryFilter

    def get_queryset(self):
        return selectors.entry_list()

    @extend_schema(
        operation_id="faq_list",
        summary="List FAQ entries",
        description=(
            "Pages of entries (`page`, `page_size` up to 100); `q` searches questions and "
            "answers, `source` keeps one kind of source."
        ),
        tags=TAGS,
        # 404: a page number past the last page.
        responses={200: EntrySerializer(many=True), **problem_responses(404, *COMMON_ERRORS)},
        examples=[
            OpenApiExample(
                "A page",
                response_only=True,
                value=ENTRY_EXAMPLE,
            )
        ],
    )
    def get(self, request):
        return self.list_response(EntrySerializer)

    @extend_schema(
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
    @idempotent()
    def post(self, request):
        serializer = EntryCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        entry = services.entry_create(
            question=data["question"],
            answer=data["answer"],
            source=Source.from_text(data["source"]),
        )
        return created(
            request, EntrySerializer(entry).data, view_name="faq-v1:entry-detail", entry_id=entry.pk
        )


class EntryDetailApi(APIView):
    @extend_schema(
        operation_id="faq_retrieve",
        summary="Get a FAQ entry",
        description="One entry by id; 404 when there is none.",
        tags=TAGS,
        responses={200: EntrySerializer, **problem_responses(404, *COMMON_ERRORS)},
        examples=[OpenApiExample("An entry", response_only=True, value=ENTRY_EXAMPLE)],
    )
    def get(self, request, entry_id: int):
        return Response(EntrySerializer(selectors.entry_get(entry_id=entry_id)).data)

    @extend_schema(
        operation_id="faq_delete",
        summary="Delete a FAQ entry",
        description="Deletes the entry for good; 404 when there is none.",
        tags=TAGS,
        responses={204: None, **problem_responses(404, *COMMON_ERRORS)},
    )
    def delete(self, request, entry_id: int):
        services.entry_delete(entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntryAnswerApi(APIView):
    @extend_schema(
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
    def put(self, request, entry_id: int):
        serializer = AnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.entry_answer(entry_id=entry_id, answer=serializer.validated_data["answer"])
        return Response(EntrySerializer(entry).data)
