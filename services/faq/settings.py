from services.kit.settings import *  # noqa: F403
from services.kit.settings import KIT_APPS, SPECTACULAR_SETTINGS, database_for

SERVICE_NAME = "faq"
API_VERSIONS = ["v1", "v2"]

INSTALLED_APPS = [*KIT_APPS, "services.faq"]
ROOT_URLCONF = "services.kit.service_urls"
WSGI_APPLICATION = "services.faq.wsgi.application"
DATABASES = {"default": database_for(SERVICE_NAME)}

SPECTACULAR_SETTINGS = {
    **SPECTACULAR_SETTINGS,
    "TITLE": "FAQ service",
    "DESCRIPTION": (
        "Questions and answers harvested from tickets, forums and docs. "
        "Owned by the Community team."
    ),
    "TAGS": [{"name": "faq", "description": "FAQ entries: questions, answers and their sources."}],
}
