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


class Email(StrictStringMixin, serializers.EmailField):
    pass


class Integer(serializers.IntegerField):
    """Only JSON integers: DRF's field would take ``"12"``, ``12.0`` and ``true`` as numbers."""

    default_error_messages = {"invalid": "Must be an integer."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


class Boolean(serializers.BooleanField):
    """Only JSON ``true``/``false``: DRF's BooleanField also takes ``"yes"``, ``1``, ``"on"``."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class BlankAsNull(serializers.CharField):
    """A read-only string stored empty when absent, published as ``null`` then."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(value) if value else None
