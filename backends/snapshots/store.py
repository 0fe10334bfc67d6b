"""``SnapshotStore``: the snapshot operations of a local workspace, synchronous.

The base of ``SnapshotsService`` (the service a ``LocalSource`` holds, which
offers them as async calls) and of the command line's ``LocalSnapshots``,
which calls them directly: no event loop, no thread, so a diff may use worker
processes. Relies on a ``root``, ``layout``, ``config`` and ``_resolve``.
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from typing import Any, Iterator

from backends.confine import shown_target
from backends.errors import ForbiddenError, NotFoundError
from backends.globwalk import walk_glob
from backends.rooted import Rooted
from backends.snapshots.models import DiffProgress, DiffSummary, EntryContent, EntryDiff, SnapshotRules

# The engines (tree, content, rules) are imported by the calls that need them, so
# that opening a workspace for another purpose does not pay for them.


class SnapshotStore:
    """Snapshot naming, rules and diffs over a local workspace (the base of its service and of ``LocalSnapshots``)."""

    root: str
    layout: Any
    config: dict[str, Any]
    _resolve: Any

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

    def _snapshot_diff(
        self,
        a: str,
        b: str,
        rules: SnapshotRules,
        stop: threading.Event | None = None,
        *,
        unchanged: bool = True,
        allow_fork: bool = False,
    ) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
        """``diff_trees`` of two snapshots named as ``snapshot_path`` accepts them."""
        from backends.snapshots.tree import diff_trees

        from backends.snapshots.rules import check_rules

        check_rules(rules, where="?rules")  # rules from a client: bad patterns are a 400, never a crash mid-diff
        rel_a, abs_a = self._snapshot_abs(a)
        rel_b, abs_b = self._snapshot_abs(b)
        items = diff_trees(abs_a, abs_b, rules, stop, name_a=rel_a or ".", name_b=rel_b or ".",
                           unchanged=unchanged, allow_fork=allow_fork)
        return _hide_outside_targets(items, abs_a, abs_b, os.path.realpath(self.root))

    def _diff_entry(
        self, a: str, b: str, path: str, rules: SnapshotRules, mode: str, old_path: str | None, context: int
    ) -> EntryContent:
        check_entry_names(path, old_path)
        from backends.snapshots.rules import check_rules

        check_rules(rules, where="?rules")
        rel_a = self._snapshot_path(a)
        rel_b = self._snapshot_path(b)
        abs_a = self._resolve(_join(rel_a, old_path or path), follow=False)
        abs_b = self._resolve(_join(rel_b, path), follow=False)
        if not os.path.lexists(abs_a) and not os.path.lexists(abs_b):
            raise NotFoundError(f"{path}: in neither {a} nor {b}", path=path)
        from backends.snapshots.content import entry_content

        return entry_content(abs_a, abs_b, path, rules, mode, old_path=old_path, context=context,
                             real_root=os.path.realpath(self.root))

    def _diff_file(self, a: str, b: str) -> str:
        abs_a, abs_b = self._resolve(a, follow=False), self._resolve(b, follow=False)
        for rel, abs_path in ((a, abs_a), (b, abs_b)):
            if not os.path.lexists(abs_path):
                raise NotFoundError(f"{rel}: no such file", path=rel)
        from backends.snapshots.content import file_diff_text, file_side

        return file_diff_text(file_side(abs_a), file_side(abs_b), a, b)


def check_entry_names(path: str, old_path: str | None) -> None:
    """Refuse an entry path that would leave its snapshot.

    Raises:
        ForbiddenError: For an absolute path, a ``..`` segment or a NUL byte.
    """
    for name in (path, old_path or path):
        if name.startswith("/") or ".." in name.split("/") or "\x00" in name:
            raise ForbiddenError(f"{name}: entry paths must stay inside the snapshot", path=name)


class LocalSnapshots(Rooted, SnapshotStore):
    """A workspace opened for its snapshots only (what ``snapshots diff`` needs locally)."""


def _hide_outside_targets(
    items: Iterator[list[EntryDiff] | DiffProgress | DiffSummary], abs_a: str, abs_b: str, real_root: str
) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
    """``items`` with the target of every symlink that leads out of the root replaced by ``OUTSIDE_TARGET``."""
    for item in items:
        if isinstance(item, list):
            item = [_shown_targets(entry, abs_a, abs_b, real_root) for entry in item]
        yield item


def _shown_targets(entry: EntryDiff, abs_a: str, abs_b: str, real_root: str) -> EntryDiff:
    if entry.target_a is None and entry.target_b is None:
        return entry
    target_a, target_b = entry.target_a, entry.target_b
    if target_a is not None:
        target_a = shown_target(os.path.join(abs_a, entry.old_path or entry.path), target_a, real_root)
    if target_b is not None:
        target_b = shown_target(os.path.join(abs_b, entry.path), target_b, real_root)
    return replace(entry, target_a=target_a, target_b=target_b)


def _join(base: str, path: str) -> str:
    path = path.strip("/")
    return f"{base}/{path}" if base else path
