"""``Idempotency-Key`` for unsafe requests, as in the IETF draft of the same name.

- same key, same request: the first response is replayed exactly (status, body, Location);
- same key, different request: 422, nothing done;
- same key while the first request is still being handled: 409, nothing done;
- no key where one is required: 400; a key that is not 1 to 255 visible ASCII characters: 400;
- same key, same request, but the resource the first one created (its ``Location``) has been
  deleted since: 410, nothing done. Replaying the 201 would point the client at nothing, and doing
  the work again would bring back what someone deleted on purpose; the 410 tells the client both
  that its create did happen and that its result is gone.

The key is claimed in its own committed transaction before the work starts, so a concurrent
duplicate sees it at once; the work and the stored response then commit together, so a response
is never stored for work that did not happen, nor work done without its response. If the work
fails, the claim is released and the client may retry with the same key. Keys are kept at least
``IDEMPOTENCY_TTL_HOURS`` (24 by default); ``manage.py idempotency_purge`` removes older ones.
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import hashlib
import hmac
import re
from urllib.parse import urlsplit

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import Resolver404, resolve
from django.utils import timezone

from services.kit import problems
from services.kit.models import IdempotencyRecord

HEADER = "Idempotency-Key"
KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"
_VALID = re.compile(KEY_PATTERN)
IDEMPOTENCY = problems.problem_type("idempotency")
# A claim older than this whose work never finished is abandoned (its worker died): reclaimable.
STALE_CLAIM = dt.timedelta(seconds=60)


def _fingerprint(request) -> str:
    # Keyed: bodies may carry secrets (a card number), and a plain hash of a guessable layout
    # could be brute-forced from the stored value.
    digest = hmac.new(settings.SECRET_KEY.encode(), digestmod=hashlib.sha256)
    for part in (request.method.encode(), request.path.encode(), request.body or b""):
        digest.update(len(part).to_bytes(8, "big") + part)
    return digest.hexdigest()


def _problem(status: int, detail: str):
    from rest_framework.response import Response

    from services.kit.logging import request_id_var

    body = problems.problem(status, type=IDEMPOTENCY, detail=detail)
    body.setdefault("request_id", request_id_var.get())
    return Response(body, status=status, content_type=problems.CONTENT_TYPE)


def _local_match(location: str):
    """The URL pattern a stored ``Location`` points at, as this service routes it: behind the
    gateway it carries a prefix (``/faq``), up to the three segments :mod:`http` allows."""
    from services.kit.views import not_found  # every URLconf's catch-all: no answer here

    path = urlsplit(location).path
    for _ in range(4):
        try:
            match = resolve(path)
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            return match
        head, _, rest = path.lstrip("/").partition("/")
        if not head or not rest:
            return None
        path = "/" + rest
    return None


def _gone(request, record: IdempotencyRecord) -> bool:
    """Whether the resource the first call created is gone: its own GET answers 404."""
    if not (record.location and 200 <= record.status < 300):
        return False
    match = _local_match(record.location)
    if match is None:
        return False
    probe = copy.copy(request)
    probe.method = "GET"
    response = match.func(probe, *match.args, **match.kwargs)
    return response.status_code == 404


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(
        bytes(record.body or b""), status=record.status, content_type=record.content_type
    )
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def _claim(scope: str, key: str, request, fingerprint: str):
    """The new claim, or the response to give instead of doing the work."""
    try:
        with transaction.atomic():
            return IdempotencyRecord.objects.create(
                scope=scope,
                key=key,
                method=request.method,
                path=request.path,
                fingerprint=fingerprint,
            ), None
    except IntegrityError:
        pass
    existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
    if existing is None:  # released between our insert and this read: try once more
        return _claim(scope, key, request, fingerprint)
    if existing.fingerprint != fingerprint:
        return None, _problem(
            422, f"{HEADER} {key!r} was used for a different request; use a new key."
        )
    if existing.completed_at is not None:
        if _gone(request, existing):
            return None, _problem(
                410,
                f"The request with {HEADER} {key!r} was done and created {existing.location}, "
                "which has been deleted since; nothing was done again.",
            )
        return None, _replay(existing)
    if timezone.now() - existing.created_at > STALE_CLAIM:
        existing.delete()
        return _claim(scope, key, request, fingerprint)
    return None, _problem(
        409, f"A request with {HEADER} {key!r} is still being handled; retry shortly."
    )


def idempotent(required: bool = False):
    """Decorate a DRF view method (``post``/``put``/``patch``/``delete``)."""

    def decorate(handler):
        @functools.wraps(handler)
        def wrapper(view, request, *args, **kwargs):
            key = request.headers.get(HEADER)
            if key is None:
                if required:
                    return _problem(400, f"This call needs an {HEADER} header (a fresh UUID).")
                return handler(view, request, *args, **kwargs)
            if not _VALID.match(key):
                return _problem(400, f"{HEADER} must be 1 to 255 visible ASCII characters.")
            scope = getattr(request, "consumer", None) or "-"
            record, answer = _claim(scope, key, request._request, _fingerprint(request._request))
            if answer is not None:
                return answer
            try:
                with transaction.atomic():
                    response = handler(view, request, *args, **kwargs)
                    response = view.finalize_response(request, response, *args, **kwargs)
                    response.render()
                    if response.status_code >= 500:
                        raise _Failed(response)
                    record.status = response.status_code
                    record.content_type = response.get("Content-Type", "")
                    record.body = response.content
                    record.location = response.get("Location", "")
                    record.completed_at = timezone.now()
                    record.save()
                    return response
            except _Failed as failed:
                record.delete()
                return failed.response
            except BaseException:
                record.delete()  # nothing happened: the same key may be retried
                raise

        return wrapper

    return decorate


class _Failed(Exception):
    def __init__(self, response):
        self.response = response


def purge(older_than: dt.timedelta | None = None) -> int:
    hours = getattr(settings, "IDEMPOTENCY_TTL_HOURS", 24)
    cutoff = timezone.now() - (older_than or dt.timedelta(hours=hours))
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
