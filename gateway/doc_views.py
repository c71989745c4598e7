"""/__doc__/: the index and a console per version (Swagger UI over the served contract: read it,
authorize with a consumer key, try calls through the gateway). Everything these pages load comes
from the gateway itself (drf-spectacular-sidecar's bundle, the gateway's own static files), and a
Content-Security-Policy holds them to that: a page that tried anything else would be refused.

Swagger UI is the only viewer. Redoc's standalone bundle (the former reading view) loads its logo
from a CDN on every page (no option turns that off but dropping its sidebar), builds its search
worker from a blob: URL and writes its styles into <style> elements at run time, so it would need
a looser policy ('unsafe-inline' styles, blob: workers) and still be refused a request.
"""

from __future__ import annotations

from functools import wraps

from django.http import Http404
from django.shortcuts import render

from contracts.lifecycle import ACTIVE
from gateway.pages import catalogue

# Django 5.2 has no CSP support of its own (django.middleware.csp is 6.0), so the doc views set
# the header themselves. Scripts are files only (Swagger UI's init is gateway/console.js), so no
# 'unsafe-inline' for them; images allow data: for the icons Swagger UI's stylesheet inlines.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def same_origin_only(view):
    """The view's pages load and call nothing but the gateway's own origin."""

    @wraps(view)
    def with_policy(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    return with_policy


def _version(service: str, version: str) -> dict:
    about = catalogue()["services"].get(service, {}).get("versions", {}).get(version)
    if about is None:
        raise Http404(f"No documentation for {service} {version}.")
    return {
        "service": service,
        "version": version,
        "about": about,
        "ACTIVE": ACTIVE,
        "spec_url": f"/__api__/{service}/{version}.json",
    }


@same_origin_only
def doc_index(request):
    entries = []
    for service, info in catalogue()["services"].items():
        for version, about in info["versions"].items():
            entries.append({"service": service, "version": version, **about})
    return render(request, "gateway/doc_index.html", {"entries": entries, "ACTIVE": ACTIVE})


@same_origin_only
def doc_console(request, service: str, version: str):
    return render(request, "gateway/doc_console.html", _version(service, version))
