from services.kit.urls import (  # noqa: F401 - Django looks the handlers up here
    fallback_patterns,
    handler400,
    handler403,
    handler404,
    handler500,
    health_patterns,
)

# Routing, consumers, usage and the lifecycle pages arrive with the gateway issue; until then
# the gateway answers its health check and a problem 404 for everything else.
urlpatterns = [*health_patterns, *fallback_patterns]
