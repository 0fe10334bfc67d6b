"""How sizes and times are written on screen."""

from __future__ import annotations

from datetime import datetime, timezone

from rich.cells import cell_len, set_cell_size

from backends.units import counted, human_size

__all__ = ["counted", "fit", "human_size", "utc"]


def utc(ts: float) -> str:
    """Epoch seconds as ``YYYY-MM-DD HH:MM:SS`` in UTC; ``-`` for 0."""
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def fit(text: str, width: int, *, middle: bool = False) -> str:
    """``text`` cut to at most ``width`` cells, ``…`` marking the cut.

    Args:
        text: What to show.
        width: Cells available.
        middle: Cut the middle, not the end: for run ids and paths, whose distinct part is
            often the end (``run-20261115-1935-b309b4`` and its neighbours share 17 leading
            characters, so an end cut at 80 columns made the rows look identical).
    """
    if cell_len(text) <= width:
        return text
    if width <= 1:
        return "…"[:max(0, width)]
    if not middle:
        return set_cell_size(text, width - 1) + "…"
    tail_width = (width - 1) // 2
    head = set_cell_size(text, width - 1 - tail_width).rstrip(" ")  # a wide character that does not fit leaves a pad
    tail = text[len(text) - tail_width :]
    while cell_len(tail) > tail_width:
        tail = tail[1:]
    return head + "…" + tail
