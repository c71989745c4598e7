"""FAQ v1: the seed's shape. ``source`` is one string; timestamps are ``created``/``updated``."""

from rest_framework import serializers

from services.faq.models import Entry
from services.kit.fields import Text

QUESTION_MAX = Entry._meta.get_field("question").max_length
ANSWER_MAX = 20_000
SOURCE_MAX = 500


class EntrySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    question = serializers.CharField(read_only=True)
    answer = serializers.CharField(read_only=True, help_text="Empty until answered.")
    source = serializers.CharField(
        source="source.as_text", read_only=True, help_text="Where the question came from."
    )
    created = serializers.DateTimeField(source="created_at", read_only=True)
    updated = serializers.DateTimeField(source="updated_at", read_only=True)


class EntryCreateSerializer(serializers.Serializer):
    question = Text(max_length=QUESTION_MAX)
    source = Text(
        max_length=SOURCE_MAX,
        help_text="Where the question came from: a ticket number, a link, a name.",
    )
    answer = Text(max_length=ANSWER_MAX, required=False, allow_blank=True, default="")


class AnswerSerializer(serializers.Serializer):
    answer = Text(
        max_length=ANSWER_MAX, allow_blank=True, help_text="An empty answer un-answers the entry."
    )
