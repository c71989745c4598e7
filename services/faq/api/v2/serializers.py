"""FAQ v2: structured ``source``, ``related`` entries, ``created_at``/``updated_at``.

Breaking against v1: ``source`` is an object, timestamps are renamed, and lists use a cursor
envelope (``items``/``next_cursor``) instead of page numbers.
"""

from rest_framework import serializers

from services.faq.api.v1.serializers import ANSWER_MAX, QUESTION_MAX
from services.faq.models import Entry, Source
from services.faq.services import MAX_RELATED
from services.kit.fields import Text, Url
from services.kit.filters import MAX_DB_INT


class SourceSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Entry.SourceKind.choices, read_only=True)
    ref = serializers.CharField(
        read_only=True,
        allow_null=True,
        help_text="An identifier within the source, such as a ticket number.",
    )
    url = serializers.URLField(read_only=True, allow_null=True, help_text="A link to the source.")


class SourceInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Entry.SourceKind.choices)
    ref = Text(
        max_length=200,
        required=False,
        allow_null=True,
        default=None,
        help_text="An identifier within the source, such as a ticket number.",
    )
    url = Url(max_length=500, required=False, allow_null=True, default=None, help_text="A link.")

    class Meta:
        ref_name = "SourceInput"

    def to_internal_value(self, data) -> Source:
        values = super().to_internal_value(data)
        return Source(kind=values["kind"], ref=values["ref"], url=values["url"])


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    question = serializers.CharField(read_only=True)
    answer = serializers.CharField(read_only=True, help_text="Empty until answered.")
    answered = serializers.BooleanField(read_only=True)
    source = SourceSerializer(read_only=True)
    related = serializers.ListField(
        child=serializers.IntegerField(), source="related_ids", read_only=True
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class RelatedField(serializers.ListField):
    child = serializers.IntegerField(min_value=1, max_value=MAX_DB_INT)

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_RELATED)
        kwargs.setdefault("help_text", "Ids of related entries; each must exist.")
        super().__init__(**kwargs)


class EntryCreateSerializer(serializers.Serializer):
    question = Text(max_length=QUESTION_MAX)
    answer = Text(max_length=ANSWER_MAX, required=False, allow_blank=True, default="")
    source = SourceInputSerializer()
    related = RelatedField(required=False, default=list)


class EntryUpdateSerializer(serializers.Serializer):
    """Every member optional: only those sent change; ``related`` replaces the whole set."""

    question = Text(max_length=QUESTION_MAX, required=False)
    answer = Text(max_length=ANSWER_MAX, required=False, allow_blank=True)
    source = SourceInputSerializer(required=False)
    related = RelatedField(required=False)
