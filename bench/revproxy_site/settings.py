"""Settings for the django-revproxy peer: no database, one middleware, nothing else.

Read from the environment by ``bench/gateway_bench.py``: ``REVPROXY_UPSTREAM`` (where ``/faq/``
goes), ``GUNICORN_THREADS`` (sizes the upstream connection pool), ``SECRET_KEY``.
"""

import os

SECRET_KEY = os.environ.get("SECRET_KEY") or "bench-only-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
INSTALLED_APPS = ["revproxy"]
MIDDLEWARE = ["django.middleware.common.CommonMiddleware"]
ROOT_URLCONF = "revproxy_site.urls"
WSGI_APPLICATION = "revproxy_site.wsgi.application"
DATABASES = {}
USE_TZ = True

REVPROXY_UPSTREAM = os.environ.get("REVPROXY_UPSTREAM", "http://127.0.0.1:8000")
# One pooled keep-alive connection per thread, as the gateway keeps a pool per upstream.
REVPROXY_POOL_SIZE = int(os.environ.get("GUNICORN_THREADS", "4"))
