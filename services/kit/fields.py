"""Serializer fields that take the contract literally."""

from rest_framework import serializers


class StrictStringMixin:
    """Only JSON strings: DRF's CharField would turn ``42`` (or ``1e400``, as ``"inf"``) into text,
    accepting requests the contract says are invalid."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        return super().to_internal_value(data)


class Text(StrictStringMixin, serializers.CharField):
    pass


class Url(StrictStringMixin, serializers.URLField):
    pass
