"""WSGI entry for whichever app ``SERVICE`` names (the Procfile's ``web`` process).

The app's own ``WSGI_APPLICATION`` is served, as ``runserver`` would serve it: for the gateway,
its front door (proxied calls skip Django's request cycle), for the services, Django.
"""

from services.kit.entry import configure

configure()

from django.core.servers.basehttp import get_internal_wsgi_application  # noqa: E402

application = get_internal_wsgi_application()
