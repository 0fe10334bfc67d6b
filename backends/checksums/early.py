"""Hashing workers forked on a manifest's raw lines, before it is parsed.

Parsing and grouping a manifest of many small files takes a fifth of the time
its hashing does, and loading the rest of the verifier (models, parser, scope
rules) as much again. Forked on the raw lines, workers hash meanwhile. The
command line forks them before it imports anything else (``start_early``);
``verify_manifest`` then adopts the pool when the parse proves every line
plain, or drops it and starts over from the parsed lines (what was hashed is
then only wasted time).

This module imports nothing but the hashing pool, so that forking happens as
early in a command's life as possible.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence

from backends.checksums.hashing import HashPool
from backends.confine import confined_path, open_regular
from backends.errors import DriftdeckError

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the overloads below
if TYPE_CHECKING:
    from typing import overload

PLAIN_MAX = 32 << 20
"""Manifests up to this size are read at once and, when plain GNU, parsed in bulk."""


class Lines:
    """A manifest's lines, counted at once and split on first use.

    Workers fork before anything splits the lines: each process then splits
    its own copy while the others already work, instead of every process
    waiting for one split before the fork.
    """

    __slots__ = ("data", "count", "_rows")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.count = data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
        self._rows: list[str] | None = None

    @property
    def rows(self) -> list[str]:
        """The lines, decoded (``surrogateescape``), without the empty piece after the last line end."""
        if self._rows is None:
            rows = self.data.decode("utf-8", "surrogateescape").split("\n")
            if rows and not rows[-1]:
                rows.pop()
            self._rows = rows
        return self._rows


class _LinePaths(Sequence[str | None]):
    """``base/name`` of each line, read as a plain manifest line, for the early pool's workers.

    Lines are taken at their word: the pool is kept only when the parse
    proves every line a plain one whose name needs no normalising (see
    ``verify_manifest``), and a line that is not one at worst names another
    file of the root, whose hash is then dropped with the pool. Workers never
    read in a directory outside the root (``HashPool``) and a NUL byte, which
    no path holds, gives ``None``.
    """

    __slots__ = ("base", "lines")

    def __init__(self, base: str, lines: Lines) -> None:
        self.base = base
        self.lines = lines

    def __len__(self) -> int:
        return self.lines.count

    if TYPE_CHECKING:
        @overload
        def __getitem__(self, index: int) -> str | None: ...
        @overload
        def __getitem__(self, index: slice) -> list[str | None]: ...

    def __getitem__(self, index: int | slice) -> str | None | list[str | None]:
        base = self.base
        if isinstance(index, slice):  # a worker's claim: one comprehension, no call per line
            return [None if "\x00" in row else f"{base}/{row[66:]}" for row in self.lines.rows[index]]
        row = self.lines.rows[index]
        return None if "\x00" in row else f"{base}/{row[66:]}"


class _LineDigests(Sequence[str]):
    """The listed digest of each line of a plain manifest (as written; the parent lowercases)."""

    __slots__ = ("lines",)

    def __init__(self, lines: Lines) -> None:
        self.lines = lines

    def __len__(self) -> int:
        return self.lines.count

    if TYPE_CHECKING:
        @overload
        def __getitem__(self, index: int) -> str: ...
        @overload
        def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [row[:64] for row in self.lines.rows[index]]
        return self.lines.rows[index][:64]


def fork_on_lines(lines: Lines, base: str, real_root: str, workers: int | None, emit_ok: bool) -> HashPool | None:
    """Fork hashing workers on the raw lines of a manifest (``None`` when this process may not fork).

    Args:
        lines: The manifest's lines.
        base: Absolute directory of the manifest (its names are relative to it).
        real_root: ``os.path.realpath`` of the source root.
        workers: Parallelism (default: the cores).
        emit_ok: Whether matching files are reported (else only counted).
    """
    pool = HashPool(  # its own stop: dropping this pool must not stop the verification
        _LinePaths(base, lines), real_root, workers=workers, stop=threading.Event(), allow_fork=True,
        expected=None if emit_ok else _LineDigests(lines),
    )
    if not pool.forked:
        return None
    try:
        pool.start()
    except BaseException:
        pool.close()
        raise
    return pool if pool.forked else None


class EarlyStart:
    """A manifest already read, and the workers forked on its lines (see ``start_early``).

    Attributes:
        root: The source root it was read under.
        manifest: Its path relative to ``root``.
        lines: Its bytes and lines.
        pool: The workers, until ``verify_manifest`` adopts them (or ``close``).
    """

    __slots__ = ("root", "manifest", "lines", "pool")

    def __init__(self, root: str, manifest: str, lines: Lines, pool: HashPool | None) -> None:
        self.root = root
        self.manifest = manifest
        self.lines = lines
        self.pool = pool

    def take_pool(self) -> HashPool | None:
        """The workers, handed over once (the taker closes them)."""
        pool, self.pool = self.pool, None
        return pool

    def close(self) -> None:
        """Stop and reap the workers unless they were handed over; idempotent."""
        pool = self.take_pool()
        if pool is not None:
            pool.close()


def start_early(root: str, manifest: str, *, workers: int | None = None, emit_ok: bool = True) -> EarlyStart | None:
    """Read ``manifest`` and fork workers on its lines, before the caller loads the verifier.

    Pass the result to ``verify_manifest`` (``early=``), which adopts the
    workers or drops them. ``None`` when there is nothing to gain: the
    manifest cannot be read here (the verification then says why), it is
    larger than ``PLAIN_MAX``, or it names too few files to fork for.

    Args:
        root: The source root (absolute).
        manifest: The manifest's path relative to ``root`` (POSIX).
        workers: Parallelism (default: the cores).
        emit_ok: Whether matching files are reported (else only counted).
    """
    real_root = os.path.realpath(root)
    try:
        path = confined_path(root, manifest, real_root=real_root)
        fd = open_regular(path, real_root, manifest)  # never a FIFO, never outside the root
    except (OSError, DriftdeckError):
        return None  # the verification says why
    try:
        with os.fdopen(fd, "rb") as stream:
            if os.fstat(stream.fileno()).st_size > PLAIN_MAX:
                return None
            data = stream.read(PLAIN_MAX + 1)
    except OSError:
        return None
    if len(data) > PLAIN_MAX:  # grew meanwhile
        return None
    lines = Lines(data)
    pool = fork_on_lines(lines, os.path.dirname(path), real_root, workers, emit_ok)
    return EarlyStart(root, manifest, lines, pool)
