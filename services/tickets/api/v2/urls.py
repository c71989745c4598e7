from django.urls import path

from services.tickets.api.v2 import views

app_name = "tickets-v2"

urlpatterns = [
    path("tickets", views.TicketCollectionApi.as_view(), name="ticket-list"),
    path("tickets/<id:ticket_id>", views.TicketDetailApi.as_view(), name="ticket-detail"),
    path(
        "tickets/<id:ticket_id>/comments",
        views.CommentCollectionApi.as_view(),
        name="ticket-comments",
    ),
    path("tickets/<id:ticket_id>/resolve", views.TicketResolveApi.as_view(), name="ticket-resolve"),
]
