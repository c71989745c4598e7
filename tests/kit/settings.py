"""The kit as a Django project of its own, for ``tests/kit``: the kit's apps and a tiny app with an
outbox model; SQLite by default, ``DATABASE_URL`` when set (as every service)."""

from services.kit.settings import *  # noqa: F403
from services.kit.settings import KIT_APPS, database_for

SERVICE_NAME = "kit"
API_VERSIONS = ["v1"]

INSTALLED_APPS = [*KIT_APPS, "tests.kit.app"]
ROOT_URLCONF = "tests.kit.urls"
DATABASES = {"default": database_for(SERVICE_NAME)}
OUTBOX_SENDER = "tests.kit.app.outbox.notes"
WORKER_INTERVAL = 0.05
