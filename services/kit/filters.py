from datetime import UTC

import django_filters
from django import forms
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from rest_framework.exceptions import ValidationError

from services.kit.problems import ParameterValidationError

MAX_DB_INT = 2**63 - 1
NO_NUL = r"^[^\x00]*$"


EMPTY = "Must not be empty: leave the parameter out not to filter by it."


class FilterBackend(DjangoFilterBackend):
    """django-filter, reporting bad query parameters by name instead of as body fields.

    A filter sent with an empty value (``?created_after=``) is a 400 problem, not ignored as
    django-filter would: an empty string is no date, id or choice, and a consumer who sends one
    most likely lost a value on the way. The contract says so (``minLength: 1`` on text filters).
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None:
            empty = {
                name: [EMPTY]
                for name in filterset_class.base_filters
                if "" in request.query_params.getlist(name)
            }
            if empty:
                raise ParameterValidationError(empty)
        try:
            return super().filter_queryset(request, queryset, view)
        except ValidationError as exc:
            raise ParameterValidationError(exc.detail) from exc


class StrictBooleanField(forms.NullBooleanField):
    """``true``/``false`` (or 1/0), and a clear error for anything else instead of ignoring it."""

    widget = forms.TextInput

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class BooleanFilter(django_filters.BooleanFilter):
    field_class = StrictBooleanField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class IdField(forms.IntegerField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_DB_INT)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """A database id as a query parameter, bounded so it never overflows a 64-bit column."""

    field_class = IdField


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 instant, converted to UTC, refused when it falls outside years 1 to 9999.

    Databases disagree about offsets (PostgreSQL allows at most ±15:59) and Python overflows at the
    ends of the calendar; in UTC every accepted value is one every backend can compare.
    """

    def to_python(self, value):
        try:
            parsed = super().to_python(value)
            return parsed.astimezone(UTC) if parsed is not None else None
        except OverflowError:
            raise forms.ValidationError("Out of range.", code="invalid") from None


class IsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class FilterSchema(DjangoFilterExtension):
    """drf-spectacular's django-filter parameters, with the limits the filters enforce: lengths,
    bounds, no NUL character and no empty values (see :class:`FilterBackend`)."""

    target_class = "services.kit.filters.FilterBackend"
    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(
            auto_schema, model, filterset_class, field_name, filter_field
        )
        field = filter_field.field
        for parameter in parameters:
            schema = parameter["schema"]
            if schema.get("type") == "string" and "enum" not in schema:
                schema["minLength"] = 1
                if "format" not in schema:
                    schema["pattern"] = NO_NUL  # django's form fields refuse NUL characters
                if getattr(field, "max_length", None) is not None:
                    schema["maxLength"] = field.max_length
            if schema.get("type") == "integer":
                for bound, key in (("min_value", "minimum"), ("max_value", "maximum")):
                    if getattr(field, bound, None) is not None:
                        schema[key] = getattr(field, bound)
        return parameters
