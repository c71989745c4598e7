"""ASGI entry for whichever app ``SERVICE`` names: its ``ASGI_APPLICATION`` (the gateway's front
door), else Django's ASGI handler. gunicorn.conf.py serves the gateway from here."""

from services.kit.entry import configure

configure()

from django.conf import settings  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

if getattr(settings, "ASGI_APPLICATION", None):
    application = import_string(settings.ASGI_APPLICATION)
else:
    from services.kit.wsgi import get_asgi_application

    application = get_asgi_application()
