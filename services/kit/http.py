import re

from django.urls import reverse
from rest_framework import status
from rest_framework.response import Response

_PREFIX = re.compile(r"^(/[A-Za-z0-9_-]+){1,3}$")


def public_path(request, path: str) -> str:
    """``path`` as the caller sees it: behind the gateway it is mounted under a prefix
    (``/faq``), which the gateway announces in ``X-Forwarded-Prefix``."""
    prefix = request.headers.get("X-Forwarded-Prefix", "")
    return (prefix if _PREFIX.match(prefix) else "") + path


def created(request, data, *, view_name: str, **kwargs) -> Response:
    """201 with a ``Location`` that points at the new resource as the caller addresses it."""
    location = public_path(request, reverse(view_name, kwargs=kwargs))
    return Response(data, status=status.HTTP_201_CREATED, headers={"Location": location})
