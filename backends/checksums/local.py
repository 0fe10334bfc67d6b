"""``ChecksumsLocal``: the checksum operations of ``LocalSource`` (a mixin)."""

from __future__ import annotations

from typing import AsyncIterator, NoReturn

from backends.errors import UnsupportedError


class ChecksumsLocal:
    """Mixed into ``LocalSource``; relies on its ``root`` and ``_resolve``."""

    CAPABILITIES: frozenset[str] = frozenset()
    root: str

    def verify_checksums(self, manifest: str, *, include_new: bool = True) -> AsyncIterator[object]:
        _unsupported(self.root, "verify checksums")


def _unsupported(root: str, what: str) -> NoReturn:
    raise UnsupportedError(f"{root}: this version of the local source cannot {what} yet")
