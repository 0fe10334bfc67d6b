"""Segment-wise glob matching over a directory tree, safe on hostile trees.

Unlike ``pathlib.glob`` this lists only the directories a pattern needs (a
literal segment costs nothing until the end), yields matches in sorted order,
reports unreadable directories instead of skipping them silently, never
follows a symlink loop, and remembers which names each wildcard matched (used
to name runs in layouts such as ``fraud-platform/*/sr``).
"""

from __future__ import annotations

import errno
import fnmatch
import os
import re
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from backends.models import Problem

OnProblem = Callable[["Problem"], None]

_MAGIC = re.compile(r"[*?\[]")


def is_wildcard(segment: str) -> bool:
    """Whether a path segment contains glob magic."""
    return bool(_MAGIC.search(segment))


def _problem(path: str, reason: str) -> Problem:
    from backends.models import Problem  # the models load only when something is wrong

    return Problem(path, None, reason)


def _ignore(_: Problem) -> None:
    return None


def walk_glob(
    root: str,
    pattern: str,
    *,
    want_dirs: bool | None = None,
    on_problem: OnProblem = _ignore,
    confine: str | None = None,
    keep_refused: bool = False,
) -> Iterator[tuple[str, tuple[str, ...]]]:
    """Yield paths under ``root`` matching ``pattern``, sorted, with captures.

    Args:
        root: Absolute directory to search.
        pattern: POSIX glob relative to ``root``; ``**`` matches any number of
            directories (including none). Names starting with ``.`` match only
            segments that start with ``.`` too, as in the shell.
        want_dirs: ``True`` to keep only directories, ``False`` only
            non-directories, ``None`` for both.
        on_problem: Called with a ``Problem`` for each unreadable directory or
            symlink loop met on the way.
        confine: A real (symlink-free) directory: symlinks that lead outside
            it are reported and neither followed nor yielded.
        keep_refused: Yield such a symlink too when it matches the whole
            pattern (after reporting it), for callers that open through
            ``confine.confined_path`` and say why it is refused: a manifest or
            WAL file that points out of the root is listed, not hidden.

    Yields:
        ``(relative_posix_path, captures)`` where ``captures`` are the names the
        pattern's wildcard segments matched, in order.
    """
    segments = [s for s in pattern.strip("/").split("/") if s and s != "."]
    if not segments:
        return
    seen: set[tuple[int, int]] = set()
    walker = _Walker(want_dirs, on_problem, seen, confine, keep_refused)
    yield from walker.walk(root, "", segments, ())


def _listdir(abs_dir: str, rel_dir: str, on_problem: OnProblem) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(abs_dir) as it:
            entries = list(it)
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        return []
    except OSError as exc:
        on_problem(_problem(rel_dir or ".", f"cannot list directory: {exc.strerror or exc}"))
        return []
    entries.sort(key=lambda e: e.name)
    return entries


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _loops(path: str) -> bool:
    """Whether the symlink ``path`` is part of a loop (``ELOOP``)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


class _Walker:
    """The state of one ``walk_glob``: what to keep, where to report, where to stay."""

    def __init__(
        self, want_dirs: bool | None, on_problem: OnProblem, seen: set[tuple[int, int]], confine: str | None, keep_refused: bool = False
    ) -> None:
        self.want_dirs = want_dirs
        self.on_problem = on_problem
        self.seen = seen
        self.confine = confine
        self.keep_refused = keep_refused

    def escapes(self, abs_path: str, rel_path: str) -> bool:
        """Whether a symlink at ``abs_path`` leads outside ``confine`` (reported if so)."""
        if self.confine is None:
            return False
        real = os.path.realpath(abs_path)
        if os.path.commonpath([real, self.confine]) == self.confine:
            return False
        self.on_problem(_problem(rel_path, "symlink leads outside the source root; not followed"))
        return True

    def walk(
        self, abs_dir: str, rel_dir: str, segments: list[str], captures: tuple[str, ...]
    ) -> Iterator[tuple[str, tuple[str, ...]]]:
        head, rest = segments[0], segments[1:]
        if head == "**":
            yield from self.recursive(abs_dir, rel_dir, rest, captures)
            return
        if not is_wildcard(head):
            abs_path = os.path.join(abs_dir, head)
            rel_path = _join(rel_dir, head)
            if self.confine is not None and os.path.islink(abs_path) and self.escapes(abs_path, rel_path):
                if not rest and self.keep_refused:
                    yield rel_path, captures
                return
            if rest:
                yield from self.walk(abs_path, rel_path, rest, captures)
            elif os.path.lexists(abs_path) and _kind_ok(abs_path, self.want_dirs):
                yield rel_path, captures
            return
        hidden_ok = head.startswith(".")
        for entry in _listdir(abs_dir, rel_dir, self.on_problem):
            if entry.name.startswith(".") and not hidden_ok:
                continue
            if not fnmatch.fnmatchcase(entry.name, head):
                continue
            rel_path = _join(rel_dir, entry.name)
            if self.confine is not None and entry.is_symlink() and self.escapes(entry.path, rel_path):
                if not rest and self.keep_refused:
                    yield rel_path, (*captures, entry.name)
                continue
            if (rest or self.want_dirs) and entry.is_symlink() and _loops(entry.path):
                self.on_problem(_problem(rel_path, "symlink loop; not followed"))  # a directory was wanted: not silently dropped
                continue
            if rest:
                if _is_dir(entry):
                    yield from self.walk(entry.path, rel_path, rest, (*captures, entry.name))
            elif self.want_dirs is None or _is_dir(entry) == self.want_dirs:
                yield rel_path, (*captures, entry.name)

    def recursive(
        self, abs_dir: str, rel_dir: str, rest: list[str], captures: tuple[str, ...]
    ) -> Iterator[tuple[str, tuple[str, ...]]]:
        try:
            st = os.stat(abs_dir)
        except OSError as exc:
            if rel_dir:
                self.on_problem(_problem(rel_dir, f"cannot enter directory: {exc.strerror or exc}"))
            return
        ident = (st.st_dev, st.st_ino)
        if ident in self.seen:
            self.on_problem(_problem(rel_dir or ".", "directory already visited (symlink cycle or alias); not followed"))
            return
        self.seen.add(ident)
        if rest:
            yield from self.walk(abs_dir, rel_dir, rest, captures)
        elif self.want_dirs is not False and rel_dir:
            yield rel_dir, captures
        for entry in _listdir(abs_dir, rel_dir, self.on_problem):
            if entry.name.startswith("."):
                continue
            rel_path = _join(rel_dir, entry.name)
            if self.confine is not None and entry.is_symlink() and self.escapes(entry.path, rel_path):
                continue
            if _is_dir(entry):
                yield from self.recursive(entry.path, rel_path, rest, captures)


def _kind_ok(abs_path: str, want_dirs: bool | None) -> bool:
    return want_dirs is None or os.path.isdir(abs_path) == want_dirs
