from services.kit.settings import *  # noqa: F403
from services.kit.settings import KIT_APPS, database_for

SERVICE_NAME = "gateway"
API_VERSIONS: list[str] = []

INSTALLED_APPS = [*KIT_APPS, "gateway"]
ROOT_URLCONF = "gateway.urls"
WSGI_APPLICATION = "gateway.wsgi.application"
DATABASES = {"default": database_for(SERVICE_NAME)}
