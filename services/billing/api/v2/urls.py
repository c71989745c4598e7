from django.urls import path

from services.billing.api.v2 import views

app_name = "billing-v2"

urlpatterns = [
    path("menu", views.MenuApi.as_view(), name="menu"),
    path("orders", views.OrderCollectionApi.as_view(), name="order-list"),
    path("orders/<id:order_id>", views.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<id:order_id>/items", views.OrderItemCollectionApi.as_view(), name="order-items"),
    path(
        "orders/<id:order_id>/items/<id:item_id>",
        views.OrderItemDetailApi.as_view(),
        name="order-item-detail",
    ),
    path("orders/<id:order_id>/submit", views.OrderSubmitApi.as_view(), name="order-submit"),
    path("orders/<id:order_id>/bill", views.OrderBillApi.as_view(), name="order-bill"),
    path("orders/<id:order_id>/payments", views.OrderPaymentsApi.as_view(), name="order-payments"),
]
