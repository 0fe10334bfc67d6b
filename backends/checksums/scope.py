"""Which unlisted files count as ``new``: the manifest's scope.

By default the scope is the manifest's directory tree, minus the manifest
itself. ``Scope`` narrows it: stay in the top directory, or exclude globs.
"""

from __future__ import annotations

import fnmatch
import os
import stat as stat_mod
import threading
from collections import namedtuple
from collections.abc import Collection
TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import Any


class Scope(namedtuple("Scope", "recursive exclude", defaults=(True, ()))):
    """Scope rules for ``new`` files (a named tuple, as the checksum models are: see ``models``).

    Attributes:
        recursive: Look in subdirectories too (default) or only next to the manifest.
        exclude: ``fnmatch`` globs over paths relative to the manifest's
            directory (``*.tmp``, ``cache/*``); a directory that matches is
            not entered.
    """

    __slots__ = ()

    recursive: bool
    exclude: tuple[str, ...]

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
    listed: Collection[str] = frozenset(),
    start: str = "",
) -> tuple[list[str], list[tuple[str, str]]]:
    """Every non-directory entry under ``base`` that ``listed`` does not hold.

    Symlinks are listed but never entered. Directories that cannot be listed
    are reported, not skipped silently. Each directory is listed once (names
    only); the listed paths are taken out with one set difference per
    directory and only the rest is examined (``lstat``), so a tree of many
    listed files costs little beyond the listing itself. A listed path is
    taken to be a file: if one is a directory, scan it again as ``start``.

    Args:
        base: The manifest's directory (absolute).
        scope: Scope rules.
        skip: Relative path never reported (the manifest itself).
        stop: Checked per directory.
        listed: Relative paths already accounted for (left out of the result): a
            set or a dict (looked up once per name found, never walked).
        start: The directory to scan, relative to ``base`` (default: ``base``
            itself); never one that leaves it (``ValueError``).

    Returns:
        ``(files, errors)``: relative paths, sorted within each directory and
        depth first, and ``(rel_dir, reason)`` per directory that could not
        be listed.
    """
    if start == ".." or start.startswith(("/", "../")):
        raise ValueError(f"scan_scope: {start!r} leaves the manifest's directory")
    files: list[str] = []
    errors: list[tuple[str, str]] = []
    pending = [start]
    while pending:
        if stop is not None and stop.is_set():
            break
        rel_dir = pending.pop()
        abs_dir = os.path.join(base, rel_dir) if rel_dir else base
        try:
            names = os.listdir(abs_dir)
        except OSError as exc:
            errors.append((rel_dir or ".", f"cannot list: {exc.strerror or exc}"))
            continue
        prefix = f"{rel_dir}/" if rel_dir else ""
        found = {prefix + name for name in names} if prefix else set(names)
        found = found.difference(listed)  # one lookup per name found (in-place would walk all of a dict)
        found.discard(skip)
        subdirs = []
        for rel in sorted(found):
            if scope.exclude and scope.excluded(rel):
                continue
            try:
                is_dir = stat_mod.S_ISDIR(os.lstat(os.path.join(base, rel)).st_mode)
            except OSError:  # vanished since the listing, or cannot be examined: still an unlisted name
                is_dir = False
            if not is_dir:
                files.append(rel)
            elif scope.recursive:
                subdirs.append(rel)
        pending.extend(reversed(subdirs))
    return files, errors
