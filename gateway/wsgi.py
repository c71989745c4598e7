"""Django's WSGI application for the gateway's own pages (``runserver``). The gateway itself is
served as ASGI (gateway/asgi.py): proxied calls need its event loop."""

import os

os.environ["SERVICE"] = "gateway"
os.environ["DJANGO_SETTINGS_MODULE"] = "gateway.settings"

from services.kit.wsgi import get_application

application = get_application()
