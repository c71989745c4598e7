from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.billing import selectors, services
from services.billing.api.v1 import schema
from services.billing.api.v1.serializers import (
    ItemAddSerializer,
    ItemSerializer,
    MenuSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PaymentCreateSerializer,
    PaymentSerializer,
)
from services.kit.http import created
from services.kit.idempotency import idempotent


class MenuApi(APIView):
    @schema.menu
    def get(self, request):
        return Response(MenuSerializer({"items": selectors.menu_list()}).data)


class OrderCollectionApi(APIView):
    @schema.order_create
    @idempotent(required=True)
    def post(self, request):
        serializer = OrderCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        order = services.order_create(table=serializer.validated_data["table"])
        order = selectors.order_get(order_id=order.pk)
        return created(
            request,
            OrderSerializer(order).data,
            view_name="billing-v1:order-detail",
            order_id=order.pk,
        )


class OrderDetailApi(APIView):
    @schema.order_retrieve
    def get(self, request, order_id: int):
        return Response(OrderSerializer(selectors.order_get(order_id=order_id)).data)


class OrderItemCollectionApi(APIView):
    @schema.order_item_add
    @idempotent(required=True)
    def post(self, request, order_id: int):
        serializer = ItemAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = services.order_item_add(order_id=order_id, **serializer.validated_data)
        return Response(ItemSerializer(item).data, status=status.HTTP_201_CREATED)


class PaymentCollectionApi(APIView):
    @schema.payment_create
    @idempotent(required=True)
    def post(self, request):
        serializer = PaymentCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payment = services.payment_create(**serializer.validated_data)
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)
