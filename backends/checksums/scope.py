"""Which unlisted files count as ``new``: the manifest's scope.

By default the scope is the manifest's directory tree, minus the manifest
itself. ``Scope`` narrows it: stay in the top directory, or exclude globs.
"""

from __future__ import annotations

import fnmatch
import os
import threading
from dataclasses import dataclass
from typing import Any, Iterator


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


def walk_scope(
    base: str, scope: Scope, skip: str, stop: threading.Event | None = None
) -> Iterator[tuple[str, str | None]]:
    """Every non-directory entry under ``base``, as a path relative to it.

    Symlinks are listed but never entered. Directories that cannot be listed
    are reported, not skipped silently.

    Args:
        base: The manifest's directory (absolute).
        scope: Scope rules.
        skip: Relative path never reported (the manifest itself).
        stop: Checked per directory.

    Yields:
        ``(rel, None)`` per file, or ``(rel_dir, reason)`` for a directory
        that could not be listed.
    """
    pending = [""]
    while pending:
        if stop is not None and stop.is_set():
            return
        rel_dir = pending.pop()
        try:
            with os.scandir(os.path.join(base, rel_dir) if rel_dir else base) as it:
                entries = [(e.name, e.is_dir(follow_symlinks=False)) for e in it]
        except OSError as exc:
            yield rel_dir or ".", f"cannot list: {exc.strerror or exc}"
            continue
        subdirs = []
        for name, is_dir in sorted(entries):
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if scope.exclude and scope.excluded(rel):
                continue
            if is_dir:
                if scope.recursive:
                    subdirs.append(rel)
            elif rel != skip:
                yield rel, None
        pending.extend(reversed(subdirs))
