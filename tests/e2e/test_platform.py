"""Playing the platform: every app deployed as the README says, with nothing else.

For each app the test runs the Procfile's ``release``, then ``web`` and ``worker``, in an
environment made only of the config vars the README's deploy section lists for that app (values
made for this run) plus what a platform itself sets (``PORT``, ``WEB_CONCURRENCY``, ``PATH``). A
stand-in for the platform's router terminates "TLS" in front of the gateway: it forwards with
``X-Forwarded-Proto: https``, as Heroku's does. Then calls cross services while the service they
need is down, so that only the worker can deliver them, and every process must stop on SIGTERM
with status 0 within 30 s.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import signal
import subprocess
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from tests.deploy import readme
from tests.e2e import flows
from tests.e2e.conftest import REPO_ROOT, VENV_BIN, free_port, provision_database

pytestmark = pytest.mark.e2e

PROCFILE = readme.procfile()
APPS = ("faq", "gateway", "tickets", "billing")
STOP_SECONDS = 30
REDIS = os.environ.get("REDIS_URL", "").strip() or "redis://127.0.0.1:6379/0"


class Router:
    """The platform's HTTPS front, in miniature: forwards to the gateway, saying the caller came
    over HTTPS and from where."""

    def __init__(self, target: str):
        self.target = target
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self):
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc):
        asyncio.run_coroutine_threadsafe(self._session.close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._forward)
        runner = web.AppRunner(app)
        self._loop.run_until_complete(runner.setup())
        self._loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", self.port).start())
        self._session = self._loop.run_until_complete(self._client())
        self._ready.set()
        self._loop.run_forever()

    @staticmethod
    async def _client() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(auto_decompress=False)

    async def _forward(self, request: web.Request) -> web.Response:
        headers = {
            k: v for k, v in request.headers.items() if k.lower() not in {"host", "connection"}
        }
        headers["X-Forwarded-Proto"] = "https"
        headers["X-Forwarded-For"] = request.remote or "127.0.0.1"
        async with self._session.request(
            request.method,
            self.target + request.path_qs,
            headers=headers,
            data=await request.read(),
            allow_redirects=False,
        ) as answer:
            body = await answer.read()
            drop = {"transfer-encoding", "connection", "content-length"}
            kept = {k: v for k, v in answer.headers.items() if k.lower() not in drop}
            return web.Response(status=answer.status, headers=kept, body=body)


class App:
    """One deployed app: its config vars and its running processes."""

    def __init__(self, name: str, config: dict[str, str], logs: Path):
        self.name = name
        self.config = config
        self.port = free_port()
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    @property
    def env(self) -> dict[str, str]:
        # What the platform adds: where to listen, how many workers, the buildpack's PATH.
        platform = {"PORT": str(self.port), "WEB_CONCURRENCY": "1"}
        return {"PATH": f"{VENV_BIN}:/usr/bin:/bin", **platform, **self.config}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def run(self, *command: str) -> str:
        """A one-off: the ``release`` process, or a command (``heroku run …``)."""
        command = shlex.split(PROCFILE["release"]) if command == ("release",) else list(command)
        result = subprocess.run(
            command, cwd=REPO_ROOT, env=self.env, capture_output=True, text=True, timeout=180
        )
        assert result.returncode == 0, f"{self.name} {command}: {result.stdout}{result.stderr}"
        return result.stdout

    def start(self, process: str) -> None:
        log = (self.logs / f"{self.name}-{process}.log").open("ab")
        self.processes[process] = subprocess.Popen(
            shlex.split(PROCFILE[process]),
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def stop(self, process: str) -> tuple[int, float]:
        """SIGTERM, as the platform sends it: (exit status, seconds it took)."""
        child = self.processes.pop(process)
        started = time.monotonic()
        child.send_signal(signal.SIGTERM)
        try:
            code = child.wait(timeout=STOP_SECONDS + 5)
        except subprocess.TimeoutExpired:
            child.kill()
            code = child.wait()
        return code, time.monotonic() - started

    def log(self, process: str) -> str:
        return (self.logs / f"{self.name}-{process}.log").read_text(errors="replace")

    def kill_all(self) -> None:
        for child in self.processes.values():
            child.kill()
            child.wait()


def wait_for(check, *, seconds: float, what: str):
    deadline = time.monotonic() + seconds
    while True:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {seconds} s")
        time.sleep(0.3)


def healthy(http, app: App) -> bool:
    return http.get(f"{app.url}/__health__", headers={"Connection": "close"}).status_code == 200


def values_for(app: str, names: dict[str, str], run: dict[str, str]) -> dict[str, str]:
    """The README's config vars of ``app`` with this run's values (and no others)."""
    return {name: run[name] if name in run else names[name] for name in names}


@pytest.fixture(scope="module")
def platform(tmp_path_factory, http):
    logs = tmp_path_factory.mktemp("platform")
    listed = readme.config_vars()
    secret = secrets.token_urlsafe(40)
    with ExitStack() as stack:
        apps: dict[str, App] = {}
        for name in APPS:
            apps[name] = App(name, {}, logs)
        gateway = apps["gateway"]
        router = stack.enter_context(Router(gateway.url))
        shared = {"GATEWAY_SECRET": secret, "ALLOWED_HOSTS": "127.0.0.1,localhost"}
        for name, app in apps.items():
            run = {
                **shared,
                "SECRET_KEY": secrets.token_urlsafe(50),
                "DATABASE_URL": stack.enter_context(provision_database(f"plat-{name}", logs)),
                "REDIS_URL": REDIS,
                "FAQ_UPSTREAM": apps["faq"].url,
                "TICKETS_UPSTREAM": apps["tickets"].url,
                "BILLING_UPSTREAM": apps["billing"].url,
                "FAQ_API": f"{router.url}/faq",
                "TICKETS_API": f"{router.url}/tickets",
                "GATEWAY_API_KEY": "",  # issued on the gateway below
            }
            app.config = values_for(name, listed[name], run)
        stack.callback(lambda: [app.kill_all() for app in apps.values()])
        for name in ("faq", "gateway"):
            apps[name].run("release")
            apps[name].start("web")
            apps[name].start("worker")
        wait_for(lambda: healthy(http, gateway), seconds=60, what="the gateway's health")
        keys = {}
        for consumer in ("tickets-service", "billing-service", "front-desk"):
            out = gateway.run(
                "python",
                "manage.py",
                "consumers",
                "create",
                consumer,
                "--owner",
                "Platform test",
                "--contact",
                "ops@example.com",
            )
            keys[consumer] = out.strip().splitlines()[-1]
        for name in ("tickets", "billing"):
            apps[name].config["GATEWAY_API_KEY"] = keys[f"{name}-service"]
            apps[name].run("release")
            apps[name].start("web")
            apps[name].start("worker")
        for app in apps.values():
            wait_for(lambda app=app: healthy(http, app), seconds=60, what=f"{app.name}'s health")

        def call(method, path, **kwargs):
            headers = {"Authorization": f"Bearer {keys['front-desk']}"}
            headers.update(kwargs.pop("headers", None) or {})
            return http.request(method, f"{router.url}{path}", headers=headers, **kwargs)

        yield {"apps": apps, "call": call, "listed": listed}


def test_each_app_runs_with_only_the_readme_config_vars(platform):
    for name, app in platform["apps"].items():
        assert set(app.config) == set(platform["listed"][name])
        assert set(app.env) - set(app.config) == {"PATH", "PORT", "WEB_CONCURRENCY"}


def test_a_promotion_made_while_the_faq_is_down_is_delivered_by_the_worker(platform, http):
    apps, call = platform["apps"], platform["call"]
    subject = f"Platform promotion {uuid.uuid4().hex[:8]}"
    ticket_id, resolve = flows.resolve_with_promotion(call, subject)
    code, seconds = apps["faq"].stop("web")
    assert (code, seconds < STOP_SECONDS) == (0, True)

    resolved = resolve()
    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["promotion"]["status"] == "pending"
    apps["faq"].start("web")
    wait_for(lambda: healthy(http, apps["faq"]), seconds=60, what="the FAQ's return")

    def delivered():
        promotion = call("GET", f"/tickets/v2/tickets/{ticket_id}").json()["promotion"]
        return promotion if promotion["status"] == "done" else None

    promotion = wait_for(delivered, seconds=30, what="the worker's delivery")
    entries = call("GET", "/faq/v2/faqs", params={"q": subject}).json()["items"]
    assert [entry["id"] for entry in entries] == [promotion["faq_entry_id"]]
    assert "1 sent" in apps["tickets"].log("worker")


def test_a_declined_card_while_tickets_is_down_opens_one_ticket_through_the_worker(platform, http):
    apps, call = platform["apps"], platform["call"]
    order_id, due = flows.billed_order(call)
    code, seconds = apps["tickets"].stop("web")
    assert (code, seconds < STOP_SECONDS) == (0, True)

    declined = flows.pay_with_a_declined_card(call, order_id, due)
    assert declined.status_code in (200, 201), declined.text
    # Billing tries at once, in the background (with a retry): tickets comes back only after
    # that attempt has failed, so that the ticket can only come from the worker.
    wait_for(
        lambda: "ticket request not sent; will retry" in apps["billing"].log("web"),
        seconds=15,
        what="billing's first attempt",
    )
    apps["tickets"].start("web")
    wait_for(lambda: healthy(http, apps["tickets"]), seconds=60, what="tickets' return")

    def opened():
        found = call("GET", "/tickets/v2/tickets", params={"order_ref": f"order-{order_id}"})
        return found.json()["items"] if found.status_code == 200 else None

    [ticket] = wait_for(opened, seconds=30, what="the worker's ticket request")
    assert "declined" in ticket["subject"].lower()
    assert "sent" in apps["billing"].log("worker")


def test_sigterm_stops_every_process_with_0_within_30_s(platform):
    stopped = {}
    for name, app in platform["apps"].items():
        for process in list(app.processes):
            stopped[f"{name} {process}"] = app.stop(process)

    assert {key: code for key, (code, _) in stopped.items()} == dict.fromkeys(stopped, 0)
    assert max(seconds for _, seconds in stopped.values()) < STOP_SECONDS
    # A worker lets go of its row and stops within 10 s, well inside the platform's grace.
    assert max(seconds for key, (_, seconds) in stopped.items() if key.endswith("worker")) < 10
    assert len(stopped) == 8
