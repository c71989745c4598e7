import os

from services.kit.entry import API_SERVICES
from services.kit.settings import *  # noqa: F403
from services.kit.settings import (
    BASE_DIR,
    DEBUG,
    KIT_APPS,
    MIDDLEWARE,
    REDIS_URL,
    VAR_DIR,
    database_for,
    env_bool,
    env_int,
    env_list,
)

SERVICE_NAME = "gateway"
API_VERSIONS: list[str] = []

INSTALLED_APPS = [
    *KIT_APPS,
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "drf_spectacular_sidecar",
    "gateway",
]
MIDDLEWARE = [
    MIDDLEWARE[0],  # request ids first, so every response carries one
    "whitenoise.middleware.WhiteNoiseMiddleware",
    *MIDDLEWARE[1:],
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# The gateway is reached by everyone; the trust check is for the services behind it.
MIDDLEWARE.remove("services.kit.gateway_trust.GatewayTrustMiddleware")
# The gateway is the edge: the Host it sees is the caller's, never one a client forwards.
USE_X_FORWARDED_HOST = env_bool("USE_X_FORWARDED_HOST", False)
# Browsers are sent to https (SecurityMiddleware's 301; /__health__ exempt, see the kit); a proxied
# call over plain HTTP gets a 403 problem instead (gateway/edge.py).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# Needed only when the platform passes the gateway another Host than the one the browser used.
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Pages, a login, cookies: the gateway passes every deploy check but the HSTS scope.
SILENCED_SYSTEM_CHECKS = [
    "security.W005",  # HSTS includeSubDomains: the domain owner's decision (see the kit)
    "security.W021",  # HSTS preload: the domain owner's decision, slow to undo (see the kit)
]
ROOT_URLCONF = "gateway.urls"
WSGI_APPLICATION = "gateway.wsgi.application"
# What gunicorn serves: the front door that runs proxied calls in the event loop.
ASGI_APPLICATION = "gateway.asgi.application"
DATABASES = {"default": database_for(SERVICE_NAME)}
TEMPLATES[0]["OPTIONS"]["context_processors"] += [  # noqa: F405
    "django.contrib.auth.context_processors.auth",
    "django.contrib.messages.context_processors.messages",
]

STATIC_URL = "/__static__/"
STATIC_ROOT = VAR_DIR / "static"
# Served straight from the apps' static folders (no collectstatic step to forget), offline.
WHITENOISE_USE_FINDERS = True
CSRF_FAILURE_VIEW = "services.kit.views.csrf_failure"
LOGIN_URL = "/__login__/"
LOGIN_REDIRECT_URL = "/__dashboard__/"
# A deprecated version is safe to sunset when nobody called it for this many days.
DASHBOARD_QUIET_DAYS = env_int("DASHBOARD_QUIET_DAYS", 14)

# Where the gateway reaches each service: FAQ_UPSTREAM, TICKETS_UPSTREAM, ... Only services
# with an upstream configured are routed; the gateway never connects anywhere else.
GATEWAY_UPSTREAMS = {
    name: os.environ[f"{name.upper()}_UPSTREAM"].rstrip("/")
    for name in API_SERVICES
    if os.environ.get(f"{name.upper()}_UPSTREAM", "").strip()
}
GATEWAY_CONNECT_TIMEOUT = float(os.environ.get("GATEWAY_CONNECT_TIMEOUT", "2"))
GATEWAY_READ_TIMEOUT = float(os.environ.get("GATEWAY_READ_TIMEOUT", "15"))
GATEWAY_RETRIES = env_int("GATEWAY_RETRIES", 2)
# The bulkhead: calls in flight to one upstream, per worker process; the rest get a fast 503.
# Well under the worker's connections (gunicorn's worker_connections, 1000), so that a hung
# upstream can never hold all of them.
GATEWAY_UPSTREAM_CONCURRENCY = env_int("GATEWAY_UPSTREAM_CONCURRENCY", 100)
GATEWAY_BREAKER_FAILURES = env_int("GATEWAY_BREAKER_FAILURES", 3)
GATEWAY_BREAKER_RESET_SECONDS = float(os.environ.get("GATEWAY_BREAKER_RESET_SECONDS", "10"))

GATEWAY_RATE_LIMIT_PER_MINUTE = env_int("GATEWAY_RATE_LIMIT_PER_MINUTE", 600)
# Windows counted in Redis when there is one (shared by every instance), else in each process.
GATEWAY_RATE_LIMITER = os.environ.get(
    "GATEWAY_RATE_LIMITER",
    "gateway.ratelimit.CacheRateLimiter" if REDIS_URL else "gateway.ratelimit.MemoryRateLimiter",
)
# Failed authentications (missing, malformed, unknown, rotated or revoked keys) one client address
# may make in a minute; over it, its calls that need a key look-up get 429. 0 turns it off.
GATEWAY_AUTH_FAILURES_PER_MINUTE = env_int("GATEWAY_AUTH_FAILURES_PER_MINUTE", 30)
# Routers in front of the gateway that append to X-Forwarded-For (Heroku's is one): the client
# address is then that many entries from its right. 0: the socket peer.
GATEWAY_TRUSTED_PROXY_HOPS = env_int("GATEWAY_TRUSTED_PROXY_HOPS", 0)
# How often each gateway process reads the key-change marker (0: never; held keys then last 1 s).
GATEWAY_KEY_POLL_SECONDS = float(os.environ.get("GATEWAY_KEY_POLL_SECONDS", "0.5"))
GATEWAY_USAGE_STORE = os.environ.get("GATEWAY_USAGE_STORE", "gateway.usage.DatabaseUsageStore")
GATEWAY_USAGE_FLUSH_SECONDS = float(os.environ.get("GATEWAY_USAGE_FLUSH_SECONDS", "5"))
GATEWAY_LIFECYCLE_FILE = os.environ.get(
    "GATEWAY_LIFECYCLE_FILE", str(BASE_DIR / "contracts" / "lifecycle.yaml")
)
# service:version pairs whose requests the gateway checks against the contract itself.
GATEWAY_VALIDATE = env_list("GATEWAY_VALIDATE", "")
# The bearer token Prometheus scrapes /metrics with (a platform key or a staff login work too).
GATEWAY_METRICS_TOKEN = os.environ.get("GATEWAY_METRICS_TOKEN", "")
# Where consumers reach the gateway (https://api.example.com), for the served contracts' servers;
# unset, they name the scheme and host each request came with.
GATEWAY_PUBLIC_URL = os.environ.get("GATEWAY_PUBLIC_URL", "")
GATEWAY_CACHE_MAX_BODY_BYTES = env_int("GATEWAY_CACHE_MAX_BODY_BYTES", 256 * 1024)
HEALTH_EXTRA_CHECKS = ["gateway.pages.upstream_checks"]

# Deprecation notices (manage.py notify_laggards) go out through Django's email framework: printed
# to the console unless EMAIL_HOST names an SMTP server.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_PORT = env_int("EMAIL_PORT", 587)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", EMAIL_PORT == 587)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", EMAIL_PORT == 465)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Switchyard <platform@localhost>")
