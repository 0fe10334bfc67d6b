"""Pane 2, Live events: what is changing on disk under the source root."""

from __future__ import annotations

from typing import Any

from tui.panes.inventory import InventoryPane
from tui.units import human_size, utc


class LivePane(InventoryPane):
    """The watch root's top-level entries, re-read every second; changed ones marked."""

    PANE_KEY = "2"
    PANE_ID = "live"
    PANE_TITLE = "Live events"
    PANE_SUMMARY = "What is happening on disk under this path, right now?"
    COLUMNS = ("", "entry", "kind", "size", "modified (UTC)")
    REFRESH_SECONDS = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._mtimes: dict[str, float] = {}
        self._changes = 0

    async def collect(self) -> tuple[str, dict[str, tuple[Any, ...]]]:
        entries = await self.source.list_dir("")
        rows: dict[str, tuple[Any, ...]] = {}
        changed = 0
        for entry in entries:
            before = self._mtimes.get(entry.path)
            moved = before is not None and before != entry.mtime
            changed += moved
            self._mtimes[entry.path] = entry.mtime
            size = "-" if entry.kind == "dir" else human_size(entry.size)
            rows[entry.path] = ("●" if moved else " ", entry.path, entry.kind, size, utc(entry.mtime))
        self._changes += changed
        return (
            f"watching {self.app.source_label} · {len(entries)} top-level entries · "
            f"{self._changes} changes seen since opened (re-read every second)",
            rows,
        )
