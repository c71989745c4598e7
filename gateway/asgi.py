"""The gateway's ASGI application: its front door (gateway.edge) in front of Django's pages."""

import os

os.environ["SERVICE"] = "gateway"
os.environ["DJANGO_SETTINGS_MODULE"] = "gateway.settings"

from services.kit.wsgi import get_asgi_application

_django = get_asgi_application()

from gateway.edge import GatewayApplication  # noqa: E402 - after Django is set up

application = GatewayApplication(_django)
