import django_filters

from services.tickets.filters import BaseTicketFilter


class TicketFilter(BaseTicketFilter):
    order_ref = django_filters.CharFilter(
        field_name="order_ref", max_length=64, label="Only tickets about this billing order."
    )

    class Meta(BaseTicketFilter.Meta):
        pass
