"""The one client for service-to-service calls, driven by the provider's published contract.

    faq = ServiceClient("faq", "v2")            # settings.FAQ_API, settings.GATEWAY_API_KEY
    entry = faq.call("faq_create", json={...}, idempotency_key="ticket-17-promotion").json()
    faq.call("faq_retrieve", path={"entry_id": 17})

Operations are the contract's operation ids: a new provider endpoint needs no client code. Each
call is checked against the contract before it is sent (a mismatch is the caller's bug:
``ContractViolation``), has connect and read timeouts, reuses pooled keep-alive connections, is
retried on connection errors only when it is safe (idempotent methods, or an ``Idempotency-Key``),
carries the current ``X-Request-ID``, and turns problem+json answers into typed exceptions.
Every failure is a :class:`ServiceError`, a missing contract included.
"""

from __future__ import annotations

import json as jsonlib
import time
from typing import Any
from urllib.parse import quote

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from contracts import UnknownContract
from contracts.validation import Contract
from services.kit.logging import request_id_var
from services.kit.pools import pooled

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


class ServiceError(Exception):
    """The provider answered with an error (``status``, ``problem``), or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, problem: dict | None = None):
        super().__init__(message)
        self.status = status
        self.problem = problem or {}


class ContractViolation(ServiceError):
    """What we were about to send breaks the provider's contract; nothing was sent."""


class NoContract(ServiceError):
    """The provider's contract (or the operation in it) is not published here: nothing was sent,
    and nothing can be until a deploy brings it."""


class ServiceUnavailable(ServiceError):
    """No answer: connection refused or reset, a timeout, or a 502/503/504 from the way there."""


class BadRequest(ServiceError):
    pass


class Unauthorized(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class Conflict(ServiceError):
    pass


class Gone(ServiceError):
    """The version was switched off (sunset or brownout): time to migrate."""


class Unprocessable(ServiceError):
    pass


class RateLimited(ServiceError):
    pass


class ServerError(ServiceError):
    pass


_BY_STATUS = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    410: Gone,
    413: BadRequest,
    415: BadRequest,
    422: Unprocessable,
    429: RateLimited,
    502: ServiceUnavailable,
    503: ServiceUnavailable,
    504: ServiceUnavailable,
}

_sessions: dict[str, requests.Session] = {}  # by base URL


def _new_session(base_url: str) -> requests.Session:
    session = requests.Session()
    session.trust_env = False
    adapter = HTTPAdapter(
        pool_connections=1, pool_maxsize=settings.SERVICE_CLIENT_POOL_SIZE, max_retries=0
    )
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ServiceClient:
    def __init__(
        self,
        service: str,
        version: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        connect_timeout: float | None = None,
        read_timeout: float | None = None,
        retries: int = 2,
        validate: bool = True,
    ):
        self.service = service
        self.version = version
        name = f"{service.upper()}_API"
        base = base_url if base_url is not None else getattr(settings, name, "")
        if not base:
            raise ServiceError(f"{name} is not set: where is the {service} service?")
        self.base_url = base.rstrip("/")
        self.api_key = api_key if api_key is not None else settings.GATEWAY_API_KEY
        self.timeout = (
            connect_timeout or settings.SERVICE_CLIENT_CONNECT_TIMEOUT,
            read_timeout or settings.SERVICE_CLIENT_READ_TIMEOUT,
        )
        self.retries = retries
        self.validate = validate
        try:
            self.contract = Contract.published(service, version)
        except UnknownContract as exc:
            raise NoContract(f"{service}: {exc}") from exc

    def url_for(self, operation_id: str, path: dict[str, Any] | None = None) -> tuple[str, str]:
        """(method, url) of an operation, its path parameters filled in."""
        try:
            operation = self.contract.operation(operation_id)
        except UnknownContract as exc:
            raise NoContract(f"{self.service}: {exc}") from exc
        route = operation.path
        for name, value in (path or {}).items():
            route = route.replace("{" + name + "}", quote(str(value), safe=""))
        if "{" in route:
            raise ContractViolation(f"{operation_id} needs path parameters: {operation.path}")
        return operation.method.upper(), route

    def call(
        self,
        operation_id: str,
        *,
        path: dict[str, Any] | None = None,
        query: dict[str, Any] | None = None,
        json: Any = None,
        idempotency_key: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> requests.Response:
        method, route = self.url_for(operation_id, path)
        body = None if json is None else jsonlib.dumps(json).encode()
        if self.validate:
            errors = self.contract.request_errors(
                method, route, query=query, body=body, content_type="application/json"
            )
            if errors:
                raise ContractViolation(
                    f"{self.service} {self.version} {operation_id}: " + "; ".join(errors)
                )
        sent = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        if self.api_key:
            sent["Authorization"] = f"Bearer {self.api_key}"
        if idempotency_key:
            sent["Idempotency-Key"] = idempotency_key
        request_id = request_id_var.get()
        if request_id:
            sent["X-Request-ID"] = request_id
        retryable = method in IDEMPOTENT or bool(idempotency_key)
        attempts = 1 + (self.retries if retryable else 0)
        session = pooled(_sessions, self.base_url, _new_session)
        for attempt in range(attempts):
            try:
                response = session.request(
                    method,
                    self.base_url + route,
                    params=query,
                    data=body,
                    headers=sent,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
                break
            except requests.ConnectionError as exc:
                if attempt + 1 < attempts and not isinstance(exc, requests.ReadTimeout):
                    time.sleep(0.1 * 2**attempt)
                    continue
                raise ServiceUnavailable(
                    f"{self.service} unreachable for {operation_id}: {type(exc).__name__}"
                ) from exc
            except requests.Timeout as exc:
                raise ServiceUnavailable(
                    f"{self.service} did not answer {operation_id} in time"
                ) from exc
        if response.status_code >= 400:
            raise self._error(operation_id, response)
        return response

    def _error(self, operation_id: str, response: requests.Response) -> ServiceError:
        problem = {}
        if "json" in response.headers.get("Content-Type", ""):
            try:
                problem = response.json()
            except ValueError:
                problem = {}
        status = response.status_code
        kind = _BY_STATUS.get(status) or (ServerError if status >= 500 else ServiceError)
        detail = problem.get("detail") or problem.get("title") or response.reason
        return kind(
            f"{self.service} {self.version} {operation_id} -> {status}: {detail}",
            status=status,
            problem=problem,
        )
