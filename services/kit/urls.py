"""URL patterns and error handlers that every app's root URLconf includes."""

from django.urls import path, re_path

from services.kit import views

handler400 = "services.kit.views.bad_request"
handler403 = "services.kit.views.permission_denied"
handler404 = "services.kit.views.not_found"
handler500 = "services.kit.views.server_error"

health_patterns = [path("__health__", views.health, name="health")]

# Last in every URLconf: unmatched paths get a problem 404 even with DEBUG on.
fallback_patterns = [re_path(r"", views.not_found)]
