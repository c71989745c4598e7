"""Tickets v2: ``requester`` is ``{email, name}``, comments are embedded in the ticket, the
status changes by ``PATCH``, and ``promote`` is an object naming related FAQ entries.

Breaking against v1: ``requester`` is an object, the comments list and the status endpoint are
gone, ``promote`` is no longer a boolean, and lists use a cursor envelope (``items``/
``next_cursor``) instead of page numbers.
"""

from rest_framework import serializers

import contracts
from contracts.validation import operations
from services.kit.fields import BlankAsNull, Email, Text
from services.kit.filters import MAX_DB_INT
from services.tickets.api.v1 import serializers as v1
from services.tickets.api.v1.serializers import (
    ANSWER_MAX,
    BODY_MAX,
    EMAIL_MAX,
    ORDER_REF_MAX,
    SUBJECT_MAX,
    PromotionSerializer,
)
from services.tickets.models import Ticket

NAME_MAX = Ticket._meta.get_field("requester_name").max_length


def _faq_create_body() -> dict:
    """The body of ``faq_create`` in the FAQ contract that promotions are sent through."""
    document = contracts.load("faq", "v2")
    body = operations(document)["faq_create"].spec["requestBody"]["content"]["application/json"]
    name = body["schema"]["$ref"].rsplit("/", 1)[-1]
    return document["components"]["schemas"][name]


# The FAQ's own limit, as its contract publishes it: a promotion it would refuse is refused here.
MAX_RELATED = _faq_create_body()["properties"]["related"]["maxItems"]


class CommentSerializer(v1.CommentSerializer):
    pass


class CommentCreateSerializer(v1.CommentCreateSerializer):
    pass


class RequesterSerializer(serializers.Serializer):
    email = serializers.EmailField(source="requester_email", read_only=True)
    name = BlankAsNull(source="requester_name", help_text="`null` when not given.")


class RequesterInputSerializer(serializers.Serializer):
    email = Email(max_length=EMAIL_MAX)
    name = Text(max_length=NAME_MAX, required=False, allow_null=True, default=None)

    class Meta:
        ref_name = "RequesterInput"


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    requester = RequesterSerializer(source="*", read_only=True)
    status = serializers.ChoiceField(choices=Ticket.Status.choices, read_only=True)
    order_ref = BlankAsNull(help_text="The billing order the ticket is about, if any.")
    answer = serializers.CharField(read_only=True, help_text="Empty until resolved.")
    comments = CommentSerializer(many=True, read_only=True, help_text="Oldest first.")
    promotion = PromotionSerializer(
        source="promotion_or_none",
        read_only=True,
        allow_null=True,
        help_text="The answer's way to the FAQ; `null` unless resolved with `promote`.",
    )
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)
    resolved_at = serializers.DateTimeField(read_only=True, allow_null=True)


class TicketCreateSerializer(serializers.Serializer):
    subject = Text(max_length=SUBJECT_MAX)
    body = Text(max_length=BODY_MAX)
    requester = RequesterInputSerializer()
    order_ref = Text(
        max_length=ORDER_REF_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="The billing order the ticket is about, if any.",
    )


class TicketUpdateSerializer(serializers.Serializer):
    """Every member optional: only those sent change."""

    status = serializers.ChoiceField(
        choices=Ticket.Status.choices,
        required=False,
        help_text=v1.StatusSerializer().fields["status"].help_text,
    )


class PromoteSerializer(serializers.Serializer):
    related = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_DB_INT),
        max_length=MAX_RELATED,
        required=False,
        default=list,
        help_text="Ids of FAQ entries to relate the new entry to; each must exist in the FAQ, "
        "or the promotion fails.",
    )


class ResolveSerializer(serializers.Serializer):
    answer = Text(max_length=ANSWER_MAX, help_text="The answer given to the requester.")
    promote = PromoteSerializer(
        required=False,
        help_text="Also publish the subject and the answer as a FAQ entry (`{}` for no related "
        "entries); leave it out not to.",
    )
