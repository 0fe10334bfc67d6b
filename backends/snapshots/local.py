"""``SnapshotsLocal``: the snapshot-diff operations of ``LocalSource`` (a mixin).

Snapshots are named by their directory name (as ``list_snapshots`` lists
them) or by a directory path relative to the source root. Every call takes
and returns serialisable values (``SnapshotRules``, ``EntryDiff``,
``DiffProgress``, ``DiffSummary``, ``EntryContent``), so an HTTP source can
offer the same calls.
"""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any, AsyncIterator, Iterator

from backends.errors import ForbiddenError, NotFoundError
from backends.globwalk import walk_glob
from backends.snapshots.models import DiffProgress, DiffSummary, EntryContent, EntryDiff, SnapshotRules
from backends.threadstream import iterate_in_thread

# The engines (tree, content, rules) are imported by the calls that need them, so
# that opening a LocalSource for another purpose does not pay for them.


class SnapshotsLocal:
    """Mixed into ``LocalSource``; relies on its ``root``, ``layout``, ``config`` and ``_resolve``."""

    CAPABILITIES: frozenset[str] = frozenset({"snapshots"})
    root: str
    layout: Any
    config: dict[str, Any]

    # Rules -----------------------------------------------------------------

    async def snapshot_rules(self) -> SnapshotRules:
        """The rules of the ``snapshots`` section of ``driftdeck.yaml`` (defaults without one).

        Raises:
            MalformedError: Naming ``driftdeck.yaml`` and the line of a bad key.
        """
        return await asyncio.to_thread(self._snapshot_rules)

    def _snapshot_rules(self) -> SnapshotRules:
        from backends.snapshots.rules import CONFIG_NAME, rules_from_config, yaml_key_locator

        def locate(key: str) -> int | None:
            try:
                with open(os.path.join(self.root, CONFIG_NAME), "rb") as handle:
                    text = handle.read(1 << 20).decode("utf-8-sig", errors="replace")
            except OSError:
                return None
            return yaml_key_locator(text)(key)

        return rules_from_config(self.config or {}, locate)

    # Naming ----------------------------------------------------------------

    async def snapshot_path(self, name: str) -> str:
        """The root-relative directory of a snapshot name or relative path.

        Raises:
            NotFoundError: When neither a snapshot nor a directory has that name.
        """
        return await asyncio.to_thread(self._snapshot_path, name)

    def _snapshot_path(self, name: str) -> str:
        cleaned = name.strip().strip("/")
        for rel, _ in walk_glob(self.root, self.layout.snapshots, want_dirs=True, confine=os.path.realpath(self.root)):
            if cleaned in (rel, rel.rsplit("/", 1)[-1]):
                return rel
        abs_path = self._resolve(cleaned or ".")
        if os.path.isdir(abs_path):
            rel = os.path.relpath(abs_path, self.root).replace(os.sep, "/")
            return "" if rel == "." else rel
        known = [rel.rsplit("/", 1)[-1] for rel, _ in walk_glob(self.root, self.layout.snapshots, want_dirs=True, confine=os.path.realpath(self.root))]
        hint = f" (snapshots: {', '.join(known)})" if known else ""
        raise NotFoundError(f"{name}: no such snapshot or directory in {self.root}{hint}", path=name)

    def _snapshot_abs(self, name: str) -> tuple[str, str]:
        rel = self._snapshot_path(name)
        return rel, self._resolve(rel or ".")

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
        rel_a, abs_a = await asyncio.to_thread(self._snapshot_abs, a)
        rel_b, abs_b = await asyncio.to_thread(self._snapshot_abs, b)
        chosen = rules
        from backends.snapshots.tree import diff_trees

        def produce(stop: threading.Event) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
            return diff_trees(abs_a, abs_b, chosen, stop, name_a=rel_a or ".", name_b=rel_b or ".",
                              unchanged=unchanged)

        async for item in iterate_in_thread(produce, maxsize=8, name="driftdeck-snapshots"):
            if isinstance(item, list):
                for entry in item:
                    yield entry
            else:
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

    def _diff_entry(
        self, a: str, b: str, path: str, rules: SnapshotRules, mode: str, old_path: str | None, context: int
    ) -> EntryContent:
        for name in (path, old_path or path):
            if name.startswith("/") or ".." in name.split("/") or "\x00" in name:
                raise ForbiddenError(f"{name}: entry paths must stay inside the snapshot", path=name)
        rel_a = self._snapshot_path(a)
        rel_b = self._snapshot_path(b)
        abs_a = self._resolve(_join(rel_a, old_path or path), follow=False)
        abs_b = self._resolve(_join(rel_b, path), follow=False)
        if not os.path.lexists(abs_a) and not os.path.lexists(abs_b):
            raise NotFoundError(f"{path}: in neither {a} nor {b}", path=path)
        from backends.snapshots.content import entry_content

        return entry_content(abs_a, abs_b, path, rules, mode, old_path=old_path, context=context)

    async def diff_file(self, a: str, b: str) -> str:
        """Unified diff text of two files given by root-relative paths."""
        return await asyncio.to_thread(self._diff_file, a, b)

    def _diff_file(self, a: str, b: str) -> str:
        abs_a, abs_b = self._resolve(a, follow=False), self._resolve(b, follow=False)
        for rel, abs_path in ((a, abs_a), (b, abs_b)):
            if not os.path.lexists(abs_path):
                raise NotFoundError(f"{rel}: no such file", path=rel)
        from backends.snapshots.content import entry_content
        from backends.snapshots.textdiff import render_unified

        content = entry_content(abs_a, abs_b, b, SnapshotRules(apply=False), "unified")
        return render_unified(content.lines, f"a/{a}", f"b/{b}")


def _join(base: str, path: str) -> str:
    path = path.strip("/")
    return f"{base}/{path}" if base else path
