"""The root URLconf of every service (its ``ROOT_URLCONF``): the health check, one module per
published API version (``services/<service>/api/<version>/urls.py``, the modules its contracts
are generated from), and a problem 404 for everything else."""

from django.conf import settings
from django.urls import include, path

from services.kit.urls import (  # noqa: F401 - Django looks the handlers up here
    fallback_patterns,
    handler400,
    handler403,
    handler404,
    handler500,
    health_patterns,
)

urlpatterns = [
    *health_patterns,
    *(
        path(f"{version}/", include(f"services.{settings.SERVICE_NAME}.api.{version}.urls"))
        for version in settings.API_VERSIONS
    ),
    *fallback_patterns,
]
