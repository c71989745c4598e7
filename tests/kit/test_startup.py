"""Reading the settings has no side effects; starting the app makes the folders it needs."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(code: str, var_dir: Path, service: str) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ["PATH"], "VAR_DIR": str(var_dir), "SERVICE": service}
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


@pytest.mark.parametrize("service", ["faq", "gateway"])
def test_importing_the_settings_makes_no_folder_and_starting_the_app_does(tmp_path, service):
    var_dir = tmp_path / "var"
    read = "from services.kit.entry import configure; configure(); import importlib, os; "
    read += "importlib.import_module(os.environ['DJANGO_SETTINGS_MODULE'])"

    assert run(read, var_dir, service).returncode == 0
    assert not var_dir.exists()

    started = run(read + "; import django; django.setup()", var_dir, service)

    assert started.returncode == 0, started.stderr
    assert var_dir.is_dir()
    if service == "gateway":
        assert (var_dir / "static").is_dir()
