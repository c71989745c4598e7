from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.faq import selectors, services
from services.faq.api.v1 import schema
from services.faq.api.v1.filters import EntryFilter
from services.faq.api.v1.serializers import AnswerSerializer, EntryCreateSerializer, EntrySerializer
from services.faq.models import Source
from services.kit.http import created
from services.kit.idempotency import idempotent
from services.kit.pagination import PageNumberPagination
from services.kit.views_api import CollectionApi


class EntryCollectionApi(CollectionApi):
    pagination_class = PageNumberPagination
    filterset_class = EntryFilter

    def get_queryset(self):
        return selectors.entry_list()

    @schema.entry_list
    def get(self, request):
        return self.list_response(EntrySerializer)

    @schema.entry_create
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
    @schema.entry_retrieve
    def get(self, request, entry_id: int):
        return Response(EntrySerializer(selectors.entry_get(entry_id=entry_id)).data)

    @schema.entry_delete
    def delete(self, request, entry_id: int):
        services.entry_delete(entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EntryAnswerApi(APIView):
    @schema.entry_answer
    def put(self, request, entry_id: int):
        serializer = AnswerSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        entry = services.entry_answer(entry_id=entry_id, answer=serializer.validated_data["answer"])
        return Response(EntrySerializer(entry).data)
