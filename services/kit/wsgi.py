from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.wsgi import get_wsgi_application


def get_application():
    """The WSGI app, refusing to serve in production mode without a configured ``SECRET_KEY``.

    Management commands may run with a throwaway key (they sign nothing that outlives the
    process); a server may not, or sessions and signatures would break across workers and restarts.
    """
    application = get_wsgi_application()
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENV:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value (DEBUG is off, so there is no "
            "default)."
        )
    return application
