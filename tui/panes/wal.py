"""Pane 3, WAL / replay: record/replay pairs the source holds."""

from __future__ import annotations

from typing import Any

from backends.errors import DriftdeckError
from tui.panes.inventory import InventoryPane, plural
from tui.units import human_size


class WalPane(InventoryPane):
    """WAL record/replay pairs by run, with their sizes."""

    PANE_KEY = "3"
    PANE_ID = "wal"
    PANE_TITLE = "WAL / replay"
    PANE_SUMMARY = "Did the replay reproduce the recorded run, and where did it first diverge?"
    COLUMNS = ("run", "record", "record size", "replay", "replay size")

    async def collect(self) -> tuple[str, dict[str, tuple[Any, ...]]]:
        pairs = await self.source.list_wal_pairs()
        rows: dict[str, tuple[Any, ...]] = {}
        for pair in pairs:
            sizes = []
            for path in (pair.record, pair.replay):
                if path is None:
                    sizes.append("-")
                    continue
                try:
                    sizes.append(human_size((await self.source.stat(path)).size))
                except DriftdeckError as exc:
                    sizes.append(f"⚠ {exc}")
            rows[pair.record] = (pair.run_id, pair.record, sizes[0], pair.replay or "no replay", sizes[1])
        unpaired = sum(1 for p in pairs if p.replay is None)
        extra = f", {unpaired} without a replay" if unpaired else ""
        return f"{plural(len(pairs) - unpaired, 'WAL pair')}{extra}", rows
