"""Pane 4, Snapshots: the trace snapshots the source holds."""

from __future__ import annotations

from typing import Any

from tui.panes.inventory import InventoryPane, plural
from tui.units import human_size, utc



class SnapshotsPane(InventoryPane):
    """Snapshots oldest first: files, bytes and newest change inside each."""

    PANE_KEY = "4"
    PANE_ID = "snapshots"
    PANE_TITLE = "Snapshots"
    PANE_SUMMARY = "What differs between two trace snapshots (trees of files)?"
    COLUMNS = ("snapshot", "files", "size", "newest change (UTC)", "path")

    async def collect(self) -> tuple[str, dict[str, tuple[Any, ...]]]:
        snapshots = await self.source.list_snapshots()
        rows = {s.path: (s.name, f"{s.files:,}", human_size(s.size), utc(s.mtime), s.path) for s in snapshots}
        summary = plural(len(snapshots), "snapshot")
        if len(snapshots) >= 2:
            summary += f"; newest two: {snapshots[-2].name} → {snapshots[-1].name}"
        return summary, rows
