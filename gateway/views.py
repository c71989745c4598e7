"""The gateway's own views (proxied calls never reach Django: see gateway.edge)."""

from __future__ import annotations

from django.http import HttpResponse

from gateway import metrics


def metrics_view(request):
    body, content_type = metrics.exposition()
    return HttpResponse(body, content_type=content_type)
