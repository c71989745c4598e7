"""gunicorn for the django-revproxy peer: the gateway's worker class, loopback, no access log.

``PORT``, ``WEB_CONCURRENCY`` and ``GUNICORN_THREADS`` as for every Switchyard app.
"""

import os
from pathlib import Path

pythonpath = str(Path(__file__).resolve().parent.parent)
wsgi_app = "revproxy_site.wsgi:application"
bind = [f"127.0.0.1:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
proc_name = "switchyard-bench-revproxy"
accesslog = None
errorlog = "-"
loglevel = "warning"
control_socket_disable = True
