"""How sizes and times are written on screen."""

from __future__ import annotations

from datetime import datetime, timezone

from backends.units import counted, human_size

__all__ = ["counted", "human_size", "utc"]



def utc(ts: float) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` in UTC; ``-`` for 0."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"
