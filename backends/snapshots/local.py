"""``SnapshotsLocal``: the snapshot-diff operations of ``LocalSource`` (a mixin)."""

from __future__ import annotations

from typing import AsyncIterator

from backends.checksums.local import _unsupported


class SnapshotsLocal:
    """Mixed into ``LocalSource``; relies on its ``root`` and ``_resolve``."""

    CAPABILITIES: frozenset[str] = frozenset()
    root: str

    def diff_snapshots(self, a: str, b: str, rules: object = None) -> AsyncIterator[object]:
        _unsupported(self.root, "diff snapshots")

    async def diff_file(self, a: str, b: str) -> str:
        _unsupported(self.root, "diff files")
