import json

from rest_framework import parsers
from rest_framework.exceptions import ParseError, UnsupportedMediaType

UTF8 = {"utf-8", "utf8"}


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, hardened against bodies that parse but cannot be stored.

    JSON between systems is UTF-8 (RFC 8259 §8.1), so any other declared charset is refused.
    Beyond malformed JSON it refuses nesting deep enough to exhaust the recursion limit and
    strings with lone surrogates (``"\\ud800"``): valid JSON, but no database can encode them.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = ((parser_context or {}).get("encoding") or "utf-8").lower().replace("_", "-")
        if encoding not in UTF8:
            raise UnsupportedMediaType(
                media_type, detail=f"JSON bodies must be UTF-8, not {encoding!r}."
            )
        try:
            text = stream.read().decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ParseError("The body is not valid UTF-8.") from exc
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
