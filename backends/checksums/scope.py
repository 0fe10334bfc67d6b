"""Which unlisted files count as ``new``: the manifest's scope.

By default the scope is the manifest's directory tree, minus the manifest
itself. ``Scope`` narrows it: stay in the top directory, or exclude globs.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from dataclasses import dataclass
from collections.abc import Set
from typing import Any


@dataclass(frozen=True, slots=True)
class Scope:
    """Scope rules for ``new`` files.

    Attributes:
        recursive: Look in subdirectories too (default) or only next to the manifest.
        exclude: ``fnmatch`` globs over paths relative to the manifest's
            directory (``*.tmp``, ``cache/*``); a directory that matches is
            not entered.
    """

    recursive: bool = True
    exclude: tuple[str, ...] = ()

    def excluded(self, rel: str) -> bool:
        """Whether ``rel`` (relative to the manifest's directory) is out of scope."""
        return any(fnmatch.fnmatchcase(rel, pattern) for pattern in self.exclude)

    def to_json(self) -> dict[str, Any]:
        return {"recursive": self.recursive, "exclude": list(self.exclude)}


def scan_scope(
    base: str,
    scope: Scope,
    skip: str,
    stop: threading.Event | None = None,
    *,
    listed: Set[str] = frozenset(),
) -> tuple[list[str], list[tuple[str, str]]]:
    """Every non-directory entry under ``base`` that ``listed`` does not hold.

    Symlinks are listed but never entered. Directories that cannot be listed
    are reported, not skipped silently. Each directory is read once; the
    listed names are taken out with one set difference per directory, so a
    tree of many files costs little beyond the listing itself.

    Args:
        base: The manifest's directory (absolute).
        scope: Scope rules.
        skip: Relative path never reported (the manifest itself).
        stop: Checked per directory.
        listed: Relative paths already accounted for (left out of the result).

    Returns:
        ``(files, errors)``: relative paths, sorted within each directory and
        depth first, and ``(rel_dir, reason)`` per directory that could not
        be listed.
    """
    files: list[str] = []
    errors: list[tuple[str, str]] = []
    pending = [""]
    while pending:
        if stop is not None and stop.is_set():
            break
        rel_dir = pending.pop()
        try:
            with os.scandir(os.path.join(base, rel_dir) if rel_dir else base) as it:
                entries = list(it)
        except OSError as exc:
            errors.append((rel_dir or ".", f"cannot list: {exc.strerror or exc}"))
            continue
        prefix = f"{rel_dir}/" if rel_dir else ""
        subdirs = {prefix + entry.name for entry in entries if _is_dir(entry)}
        found = {prefix + entry.name for entry in entries} if prefix else {entry.name for entry in entries}
        found.difference_update(listed)
        found.difference_update(subdirs)
        found.discard(skip)
        for rel in sorted(found):
            if not (scope.exclude and scope.excluded(rel)):
                files.append(rel)
        if scope.recursive:
            pending.extend(sorted((rel for rel in subdirs if not (scope.exclude and scope.excluded(rel))), reverse=True))
    return files, errors


def _is_dir(entry: os.DirEntry) -> bool:  # type: ignore[type-arg]
    try:
        return entry.is_dir(follow_symlinks=False)
    except OSError:  # an entry that vanished or cannot be examined is not walked into
        return False
