from services.tickets.filters import BaseTicketFilter


class TicketFilter(BaseTicketFilter):
    class Meta(BaseTicketFilter.Meta):
        pass
