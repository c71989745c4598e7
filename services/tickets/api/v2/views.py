from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.kit.http import created
from services.kit.idempotency import idempotent
from services.kit.pagination import CursorPagination
from services.kit.views_api import CollectionApi
from services.tickets import selectors, services
from services.tickets.api.v2 import schema
from services.tickets.api.v2.filters import TicketFilter
from services.tickets.api.v2.serializers import (
    CommentCreateSerializer,
    CommentSerializer,
    ResolveSerializer,
    TicketCreateSerializer,
    TicketSerializer,
    TicketUpdateSerializer,
)


class TicketCollectionApi(CollectionApi):
    pagination_class = CursorPagination
    filterset_class = TicketFilter

    def get_queryset(self):
        return selectors.ticket_list(with_comments=True)

    @schema.ticket_list
    def get(self, request):
        return self.list_response(TicketSerializer)

    @schema.ticket_create
    @idempotent()
    def post(self, request):
        serializer = TicketCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = services.ticket_create(
            subject=data["subject"],
            body=data["body"],
            requester_email=data["requester"]["email"],
            requester_name=data["requester"]["name"] or "",
            order_ref=data["order_ref"] or "",
        )
        ticket = selectors.ticket_get(ticket_id=ticket.pk, with_comments=True)
        return created(
            request,
            TicketSerializer(ticket).data,
            view_name="tickets-v2:ticket-detail",
            ticket_id=ticket.pk,
        )


class TicketDetailApi(APIView):
    @schema.ticket_retrieve
    def get(self, request, ticket_id: int):
        ticket = selectors.ticket_get(ticket_id=ticket_id, with_comments=True)
        return Response(TicketSerializer(ticket).data)

    @schema.ticket_update
    def patch(self, request, ticket_id: int):
        serializer = TicketUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = serializer.validated_data
        if "status" in changes:
            services.ticket_transition(ticket_id=ticket_id, status=changes["status"])
        ticket = selectors.ticket_get(ticket_id=ticket_id, with_comments=True)
        return Response(TicketSerializer(ticket).data)


class CommentCollectionApi(APIView):
    @schema.comment_create
    def post(self, request, ticket_id: int):
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_create(ticket_id=ticket_id, **serializer.validated_data)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class TicketResolveApi(APIView):
    @schema.ticket_resolve
    def post(self, request, ticket_id: int):
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        promote = None
        if "promote" in data:
            promote = services.PromotionRequest(
                faq_version="v2", related=tuple(data["promote"]["related"])
            )
        services.ticket_resolve(ticket_id=ticket_id, answer=data["answer"], promote=promote)
        # Read after the commit: the promotion has had its first attempt by now.
        ticket = selectors.ticket_get(ticket_id=ticket_id, with_comments=True)
        return Response(TicketSerializer(ticket).data)
