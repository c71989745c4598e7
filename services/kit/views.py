import time

from django.conf import settings
from django.db import connection
from django.http import JsonResponse
from django.utils.module_loading import import_string
from django.views.decorators.csrf import csrf_exempt

from services.kit import problems

HEALTH_CONTENT_TYPE = "application/health+json"


def _check(probe) -> dict:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:
        return {"status": "fail", "output": type(exc).__name__}
    return {"status": "pass", "duration_ms": round((time.perf_counter() - started) * 1000, 2)}


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    from django.core.cache import cache

    cache.set("__health__", "1", 5)
    if cache.get("__health__") != "1":
        raise RuntimeError("cache did not return what was written")


@csrf_exempt
def health(request):
    """Readiness in the health-check draft's shape: 200 when every dependency passes, else 503."""
    if request.method not in ("GET", "HEAD"):
        return problems.problem_response(405, headers={"Allow": "GET, HEAD"})
    checks = {"database": _check(_database)}
    if settings.REDIS_URL:
        checks["cache"] = _check(_cache)
    # An app may add checks that inform without deciding readiness ("warn", e.g. the gateway's
    # upstreams: the gateway still answers, with 503s, while one is down).
    for dotted in getattr(settings, "HEALTH_EXTRA_CHECKS", ()):
        checks.update(import_string(dotted)())
    statuses = {check["status"] for check in checks.values()}
    overall = "fail" if "fail" in statuses else "warn" if "warn" in statuses else "pass"
    ok = overall != "fail"
    body = {
        "status": overall,
        "service": settings.SERVICE_NAME,
        "checks": checks,
    }
    response = JsonResponse(body, status=200 if ok else 503, content_type=HEALTH_CONTENT_TYPE)
    response["Cache-Control"] = "no-store"
    return response


@csrf_exempt
def not_found(request, exception=None, **kwargs):
    return problems.problem_response(
        404, detail=f"No resource at {request.path}. See the service's contract for its paths."
    )


def bad_request(request, exception=None):
    return problems.problem_response(400, detail="The request could not be understood.")


def permission_denied(request, exception=None):
    return problems.problem_response(403)


def csrf_failure(request, reason=""):
    return problems.problem_response(
        403, detail="The form's CSRF token is missing or wrong; reload the page and try again."
    )


def server_error(request):
    return problems.problem_response(
        500, detail="The server failed to handle this request; it has been logged."
    )
