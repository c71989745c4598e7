"""The gateway's own pages: /__api__/ (contracts), /__usage__/ (rollups), /metrics and the
upstream part of /__health__; /__doc__/ is gateway.doc_views."""

from __future__ import annotations

import hmac

from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import authentication, permissions, serializers
from rest_framework.exceptions import AuthenticationFailed, Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

import contracts
from contracts import generate
from gateway import auth, deprecation, metrics, selectors, served
from gateway.breaker import breaker_for
from gateway.bulkhead import bulkhead_for
from gateway.edge import client_address
from gateway.models import Consumer
from gateway.proxy import probe
from gateway.ratelimit import FailedAuthLimiter
from services.kit.problems import ParameterValidationError


def catalogue() -> dict:
    """Every routed service and published version, with its lifecycle and where to read more."""
    services = {}
    for service, versions in contracts.published().items():
        if service not in settings.GATEWAY_UPSTREAMS:
            continue
        services[service] = {
            "versions": {
                version: {
                    "lifecycle": deprecation.lifecycle(service, version).as_dict(),
                    "contract": f"/__api__/{service}/{version}.yaml",
                    "docs": f"/__doc__/{service}/{version}/",
                    "base_path": f"/{service}/{version}",
                }
                for version in versions
            }
        }
    return {"services": services}


def api_index(request):
    return JsonResponse(catalogue(), json_dumps_params={"indent": 2})


def api_contract(request, service: str, version: str, fmt: str):
    if service not in catalogue()["services"]:
        raise Http404(f"No service {service!r}.")
    try:
        document = served.document(service, version, served.public_url(request))
    except contracts.UnknownContract as exc:
        raise Http404(str(exc)) from None
    if fmt == "json":
        return JsonResponse(document)
    return HttpResponse(generate.render(document), content_type="application/yaml; charset=utf-8")


class PlatformKeyAuthentication(authentication.BaseAuthentication):
    """A consumer's bearer key, for the platform team's own tools."""

    def authenticate(self, request):
        token = auth.bearer_token(request.headers.get("Authorization", ""))
        if token is None:
            return None
        # Failed keys count against the address as on proxied calls: these pages are no way
        # around the limit on guessing.
        address = client_address(
            request.META.get("HTTP_X_FORWARDED_FOR"), request.META.get("REMOTE_ADDR", "")
        )
        wait = _failed_auth.blocked(address)
        if wait is not None:
            detail = f"Too many failed authentications from this address; retry in {wait} s."
            raise Throttled(wait, detail=detail)
        consumer = auth.consumer_for_key(token)
        if consumer is None:
            _failed_auth.failed(address)
            raise AuthenticationFailed("This API key is not valid.")
        return consumer, None

    def authenticate_header(self, request):
        return 'Bearer realm="switchyard"'


_failed_auth = FailedAuthLimiter()


class IsPlatformOrStaff(permissions.BasePermission):
    message = "Usage data is for the platform team: a platform consumer's key or a staff login."

    def has_permission(self, request, view):
        user = request.user
        if isinstance(user, Scraper):
            return True
        if isinstance(user, Consumer):
            return user.is_platform
        return bool(user and getattr(user, "is_staff", False))


class Scraper:
    """Whoever holds ``GATEWAY_METRICS_TOKEN``: a Prometheus server, say."""

    is_authenticated = True


class MetricsTokenAuthentication(PlatformKeyAuthentication):
    """``Authorization: Bearer <GATEWAY_METRICS_TOKEN>``, as Prometheus' ``authorization``
    setting sends it; any other bearer goes on to the platform keys."""

    def authenticate(self, request):
        expected = settings.GATEWAY_METRICS_TOKEN
        token = auth.bearer_token(request.headers.get("Authorization", ""))
        if expected and token and hmac.compare_digest(token.encode(), expected.encode()):
            return Scraper(), None
        return None


class MetricsApi(APIView):
    """``/metrics`` (Prometheus): its labels name every consumer, so it is for the platform team
    (the scrape token, a platform key or a staff login), like the usage data."""

    authentication_classes = [
        MetricsTokenAuthentication,
        PlatformKeyAuthentication,
        authentication.SessionAuthentication,
    ]
    permission_classes = [IsPlatformOrStaff]

    def get(self, request):
        body, content_type = metrics.exposition()
        return HttpResponse(body, content_type=content_type)


class UsageQuery(serializers.Serializer):
    service = serializers.CharField(required=False, max_length=32)
    version = serializers.CharField(required=False, max_length=16)
    consumer = serializers.CharField(required=False, max_length=64)
    since = serializers.DateTimeField(required=False)
    until = serializers.DateTimeField(required=False)


class UsageApi(APIView):
    authentication_classes = [PlatformKeyAuthentication, authentication.SessionAuthentication]
    permission_classes = [IsPlatformOrStaff]

    def get(self, request):
        query = UsageQuery(data=request.query_params)
        if not query.is_valid():
            raise ParameterValidationError(query.errors)
        filters = query.validated_data
        rows = [selectors.as_json(row) for row in selectors.usage_rollups(**filters)]
        return Response(
            {
                "filters": {key: str(value) for key, value in filters.items()},
                "latency_bucket_bounds_ms": selectors.BUCKET_BOUNDS_MS,
                "total": sum(row["count"] for row in rows),
                "rows": rows,
            }
        )


def upstream_checks() -> dict:
    """Each upstream's breaker state and a quick live probe of its own /__health__."""
    checks = {}
    for service, upstream in settings.GATEWAY_UPSTREAMS.items():
        entry = {
            "breaker": breaker_for(upstream).state,
            "in_flight": bulkhead_for(upstream).in_flight,
        }
        try:
            status = probe(upstream, "/__health__")
            entry["status"] = "pass" if status == 200 else "warn"
            entry["upstream_status"] = status
        except Exception as exc:
            entry["status"] = "warn"
            entry["output"] = type(exc).__name__
        checks[f"upstream:{service}"] = entry
    return checks
