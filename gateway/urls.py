from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from gateway import dashboard_views, doc_views, pages
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
    path("metrics", pages.MetricsApi.as_view(), name="metrics"),
    path("__api__/", pages.api_index, name="api-index"),
    re_path(
        r"^__api__/(?P<service>[a-z][a-z0-9_-]*)/(?P<version>v[0-9]+)\.(?P<fmt>yaml|json)$",
        pages.api_contract,
        name="api-contract",
    ),
    path("__doc__/", doc_views.doc_index, name="doc-index"),
    re_path(
        r"^__doc__/(?P<service>[a-z][a-z0-9_-]*)/(?P<version>v[0-9]+)/$",
        doc_views.doc_console,
        name="doc-console",
    ),
    path("__usage__/", pages.UsageApi.as_view(), name="usage"),
    path("__dashboard__/", dashboard_views.overview, name="dashboard"),
    path("favicon.ico", dashboard_views.favicon, name="favicon"),
    path(
        "__dashboard__/consumers/<str:name>/",
        dashboard_views.consumer_detail,
        name="dashboard-consumer",
    ),
    path("__dashboard__/export/versions.csv", dashboard_views.export_versions),
    re_path(
        r"^__dashboard__/export/consumers/(?P<service>[a-z][a-z0-9_-]*)/(?P<version>v[0-9]+)\.csv$",
        dashboard_views.export_consumers,
    ),
    path(
        "__login__/",
        auth_views.LoginView.as_view(template_name="gateway/login.html"),
        name="login",
    ),
    path("__logout__/", auth_views.LogoutView.as_view(next_page="/__login__/"), name="logout"),
    # Calls of the form /{service}/{version}/... never get here: gateway.edge routes them.
    *fallback_patterns,
]
