"""Serializer fields that take the contract literally.

Text is trimmed of leading and trailing whitespace before it is stored, but its length limits
(``maxLength``) apply to the text as sent: a consumer checking a value against the contract
must get the same verdict as the service, so 500 characters of text plus one space is refused
at a limit of 500. A field that may not be blank needs a non-space character, and no text may
hold a NUL character; the contract states both (a ``pattern``, or ``not`` a NUL where blank
text is allowed).
"""

import re

from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

# DRF refuses NUL characters in any text; blank text (nothing but whitespace) where it may not be.
NUL = r"\x00"
NOT_BLANK = r"^[^\x00]*[^\s\x00][^\x00]*$"
# A URI (RFC 3986) as the contract's ``format: uri`` means it: ASCII only, other characters
# percent-encoded (Django's URLValidator alone takes IRIs, such as non-ASCII user names).
URI = r"^(?:[A-Za-z0-9\-._~!$&'()*+,;=:/?#\[\]@]|%[0-9A-Fa-f]{2})*$"
# A subset of what the service accepts, simple enough for a client (and a fuzzer) to generate
# from: an http(s) link to a dotted lower-case host name and a path of URI characters. The
# service also takes upper case, ports, user names, queries, fragments and IP addresses.
HTTP_URL = r"^https?://(?:[a-z0-9]{1,20}\.){1,3}[a-z]{2,10}(?:/[A-Za-z0-9._~!$&'()*+,;=:@/-]*)?$"


class StrictStringMixin:
    """Only JSON strings: DRF's CharField would turn ``42`` (or ``1e400``, as ``"inf"``) into text,
    accepting requests the contract says are invalid. The length limit is checked on the string
    as sent, before DRF trims it."""

    default_error_messages = {"not_a_string": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("not_a_string")
        if self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class Text(StrictStringMixin, serializers.CharField):
    """``pattern``: the ``pattern`` the contract publishes for a field whose own validation (a
    ``validate_<field>`` method) enforces it, so that the contract says what it checks."""

    def __init__(self, *, pattern: str | None = None, **kwargs):
        self.pattern = pattern
        super().__init__(**kwargs)


class Url(StrictStringMixin, serializers.URLField):
    """A link Django's URLValidator accepts that is also a URI: every character ASCII and legal
    in a URI, anything else percent-encoded (the contract says ``format: uri``)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not re.match(URI, value):
            self.fail("invalid")
        return value


class _TextSchema(OpenApiSerializerFieldExtension):
    target_class = Text

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            if self.target.pattern or not self.target.allow_blank:
                schema.setdefault("pattern", self.target.pattern or NOT_BLANK)
            else:
                # Not a pattern: drf-spectacular would then offer "" as a oneOf alternative that
                # "" also matches the pattern of, making the empty string invalid.
                schema.setdefault("not", {"pattern": NUL})
        return schema


class _UrlSchema(OpenApiSerializerFieldExtension):
    target_class = Url

    def map_serializer_field(self, auto_schema, direction):
        schema = auto_schema._map_serializer_field(self.target, direction, bypass_extensions=True)
        if direction == "request":
            schema.setdefault("pattern", HTTP_URL)
        return schema


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
