from django.urls import include, path

from services.kit.urls import (  # noqa: F401 - Django looks the handlers up here
    fallback_patterns,
    handler400,
    handler403,
    handler404,
    handler500,
    health_patterns,
)

# Each published version is its own module; the contracts are generated from these same patterns.
urlpatterns = [
    *health_patterns,
    path("v1/", include("services.billing.api.v1.urls")),
    path("v2/", include("services.billing.api.v2.urls")),
    *fallback_patterns,
]
