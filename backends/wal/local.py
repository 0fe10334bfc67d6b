"""``WalLocal``: the WAL operations of ``LocalSource`` (a mixin)."""

from __future__ import annotations

from typing import AsyncIterator

from backends.checksums.local import _unsupported


class WalLocal:
    """Mixed into ``LocalSource``; relies on its ``root`` and ``_resolve``."""

    CAPABILITIES: frozenset[str] = frozenset()
    root: str

    def validate_wal(self, path: str) -> AsyncIterator[object]:
        _unsupported(self.root, "validate WAL files")

    def diff_wal(self, record: str, replay: str, rules: object = None) -> AsyncIterator[object]:
        _unsupported(self.root, "diff WAL files")
