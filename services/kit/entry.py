"""Which Django project a process runs: ``SERVICE`` picks the settings module.

Every entry point (``manage.py``, ``wsgi.py``, gunicorn) goes through :func:`configure`, so one
checkout serves every deployable app and a Heroku app differs from another only by its config vars.
"""

import os
import sys

SETTINGS_MODULES = {
    "faq": "services.faq.settings",
    "tickets": "services.tickets.settings",
    "billing": "services.billing.settings",
    "gateway": "gateway.settings",
}

DEFAULT_SERVICE = "gateway"

# The services that publish versioned APIs (and so contracts); the gateway only routes to them.
API_SERVICES = [name for name in SETTINGS_MODULES if name != "gateway"]


def service_name() -> str:
    return os.environ.get("SERVICE", "").strip() or DEFAULT_SERVICE


def configure() -> str:
    """Point ``DJANGO_SETTINGS_MODULE`` at the settings of ``$SERVICE`` and return the name."""
    name = service_name()
    try:
        module = SETTINGS_MODULES[name]
    except KeyError:
        known = ", ".join(sorted(SETTINGS_MODULES))
        sys.exit(f"SERVICE={name!r} is not a Switchyard service (expected one of: {known})")
    os.environ["DJANGO_SETTINGS_MODULE"] = module
    return name
