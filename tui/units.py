"""How sizes and times are written on screen."""

from __future__ import annotations

from datetime import datetime, timezone


def human_size(size: int) -> str:
    """``1536`` -> ``1.5 KiB``; bytes below 1 KiB stay exact."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


def utc(ts: float) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` in UTC; ``-`` for 0."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"
