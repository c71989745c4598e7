from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def _refuse_without_secret_key() -> None:
    """A server may not run in production mode without a configured ``SECRET_KEY``.

    Management commands may run with a throwaway key (they sign nothing that outlives the
    process); a server may not, or sessions and signatures would break across workers and restarts.
    """
    if not settings.DEBUG and not settings.SECRET_KEY_FROM_ENV:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set it to a long random value (DEBUG is off, so there is no "
            "default)."
        )


def get_application():
    """The WSGI app, refusing to serve in production mode without a configured ``SECRET_KEY``."""
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()
    _refuse_without_secret_key()
    return application


def get_asgi_application():
    """The ASGI app, on the same terms."""
    from django.core.asgi import get_asgi_application as django_asgi_application

    application = django_asgi_application()
    _refuse_without_secret_key()
    return application
