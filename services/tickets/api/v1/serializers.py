"""Tickets v1: ``requester`` is an email address; comments and status changes have their own
endpoints; ``promote`` is a yes or no."""

from rest_framework import serializers

from services.kit.fields import BlankAsNull, Boolean, Email, Text
from services.tickets.models import Comment, FaqPromotion, PromotionStatus, Ticket

SUBJECT_MAX = Ticket._meta.get_field("subject").max_length
BODY_MAX = 20_000
ANSWER_MAX = 20_000  # the FAQ's own limit for an answer
EMAIL_MAX = Ticket._meta.get_field("requester_email").max_length
ORDER_REF_MAX = Ticket._meta.get_field("order_ref").max_length
AUTHOR_MAX = Comment._meta.get_field("author").max_length


class PromotionSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=PromotionStatus.choices,
        source="api_status",
        read_only=True,
        help_text="`pending` until the FAQ has the entry (retried while it is unreachable), "
        "`done` once it has, `failed` when the FAQ refused it (see `last_error`).",
    )
    faq_version = serializers.ChoiceField(choices=FaqPromotion.FaqVersion.choices, read_only=True)
    faq_entry_id = serializers.IntegerField(
        read_only=True, allow_null=True, help_text="The FAQ entry, once `done`."
    )
    attempts = serializers.IntegerField(read_only=True)
    last_error = BlankAsNull(help_text="What went wrong on the last attempt, if it did.")
    created_at = serializers.DateTimeField(read_only=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)

    class Meta:
        ref_name = "Promotion"


class TicketSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    subject = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    requester = serializers.EmailField(source="requester_email", read_only=True)
    status = serializers.ChoiceField(choices=Ticket.Status.choices, read_only=True)
    order_ref = BlankAsNull(help_text="The billing order the ticket is about, if any.")
    answer = serializers.CharField(read_only=True, help_text="Empty until resolved.")
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
    requester = Email(max_length=EMAIL_MAX, help_text="Who asked: an email address.")
    order_ref = Text(
        max_length=ORDER_REF_MAX,
        required=False,
        allow_null=True,
        default=None,
        help_text="The billing order the ticket is about, if any.",
    )


class CommentSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    author = serializers.CharField(read_only=True)
    body = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class CommentCreateSerializer(serializers.Serializer):
    author = Text(max_length=AUTHOR_MAX, help_text="Who wrote it: a name or an email address.")
    body = Text(max_length=BODY_MAX)


class StatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=Ticket.Status.choices,
        help_text="open → pending, resolved or closed; pending → open, resolved or closed; "
        "resolved → open or closed; closed is final. The current status changes nothing.",
    )


class ResolveSerializer(serializers.Serializer):
    answer = Text(max_length=ANSWER_MAX, help_text="The answer given to the requester.")
    promote = Boolean(help_text="Also publish the subject and the answer as a FAQ entry.")
