"""Real gunicorn processes on loopback for the end-to-end suite; no Django settings in this process.

Each app gets its own database: a SQLite file in pytest's tmp directory, or, when ``DATABASE_URL``
names a PostgreSQL server, a database this suite creates and drops itself. Every process runs
from the repository root exactly as the Procfile runs it, and its stdout/stderr go to files so the
tests can read the JSON log lines.
"""

from __future__ import annotations

import atexit
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
# The venv running pytest is the one holding gunicorn, wherever it lives.
VENV_BIN = Path(sys.executable).parent
GUNICORN = VENV_BIN / "gunicorn"

STARTUP_TIMEOUT = 60
STOP_TIMEOUT = 15
REQUEST_TIMEOUT = 20

# Configuration the apps and gunicorn.conf.py read from the environment. A developer's shell may
# export any of them; the servers under test must see only what this suite sets.
APP_SETTINGS = {
    "ALLOWED_HOSTS",
    "CACHE_KEY_PREFIX",
    "CONN_MAX_AGE",
    "CSRF_COOKIE_SECURE",
    "CSRF_TRUSTED_ORIGINS",
    "DATABASE_URL",
    "DEBUG",
    "DJANGO_SETTINGS_MODULE",
    "DYNO",
    "FORWARDED_ALLOW_IPS",
    "HOST",
    "LOG_LEVEL",
    "MAX_REQUEST_BODY_BYTES",
    "PORT",
    "REDIS_URL",
    "SCRIPT_NAME",
    "SECRET_KEY",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_HSTS_SECONDS",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_SSL_REDIRECT",
    "SERVICE",
    "SESSION_COOKIE_SECURE",
    "USE_X_FORWARDED_HOST",
    "VAR_DIR",
    "WEB_CONCURRENCY",
}


def app_env(service: str, **settings: str) -> dict[str, str]:
    """The environment of an app process: ours plus ``settings``, none of the caller's config."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in APP_SETTINGS and not name.startswith("GUNICORN_")
    }
    env.update(SERVICE=service, HOST="127.0.0.1", DEBUG="0", WEB_CONCURRENCY="2")
    # Production mode over plain HTTP on loopback, as bin/up runs it.
    env.update(SECURE_SSL_REDIRECT="0", SESSION_COOKIE_SECURE="0", CSRF_COOKIE_SECURE="0")
    env.update(settings)
    return env


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "").strip()
    return url if url.startswith(("postgres://", "postgresql://")) else None


@contextmanager
def provision_database(
    label: str, directory: Path, *, migrated_for: str | None = None
) -> Iterator[str]:
    """A ``DATABASE_URL`` for one app process, removed afterwards if this suite created it.

    Empty, or with ``migrated_for``, holding that service's migrated schema: a copy of a database
    migrated once per run (a file copy on SQLite, ``CREATE DATABASE … TEMPLATE`` on PostgreSQL),
    the same state ``manage.py migrate`` leaves, without paying for it at every start.
    """
    server_url = _postgres_url()
    if server_url is None:
        path = directory / f"{label}.sqlite3"
        if migrated_for:
            with _TEMPLATE_LOCK:  # apps may be started from several threads at once
                shutil.copyfile(_template(migrated_for), path)
        yield f"sqlite:///{path}"
        return

    import psycopg
    from psycopg import sql

    name = _database_name(label)
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    with _TEMPLATE_LOCK:  # a template being copied may not be copied by another at once
        if migrated_for:
            create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(_template(migrated_for)))
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(create)
    try:
        yield _database_url(server_url, name)
    finally:
        _drop_database(server_url, name)


def _database_name(label: str) -> str:
    # The pid names the run that owns the database; the token keeps a stale one left by a crashed
    # run with a recycled pid out of the way (CREATE would fail; one not ours is never dropped).
    return f"switchyard_e2e_{os.getpid()}_{secrets.token_hex(2)}_{label}"


def _database_url(server_url: str, name: str) -> str:
    return urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))


def _drop_database(server_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


_TEMPLATES: dict[str, str] = {}  # service: a migrated SQLite file, or a PostgreSQL database name
_TEMPLATE_LOCK = threading.RLock()


def _template(service: str) -> str:
    """The migrated database of ``service`` that the run's databases are copied from (call it
    holding ``_TEMPLATE_LOCK``)."""
    if service in _TEMPLATES:
        return _TEMPLATES[service]
    server_url = _postgres_url()
    env = app_env(service, SECRET_KEY=secrets.token_urlsafe(50), VAR_DIR=_template_dir())
    if server_url is None:
        path = Path(_template_dir()) / f"{service}.sqlite3"
        env["DATABASE_URL"] = f"sqlite:///{path}"
        migrate(env, f"{service} template")
        _TEMPLATES[service] = str(path)
    else:
        import psycopg
        from psycopg import sql

        name = _database_name(f"template_{service}")
        with psycopg.connect(server_url, autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        atexit.register(_drop_database, server_url, name)
        env["DATABASE_URL"] = _database_url(server_url, name)
        migrate(env, f"{service} template")
        _TEMPLATES[service] = name
    return _TEMPLATES[service]


@functools.cache
def _template_dir() -> str:
    directory = tempfile.mkdtemp(prefix="switchyard-e2e-templates-")
    atexit.register(shutil.rmtree, directory, ignore_errors=True)
    return directory


def _json_lines(text: str, source: str) -> list[dict]:
    # A line still being written has no newline yet; it is not a record (yet).
    complete = text[: text.rfind("\n") + 1]
    records = []
    for line in complete.splitlines():
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            raise AssertionError(f"{source}: a log line is not JSON: {line!r}") from None
    return records


@dataclass
class Server:
    """One gunicorn master and its workers, serving one app."""

    label: str
    service: str
    port: int
    env: dict[str, str]
    process: subprocess.Popen
    stdout_path: Path
    stderr_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stdout(self) -> str:
        return self.stdout_path.read_text(encoding="utf-8", errors="replace")

    def stderr(self) -> str:
        return self.stderr_path.read_text(encoding="utf-8", errors="replace")

    def records(self) -> list[dict]:
        """The app's JSON log records (stdout)."""
        return _json_lines(self.stdout(), f"{self.label} stdout")

    def server_records(self) -> list[dict]:
        """gunicorn's own JSON log records (stderr)."""
        return _json_lines(self.stderr(), f"{self.label} stderr")

    def output(self) -> str:
        return (
            f"--- {self.label} stdout ({self.stdout_path})\n{self.stdout()[-4000:]}\n"
            f"--- {self.label} stderr ({self.stderr_path})\n{self.stderr()[-4000:]}"
        )

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                # Workers notice their master is gone and exit on their own.
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def migrate(env: dict[str, str], label: str) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"migrate for {label} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def wait_until_healthy(server: Server, http: requests.Session) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last = "no answer yet"
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"{server.label} exited with {server.process.returncode} before it was healthy\n"
                + server.output()
            )
        try:
            # Closing each probe leaves no idle kept-alive connection behind in the server.
            response = http.get(
                f"{server.url}/__health__", timeout=5, headers={"Connection": "close"}
            )
        except (requests.ConnectionError, requests.Timeout) as exc:
            # A busy machine may take seconds over a worker's first request: keep probing.
            last = repr(exc)
        else:
            if response.status_code == 200:
                return
            last = f"{response.status_code} {response.text[:300]}"
        time.sleep(0.1)
    pytest.fail(
        f"{server.label} did not answer /__health__ with 200 in {STARTUP_TIMEOUT}s "
        f"(last: {last})\n{server.output()}"
    )


class Launcher:
    """Starts app processes and owns everything they need; ``close`` undoes it all, in reverse."""

    def __init__(self, directory: Path, http: requests.Session):
        self.directory = directory
        self.http = http
        self._stack = ExitStack()

    def spawn(self, service: str, *, label: str | None = None, **settings: str | None) -> Server:
        """Migrate and start ``service``; it may not be serving yet (see :meth:`start`).

        ``settings`` override the environment; ``None`` removes a variable.
        """
        label = label or service
        given = settings.get("DATABASE_URL")
        database_url = given or self._stack.enter_context(
            provision_database(label, self.directory, migrated_for=service)
        )
        env = app_env(
            service,
            PORT=str(free_port()),
            SECRET_KEY=secrets.token_urlsafe(50),
            DATABASE_URL=database_url,
            VAR_DIR=str(self.directory),
        )
        redis_url = os.environ.get("REDIS_URL", "").strip()
        if redis_url:
            env["REDIS_URL"] = redis_url
            env["CACHE_KEY_PREFIX"] = f"switchyard-e2e-{os.getpid()}-{secrets.token_hex(4)}-{label}"
        for name, value in settings.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        if given:
            migrate(env, label)  # a database of the caller's: brought up to date as a release would

        stdout_path = self.directory / f"{label}.stdout.log"
        stderr_path = self.directory / f"{label}.stderr.log"
        with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                [str(GUNICORN), "-c", "gunicorn.conf.py"],
                cwd=REPO_ROOT,
                env=env,
                stdout=stdout,
                stderr=stderr,
            )
        server = Server(
            label=label,
            service=service,
            port=int(env["PORT"]),
            env=env,
            process=process,
            stdout_path=stdout_path,
            stderr_path=stderr_path,
        )
        self._stack.callback(server.stop)
        return server

    def start(self, service: str, **kwargs: str | None) -> Server:
        server = self.spawn(service, **kwargs)
        wait_until_healthy(server, self.http)
        return server

    def close(self) -> None:
        self._stack.close()


class _Session(requests.Session):
    """A session whose requests cannot hang the suite."""

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", REQUEST_TIMEOUT)
        return super().request(method, url, **kwargs)


@pytest.fixture(scope="session")
def http() -> Iterator[requests.Session]:
    with _Session() as session:
        yield session


@pytest.fixture(scope="session")
def system(tmp_path_factory, http) -> Iterator[dict[str, Server]]:
    """The faq service and the gateway, each a real gunicorn on its own loopback port."""
    launcher = Launcher(tmp_path_factory.mktemp("e2e-system"), http)
    try:
        # Both boot at once; only then wait for both.
        servers = {service: launcher.spawn(service) for service in ("faq", "gateway")}
        for server in servers.values():
            wait_until_healthy(server, http)
        yield servers
    finally:
        launcher.close()


@pytest.fixture(scope="session")
def faq(system) -> Server:
    return system["faq"]


@pytest.fixture(scope="session")
def gateway(system) -> Server:
    return system["gateway"]


@pytest.fixture
def launcher(tmp_path, http) -> Iterator[Launcher]:
    """For a test that needs a process of its own (to stop it, or to watch it fail)."""
    own = Launcher(tmp_path, http)
    try:
        yield own
    finally:
        own.close()


@pytest.fixture
def make_app_env() -> Callable[..., dict[str, str]]:
    return app_env


# --- helpers for the gateway's suite (test_gateway.py) ------------------------------------------


def manage(server: Server, *args: str, timeout: float = 60) -> str:
    """``python manage.py ARGS`` against ``server``'s environment and database; its stdout."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=REPO_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} for {server.label} failed ({result.returncode}):\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def create_consumer(
    server: Server, name: str, *, platform: bool = False, rate_limit: int | None = None
) -> str:
    """A consumer of the gateway ``server``, made as an operator would; returns its key."""
    args = ["consumers", "create", name, "--owner", "e2e", "--contact", f"{name}@example.com"]
    if platform:
        args.append("--platform")
    if rate_limit is not None:
        args += ["--rate-limit", str(rate_limit)]
    return manage(server, *args).strip().splitlines()[-1]


_CREATE_CONSUMERS = """
import io, json
from django.core.management import call_command
keys = {}
for name, platform in json.loads(%r):
    out = io.StringIO()
    args = ["create", name, "--owner", "e2e", "--contact", f"{name}@example.com"]
    call_command("consumers", *args, *(["--platform"] if platform else []), stdout=out)
    keys[name] = out.getvalue().strip().splitlines()[-1]
print(json.dumps(keys))
"""


def create_consumers(server: Server, consumers: dict[str, bool]) -> dict[str, str]:
    """Several consumers (name: platform) through the same command in one process; their keys."""
    script = _CREATE_CONSUMERS % json.dumps(list(consumers.items()))
    return json.loads(manage(server, "shell", "-c", script).strip().splitlines()[-1])
