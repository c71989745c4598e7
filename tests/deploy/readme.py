"""What the README says about deploying, read the way a test can check it."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
ADD_ON_VARS = {"DATABASE_URL", "REDIS_URL"}  # set by the platform's add-ons, not by hand


def text() -> str:
    return README.read_text(encoding="utf-8")


def config_vars() -> dict[str, dict[str, str]]:
    """Each app's config vars, from the README's ```env app=NAME blocks."""
    found = {}
    for app, body in re.findall(r"```env app=(\w+)\n(.*?)```", text(), re.DOTALL):
        pairs = [line.split("=", 1) for line in body.strip().splitlines()]
        found[app] = {name: value for name, value in pairs}
    return found


def variables_table() -> set[str]:
    """Every variable named in the README's environment-variable table."""
    section = text().split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    names = set()
    for line in section.splitlines():
        if line.startswith("| `"):
            names |= set(re.findall(r"`([A-Z][A-Z0-9_]+)`", line.split("|")[1]))
    return names


def procfile(path: Path = ROOT / "Procfile") -> dict[str, str]:
    return dict(
        line.split(": ", 1) for line in path.read_text().splitlines() if line and line[0] != "#"
    )
