"""The two pagination styles the APIs publish, strict about their query parameters.

DRF silently ignores a bad ``page_size`` and answers 404 for a garbled cursor; a contract should
instead reject both as invalid parameters (400), which these subclasses do. An empty value
(``?cursor=``, ``?limit=``) is refused too, as for filters; the contract states each bound.
"""

from base64 import b64encode
from urllib import parse

from rest_framework import pagination
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from services.kit.filters import MAX_DB_INT
from services.kit.http import public_path
from services.kit.problems import ParameterValidationError

# The most digits positive_int_param reads.
MAX_PAGE = 10**18 - 1


def _bounded(parameters: list[dict], bounds: dict[str, dict]) -> list[dict]:
    for parameter in parameters:
        parameter["schema"].update(bounds.get(parameter["name"], {}))
    return parameters


def positive_int_param(request, name: str, *, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18 or int(raw) < 1:
        raise ParameterValidationError({name: ["Must be a positive integer."]}, code="invalid")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise ParameterValidationError({name: [f"Must be at most {maximum}."]}, code="max_value")
    return value


class PageNumberPagination(pagination.PageNumberPagination):
    """``?page=&page_size=`` with a ``{count, next, previous, results}`` envelope."""

    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100

    def paginate_queryset(self, queryset, request, view=None):
        positive_int_param(request, self.page_query_param)
        positive_int_param(request, self.page_size_query_param, maximum=self.max_page_size)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return _bounded(
            super().get_schema_operation_parameters(view),
            {
                self.page_query_param: {"minimum": 1, "maximum": MAX_PAGE},
                self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
            },
        )

    def _public(self, url: str | None) -> str | None:
        """The page link as the caller addresses it (through the gateway's prefix, if any)."""
        if url is None:
            return None
        parts = parse.urlsplit(url)
        path = public_path(self.request, parts.path)
        return self.request.build_absolute_uri(parse.urlunsplit(("", "", path, parts.query, "")))

    def get_next_link(self):
        return self._public(super().get_next_link())

    def get_previous_link(self):
        return self._public(super().get_previous_link())

    def get_paginated_response_schema(self, schema):
        link = {"type": "string", "nullable": True, "format": "uri"}
        return {
            "type": "object",
            "required": ["count", "next", "previous", "results"],
            "properties": {
                "count": {"type": "integer", "example": 41},
                "next": {**link, "example": "https://api.example.com/faq/v1/faqs?page=3"},
                "previous": {**link, "example": "https://api.example.com/faq/v1/faqs?page=1"},
                "results": schema,
            },
        }


class CursorPagination(pagination.CursorPagination):
    """``?cursor=&limit=`` with an ``{items, next_cursor, previous_cursor}`` envelope.

    Cursors are opaque tokens, not URLs: a consumer behind the gateway must not be handed the
    address of the service itself. Pages stay stable while entries are added or removed.
    """

    page_size = 20
    page_size_query_param = "limit"
    max_page_size = 100
    ordering = "-id"

    def paginate_queryset(self, queryset, request, view=None):
        positive_int_param(request, self.page_size_query_param, maximum=self.max_page_size)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view):
        return _bounded(
            super().get_schema_operation_parameters(view),
            {
                self.cursor_query_param: {"minLength": 1},
                self.page_size_query_param: {"minimum": 1, "maximum": self.max_page_size},
            },
        )

    def decode_cursor(self, request):
        if request.query_params.get(self.cursor_query_param) == "":
            raise ParameterValidationError(
                {self.cursor_query_param: ["Must not be empty: leave it out for the first page."]}
            )
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            cursor = None
            valid = False
        else:
            valid = cursor is None or self._position_is_valid(cursor.position)
        if not valid:
            raise ParameterValidationError(
                {self.cursor_query_param: ["Invalid cursor: pass back a cursor from a response."]}
            )
        return cursor

    @staticmethod
    def _position_is_valid(position: str | None) -> bool:
        if position is None:
            return True
        return position.isascii() and position.isdigit() and int(position) <= MAX_DB_INT

    def encode_cursor(self, cursor):
        # DRF's token format, but never empty (so "no page" stays distinguishable from "the first
        # page") and without building a URL only to take the token back out of it.
        tokens = {"o": str(cursor.offset)}
        if cursor.reverse:
            tokens["r"] = "1"
        if cursor.position is not None:
            tokens["p"] = cursor.position
        return b64encode(parse.urlencode(tokens).encode("ascii")).decode("ascii")

    def get_paginated_response(self, data):
        return Response(
            {
                "items": data,
                "next_cursor": self.get_next_link(),
                "previous_cursor": self.get_previous_link(),
            }
        )

    def get_paginated_response_schema(self, schema):
        cursor = {"type": "string", "nullable": True, "example": "cD0xMjM="}
        return {
            "type": "object",
            "required": ["items", "next_cursor", "previous_cursor"],
            "properties": {
                "items": schema,
                "next_cursor": {**cursor, "description": "Pass as `cursor` for the next page."},
                "previous_cursor": {
                    **cursor,
                    "description": "Pass as `cursor` for the previous page.",
                },
            },
        }
