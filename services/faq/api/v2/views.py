from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.faq import selectors, services
from services.faq.api.v2 import schema
from services.faq.api.v2.filters import EntryFilter
from services.faq.api.v2.serializers import (
    EntryCreateSerializer,
    EntrySerializer,
    EntryUpdateSerializer,
)
from services.kit.http import created
from services.kit.idempotency import idempotent
from services.kit.pagination import CursorPagination
from services.kit.views_api import CollectionApi


class EntryCollectionApi(CollectionApi):
    pagination_class = CursorPagination
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
        entry = services.entry_create(**serializer.validated_data)
        entry = selectors.entry_get(entry_id=entry.pk)
        return created(
            request, EntrySerializer(entry).data, view_name="faq-v2:entry-detail", entry_id=entry.pk
        )


class EntryDetailApi(APIView):
    @schema.entry_retrieve
    def get(self, request, entry_id: int):
        return Response(EntrySerializer(selectors.entry_get(entry_id=entry_id)).data)

    @schema.entry_update
    def patch(self, request, entry_id: int):
        serializer = EntryUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.entry_update(entry_id=entry_id, **serializer.validated_data)
        return Response(EntrySerializer(selectors.entry_get(entry_id=entry_id)).data)

    @schema.entry_delete
    def delete(self, request, entry_id: int):
        services.entry_delete(entry_id=entry_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
