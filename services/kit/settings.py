"""Settings every Switchyard app shares, read from the environment (12-factor).

A service's own ``settings.py`` star-imports this module, then names its apps, URLs and database
with :func:`database_for`. Nothing here has a production default for a secret.
"""

import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

# A setting too: the services that publish versioned APIs (and so contracts).
from services.kit.entry import API_SERVICES  # noqa: F401

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR") or BASE_DIR / "var")


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def database_for(service: str) -> dict:
    """``DATABASE_URL`` if set, else a SQLite file of this service's own under ``var/`` (made
    when the app starts: see :class:`services.kit.apps.KitConfig`)."""
    config = dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / f'{service}.sqlite3'}",
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
    if config["ENGINE"].endswith("sqlite3"):
        # Several gunicorn workers write to one file: take the write lock when a transaction
        # starts (a deferred one that reads first fails at once with "database is locked"), wait
        # for it rather than fail, and let readers proceed during writes (WAL).
        config["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    elif config["ENGINE"].endswith("postgresql"):
        # Several services may share one server (or, on a laptop, one DATABASE_URL): keep their test
        # databases apart so each service's suite creates and drops only its own.
        config["TEST"] = {"NAME": f"test_{config['NAME']}_{service}"}
    return config


DEBUG = env_bool("DEBUG", False)

SECRET_KEY_FROM_ENV = bool(os.environ.get("SECRET_KEY"))
if SECRET_KEY_FROM_ENV:
    SECRET_KEY = os.environ["SECRET_KEY"]
elif DEBUG:
    SECRET_KEY = "django-insecure-debug-only-never-in-production"  # noqa: S105
else:
    # Management commands may run without a key; kit.wsgi refuses to serve with this one.
    SECRET_KEY = secrets.token_urlsafe(50)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# Behind a router (ours, or Heroku's) the original scheme arrives in X-Forwarded-Proto.
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS: the platform terminates TLS. Production defaults are strict; the environment relaxes them
# for plain HTTP on a laptop (bin/up, the end-to-end tests), DEBUG turns them off.
# A service never redirects: it answers only the gateway, over the platform's private network,
# and a 301 would turn an API's POST into a GET. The gateway redirects (gateway/settings.py).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# Platform health checks call /__health__ over plain HTTP from inside the platform.
SECURE_REDIRECT_EXEMPT = env_list("SECURE_REDIRECT_EXEMPT", r"^__health__$")
# Sent on HTTPS answers only. Subdomains and preloading bind every host under the domain (preload
# for months, beyond our reach): the domain's owner turns them on, not an app's default.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# What `manage.py check --deploy` may leave unsaid, each for its reason (the gateway has its own).
SILENCED_SYSTEM_CHECKS = [
    # X-Frame-Options: a service answers JSON to the gateway; it has no pages to frame.
    "security.W002",
    # CSRF: no sessions or cookies; callers authenticate with bearer keys at the gateway.
    "security.W003",
    # HSTS includeSubDomains: the domain owner's decision (SECURE_HSTS_INCLUDE_SUBDOMAINS=1).
    "security.W005",
    # SSL redirect: reached only through the gateway, over the platform's private network.
    "security.W008",
    # HSTS preload: the domain owner's decision, slow to undo (SECURE_HSTS_PRELOAD=1).
    "security.W021",
]

KIT_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "rest_framework",
    "drf_spectacular",
    "django_filters",
    "services.kit",
    "contracts",
]

MIDDLEWARE = [
    "services.kit.middleware.RequestIdMiddleware",
    "services.kit.middleware.RequestGuardMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Length on every answer that is not streamed: without it gunicorn chunks the body,
    # and a proxy (or cache) in front can neither read it in one go nor keep it.
    "django.middleware.common.CommonMiddleware",
    "services.kit.gateway_trust.GatewayTrustMiddleware",
    "services.kit.middleware.ProblemMiddleware",
]

# Shared with the gateway: when set, a service refuses calls the gateway did not sign.
GATEWAY_SECRET = os.environ.get("GATEWAY_SECRET", "")
GATEWAY_SIGNATURE_MAX_AGE = env_int("GATEWAY_SIGNATURE_MAX_AGE", 300)

# Service-to-service calls (services.kit.client): where each other service is reached (normally
# the gateway, e.g. http://127.0.0.1:8000/faq), the consumer key to call with, seconds to wait,
# and the keep-alive connections kept per base URL (one per thread that calls at once).
FAQ_API = os.environ.get("FAQ_API", "")
TICKETS_API = os.environ.get("TICKETS_API", "")
BILLING_API = os.environ.get("BILLING_API", "")
GATEWAY_API_KEY = os.environ.get("GATEWAY_API_KEY", "")
SERVICE_CLIENT_CONNECT_TIMEOUT = float(os.environ.get("SERVICE_CLIENT_CONNECT_TIMEOUT") or "2")
SERVICE_CLIENT_READ_TIMEOUT = float(os.environ.get("SERVICE_CLIENT_READ_TIMEOUT") or "10")
SERVICE_CLIENT_POOL_SIZE = env_int("SERVICE_CLIENT_POOL_SIZE", 20)

# The worker process (manage.py worker, the Procfile's worker line): the app's outbox pass, if it
# has one, and the seconds between passes.
OUTBOX_SENDER: str | None = None
WORKER_INTERVAL = float(os.environ.get("WORKER_INTERVAL", "5"))
# Links in responses use the host the caller used. Trusted by default only when GATEWAY_SECRET
# guarantees that X-Forwarded-Host can only come from the gateway.
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", bool(GATEWAY_SECRET))

# Idempotency-Keys are kept at least this long (manage.py idempotency_purge removes older ones).
IDEMPOTENCY_TTL_HOURS = env_int("IDEMPOTENCY_TTL_HOURS", 24)

APPEND_SLASH = False
USE_TZ = True
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en-us"
USE_I18N = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Largest request body any endpoint accepts; larger ones get 413 before anything parses them.
MAX_REQUEST_BODY_BYTES = env_int("MAX_REQUEST_BODY_BYTES", 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "switchyard"),
            "TIMEOUT": 300,
            # Redis on the hot path answers in well under a millisecond: one that does not
            # answer in a quarter of a second is down, and the caller goes on without it.
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["services.kit.parsers.JSONParser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_FILTER_BACKENDS": ["services.kit.filters.FilterBackend"],
    "EXCEPTION_HANDLER": "services.kit.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "services.kit.schema.AutoSchema",
    "DEFAULT_METADATA_CLASS": "services.kit.metadata.Metadata",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
    "STRICT_JSON": True,
    "UNICODE_JSON": True,
}

SPECTACULAR_SETTINGS = {
    "VERSION": None,  # each document is versioned by the API version it describes
    "COMPONENT_SPLIT_REQUEST": True,
    "COMPONENT_NO_READ_ONLY_REQUIRED": False,
    "SERVE_INCLUDE_SCHEMA": False,
    "SORT_OPERATIONS": False,
    "SORT_OPERATION_PARAMETERS": True,
    "ENABLE_LIST_MECHANICS_ON_NON_2XX": False,
    "SCHEMA_PATH_PREFIX": r"/v[0-9]+",
    "DISABLE_ERRORS_AND_WARNINGS": False,
    # check --deploy would build one schema of every version at once (v1 and v2 collide in it),
    # which nobody publishes; contracts/checks.py checks each published version on its own.
    "ENABLE_DJANGO_DEPLOY_CHECK": False,
    "CONTACT": {"name": "Switchyard platform team"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "services.kit.schema.nullable_objects",
        "services.kit.schema.integer_formats",
        "services.kit.schema.conventions",
    ],
    "PATH_CONVERTER_OVERRIDES": {
        "id": {"type": "integer", "format": "int64", "minimum": 1, "maximum": 999999999999999999}
    },
}

LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "services.kit.logging.RequestIdFilter"}},
    "formatters": {"json": {"()": "services.kit.logging.JsonFormatter"}},
    "handlers": {
        "stdout": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "json",
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["stdout"], "level": LOG_LEVEL},
    "loggers": {
        # Our request log and ProblemMiddleware's error log (both with the request id) replace
        # Django's, which would repeat every 4xx/5xx line without one.
        "django.request": {"level": "CRITICAL", "handlers": ["stdout"], "propagate": False},
        "django.server": {"level": "ERROR"},
        "django.db.backends": {"level": "INFO"},
    },
}
