from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from services.billing import selectors, services, tally
from services.billing.api.v2 import schema
from services.billing.api.v2.serializers import (
    BillOrderSerializer,
    ItemsAddedSerializer,
    ItemsAddSerializer,
    MenuSerializer,
    OrderBilledSerializer,
    OrderCreateSerializer,
    OrderSerializer,
    PaymentsResultSerializer,
    PayOrderSerializer,
    SubmissionSerializer,
)
from services.kit.http import created
from services.kit.idempotency import idempotent


class MenuApi(APIView):
    @schema.menu
    def get(self, request):
        menu = {"items": selectors.menu_list(), "bundles": tally.BUNDLES}
        return Response(MenuSerializer(menu).data)


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
            view_name="billing-v2:order-detail",
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
        serializer = ItemsAddSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        items = services.order_items_add(
            order_id=order_id,
            items=[services.NewItem(**item) for item in serializer.validated_data["items"]],
        )
        body = ItemsAddedSerializer({"order_id": order_id, "items": items}).data
        return Response(body, status=status.HTTP_201_CREATED)


class OrderItemDetailApi(APIView):
    @schema.order_item_remove
    @idempotent(required=True)
    def delete(self, request, order_id: int, item_id: int):
        services.order_item_remove(order_id=order_id, item_id=item_id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class OrderSubmitApi(APIView):
    @schema.order_submit
    @idempotent(required=True)
    def post(self, request, order_id: int):
        submission = services.order_submit(order_id=order_id)
        submission = selectors.submission_get(submission_id=submission.pk)
        return Response(SubmissionSerializer(submission).data, status=status.HTTP_201_CREATED)


class OrderBillApi(APIView):
    @schema.order_bill
    @idempotent(required=True)
    def post(self, request, order_id: int):
        serializer = BillOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.order_bill(order_id=order_id, **serializer.validated_data)
        return Response(OrderBilledSerializer(selectors.order_get(order_id=order_id)).data)


class OrderPaymentsApi(APIView):
    @schema.order_pay
    @idempotent(required=True)
    def post(self, request, order_id: int):
        serializer = PayOrderSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        payments = services.order_pay(
            order_id=order_id,
            payments=[
                services.PaymentRequest(**payment)
                for payment in serializer.validated_data["payments"]
            ],
        )
        order = selectors.order_get(order_id=order_id)
        body = PaymentsResultSerializer({"order": order, "payments": payments}).data
        return Response(body, status=status.HTTP_201_CREATED)
