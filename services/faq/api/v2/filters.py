import django_filters

from services.faq.filters import BaseEntryFilter
from services.faq.models import Entry
from services.kit.filters import IdFilter, IsoDateTimeFilter


class EntryFilter(BaseEntryFilter):
    source_kind = django_filters.ChoiceFilter(
        field_name="source_kind", choices=Entry.SourceKind.choices, label="Kind of source."
    )
    source_ref = django_filters.CharFilter(
        field_name="source_ref", max_length=200, label="Exact source reference."
    )
    related_to = IdFilter(field_name="related", label="Only entries related to this entry id.")
    created_after = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", label="Created at or after (ISO 8601)."
    )
    created_before = IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", label="Created before (ISO 8601)."
    )
    updated_after = IsoDateTimeFilter(
        field_name="updated_at", lookup_expr="gte", label="Changed at or after (ISO 8601)."
    )

    class Meta(BaseEntryFilter.Meta):
        pass
