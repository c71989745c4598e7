"""Where a call goes: ``/{service}/{version}/{path}`` to ``{SERVICE}_UPSTREAM/{version}/{path}``.

Only configured services and the versions their contracts publish are routed. A path that tries
to leave its prefix (``..``, ``.``, encoded slashes, backslashes or dots, also encoded twice or
spelled as overlong UTF-8) is not routed at all, so it can never reach another version, service
or host.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

import contracts
from contracts.validation import operations
from gateway.conf import hot

# Encoded dots, slashes, backslashes and NULs, also encoded again (%252e: a second decoding
# anywhere behind the gateway makes it a dot), and the non-standard spellings some servers still
# decode: overlong UTF-8 (%c0%ae is ".") and IIS' %u002e.
_ENCODED_TRICKS = re.compile(r"%(25)*(2e|2f|5c|00)|%c0|%c1|%e0%80|%u[0-9a-f]{4}", re.IGNORECASE)
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


class NotRoutable(Exception):
    """No route: the message is safe to show the caller."""


@dataclass(frozen=True)
class Operation:
    operation_id: str
    template: str  # the contract's path, e.g. /v1/faqs/{entry_id}
    params: dict[str, str]


@dataclass(frozen=True)
class Route:
    service: str
    version: str
    upstream: str  # base URL
    path: str  # upstream path, decoded: /v1/faqs/17
    operation: Operation | None

    @property
    def url(self) -> str:
        return self.upstream + quote(self.path, safe=_PATH_SAFE)

    @property
    def operation_name(self) -> str:
        return self.operation.template if self.operation else "(unmatched)"


@functools.cache
def base_path(upstream: str) -> str:
    return urlsplit(upstream).path.rstrip("/")


@functools.cache
def _matchers(service: str, version: str) -> list[tuple[re.Pattern, str, str, str]]:
    """(regex, method, template, operation id) for each operation of the published contract."""
    found = []
    for op in operations(contracts.load(service, version)).values():
        pattern = re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(op.path))
        found.append((re.compile(f"^{pattern}$"), op.method.upper(), op.path, op.operation_id))
    # Literal segments first: /faqs/search must beat /faqs/{id}.
    found.sort(key=lambda item: item[2].count("{"))
    return found


@functools.lru_cache(maxsize=4096)
def match_operation(service: str, version: str, method: str, path: str) -> Operation | None:
    candidates = _matchers(service, version)
    fallback = None
    for regex, op_method, template, op_id in candidates:
        matched = regex.match(path)
        if matched:
            if op_method == method or (method == "HEAD" and op_method == "GET"):
                return Operation(op_id, template, matched.groupdict())
            fallback = fallback or Operation("", template, matched.groupdict())
    return fallback


def published_versions(service: str) -> list[str]:
    return contracts.published().get(service, [])


def resolve(service: str, version: str, rest: str, raw_path: str, method: str) -> Route:
    upstream = hot().upstreams.get(service)
    if upstream is None:
        raise NotRoutable(f"There is no service {service!r} here.")
    if version not in published_versions(service):
        known = ", ".join(published_versions(service)) or "none"
        raise NotRoutable(f"{service} has no version {version!r} (published: {known}).")
    if _ENCODED_TRICKS.search(raw_path) or "\\" in rest or "\x00" in rest:
        raise NotRoutable("The path contains encoded separators or dots.")
    # "..;x" is ".." to servers that strip path parameters (Tomcat, Spring): refuse it too.
    segments = [segment.split(";")[0] for segment in rest.split("/")]
    if any(segment in {".", ".."} for segment in segments):
        raise NotRoutable("The path may not contain '.' or '..' segments.")
    path = f"/{version}{rest}"
    return Route(
        service=service,
        version=version,
        upstream=upstream,
        path=path,
        operation=match_operation(service, version, method, path),
    )
