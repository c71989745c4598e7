import django_filters

from services.faq import selectors
from services.faq.filters import BaseEntryFilter


class EntryFilter(BaseEntryFilter):
    source = django_filters.CharFilter(
        method="filter_source", max_length=500, label="Exact source, as given at creation."
    )

    class Meta(BaseEntryFilter.Meta):
        pass

    def filter_source(self, queryset, name, value):
        return selectors.entry_filter_source_text(queryset, value)
