"""The settings the hot path reads, read once (and again whenever a setting changes).

Django's lazy settings cost an attribute lookup through ``LazyObject`` on every read, and the
cache proxy a context-local lookup on every use; the pipeline reads a handful of both on every
call. Like DRF's ``api_settings``, this snapshot is rebuilt on ``setting_changed`` (tests).
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.core.cache import caches
from django.core.signals import setting_changed

from gateway.shared_cache import GuardedCache


@functools.cache
def hot() -> SimpleNamespace:
    return SimpleNamespace(
        # Errors of the shared cache (Redis down or hung) fail open instead of failing the call.
        cache=GuardedCache(caches["default"]),
        secret=settings.GATEWAY_SECRET,
        retries=settings.GATEWAY_RETRIES,
        connect_timeout=settings.GATEWAY_CONNECT_TIMEOUT,
        read_timeout=settings.GATEWAY_READ_TIMEOUT,
        rate_limit=settings.GATEWAY_RATE_LIMIT_PER_MINUTE,
        auth_failures=settings.GATEWAY_AUTH_FAILURES_PER_MINUTE,
        trusted_proxy_hops=settings.GATEWAY_TRUSTED_PROXY_HOPS,
        validate=frozenset(settings.GATEWAY_VALIDATE),
        lifecycle_file=Path(settings.GATEWAY_LIFECYCLE_FILE),
        upstreams=dict(settings.GATEWAY_UPSTREAMS),
        proxy_ssl_header=settings.SECURE_PROXY_SSL_HEADER,
        use_x_forwarded_host=settings.USE_X_FORWARDED_HOST,
        https_only=settings.SECURE_SSL_REDIRECT,
        hsts=_hsts(),
    )


def _hsts() -> str:
    """The ``Strict-Transport-Security`` value Django's SecurityMiddleware sends ("" for none)."""
    if not settings.SECURE_HSTS_SECONDS:
        return ""
    value = f"max-age={settings.SECURE_HSTS_SECONDS}"
    if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS:
        value += "; includeSubDomains"
    if settings.SECURE_HSTS_PRELOAD:
        value += "; preload"
    return value


def _changed(**kwargs) -> None:
    hot.cache_clear()
    from gateway import edge

    edge.forget_hosts()


setting_changed.connect(_changed)
