"""The gateway next to its peers: what each front door costs in front of the same upstream.

    .venv/bin/python bench/gateway_bench.py [--workers 2] [--threads 4] [--rounds 5]
        [--duration 5] [--only direct,gateway,gateway-off,nginx,revproxy]
        [--upstreams faq,cheap] [--json var/bench/gateway_bench.json]

Smoke test: ``--rounds 1 --duration 1``. Everything listens on 127.0.0.1; every process started is
stopped at the end. Needs Debian's ``wrk`` and ``nginx``; installs django-revproxy==0.13.0 into
the venv if it is missing.

Front doors (``--only`` keys), all in front of the same upstream:

- ``direct``: wrk hits the upstream itself.
- ``gateway``: the project's gateway as deployed: consumer key (``Authorization: Bearer``), signed
  calls (``GATEWAY_SECRET``), rate limiter on (the bench consumer's limit is 10^8/min, so it
  counts but never refuses), usage tracking into its SQLite database, the project's lifecycle file.
- ``gateway-off``: the same gateway with ``NoRateLimiter``, ``NullUsageStore`` (when the gateway
  has it; a note says when not) and an empty lifecycle file; it signs its calls as the gateway
  does, so the difference is tracking, limits and lifecycle alone.
- ``nginx``: ``proxy_pass`` to a keep-alive ``upstream`` block, as many workers as the Python
  front doors have.
- ``revproxy``: django-revproxy 0.13.0 (``bench/revproxy_site``) under gunicorn, gthread workers
  with ``--threads`` threads; its urllib3 pool is sized to the thread count.

Every Python app runs ``--workers`` gunicorn workers: the gateway gunicorn's ASGI worker (an event
loop; older checkouts, via ``--gateway-root``, run as they were configured), django-revproxy and
the FAQ upstream gthread workers with ``--threads`` threads each. Upstreams (``--upstreams``),
each benchmarked on its own:

- ``faq``: the FAQ service with its demo data, ``GET /v2/faqs/1`` (``/faq/v2/faqs/1`` through
  every proxy).
- ``cheap``: an nginx answering every path with a fixed JSON body, so the front door is the
  bottleneck.

Each round runs every (load, front door) pair once, front doors in a rotating order, each after a
1 s warm-up; the table shows medians over the rounds. Loads: ``c=1`` is ``wrk -t1 -c1`` (latency),
``c=16`` is ``wrk -t2 -c16`` (throughput and CPU).

Reading the table (two sub-columns each: the faq upstream, the cheap one):

- CPU ms/req c=16: CPU time (user + system, from /proc) the front door's processes (master and
  workers) spent per request at c=16. For ``direct`` it is the upstream's own.
- upstream ms/req: what the upstream spent per request during the same runs.
- c=1 p50 / p99 ms: wrk's latency percentiles with one connection.
- added p50 ms: c=1 p50 minus direct's c=1 p50: the latency the front door adds.
- req/s c=16: wrk's Requests/sec with 16 connections.
- worker split: how the front door's worker CPU split across its workers in the most lopsided
  c=16 round (largest share first; for ``direct``, the upstream's workers). wrk's keep-alive
  connections can all land on one worker; "100/0" means the other worker sat idle and that
  door's throughput is understated.
- non-2xx/sock: wrk's "Non-2xx or 3xx responses" (statuses >= 400) and socket errors, summed over
  every measured run. Before measuring, each front door is asked once and must answer 200 JSON.
  For the gateways the bench also reads /metrics around each run, so a run with errors says
  which statuses (and upstream failure kinds) the gateway counted.

Then the ratios the targets are about, from the same run's medians ("gateway" is the gateway with
everything on). The JSON file holds the configuration, every raw run, the medians and the ratios.
The exit status is 1 when any run saw non-2xx answers or socket errors (or a front door did not
answer 200 before the rounds), after the table is printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import requests
from harness import ROOT, app_env, free_port, manage

BENCH = Path(__file__).resolve().parent
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
GUNICORN = Path(sys.executable).with_name("gunicorn")
REVPROXY_REQUIREMENT = "django-revproxy==0.13.0"
FAQ_PATH = "/v2/faqs/1"
CHEAP_BODY = '{"id":1,"question":"q"}'
DOORS = {
    "direct": "direct",
    "gateway": "gateway",
    "gateway-off": "gateway (tracking, limits, lifecycle off)",
    "nginx": "nginx",
    "revproxy": "django-revproxy",
}
UPSTREAMS = ("faq", "cheap")
LOADS = {"c1": (1, 1), "c16": (2, 16)}  # name: (wrk threads, connections)
WARMUP_SECONDS = 1
CLK_TCK = os.sysconf("SC_CLK_TCK")
BENCH_RATE_LIMIT = 100_000_000


@dataclass
class Server:
    """A process tree on loopback: ``pid`` is the master, its children are the workers."""

    name: str
    pid: int
    stop: Callable[[], None]


@dataclass
class Door:
    key: str
    url: str
    server: Server
    headers: dict[str, str]
    metrics_url: str | None = None  # the gateway's /metrics: which statuses it answered


# --- starting and stopping ------------------------------------------------------------------


def wait_ready(name: str, url: str, process: subprocess.Popen, log: Path) -> None:
    """Until ``url`` answers 200; kills the process and exits if it never does."""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited with {process.returncode}; see {log}")
            try:
                if requests.get(url, timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{name} did not answer 200 at {url}; see {log}")
    except BaseException:
        process.kill()
        process.wait()
        raise


def stopper(process: subprocess.Popen, sig: int = signal.SIGTERM) -> Callable[[], None]:
    """Graceful stop (gunicorn: SIGTERM, nginx: SIGQUIT), then SIGKILL if it takes too long."""

    def stop_it() -> None:
        if process.poll() is None:
            process.send_signal(sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    return stop_it


def start_app(env: dict[str, str], root: Path = ROOT) -> Server:
    """A Switchyard app under the gunicorn.conf.py of the checkout at ``root``, as
    ``harness.start`` runs it (the database already migrated), waiting longer for a first
    /__health__ that may be slow."""
    name = env["SERVICE"]
    log = Path(env["VAR_DIR"]) / f"{name}.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py"], cwd=root, env=env, stdout=out, stderr=out
        )
    wait_ready(name, f"http://127.0.0.1:{env['PORT']}/__health__", process, log)
    return Server(name, process.pid, stopper(process))


def python_env(args, **extra: str) -> dict[str, str]:
    return {"WEB_CONCURRENCY": str(args.workers), "GUNICORN_THREADS": str(args.threads), **extra}


def start_faq(args, var: Path) -> tuple[Server, str]:
    var_dir = var / "faq"
    var_dir.mkdir()
    env = app_env("faq", str(var_dir), **python_env(args))
    env.pop("GATEWAY_SECRET", None)  # every front door must reach it
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "demo_data")
    return start_app(env), f"http://127.0.0.1:{env['PORT']}"


def nginx_conf(prefix: Path, workers: int, servers: str) -> str:
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""{user}worker_processes {workers};
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
{servers}
}}
"""


def start_nginx(name: str, servers: str, port: int, ready_path: str, args, var: Path) -> Server:
    prefix = var / name
    prefix.mkdir()
    conf = prefix / "nginx.conf"
    conf.write_text(nginx_conf(prefix, args.workers, servers))
    log = prefix / "stderr.log"
    with open(log, "wb") as out:
        command = [NGINX, "-p", f"{prefix}/", "-e", str(prefix / "error.log"), "-c", str(conf)]
        process = subprocess.Popen(
            [*command, "-g", "daemon off;"],
            stdout=out,
            stderr=out,
        )
    wait_ready(name, f"http://127.0.0.1:{port}{ready_path}", process, log)

    return Server(name, process.pid, stopper(process, signal.SIGQUIT))


def start_cheap(args, var: Path) -> tuple[Server, str]:
    port = free_port()
    servers = f"""    server {{
        listen 127.0.0.1:{port};
        keepalive_requests 1000000;  # never makes a front door reconnect mid-run
        default_type application/json;
        location / {{ return 200 '{CHEAP_BODY}'; }}
    }}"""
    server = start_nginx("cheap", servers, port, "/__health__", args, var)
    return server, f"http://127.0.0.1:{port}"


def start_nginx_door(upstream_url: str, args, var: Path) -> Door:
    port = free_port()
    upstream = upstream_url.removeprefix("http://")
    servers = f"""    upstream u {{ server {upstream}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location /faq/ {{
            proxy_pass http://u/;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
        }}
    }}"""
    server = start_nginx("nginx", servers, port, f"/faq{FAQ_PATH}", args, var)
    return Door("nginx", f"http://127.0.0.1:{port}/faq{FAQ_PATH}", server, {})


def has_null_usage_store(var: Path) -> bool:
    var_dir = var / "probe"
    var_dir.mkdir(exist_ok=True)
    env = app_env("gateway", str(var_dir))
    try:
        manage(env, "shell", "-c", "import gateway.usage as u; u.NullUsageStore")
    except subprocess.CalledProcessError:
        return False
    return True


def start_gateway(key: str, upstream_url: str, null_store: bool, args, var: Path) -> Door:
    var_dir = var / key
    var_dir.mkdir()
    # Both sign their calls: "off" is tracking, limits and lifecycle off, nothing else.
    extra = python_env(args, FAQ_UPSTREAM=upstream_url, GATEWAY_SECRET=secrets.token_urlsafe(32))
    if key != "gateway":
        lifecycle = var_dir / "lifecycle-empty.yaml"
        lifecycle.write_text("{}\n")
        extra["GATEWAY_RATE_LIMITER"] = "gateway.ratelimit.NoRateLimiter"
        extra["GATEWAY_LIFECYCLE_FILE"] = str(lifecycle)
        if null_store:
            extra["GATEWAY_USAGE_STORE"] = "gateway.usage.NullUsageStore"
    env = app_env("gateway", str(var_dir), **extra)
    root = args.gateway_root
    manage(env, "migrate", "--noinput", "-v0", root=root)
    created = manage(
        env, "consumers", "create", "bench", "--owner", "Bench", "--contact", "b@x.io", root=root
    )
    api_key = created.strip().splitlines()[-1]
    # Before the gateway starts: it caches a consumer (and so its limit) for a few seconds.
    manage(
        env,
        "shell",
        "-c",
        "from gateway.models import Consumer; Consumer.objects.filter(name='bench')"
        f".update(rate_limit_per_minute={BENCH_RATE_LIMIT})",
        root=root,
    )
    server = start_app(env, root)
    base = f"http://127.0.0.1:{env['PORT']}"
    headers = {"Authorization": f"Bearer {api_key}"}
    return Door(key, f"{base}/faq{FAQ_PATH}", server, headers, f"{base}/metrics")


def ensure_revproxy() -> None:
    if importlib.util.find_spec("revproxy") is None:
        print(f"installing {REVPROXY_REQUIREMENT} into the venv", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", REVPROXY_REQUIREMENT], check=True
        )


def start_revproxy(upstream_url: str, args, var: Path) -> Door:
    var_dir = var / "revproxy"
    var_dir.mkdir()
    port = free_port()
    env = {
        **os.environ,
        **python_env(args),
        "PORT": str(port),
        "REVPROXY_UPSTREAM": upstream_url,
        "SECRET_KEY": secrets.token_urlsafe(40),
    }
    env.pop("DJANGO_SETTINGS_MODULE", None)
    log = var_dir / "gunicorn.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [str(GUNICORN), "-c", str(BENCH / "revproxy_site" / "gunicorn.conf.py")],
            cwd=BENCH,
            env=env,
            stdout=out,
            stderr=out,
        )
    url = f"http://127.0.0.1:{port}/faq{FAQ_PATH}"
    wait_ready("revproxy", url, process, log)
    server = Server("revproxy", process.pid, stopper(process))
    return Door("revproxy", url, server, {})


def start_doors(keys, upstream: Server, upstream_url: str, null_store, args, var, started):
    doors = []
    for key in keys:
        if key == "direct":
            door = Door("direct", f"{upstream_url}{FAQ_PATH}", upstream, {})
        elif key in ("gateway", "gateway-off"):
            door = start_gateway(key, upstream_url, null_store, args, var)
        elif key == "nginx":
            door = start_nginx_door(upstream_url, args, var)
        else:
            door = start_revproxy(upstream_url, args, var)
        if door.server is not upstream:
            started.append(door.server)
        doors.append(door)
    return doors


def preflight(doors: list[Door], upstream: str) -> list[str]:
    """Each front door asked once: it must answer 200 with JSON before it is measured."""
    problems = []
    for door in doors:
        try:
            answer = requests.get(door.url, headers=door.headers, timeout=5)
        except requests.RequestException as exc:
            problems.append(f"{upstream}/{door.key}: {type(exc).__name__}: {exc}")
            continue
        content_type = answer.headers.get("Content-Type", "")
        if answer.status_code != 200 or not content_type.startswith("application/json"):
            problems.append(
                f"{upstream}/{door.key}: GET {door.url} -> {answer.status_code} "
                f"{content_type} {answer.text[:300]!r}"
            )
    return problems


# --- CPU from /proc -------------------------------------------------------------------------


def proc_table() -> dict[int, tuple[int, int]]:
    """Every process: pid -> (parent pid, utime + stime in clock ticks).

    Children are found by parent pid: ``/proc/PID/task/*/children`` needs CONFIG_PROC_CHILDREN,
    which not every kernel has."""
    table = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after the command name: field 3 onwards
        table[int(entry.name)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
    return table


def cpu_snapshot(root: int) -> dict[int, tuple[int, int]]:
    """The process tree under ``root`` (included): pid -> (parent pid, CPU ticks)."""
    table = proc_table()
    tree, frontier = {}, [root]
    while frontier:
        pid = frontier.pop()
        if pid in table and pid not in tree:
            tree[pid] = table[pid]
            frontier += [child for child, (parent, _) in table.items() if parent == pid]
    return tree


def cpu_used(before: dict, after: dict, root: int) -> tuple[float, list[float]]:
    """(CPU seconds of the whole tree, CPU seconds of each worker, largest first)."""
    deltas = {pid: ticks - before.get(pid, (0, 0))[1] for pid, (_, ticks) in after.items()}
    workers = [deltas[pid] / CLK_TCK for pid, (parent, _) in after.items() if parent == root]
    return sum(deltas.values()) / CLK_TCK, sorted(workers, reverse=True)


def split_of(workers: list[float]) -> list[int]:
    total = sum(workers)
    return [round(100 * seconds / total) for seconds in workers] if total else []


# --- the gateway's own counters ---------------------------------------------------------------

_COUNTER = re.compile(
    r"^switchyard_gateway_(requests|upstream_failures)_total\{([^}]*)\} (\S+)$", re.MULTILINE
)


def gateway_counts(door: Door) -> dict[str, float] | None:
    """What the gateway's /metrics has counted so far: ``status NNN`` and ``upstream KIND``."""
    if door.metrics_url is None:
        return None
    try:
        answer = requests.get(door.metrics_url, timeout=10)
    except requests.RequestException:
        return None
    if answer.status_code != 200:
        return None
    counts: dict[str, float] = {}
    for kind, labels, value in _COUNTER.findall(answer.text):
        label = dict(re.findall(r'(\w+)="([^"]*)"', labels))
        key = (
            f"status {label.get('status')}"
            if kind == "requests"
            else f"upstream {label.get('kind')}"
        )
        counts[key] = counts.get(key, 0) + float(value)
    return counts


def counts_delta(before: dict | None, after: dict | None) -> dict[str, int] | None:
    if before is None or after is None:
        return None
    delta = {key: round(value - before.get(key, 0)) for key, value in after.items()}
    return {key: value for key, value in sorted(delta.items()) if value}


# --- wrk --------------------------------------------------------------------------------------

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> dict:
    total = re.search(r"(\d+) requests in ([\d.]+\w+),", output)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", output)
    p50 = re.search(r"^\s*50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s*99%\s+(\S+)", output, re.MULTILINE)
    if not (total and rps and p50 and p99):
        raise RuntimeError(f"could not read wrk's output:\n{output}")
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    names = ("connect", "read", "write", "timeout")
    return {
        "requests": int(total[1]),
        "seconds": to_ms(total[2]) / 1000,
        "rps": float(rps[1]),
        "p50_ms": to_ms(p50[1]),
        "p99_ms": to_ms(p99[1]),
        "non2xx": int(non2xx[1]) if non2xx else 0,
        "socket_errors": dict(zip(names, map(int, sockets.groups()), strict=True))
        if sockets
        else dict.fromkeys(names, 0),
    }


def wrk(door: Door, load: str, seconds: int) -> dict:
    threads, connections = LOADS[load]
    command = [WRK, "--latency", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s"]
    for name, value in door.headers.items():
        command += ["-H", f"{name}: {value}"]
    done = subprocess.run(
        [*command, door.url], capture_output=True, text=True, check=True, timeout=seconds + 60
    )
    return parse_wrk(done.stdout)


def measure(door: Door, load: str, upstream: Server, seconds: int) -> dict:
    """One measured wrk run after a warm-up, with the CPU the front door and upstream spent."""
    wrk(door, load, WARMUP_SECONDS)
    counted_before = gateway_counts(door)
    door_before, upstream_before = cpu_snapshot(door.server.pid), cpu_snapshot(upstream.pid)
    result = wrk(door, load, seconds)
    door_after, upstream_after = cpu_snapshot(door.server.pid), cpu_snapshot(upstream.pid)
    counted = counts_delta(counted_before, gateway_counts(door))
    door_cpu, workers = cpu_used(door_before, door_after, door.server.pid)
    upstream_cpu, _ = cpu_used(upstream_before, upstream_after, upstream.pid)
    served = max(result["requests"], 1)
    return {
        **result,
        "door_cpu_s": door_cpu,
        "upstream_cpu_s": upstream_cpu,
        "cpu_ms_per_req": 1000 * door_cpu / served,
        "upstream_cpu_ms_per_req": 1000 * upstream_cpu / served,
        "worker_cpu_s": workers,
        "worker_split": split_of(workers),
        "gateway_counted": counted,
    }


# --- one upstream, every front door, every round ----------------------------------------------


def bench_upstream(name: str, args, var: Path, null_store: bool) -> tuple[list[dict], list[str]]:
    started: list[Server] = []
    var = var / name  # each upstream gets its own scratch folders
    var.mkdir()
    try:
        upstream, upstream_url = start_faq(args, var) if name == "faq" else start_cheap(args, var)
        started.append(upstream)
        doors = start_doors(args.only, upstream, upstream_url, null_store, args, var, started)
        problems = preflight(doors, name)
        for problem in problems:
            print(f"PREFLIGHT {problem}", flush=True)
        runs = []
        for index in range(args.rounds):
            shift = index % len(doors)
            order = doors[shift:] + doors[:shift]
            for load in LOADS:
                for door in order:
                    run = measure(door, load, upstream, args.duration)
                    run.update(upstream=name, round=index + 1, door=door.key, load=load)
                    runs.append(run)
                    print(progress(run), flush=True)
        return runs, problems
    finally:
        for server in reversed(started):
            try:
                server.stop()
            except Exception as exc:  # stop the others all the same
                print(f"could not stop {server.name} (pid {server.pid}): {exc}", file=sys.stderr)


def progress(run: dict) -> str:
    errors = sum(run["socket_errors"].values())
    return (
        f"  {run['upstream']:<5} round {run['round']} {run['load']:<3} {run['door']:<11}"
        f"{run['rps']:>9.0f} req/s  p50 {run['p50_ms']:6.2f} ms  p99 {run['p99_ms']:7.2f} ms  "
        f"cpu {run['cpu_ms_per_req']:6.3f} ms/req  split {fmt_split(run['worker_split'])}"
        f"  non-2xx {run['non2xx']}  sock {errors}"
        + (f"  gateway counted {run['gateway_counted']}" if run["non2xx"] else "")
    )


# --- medians, ratios, table -------------------------------------------------------------------

MEDIAN_KEYS = ("rps", "p50_ms", "p99_ms", "cpu_ms_per_req", "upstream_cpu_ms_per_req")


def summarize(runs: list[dict]) -> dict:
    """upstream -> door -> {load: medians, non2xx, socket_errors, worst_split, added_p50_ms}."""
    summary: dict = {}
    for run in runs:
        door = summary.setdefault(run["upstream"], {}).setdefault(run["door"], {})
        door.setdefault("runs", []).append(run)
    for doors in summary.values():
        for door in doors.values():
            runs_here = door.pop("runs")
            for load in LOADS:
                chosen = [run for run in runs_here if run["load"] == load]
                if chosen:
                    door[load] = {
                        key: statistics.median(run[key] for run in chosen) for key in MEDIAN_KEYS
                    }
            door["non2xx"] = sum(run["non2xx"] for run in runs_here)
            door["socket_errors"] = sum(sum(run["socket_errors"].values()) for run in runs_here)
            splits = [run["worker_split"] for run in runs_here if run["load"] == "c16"]
            door["worst_split"] = max(splits, key=lambda split: split[:1], default=[])
        direct = doors.get("direct", {}).get("c1")
        for door in doors.values():
            if direct and "c1" in door:
                door["added_p50_ms"] = door["c1"]["p50_ms"] - direct["p50_ms"]
    return summary


def metric(summary: dict, upstream: str, door: str, load: str | None, key: str) -> float | None:
    entry = summary.get(upstream, {}).get(door, {})
    entry = entry.get(load, {}) if load else entry
    return entry.get(key)


def quotient(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def ratios(summary: dict) -> list[dict]:
    def m(upstream, door, load, key):
        return metric(summary, upstream, door, load, key)

    cpu, rps = "cpu_ms_per_req", "rps"
    rows = [
        ("gateway CPU/req / revproxy CPU/req (faq)", "<=", 0.5,
         quotient(m("faq", "gateway", "c16", cpu), m("faq", "revproxy", "c16", cpu))),
        ("gateway CPU/req / revproxy CPU/req (cheap)", "<=", 0.5,
         quotient(m("cheap", "gateway", "c16", cpu), m("cheap", "revproxy", "c16", cpu))),
        ("gateway req/s / revproxy req/s (cheap)", ">=", 1.5,
         quotient(m("cheap", "gateway", "c16", rps), m("cheap", "revproxy", "c16", rps))),
        ("gateway req/s / nginx req/s (faq)", ">=", 0.85,
         quotient(m("faq", "gateway", "c16", rps), m("faq", "nginx", "c16", rps))),
        ("gateway added p50 at c=1, ms (faq)", "<=", 1.0,
         m("faq", "gateway", None, "added_p50_ms")),
        ("gateway added p50 at c=1, ms (cheap)", "<=", 1.0,
         m("cheap", "gateway", None, "added_p50_ms")),
        ("gateway on / off req/s (faq)", ">=", 0.97,
         quotient(m("faq", "gateway", "c16", rps), m("faq", "gateway-off", "c16", rps))),
        ("gateway on / off req/s (cheap)", ">=", 0.97,
         quotient(m("cheap", "gateway", "c16", rps), m("cheap", "gateway-off", "c16", rps))),
    ]  # fmt: skip
    result = []
    for name, op, target, value in rows:
        met = None if value is None else (value <= target if op == "<=" else value >= target)
        result.append({"name": name, "value": value, "op": op, "target": target, "met": met})
    return result


def fmt(value: float | None, digits: int) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def fmt_split(split: list[int]) -> str:
    return "/".join(map(str, split)) if split else "-"


def errors_cell(entry: dict) -> str:
    return f"{entry['non2xx']}/{entry['socket_errors']}" if entry else "-"


GROUPS = [
    ("CPU ms/req c=16", lambda e: fmt(e.get("c16", {}).get("cpu_ms_per_req"), 3)),
    ("upstream ms/req", lambda e: fmt(e.get("c16", {}).get("upstream_cpu_ms_per_req"), 3)),
    ("c=1 p50 ms", lambda e: fmt(e.get("c1", {}).get("p50_ms"), 2)),
    ("c=1 p99 ms", lambda e: fmt(e.get("c1", {}).get("p99_ms"), 2)),
    ("added p50 ms", lambda e: fmt(e.get("added_p50_ms"), 2)),
    ("req/s c=16", lambda e: fmt(e.get("c16", {}).get("rps"), 0)),
    ("worker split", lambda e: fmt_split(e.get("worst_split", []))),
    ("non-2xx/sock", errors_cell),
]


def table(summary: dict, doors: list[str], upstreams: list[str]) -> str:
    names = ["front door", *(DOORS[key] for key in doors)]
    cells = [
        [upstream, *(cell(summary.get(upstream, {}).get(key, {})) for key in doors)]
        for _, cell in GROUPS
        for upstream in upstreams
    ]
    widths = [max(map(len, column)) for column in cells]
    per = len(upstreams)
    for index, (label, _) in enumerate(GROUPS):
        span = sum(widths[index * per : (index + 1) * per]) + 2 * (per - 1)
        widths[(index + 1) * per - 1] += max(0, len(label) - span)
    name_width = max(map(len, names))
    top = " " * name_width
    for index, (label, _) in enumerate(GROUPS):
        span = sum(widths[index * per : (index + 1) * per]) + 2 * (per - 1)
        top += " | " + label.center(span)
    lines = [top.rstrip()]
    for row in range(len(names)):
        line = names[row].ljust(name_width)
        for index in range(len(GROUPS)):
            group = range(index * per, (index + 1) * per)
            line += " | " + "  ".join(cells[col][row].rjust(widths[col]) for col in group)
        lines.append(line)
    lines.insert(2, "-" * len(lines[1]))
    return "\n".join(lines)


def ratio_lines(rows: list[dict]) -> str:
    width = max(len(row["name"]) for row in rows)
    lines = [f"RATIOS (medians of this run){'':<{width - 28}}   value   target"]
    for row in rows:
        verdict = {None: "n/a", True: "ok", False: "MISS"}[row["met"]]
        lines.append(
            f"{row['name']:<{width}}  {fmt(row['value'], 2):>7}   {row['op']} {row['target']:<5}"
            f"  {verdict}"
        )
    return "\n".join(lines)


# --- configuration, options, main -----------------------------------------------------------


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {"python": platform.python_version()}
    for package in ("gunicorn", "django", "urllib3", "requests", "django-revproxy"):
        try:
            found[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            found[package] = None
    nginx = subprocess.run([NGINX, "-v"], capture_output=True, text=True)
    found["nginx"] = (nginx.stderr or nginx.stdout).strip()
    wrk_version = subprocess.run([WRK, "-v"], capture_output=True, text=True)
    found["wrk"] = (wrk_version.stdout or wrk_version.stderr).splitlines()[0].strip()
    return found


def choice_list(allowed):
    def parse(text: str) -> list[str]:
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        unknown = [part for part in chosen if part not in allowed]
        if unknown or not chosen:
            raise argparse.ArgumentTypeError(f"choose from {', '.join(allowed)}")
        return [key for key in allowed if key in chosen]  # the canonical order

    return parse


def gateway_commit(root: Path) -> str | None:
    result = subprocess.run(
        ["git", "-C", str(root), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        check=False,
    )
    return result.stdout.strip() or None


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2, help="per Python app and nginx")
    parser.add_argument(
        "--threads",
        type=int,
        default=4,
        help="per gthread worker (the FAQ, django-revproxy; the gateway's ASGI worker has none)",
    )
    parser.add_argument(
        "--gateway-root",
        type=Path,
        default=ROOT,
        help="a checkout (e.g. a git worktree of an older commit) whose gateway to run",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per measured wrk run")
    parser.add_argument("--only", type=choice_list(list(DOORS)), default=list(DOORS))
    parser.add_argument("--upstreams", type=choice_list(list(UPSTREAMS)), default=list(UPSTREAMS))
    parser.add_argument("--json", type=Path, default=ROOT / "var" / "bench" / "gateway_bench.json")
    args = parser.parse_args()
    if min(args.workers, args.threads, args.rounds, args.duration) < 1:
        parser.error("--workers, --threads, --rounds and --duration must be at least 1")
    return args


def main() -> int:
    args = parse_args()
    var = Path(tempfile.mkdtemp(prefix="switchyard-gateway-bench-"))
    notes: list[str] = []
    if "revproxy" in args.only:
        ensure_revproxy()
    null_store = "gateway-off" in args.only and has_null_usage_store(var)
    if "gateway-off" in args.only and not null_store:
        notes.append(
            "gateway.usage.NullUsageStore does not exist: gateway-off runs with the default "
            "usage store (GATEWAY_USAGE_STORE not set)"
        )
    config = {
        "workers": args.workers,
        "threads": args.threads,
        "gateway_commit": gateway_commit(args.gateway_root),
        "rounds": args.rounds,
        "duration_s": args.duration,
        "warmup_s": WARMUP_SECONDS,
        "doors": args.only,
        "upstreams": args.upstreams,
        "loads": {name: {"threads": t, "connections": c} for name, (t, c) in LOADS.items()},
        "cpus": os.cpu_count(),
        "clk_tck": CLK_TCK,
        "versions": versions(),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    print(
        f"front doors: {', '.join(args.only)}; upstreams: {', '.join(args.upstreams)}; "
        f"{args.workers} workers x {args.threads} threads; {args.rounds} rounds of "
        f"{args.duration} s runs; scratch {var}",
        flush=True,
    )
    for note in notes:
        print(f"NOTE {note}", flush=True)
    runs, problems = [], []
    for upstream in args.upstreams:
        more_runs, more_problems = bench_upstream(upstream, args, var, null_store)
        runs += more_runs
        problems += more_problems

    summary = summarize(runs)
    ratio_rows = ratios(summary)
    print()
    print(table(summary, args.only, args.upstreams))
    print()
    print(ratio_lines(ratio_rows))
    failed = [
        f"{run['upstream']}/{run['door']}/{run['load']} round {run['round']}: "
        f"{run['non2xx']} non-2xx, {sum(run['socket_errors'].values())} socket errors"
        + (f"; the gateway counted {run['gateway_counted']}" if run["gateway_counted"] else "")
        for run in runs
        if run["non2xx"] or any(run["socket_errors"].values())
    ]
    for line in notes + problems + failed:
        print(f"NOTE {line}")

    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {"config": config, "notes": notes, "preflight_problems": problems}
    report |= {"runs": runs, "medians": summary, "ratios": ratio_rows}
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {args.json}")
    if failed or problems:
        print(f"FAILED: some answers were not 2xx; logs kept in {var}", file=sys.stderr)
        return 1
    shutil.rmtree(var, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
