"""Plain-text tables for the gateway's management commands (``usage``, ``consumers``,
``can_sunset``): columns padded to their widest cell, two spaces apart."""

from __future__ import annotations

from collections.abc import Sequence


def lines(rows: Sequence[Sequence[str]]) -> list[str]:
    """Each row as one line; the first row is the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
