"""How sizes are written for people (shared by reports, the CLI and the TUI)."""

from __future__ import annotations


def human_size(size: int) -> str:
    """``1536`` -> ``1.5 KiB``; bytes below 1 KiB stay exact."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 warning``, ``2 warnings``, ``1,204 entries`` (with ``plural="entries"``): the count with its noun agreeing."""
    return f"{count:,} {noun if count == 1 else (plural or noun + 's')}"

