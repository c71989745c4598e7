"""Serializer fields that take the contract literally (see ``services.kit.fields``)."""

from rest_framework import serializers

from services.kit.fields import StrictStringMixin


class Email(StrictStringMixin, serializers.EmailField):
    pass


class Boolean(serializers.BooleanField):
    """Only JSON ``true``/``false``: DRF's BooleanField also takes ``"yes"``, ``1``, ``"on"``."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data


class OptionalText(serializers.CharField):
    """A read-only string stored empty when absent, published as ``null`` then."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return str(value) if value else None
