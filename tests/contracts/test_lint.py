"""Every contract passes Redocly CLI and Spectral (with the OWASP API Security ruleset) with no
error: the committed ones (the services' view) under redocly-committed.yaml and
.spectral-committed.yaml, the served ones (the consumer's view, as ``served_contracts`` writes
them) under redocly.yaml and .spectral.yaml, every rule on. Each linter runs once per ruleset over
all the files; a failure shows the linter's own report.

The linters are the pinned ones bin/setup installs from package.json into node_modules.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
BIN = REPO_ROOT / "node_modules" / ".bin"
COMMITTED = sorted(REPO_ROOT.glob("contracts/*/v*.yaml"))
# https, and not example.com (Redocly warns of that): the URL a production gateway would have.
SERVER = "https://api.switchyard.dev"

pytestmark = pytest.mark.skipif(
    # The linters read files only: the SQLite run has them, a second run would prove nothing more.
    bool(os.environ.get("DATABASE_URL")),
    reason="the contract linters do not depend on the database: the SQLite run has them",
)

NODE_ENV = {
    **os.environ,
    "REDOCLY_TELEMETRY": "off",
    "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
}


def run(tool: str, *args: str | Path) -> subprocess.CompletedProcess:
    binary = BIN / tool
    if not binary.exists():
        pytest.fail(f"{binary.relative_to(REPO_ROOT)} is missing: run bin/setup (it needs npm)")
    return subprocess.run(
        [str(binary), *map(str, args)],
        cwd=REPO_ROOT,
        env=NODE_ENV,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def redocly(config: str, files: list[Path]) -> None:
    result = run("redocly", "lint", "--config", config, "--format", "stylish", *files)
    assert result.returncode == 0, f"redocly lint ({config}):\n{result.stdout}{result.stderr}"


def spectral(ruleset: str, files: list[Path]) -> None:
    result = run(
        "spectral", "lint", "--ruleset", ruleset, "--fail-severity", "error",
        "--display-only-failures", "--format", "text", *files,
    )  # fmt: skip
    assert result.returncode == 0, f"spectral lint ({ruleset}):\n{result.stdout}{result.stderr}"


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> list[Path]:
    """The served contract of every published service and version, as the gateway composes it."""
    out = tmp_path_factory.mktemp("served")
    env = {
        **os.environ,
        "SERVICE": "gateway",
        "DJANGO_SETTINGS_MODULE": "gateway.settings",
        "SECRET_KEY": os.environ.get("SECRET_KEY") or "contract-lint-only",
    }
    command = [sys.executable, "manage.py", "served_contracts", "--server", SERVER, "--out", out]
    result = subprocess.run(
        command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    files = sorted(out.glob("*/v*.yaml"))
    assert [f.relative_to(out) for f in files] == [
        f.relative_to(REPO_ROOT / "contracts") for f in COMMITTED
    ]
    return files


def test_every_contract_is_committed():
    assert len(COMMITTED) >= 6, COMMITTED  # faq, tickets, billing; v1 and v2


def test_committed_contracts_pass_redocly():
    redocly("redocly-committed.yaml", COMMITTED)


def test_committed_contracts_pass_spectral_and_owasp():
    spectral(".spectral-committed.yaml", COMMITTED)


def test_served_contracts_pass_redocly(served):
    redocly("redocly.yaml", served)


def test_served_contracts_pass_spectral_and_owasp(served):
    spectral(".spectral.yaml", served)
