from django.urls import path

from services.billing.api.v1 import views

app_name = "billing-v1"

urlpatterns = [
    path("menu", views.MenuApi.as_view(), name="menu"),
    path("orders", views.OrderCollectionApi.as_view(), name="order-list"),
    path("orders/<id:order_id>", views.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<id:order_id>/items", views.OrderItemCollectionApi.as_view(), name="order-items"),
    path("payments", views.PaymentCollectionApi.as_view(), name="payment-list"),
]
