from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "services.tickets"
    label = "tickets"
    verbose_name = "Tickets"
