"""``SnapshotsService``: the snapshot-diff operations of a directory source.

Snapshots are named by their directory name (as ``list_snapshots`` lists
them) or by a directory path relative to the source root. Every call takes
and returns serialisable values (``SnapshotRules``, ``EntryDiff``,
``DiffProgress``, ``DiffSummary``, ``EntryContent``), so an HTTP source can
offer the same calls.
"""

from __future__ import annotations

import asyncio
import threading
from typing import AsyncIterator, Callable, Iterator

from backends.models import CAP_SNAPSHOTS
from backends.rooted import Rooted
from backends.snapshots.models import DiffProgress, DiffSummary, EntryContent, EntryDiff, SnapshotRules
from backends.snapshots.store import SnapshotStore
from backends.threadstream import iterate_in_thread

async def unbatched(
    produce: Callable[[threading.Event], Iterator[list[EntryDiff] | DiffProgress | DiffSummary]],
) -> AsyncIterator[EntryDiff | DiffProgress | DiffSummary]:
    """A tree diff's items produced on a thread (``produce(stop)``), its batches of entries flattened."""
    async for item in iterate_in_thread(produce, maxsize=8, name="driftdeck-snapshots"):
        if isinstance(item, list):
            for entry in item:
                yield entry
        else:
            yield item


class SnapshotsService(SnapshotStore):
    """The ``SnapshotStore`` calls of one workspace, async.

    Args:
        workspace: The workspace directory (its root, layout, configuration and storage).
    """

    CAPABILITIES: frozenset[str] = frozenset({CAP_SNAPSHOTS})

    def __init__(self, workspace: Rooted) -> None:
        self.root = workspace.root
        self.layout = workspace.layout
        self.config = workspace.config
        self._resolve = workspace.storage.resolve

    # Rules -----------------------------------------------------------------

    async def snapshot_rules(self) -> SnapshotRules:
        """The rules of the ``snapshots`` section of ``driftdeck.yaml`` (defaults without one).

        Raises:
            MalformedError: Naming ``driftdeck.yaml`` and the line of a bad key.
        """
        return await asyncio.to_thread(self._snapshot_rules)

    # Naming ----------------------------------------------------------------

    async def snapshot_path(self, name: str) -> str:
        """The root-relative directory of a snapshot name or relative path.

        Raises:
            NotFoundError: When neither a snapshot nor a directory has that name.
        """
        return await asyncio.to_thread(self._snapshot_path, name)

    # Tree diff -------------------------------------------------------------

    async def diff_snapshots(
        self, a: str, b: str, rules: SnapshotRules | None = None, *, unchanged: bool = True
    ) -> AsyncIterator[EntryDiff | DiffProgress | DiffSummary]:
        """Stream the differences between two snapshots.

        Args:
            a: Baseline snapshot name or root-relative directory.
            b: Candidate snapshot name or root-relative directory.
            rules: Rules to apply; ``None`` uses the configured ones.
            unchanged: Whether unchanged files are streamed too (always counted).

        Yields:
            ``EntryDiff`` per entry, ``DiffProgress`` now and then, and a
            ``DiffSummary`` last.
        """
        if rules is None:
            rules = await self.snapshot_rules()
        chosen = rules

        def produce(stop: threading.Event) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
            return self._snapshot_diff(a, b, chosen, stop, unchanged=unchanged)

        async for item in unbatched(produce):
            yield item

    # One entry ---------------------------------------------------------------

    async def diff_entry(
        self,
        a: str,
        b: str,
        path: str,
        rules: SnapshotRules | None = None,
        mode: str = "auto",
        *,
        old_path: str | None = None,
        context: int = 3,
    ) -> EntryContent:
        """The content diff of one entry of two snapshots, computed now.

        Args:
            a: Baseline snapshot name or directory.
            b: Candidate snapshot name or directory.
            path: The entry's path inside the candidate (or baseline, when removed).
            rules: Rules; ``None`` uses the configured ones.
            mode: ``auto``, ``unified``, ``side``, ``structured`` or ``binary``.
            old_path: The entry's baseline path when it was renamed.
            context: Lines of context around changed lines.
        """
        if rules is None:
            rules = await self.snapshot_rules()
        return await asyncio.to_thread(self._diff_entry, a, b, path, rules, mode, old_path, max(0, context))

    async def diff_file(self, a: str, b: str) -> str:
        """Unified diff text of two files given by root-relative paths."""
        return await asyncio.to_thread(self._diff_file, a, b)
