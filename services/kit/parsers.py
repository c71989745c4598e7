import json

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, hardened against bodies that parse but cannot be stored.

    Beyond malformed JSON it refuses nesting deep enough to exhaust the recursion limit and
    strings with lone surrogates (``"\\ud800"``): valid JSON, but no database can encode them.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"The body is not valid {encoding}.") from exc
        if not text.strip():
            raise ParseError("The body is empty; send a JSON document.")
        try:
            data = json.loads(text, parse_constant=self._reject_constant)
        except RecursionError as exc:
            raise ParseError("The JSON body is nested too deeply.") from exc
        except ValueError as exc:
            raise ParseError(f"The body is not valid JSON: {exc}") from exc
        try:
            json.dumps(data, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ParseError("The JSON body contains an invalid unicode escape.") from exc
        return data

    @staticmethod
    def _reject_constant(name: str):
        raise ValueError(f"{name} is not a JSON value")
