"""Query parameters every tickets version shares; each version's module adds its own."""

import django_filters

from services.tickets import selectors
from services.tickets.models import Ticket


class BaseTicketFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        field_name="status", choices=Ticket.Status.choices, label="Only tickets in this status."
    )
    requester = django_filters.CharFilter(
        method="filter_requester",
        max_length=254,
        label="Only tickets from this email address (case-insensitive).",
    )
    q = django_filters.CharFilter(
        method="search",
        max_length=200,
        label="Words that must all appear in the subject or the body (case-insensitive).",
    )

    class Meta:
        model = Ticket
        fields = []

    def search(self, queryset, name, value):
        return selectors.ticket_search(queryset, value)

    def filter_requester(self, queryset, name, value):
        return selectors.ticket_filter_requester(queryset, value)
