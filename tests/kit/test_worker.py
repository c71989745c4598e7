"""services/kit/worker.py and ``manage.py worker``: a loop of passes that SIGTERM stops cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from services.kit import worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db  # each pass starts by retiring stale database connections
def test_passes_repeat_until_stopped_and_reports_only_what_they_did():
    stop = threading.Event()
    reports, calls = [], []

    def one_pass(should_stop):
        calls.append(should_stop())
        if len(calls) == 3:
            stop.set()
        return "did something" if len(calls) == 2 else None

    worker.run(one_pass, interval=0.01, stop=stop, report=reports.append)

    assert calls == [False, False, False]  # the loop ends once the pass that set it returns
    assert reports == ["did something"]


@pytest.mark.django_db
def test_a_failing_pass_is_logged_and_tried_again(caplog):
    stop = threading.Event()
    attempts = []

    def one_pass(should_stop):
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("database restarting")
        stop.set()

    worker.run(one_pass, interval=0.01, stop=stop, report=lambda line: None)

    assert len(attempts) == 2
    assert "worker pass failed" in caplog.text


def test_sigterm_sets_the_stop_event_and_the_old_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with worker.stopped_by_signals() as stop:
        os.kill(os.getpid(), signal.SIGTERM)
        assert stop.wait(2)
    assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize("service", ["faq", "gateway"])
def test_an_app_with_nothing_to_send_idles_and_stops_on_sigterm_with_0(service, tmp_path):
    env = {
        "PATH": os.environ["PATH"],
        "SERVICE": service,
        "SECRET_KEY": "worker-test",
        "VAR_DIR": str(tmp_path),
    }
    process = subprocess.Popen(
        [sys.executable, "manage.py", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert f"worker: {service} has nothing to send; idling until stopped" in first
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - started < 10
        assert f"worker: {service} stopped" in process.stdout.read()
    finally:
        process.kill()
        process.wait()
