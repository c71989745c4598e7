"""OpenAPI pieces every service's contract shares: the problem document and its responses."""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from services.kit import problems


class ProblemFieldErrorSerializer(serializers.Serializer):
    pointer = serializers.CharField(
        required=False, help_text="JSON Pointer (RFC 6901) to the offending body member."
    )
    parameter = serializers.CharField(required=False, help_text="The offending query parameter.")
    detail = serializers.CharField()
    code = serializers.CharField()


class ProblemSerializer(serializers.Serializer):
    """RFC 9457 problem details."""

    type = serializers.CharField(help_text="URI of the problem type; `about:blank` for plain HTTP.")
    title = serializers.CharField()
    status = serializers.IntegerField(min_value=400, max_value=599)
    detail = serializers.CharField(required=False)
    request_id = serializers.CharField(required=False)
    errors = ProblemFieldErrorSerializer(many=True, required=False)
    limit = serializers.IntegerField(
        required=False, help_text="On a 413: the largest body accepted, in bytes."
    )

    class Meta:
        ref_name = "Problem"


_EXAMPLES = {
    400: [
        OpenApiExample(
            "Validation failed",
            value={
                "type": problems.VALIDATION,
                "title": "Your request is not valid",
                "status": 400,
                "detail": "1 field failed validation; see errors.",
                "errors": [
                    {
                        "pointer": "#/question",
                        "detail": "This field is required.",
                        "code": "required",
                    }
                ],
                "request_id": "6f1c0e0fd2a44d0c9a4f7f7f1f2b3c4d",
            },
        ),
        OpenApiExample(
            "Malformed JSON",
            value={
                "type": problems.MALFORMED_BODY,
                "title": "Malformed request body",
                "status": 400,
                "detail": "The body is not valid JSON: Expecting value: line 1 column 1 (char 0)",
            },
        ),
    ],
    404: [
        OpenApiExample(
            "Not found",
            value={
                "type": "about:blank",
                "title": "Not Found",
                "status": 404,
                "detail": "There is no FAQ entry with id 17.",
            },
        )
    ],
    413: [
        OpenApiExample(
            "Body too large",
            value={
                "type": problems.BODY_TOO_LARGE,
                "title": "Request Entity Too Large",
                "status": 413,
                "detail": "The body is 2097152 bytes; the limit is 1048576 bytes.",
                "limit": 1048576,
            },
        )
    ],
    415: [
        OpenApiExample(
            "Not JSON",
            value={
                "type": "about:blank",
                "title": "Unsupported Media Type",
                "status": 415,
                "detail": 'Unsupported media type "text/plain" in request.',
            },
        )
    ],
}

_DESCRIPTIONS = {
    400: "The request is malformed, or its body or query parameters are invalid; `errors` "
    "names each invalid one.",
    404: "No such resource.",
    405: "The method is not allowed here; `Allow` lists the ones that are.",
    406: "The response cannot be rendered in any type that `Accept` allows.",
    409: "A request with the same Idempotency-Key is still being handled; retry shortly.",
    410: "The request with this Idempotency-Key created a resource that has been deleted since.",
    413: "The body is larger than the service accepts.",
    414: "The request line (method, path and query) is longer than the server accepts.",
    415: "The body is not `application/json`.",
    422: "The Idempotency-Key was already used for a different request.",
    431: "The request's header fields are too large or too many.",
    500: "The server failed; the request id identifies it in the logs.",
}


# Appended to every contract's description: the rules every operation follows.
CONVENTIONS = (
    "Conventions: text members are trimmed of leading and trailing whitespace before they are "
    "stored, but their length limits (`maxLength`) apply to the text as sent, and a member that "
    "may not be blank needs a non-space character. A query parameter sent with an empty value "
    "(`?created_after=`) is a 400 problem: leave it out not to filter by it. Errors are "
    "`application/problem+json` (RFC 9457)."
)


def problem_responses(*codes: int) -> dict:
    """``extend_schema(responses=...)`` entries documenting problem+json errors."""
    return {
        (code, problems.CONTENT_TYPE): OpenApiResponse(
            response=ProblemSerializer,
            description=_DESCRIPTIONS[code],
            examples=_EXAMPLES.get(code, []),
        )
        for code in codes
    }


# What every operation can answer whatever it does (400: Django refuses e.g. a flood of query
# fields before any view runs), and what those with a body add.
# 414 and 431: the HTTP server refuses a request line or headers past its limits.
COMMON_ERRORS = (400, 405, 406, 414, 431, 500)
BODY_ERRORS = (400, 413, 415)


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's schema, aware that problem responses are keyed ``(status, media type)``.

    Upstream picks the "main" response by the smallest key as text, and ``"(400, …)"`` sorts
    before ``"200"``; list views then lose their filter and pagination parameters.
    """

    def _is_list_view(self, serializer=None):
        if serializer is None:
            serializer = self.get_response_serializers()
        if isinstance(serializer, dict):
            success = {code: s for code, s in serializer.items() if str(code).startswith("2")}
            serializer = success or serializer
        return super()._is_list_view(serializer)


def idempotency_key(required: bool = False) -> OpenApiParameter:
    from services.kit.idempotency import KEY_PATTERN

    return OpenApiParameter(
        "Idempotency-Key",
        {"type": "string", "minLength": 1, "maxLength": 255, "pattern": KEY_PATTERN},
        OpenApiParameter.HEADER,
        required=required,
        description=(
            "A fresh unique value (a UUID) per intended operation: 1 to 255 visible ASCII "
            "characters, anything else is a 400. Retrying with the same key and body replays the "
            "first response instead of doing the work again; the same key with another body is a "
            "422, and while the first is in flight a 409. When the first call created a resource "
            "that has been deleted since, the retry is a 410 problem instead of a replayed 201 "
            "pointing at nothing (the work is not done again). Kept 24 hours."
        ),
    )


IDEMPOTENCY_ERRORS = (409, 422)
# A create replayed after its resource was deleted (only where resources can be deleted).
REPLAY_GONE = 410


def _nullable_object(node):
    """drf-spectacular publishes a nullable nested serializer as ``allOf: [$ref]`` with
    ``nullable: true`` beside it. OpenAPI 3.0.3 gives ``nullable`` meaning only next to a
    ``type``, so validators (openapi-core: the gateway, the client and the tests) refuse ``null``
    there; ``oneOf`` the object or a typed null says what the code does."""
    if isinstance(node, list):
        return [_nullable_object(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable_object(value) for key, value in node.items()}
    if node.get("nullable") is True and len(node.get("allOf", ())) == 1 and "type" not in node:
        rest = {key: value for key, value in node.items() if key not in ("allOf", "nullable")}
        return {
            "oneOf": [node["allOf"][0], {"type": "object", "nullable": True, "enum": [None]}],
            **rest,
        }
    return node


def nullable_objects(result, generator, request, public):
    """A ``POSTPROCESSING_HOOKS`` entry for every service: see :func:`_nullable_object`."""
    return _nullable_object(result)


INT32 = range(-(2**31), 2**31)


def _integer_format(node):
    """An integer without a ``format`` is ``int32`` when its declared bounds fit in 32 bits,
    else ``int64``: ids, counts and amounts are 64-bit database columns, and clients must know
    how wide a type holds them."""
    if isinstance(node, list):
        return [_integer_format(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _integer_format(value) for key, value in node.items()}
    if node.get("type") == "integer" and "format" not in node:
        bounds = (node.get("minimum"), node.get("maximum"))
        fits = all(isinstance(bound, int) and bound in INT32 for bound in bounds)
        node["format"] = "int32" if fits else "int64"
    return node


def integer_formats(result, generator, request, public):
    """A ``POSTPROCESSING_HOOKS`` entry for every service: see :func:`_integer_format`."""
    return _integer_format(result)


def conventions(result, generator, request, public):
    """A ``POSTPROCESSING_HOOKS`` entry for every service: the description ends with
    :data:`CONVENTIONS`."""
    info = result["info"]
    info["description"] = f"{info.get('description', '')}\n\n{CONVENTIONS}"
    return result
