"""Query parameters every FAQ version shares; each version's module adds its own."""

import django_filters

from services.faq import selectors
from services.faq.models import Entry
from services.kit.filters import BooleanFilter


class BaseEntryFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="search",
        max_length=200,
        label="Words that must all appear in the question or the answer (case-insensitive).",
    )
    answered = BooleanFilter(
        method="filter_answered", label="`true`: only answered entries; `false`: only unanswered."
    )

    class Meta:
        model = Entry
        fields = []

    def search(self, queryset, name, value):
        return selectors.entry_search(queryset, value)

    def filter_answered(self, queryset, name, value):
        return selectors.entry_filter_answered(queryset, value)
