"""The README's layout answers "where is X?" in one hop, and stays true: every module of the
gateway and the kit has its line, and every line names a module that exists."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.deploy import readme

PACKAGES = ("gateway/", "services/kit/")


def layout_lines() -> dict[str, set[str]]:
    """``{package: {module listed under it}}`` from the README's layout block."""
    section = readme.text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    block = section.split("```", 2)[1]
    found: dict[str, set[str]] = {}
    package = None
    for line in block.splitlines():
        if line and not line.startswith(" "):
            package = line.split()[0]
            found.setdefault(package, set())
            continue
        entry = re.match(r"^  (\S+\.py|\S+/)\s{2,}\S", line)
        if entry and package:
            found[package].add(entry.group(1))
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_has_its_line(package):
    modules = {p.name for p in (readme.ROOT / package).glob("*.py") if p.name != "__init__.py"}

    listed = layout_lines()[package]

    assert modules - listed == set(), f"modules of {package} the README's layout does not list"
    assert {m for m in listed if m.endswith(".py")} - modules == set(), "listed, but not there"


def test_the_gateways_commands_are_all_named():
    commands = {
        p.stem
        for p in (readme.ROOT / "gateway/management/commands").glob("*.py")
        if p.name != "__init__.py"
    }
    section = readme.text().split("## Layout", 1)[1].split("\n## ", 1)[0]
    # The management/ line and its continuation lines (indented past the module names).
    named = re.search(r"^  management/\s+(.*(?:\n {10,}.*)*)", section, re.MULTILINE).group(1)

    assert commands == set(re.findall(r"[a-z_]+", named))


def test_the_scripts_are_executable_in_git():
    """CI and a fresh clone run them directly: a lost executable bit fails every run."""
    listing = subprocess.run(
        ["git", "ls-files", "-s", ".ci/run", "bin/"],
        cwd=readme.ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    modes = {line.split("\t")[1]: line.split()[0] for line in listing.splitlines()}

    assert ".ci/run" in modes and "bin/test" in modes
    assert {path: mode for path, mode in modes.items() if mode != "100755"} == {}
