"""What the benchmarks share: starting apps on loopback and driving them from client threads."""

from __future__ import annotations

import os
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def app_env(service: str, var_dir: str, **extra: str) -> dict[str, str]:
    env = {
        **os.environ,
        "SERVICE": service,
        "PORT": str(free_port()),
        "HOST": "127.0.0.1",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
        "VAR_DIR": var_dir,
        "DATABASE_URL": f"sqlite:///{var_dir}/{service}.sqlite3",
    }
    env.update(extra)
    return env


def manage(env: dict, *args: str, root: Path = ROOT) -> str:
    """``manage.py`` of the checkout at ``root`` (a benchmark may run an older one's app)."""
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def start(env: dict) -> subprocess.Popen:
    """Migrate, then run the app under gunicorn until its /__health__ answers."""
    manage(env, "migrate", "--noinput", "-v0")
    gunicorn = Path(sys.executable).with_name("gunicorn")
    log = open(Path(env["VAR_DIR"]) / f"{env['SERVICE']}.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        [str(gunicorn), "-c", "gunicorn.conf.py"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    url = f"http://127.0.0.1:{env['PORT']}/__health__"
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"{env['SERVICE']} did not come up; see {log.name}")


def stop(*processes: subprocess.Popen) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        process.wait(timeout=30)


def drive(make_request, total: int, clients: int) -> tuple[float, list[float]]:
    """Run ``make_request(session, index)`` ``total`` times from ``clients`` threads, each with
    its own keep-alive session; returns (seconds, latencies). Any 5xx aborts the run."""
    local = threading.local()

    def one(index: int) -> float:
        session = getattr(local, "session", None) or requests.Session()
        local.session = session
        started = time.perf_counter()
        response = make_request(session, index)
        elapsed = time.perf_counter() - started
        if response.status_code >= 500:
            raise RuntimeError(f"{response.status_code}: {response.text[:200]}")
        return elapsed

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        latencies = list(pool.map(one, range(total)))
    return time.perf_counter() - started, latencies


def row(name: str, total: int, elapsed: float, latencies: list[float]) -> str:
    latencies = sorted(latencies)
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    return (
        f"{name:<34}{total / elapsed:>9.0f}{statistics.median(latencies) * 1000:>9.1f}"
        f"{p95 * 1000:>9.1f}{latencies[-1] * 1000:>9.1f}"
    )


HEADER = f"{'case':<34}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}"
