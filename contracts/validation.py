"""Checking documents and traffic against a contract (openapi-spec-validator, openapi-core)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from openapi_core import Config, OpenAPI
from openapi_core.testing import MockRequest, MockResponse
from openapi_spec_validator import validate as validate_spec

import contracts

# Problem documents (RFC 9457) are JSON, but openapi-core only knows plain application/json.
_CONFIG = Config(
    extra_media_type_deserializers={"application/problem+json": json.loads},
)

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def validate_document(document: dict) -> None:
    """Raise ``OpenAPIValidationError`` unless ``document`` is a valid OpenAPI 3 document."""
    validate_spec(document)


@dataclass(frozen=True)
class Operation:
    operation_id: str
    method: str
    path: str
    spec: dict


def operations(document: dict) -> dict[str, Operation]:
    """The document's operations by operation id."""
    found = {}
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            spec = item.get(method)
            if spec and "operationId" in spec:
                found[spec["operationId"]] = Operation(spec["operationId"], method, path, spec)
    return found


class Contract:
    """One service version's contract, able to judge requests and responses against it."""

    def __init__(
        self, document: dict, *, service: str = "", version: str = "", host: str = "http://service"
    ):
        self.document = document
        self.host = host  # where requests are taken to go: the servers' host, if it declares any
        self.service = service
        self.version = version
        self.operations = operations(document)
        self._openapi = OpenAPI.from_dict(document, config=_CONFIG)

    @classmethod
    def published(cls, service: str, version: str) -> Contract:
        return cls(contracts.load(service, version), service=service, version=version)

    def operation(self, operation_id: str) -> Operation:
        try:
            return self.operations[operation_id]
        except KeyError:
            raise contracts.UnknownContract(
                f"{self.service} {self.version} has no operation {operation_id!r}"
            ) from None

    def request_errors(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, Any] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
    ) -> list[str]:
        """Why this request breaks the contract; empty when it conforms."""
        data = _encode(body)
        request = MockRequest(
            self.host,
            method.lower(),
            path,
            args=query or {},
            headers=headers or {},
            data=data,
            content_type=content_type if data is not None else None,
        )
        return [_describe(error) for error in self._openapi.iter_request_errors(request)]

    def response_errors(
        self,
        method: str,
        path: str,
        *,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> list[str]:
        """Why this response breaks the contract; empty when it conforms."""
        request = MockRequest(self.host, method.lower(), path)
        response = MockResponse(
            body, status_code=status, headers=headers or {}, content_type=content_type
        )
        return [_describe(error) for error in self._openapi.iter_response_errors(request, response)]


def _encode(body: Any) -> bytes | None:
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    return json.dumps(body).encode("utf-8")


def _describe(error: Exception) -> str:
    """One line per cause: where in the document, and what is wrong there."""
    causes = list(getattr(error, "schema_errors", None) or [])
    cause = error.__cause__
    while cause is not None and not causes:
        causes = list(getattr(cause, "schema_errors", None) or [])
        cause = cause.__cause__
    if not causes:
        return f"{type(error).__name__}: {error}"
    details = []
    for schema_error in causes:
        where = "/".join(str(part) for part in schema_error.absolute_path)
        details.append(f"{where or '(root)'}: {schema_error.message}")
    return f"{type(error).__name__}: " + "; ".join(details)
