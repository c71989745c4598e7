"""WSGI entry for whichever app ``SERVICE`` names (the Procfile's ``web`` process).

The app's own ``WSGI_APPLICATION`` is served, as ``runserver`` would serve it. The gateway runs
as ASGI instead (asgi.py; gunicorn.conf.py chooses).
"""

from services.kit.entry import configure

configure()

from django.core.servers.basehttp import get_internal_wsgi_application  # noqa: E402

application = get_internal_wsgi_application()
