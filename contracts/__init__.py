"""The published contracts (``contracts/<service>/<version>.yaml``) and the code that reads them.

Loading and validating needs no Django, so the gateway, clients and tests can all use it;
generating them from a service's code lives in :mod:`contracts.generate`.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

CONTRACTS_DIR = Path(__file__).resolve().parent
_VERSION_FILE = re.compile(r"^v[0-9]+\.yaml$")


class UnknownContract(LookupError):
    pass


def contract_path(service: str, version: str, root: Path = CONTRACTS_DIR) -> Path:
    return root / service / f"{version}.yaml"


def _version_key(version: str) -> int:
    return int(version.lstrip("v"))


@functools.cache
def published(root: Path = CONTRACTS_DIR) -> dict[str, list[str]]:
    """Every service with committed contracts, and its versions in order (``v1``, ``v2``, …).

    Cached: the gateway asks on every call, and the files change only with a deploy.
    Treat the result as read-only."""
    result = {}
    for directory in sorted(p for p in root.iterdir() if p.is_dir()):
        versions = [f.stem for f in directory.iterdir() if _VERSION_FILE.match(f.name)]
        if versions:
            result[directory.name] = sorted(versions, key=_version_key)
    return result


@functools.cache
def load(service: str, version: str, root: Path = CONTRACTS_DIR) -> dict:
    """The parsed document. Cached: treat it as read-only."""
    path = contract_path(service, version, root)
    if not path.is_file():
        raise UnknownContract(f"No published contract for {service} {version} ({path.name}).")
    with path.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)
