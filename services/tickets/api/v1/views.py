from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.kit.http import created
from services.kit.idempotency import idempotent
from services.kit.pagination import PageNumberPagination
from services.kit.views_api import CollectionApi
from services.tickets import selectors, services
from services.tickets.api.v1 import schema
from services.tickets.api.v1.filters import TicketFilter
from services.tickets.api.v1.serializers import (
    CommentCreateSerializer,
    CommentSerializer,
    ResolveSerializer,
    StatusSerializer,
    TicketCreateSerializer,
    TicketSerializer,
)
from services.tickets.models import Comment


class TicketCollectionApi(CollectionApi):
    pagination_class = PageNumberPagination
    filterset_class = TicketFilter

    def get_queryset(self):
        return selectors.ticket_list()

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
            requester_email=data["requester"],
            order_ref=data["order_ref"] or "",
        )
        ticket = selectors.ticket_get(ticket_id=ticket.pk)
        return created(
            request,
            TicketSerializer(ticket).data,
            view_name="tickets-v1:ticket-detail",
            ticket_id=ticket.pk,
        )


class TicketDetailApi(APIView):
    @schema.ticket_retrieve
    def get(self, request, ticket_id: int):
        return Response(TicketSerializer(selectors.ticket_get(ticket_id=ticket_id)).data)


class CommentCollectionApi(CollectionApi):
    pagination_class = PageNumberPagination

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular, generating the contract
            return Comment.objects.none()
        return selectors.comment_list(ticket_id=self.kwargs["ticket_id"])

    @schema.comment_list
    def get(self, request, ticket_id: int):
        return self.list_response(CommentSerializer)

    @schema.comment_create
    def post(self, request, ticket_id: int):
        serializer = CommentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        comment = services.comment_create(ticket_id=ticket_id, **serializer.validated_data)
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)


class TicketStatusApi(APIView):
    @schema.ticket_status
    def post(self, request, ticket_id: int):
        serializer = StatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_transition(ticket_id=ticket_id, status=serializer.validated_data["status"])
        return Response(TicketSerializer(selectors.ticket_get(ticket_id=ticket_id)).data)


class TicketResolveApi(APIView):
    @schema.ticket_resolve
    def post(self, request, ticket_id: int):
        serializer = ResolveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        promote = services.PromotionRequest(faq_version="v1") if data["promote"] else None
        services.ticket_resolve(ticket_id=ticket_id, answer=data["answer"], promote=promote)
        # Read after the commit: the promotion has had its first attempt by now.
        return Response(TicketSerializer(selectors.ticket_get(ticket_id=ticket_id)).data)
