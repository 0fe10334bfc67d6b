"""Pane 5, Checksums: the SHA-256 manifests the source holds."""

from __future__ import annotations

from typing import Any

from backends.errors import DriftdeckError
from tui.panes.inventory import InventoryPane, plural
from tui.units import human_size, utc


class ChecksumsPane(InventoryPane):
    """Manifests found by the source's manifest globs, with size and age."""

    PANE_KEY = "5"
    PANE_ID = "checksums"
    PANE_TITLE = "Checksums"
    PANE_SUMMARY = "Which files drifted from their SHA-256 manifest?"
    COLUMNS = ("manifest", "size", "modified (UTC)")

    async def collect(self) -> tuple[str, dict[str, tuple[Any, ...]]]:
        manifests = await self.source.list_manifests()
        rows: dict[str, tuple[Any, ...]] = {}
        for path in manifests:
            try:
                entry = await self.source.stat(path)
                rows[path] = (path, human_size(entry.size), utc(entry.mtime))
            except DriftdeckError as exc:
                rows[path] = (path, "⚠", str(exc))
        return plural(len(manifests), "manifest"), rows
