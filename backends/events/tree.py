"""``Tree``: a picture of a directory tree kept up to date by applying events.

The watcher keeps one to reconcile after a loss (diff the picture against a
fresh scan); ``verify`` keeps one to check per-path causality. Directories
are nested dicts, so moving or deleting a directory is one dict operation,
whatever its size. A file node is its signature ``(size, mtime_ns)``; size
``-1`` means "touched by an event at ``mtime_ns``, exact size unknown".
"""

from __future__ import annotations

import os
import stat as stat_mod
import threading
from typing import Iterator, Union

Sig = tuple[int, int]
Node = Union[dict[str, "Node"], Sig]  # dict for a directory, Sig for anything else

UNKNOWN: Sig = (-1, 0)


def split(path: str) -> list[str]:
    """Components of a relative POSIX path (``""`` is the root)."""
    return [part for part in path.split("/") if part and part != "."]


class Tree:
    """Nested-dict picture of a tree; paths are relative POSIX strings."""

    __slots__ = ("root", "entries")

    def __init__(self) -> None:
        self.root: dict[str, Node] = {}
        self.entries = 0

    # Queries -------------------------------------------------------------------

    def _node(self, parts: list[str]) -> Node | None:
        node: Node = self.root
        for part in parts:
            if not isinstance(node, dict):
                return None
            child = node.get(part)
            if child is None:
                return None
            node = child
        return node

    def exists(self, path: str) -> bool:
        """Whether ``path`` is in the picture (the root always is)."""
        return self._node(split(path)) is not None

    def is_dir(self, path: str) -> bool:
        """Whether ``path`` is a directory in the picture."""
        return isinstance(self._node(split(path)), dict)

    def sig(self, path: str) -> Sig | None:
        """The signature of a file, ``None`` for directories and absent paths."""
        node = self._node(split(path))
        return None if node is None or isinstance(node, dict) else node

    def __len__(self) -> int:
        return self.entries

    # Changes -------------------------------------------------------------------

    def _parent(self, parts: list[str]) -> dict[str, Node]:
        """The directory holding ``parts[-1]``, created (as dirs) if missing."""
        node = self.root
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                if child is None:
                    self.entries += 1
                child = {}
                node[part] = child
            node = child
        return node

    def add(self, path: str, is_dir: bool, sig: Sig = UNKNOWN) -> None:
        """Put ``path`` in the picture (replacing whatever was there)."""
        parts = split(path)
        if not parts:
            return
        parent = self._parent(parts)
        old = parent.get(parts[-1])
        if old is not None:
            self.entries -= _count(old)
        if is_dir:
            parent[parts[-1]] = old if isinstance(old, dict) else {}
            self.entries += _count(parent[parts[-1]])
        else:
            parent[parts[-1]] = sig
            self.entries += 1

    def touch(self, path: str, sig: Sig) -> None:
        """Update a file's signature; a directory or absent path is left alone."""
        parts = split(path)
        if not parts:
            return
        parent = self._node(parts[:-1])
        if isinstance(parent, dict) and parts[-1] in parent and not isinstance(parent[parts[-1]], dict):
            parent[parts[-1]] = sig

    def remove(self, path: str) -> bool:
        """Take ``path`` (and everything under it) out; ``False`` if it was absent."""
        parts = split(path)
        if not parts:
            return False
        parent = self._node(parts[:-1])
        if not isinstance(parent, dict) or parts[-1] not in parent:
            return False
        self.entries -= _count(parent.pop(parts[-1]))
        return True

    def move(self, src: str, dest: str) -> bool:
        """Rename ``src`` to ``dest`` with its subtree; ``False`` if ``src`` was absent."""
        src_parts, dest_parts = split(src), split(dest)
        if not src_parts or not dest_parts:
            return False
        parent = self._node(src_parts[:-1])
        if not isinstance(parent, dict) or src_parts[-1] not in parent:
            return False
        node = parent.pop(src_parts[-1])
        moved = _count(node)
        self.entries -= moved
        new_parent = self._parent(dest_parts)
        old = new_parent.get(dest_parts[-1])
        if old is not None:
            self.entries -= _count(old)
        new_parent[dest_parts[-1]] = node
        self.entries += moved
        return True

    # Walking -------------------------------------------------------------------

    def walk(self, prefix: str = "") -> Iterator[tuple[str, bool, Sig | None]]:
        """Every entry as ``(path, is_dir, sig)``, sorted, parents before children."""
        node = self._node(split(prefix))
        if not isinstance(node, dict):
            return
        yield from _walk(node, "/".join(split(prefix)))

    @classmethod
    def scan(cls, top: str, stop: threading.Event | None = None) -> "Tree":
        """A picture of the real tree under ``top`` (symlinks are not followed).

        Entries that vanish or cannot be read while scanning are skipped: a
        scan races with the writers it is watching by nature.
        """
        tree = cls()
        stack: list[tuple[str, dict[str, Node]]] = [(top, tree.root)]
        while stack:
            if stop is not None and stop.is_set():
                break
            directory, node = stack.pop()
            try:
                with os.scandir(directory) as it:
                    entries = list(it)
            except OSError:
                continue
            for entry in entries:
                try:
                    st = entry.stat(follow_symlinks=False)
                except OSError:
                    continue
                tree.entries += 1
                if stat_mod.S_ISDIR(st.st_mode):
                    child: dict[str, Node] = {}
                    node[entry.name] = child
                    stack.append((entry.path, child))
                else:
                    node[entry.name] = (st.st_size, st.st_mtime_ns)
        return tree


def _count(node: Node) -> int:
    if not isinstance(node, dict):
        return 1
    total, stack = 1, [node]
    while stack:
        current = stack.pop()
        for child in current.values():
            total += 1
            if isinstance(child, dict):
                stack.append(child)
    return total


def _walk(node: dict[str, Node], base: str) -> Iterator[tuple[str, bool, Sig | None]]:
    for name in sorted(node):
        child = node[name]
        path = f"{base}/{name}" if base else name
        if isinstance(child, dict):
            yield path, True, None
            yield from _walk(child, path)
        else:
            yield path, False, child


def diff_trees(old: Tree, new: Tree) -> Iterator[tuple[str, str, bool]]:
    """What turns ``old`` into ``new``, as ``(type, path, is_dir)``, deterministic.

    A vanished directory is one ``deleted``; a new one is ``created`` followed
    by a ``created`` for each of its entries (the reader has never seen them).
    A file is ``modified`` when its size differs (both known) or its mtime is
    newer than the picture's. A kind change is ``deleted`` then ``created``.
    """
    yield from _diff(old.root, new.root, "")


def _diff(old: dict[str, Node], new: dict[str, Node], base: str) -> Iterator[tuple[str, str, bool]]:
    for name in sorted(old.keys() | new.keys()):
        path = f"{base}/{name}" if base else name
        before, after = old.get(name), new.get(name)
        if after is None:
            yield "deleted", path, isinstance(before, dict)
        elif before is None or isinstance(before, dict) != isinstance(after, dict):
            if before is not None:
                yield "deleted", path, isinstance(before, dict)
            yield "created", path, isinstance(after, dict)
            if isinstance(after, dict):
                for sub, sub_is_dir, _ in _walk(after, path):
                    yield "created", sub, sub_is_dir
        elif isinstance(before, dict) and isinstance(after, dict):
            yield from _diff(before, after, path)
        elif isinstance(before, tuple) and isinstance(after, tuple):  # the same kind on both sides by now
            size_before, mtime_before = before
            size_after, mtime_after = after
            if (size_before >= 0 and size_before != size_after) or mtime_after > mtime_before:
                yield "modified", path, False
