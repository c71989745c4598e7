"""The lifecycle of every published version, declared once in ``contracts/lifecycle.yaml``.

The gateway's headers and 410s, the contracts' ``deprecated`` marks, the docs and the dashboard
all read this one file, reviewed like code. Versions not named in it are active.

    faq:
      v1:
        deprecated_at: 2026-11-01T00:00:00Z     # RFC 9745 Deprecation
        sunset_at: 2027-05-01T00:00:00Z         # RFC 8594 Sunset: 410 Gone from then on
        successor: v2
        docs: https://docs.example.com/faq/migrate-to-v2
        brownouts:                              # rehearsals of the sunset: 410 while they last
          - {start: 2027-03-03T14:00:00Z, end: 2027-03-03T15:00:00Z}
        operations:                             # where the successor's operation id differs
          faq_answer: faq_update                # (null: the operation has no successor)

Every other operation's successor is the one with the same operation id in the successor's
contract, if it has one.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from contracts import CONTRACTS_DIR

DEFAULT_PATH = CONTRACTS_DIR / "lifecycle.yaml"

ACTIVE, DEPRECATED, BROWNOUT, SUNSET = "active", "deprecated", "brownout", "sunset"
_KEYS = {"deprecated_at", "sunset_at", "successor", "docs", "brownouts", "operations"}


class LifecycleError(ValueError):
    """The declaration is inconsistent; the message says where and why."""


@dataclass(frozen=True)
class Brownout:
    start: dt.datetime
    end: dt.datetime

    def covers(self, now: dt.datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True)
class Lifecycle:
    service: str
    version: str
    deprecated_at: dt.datetime | None = None
    sunset_at: dt.datetime | None = None
    successor: str | None = None
    docs: str | None = None
    brownouts: tuple[Brownout, ...] = field(default_factory=tuple)
    # (operation id here, its successor's operation id or None) where they are not the same id.
    renamed: tuple[tuple[str, str | None], ...] = field(default_factory=tuple)

    def successor_operation(self, operation_id: str, successor_ids) -> str | None:
        """The successor version's operation that replaces ``operation_id``: the declared one,
        else the one of the same id, else ``None`` (it has no successor)."""
        declared = dict(self.renamed)
        if operation_id in declared:
            return declared[operation_id]
        return operation_id if operation_id in successor_ids else None

    def state(self, now: dt.datetime | None = None) -> str:
        now = now or dt.datetime.now(dt.UTC)
        if self.sunset_at and now >= self.sunset_at:
            return SUNSET
        if any(b.covers(now) for b in self.brownouts):
            return BROWNOUT
        if self.deprecated_at and now >= self.deprecated_at:
            return DEPRECATED
        return ACTIVE

    @property
    def announced(self) -> bool:
        """Deprecation is announced (headers sent) from the moment it is declared, even for a
        date still ahead: RFC 9745 lets ``Deprecation`` name a future date."""
        return self.deprecated_at is not None or self.sunset_at is not None

    def gone(self, now: dt.datetime | None = None) -> bool:
        return self.state(now) in (SUNSET, BROWNOUT)

    def as_dict(self, now: dt.datetime | None = None) -> dict:
        def iso(value):
            return value.isoformat().replace("+00:00", "Z") if value else None

        return {
            "state": self.state(now),
            "deprecated_at": iso(self.deprecated_at),
            "sunset_at": iso(self.sunset_at),
            "successor": self.successor,
            "docs": self.docs,
            "brownouts": [{"start": iso(b.start), "end": iso(b.end)} for b in self.brownouts],
        }


def _instant(value, where: str) -> dt.datetime:
    if isinstance(value, dt.datetime):
        parsed = value
    elif isinstance(value, dt.date):
        parsed = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise LifecycleError(f"{where}: {value!r} is not an ISO 8601 date-time") from None
    else:
        raise LifecycleError(f"{where}: {value!r} is not a date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def parse(data: dict, published: dict[str, list[str]] | None = None) -> dict[tuple, Lifecycle]:
    """Validate a declaration; ``published`` (service: versions) checks the names used."""
    result = {}
    for service, versions in (data or {}).items():
        if not isinstance(versions, dict):
            raise LifecycleError(f"{service}: expected a mapping of versions")
        for version, spec in versions.items():
            where = f"{service} {version}"
            spec = spec or {}
            if not isinstance(spec, dict):
                raise LifecycleError(f"{where}: expected a mapping")
            unknown = set(spec) - _KEYS
            if unknown:
                raise LifecycleError(f"{where}: unknown keys {sorted(unknown)}")
            if published is not None and version not in published.get(service, []):
                raise LifecycleError(f"{where}: no such published version")
            deprecated = spec.get("deprecated_at")
            sunset = spec.get("sunset_at")
            deprecated = _instant(deprecated, f"{where} deprecated_at") if deprecated else None
            sunset = _instant(sunset, f"{where} sunset_at") if sunset else None
            if sunset and not deprecated:
                raise LifecycleError(f"{where}: a sunset needs a deprecation date before it")
            if sunset and deprecated and sunset < deprecated:
                raise LifecycleError(
                    f"{where}: sunset_at ({sunset.date()}) precedes deprecated_at "
                    f"({deprecated.date()}); the Sunset date may never come before the "
                    "Deprecation date"
                )
            successor = spec.get("successor")
            if successor is not None:
                if successor == version:
                    raise LifecycleError(f"{where}: a version cannot succeed itself")
                if published is not None and successor not in published.get(service, []):
                    raise LifecycleError(f"{where}: successor {successor} is not published")
            renamed = _renamed(
                spec.get("operations"), where, service, version, successor, published
            )
            brownouts = []
            for index, window in enumerate(spec.get("brownouts") or []):
                spot = f"{where} brownouts[{index}]"
                if not isinstance(window, dict) or set(window) != {"start", "end"}:
                    raise LifecycleError(f"{spot}: expected {{start, end}}")
                start, end = _instant(window["start"], spot), _instant(window["end"], spot)
                if end <= start:
                    raise LifecycleError(f"{spot}: ends before it starts")
                if not deprecated or start < deprecated:
                    raise LifecycleError(f"{spot}: a brownout must follow the deprecation")
                brownouts.append(Brownout(start, end))
            result[(service, version)] = Lifecycle(
                service=service,
                version=version,
                deprecated_at=deprecated,
                sunset_at=sunset,
                successor=successor,
                docs=spec.get("docs"),
                brownouts=tuple(brownouts),
                renamed=renamed,
            )
    return result


def _renamed(mapping, where, service, version, successor, published) -> tuple:
    if mapping is None:
        return ()
    if not isinstance(mapping, dict) or not successor:
        raise LifecycleError(f"{where} operations: expected a mapping, and a successor to map to")
    for old, new in mapping.items():
        if not isinstance(old, str) or not (new is None or isinstance(new, str)):
            raise LifecycleError(f"{where} operations: map operation ids to ids (or null)")
    if published is not None:
        from contracts import load as load_contract
        from contracts.validation import operations

        own = operations(load_contract(service, version))
        theirs = operations(load_contract(service, successor))
        for old, new in mapping.items():
            if old not in own:
                raise LifecycleError(f"{where} operations: {version} has no operation {old!r}")
            if new is not None and new not in theirs:
                raise LifecycleError(
                    f"{where} operations: {successor} has no operation {new!r} for {old}"
                )
    return tuple(sorted(mapping.items()))


@functools.cache
def load(path: Path = DEFAULT_PATH) -> dict[tuple, Lifecycle]:
    """Every declared lifecycle, by ``(service, version)``, checked against the contracts."""
    from contracts import published

    if not Path(path).is_file():
        return {}
    with open(path, encoding="utf-8") as handle:
        return parse(yaml.safe_load(handle), published())


def lifecycle_of(service: str, version: str, path: Path = DEFAULT_PATH) -> Lifecycle:
    return load(Path(path)).get((service, version)) or Lifecycle(service, version)
