"""gunicorn settings for every Switchyard app, from the environment (Heroku-style).

``PORT`` and ``WEB_CONCURRENCY`` as the platform sets them. The services run Django under gthread
workers (threads keep client connections alive); the gateway runs gunicorn's ASGI worker, whose
event loop lets a call wait on a slow upstream without holding a thread. Binds to loopback
unless told otherwise or running on a Heroku dyno.
"""

import os

from services.kit.entry import configure

service = configure()

host = os.environ.get("HOST") or ("0.0.0.0" if "DYNO" in os.environ else "127.0.0.1")  # noqa: S104
bind = [f"{host}:{os.environ.get('PORT', '8000')}"]
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
if service == "gateway":
    wsgi_app = "asgi:application"
    worker_class = "asgi"  # on uvloop when it is installed (it is a dependency)
else:
    wsgi_app = "wsgi:application"
    worker_class = "gthread"
    threads = int(os.environ.get("GUNICORN_THREADS", "4"))
# Each worker listens on its own socket and the kernel spreads new connections over them: on one
# shared socket, a few keep-alive clients (the gateway's pool, say) all land on whichever worker
# woke first, and the others idle.
reuse_port = True
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
proc_name = f"switchyard-{service}"
# The app writes one JSON line per request itself; gunicorn's own lines are JSON on stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
logger_class = "services.kit.gunicorn_logging.JsonLogger"
# gunicorn's control socket lives at one path per user; several apps on one machine would fight.
control_socket_disable = True

if service == "gateway" and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # One folder per gateway master, set before the workers fork: each worker writes its samples
    # there, and /metrics adds them up, so the numbers are right with any WEB_CONCURRENCY.
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="switchyard-metrics-")
    _own_metrics_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]
else:
    _own_metrics_dir = None


def on_exit(server):
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(_own_metrics_dir, ignore_errors=True)


def post_worker_init(worker):
    # With reuse_port the workers bind, not the master (whose own line names no address).
    for listener in worker.sockets:
        worker.log.info("Listening at: %s (%s)", listener, worker.pid)
    # gunicorn's own refusals (414, 431, 400 on ambiguous framing ...) as RFC 9457 problems.
    from services.kit.gunicorn_errors import install, install_sync

    if service != "gateway":
        install_sync()
    if service == "gateway":
        install()
        # Usage is flushed from the start, so a fresh install records since when it counts
        # even before its first call.
        from gateway.usage import get_recorder

        get_recorder().start()


def worker_exit(server, worker):
    # A graceful stop (SIGTERM) lets the worker finish its requests; then its usage counts go out.
    if service == "gateway":
        from gateway.usage import shutdown

        shutdown()


def child_exit(server, worker):
    if service == "gateway":
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
