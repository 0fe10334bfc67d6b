"""Segment-wise glob matching over a directory tree, safe on hostile trees.

Unlike ``pathlib.glob`` this lists only the directories a pattern needs (a
literal segment costs nothing until the end), yields matches in sorted order,
reports unreadable directories instead of skipping them silently, never
follows a symlink loop, and remembers which names each wildcard matched (used
to name runs in layouts such as ``fraud-platform/*/sr``).
"""

from __future__ import annotations

import fnmatch
import os
import re
from typing import Callable, Iterator

from backends.models import Problem

OnProblem = Callable[[Problem], None]

_MAGIC = re.compile(r"[*?\[]")


def is_wildcard(segment: str) -> bool:
    """Whether a path segment contains glob magic."""
    return bool(_MAGIC.search(segment))


def _ignore(_: Problem) -> None:
    return None


def walk_glob(
    root: str,
    pattern: str,
    *,
    want_dirs: bool | None = None,
    on_problem: OnProblem = _ignore,
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

    Yields:
        ``(relative_posix_path, captures)`` where ``captures`` are the names the
        pattern's wildcard segments matched, in order.
    """
    segments = [s for s in pattern.strip("/").split("/") if s and s != "."]
    if not segments:
        return
    seen: set[tuple[int, int]] = set()
    yield from _walk(root, "", segments, (), want_dirs, on_problem, seen)


def _listdir(abs_dir: str, rel_dir: str, on_problem: OnProblem) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(abs_dir) as it:
            entries = list(it)
    except FileNotFoundError:
        return []
    except NotADirectoryError:
        return []
    except OSError as exc:
        on_problem(Problem(rel_dir or ".", None, f"cannot list directory: {exc.strerror or exc}"))
        return []
    entries.sort(key=lambda e: e.name)
    return entries


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _join(rel: str, name: str) -> str:
    return f"{rel}/{name}" if rel else name


def _walk(
    abs_dir: str,
    rel_dir: str,
    segments: list[str],
    captures: tuple[str, ...],
    want_dirs: bool | None,
    on_problem: OnProblem,
    seen: set[tuple[int, int]],
) -> Iterator[tuple[str, tuple[str, ...]]]:
    head, rest = segments[0], segments[1:]
    if head == "**":
        yield from _walk_recursive(abs_dir, rel_dir, rest, captures, want_dirs, on_problem, seen)
        return
    if not is_wildcard(head):
        abs_path = os.path.join(abs_dir, head)
        rel_path = _join(rel_dir, head)
        if rest:
            yield from _walk(abs_path, rel_path, rest, captures, want_dirs, on_problem, seen)
        elif os.path.lexists(abs_path) and _kind_ok(abs_path, want_dirs):
            yield rel_path, captures
        return
    hidden_ok = head.startswith(".")
    for entry in _listdir(abs_dir, rel_dir, on_problem):
        if entry.name.startswith(".") and not hidden_ok:
            continue
        if not fnmatch.fnmatchcase(entry.name, head):
            continue
        rel_path = _join(rel_dir, entry.name)
        if rest:
            if _is_dir(entry):
                yield from _walk(entry.path, rel_path, rest, (*captures, entry.name), want_dirs, on_problem, seen)
        elif want_dirs is None or _is_dir(entry) == want_dirs:
            yield rel_path, (*captures, entry.name)


def _kind_ok(abs_path: str, want_dirs: bool | None) -> bool:
    return want_dirs is None or os.path.isdir(abs_path) == want_dirs


def _walk_recursive(
    abs_dir: str,
    rel_dir: str,
    rest: list[str],
    captures: tuple[str, ...],
    want_dirs: bool | None,
    on_problem: OnProblem,
    seen: set[tuple[int, int]],
) -> Iterator[tuple[str, tuple[str, ...]]]:
    try:
        st = os.stat(abs_dir)
    except OSError as exc:
        if rel_dir:
            on_problem(Problem(rel_dir, None, f"cannot enter directory: {exc.strerror or exc}"))
        return
    ident = (st.st_dev, st.st_ino)
    if ident in seen:
        on_problem(Problem(rel_dir or ".", None, "directory already visited (symlink loop); not followed"))
        return
    seen.add(ident)
    if rest:
        yield from _walk(abs_dir, rel_dir, rest, captures, want_dirs, on_problem, seen)
    elif want_dirs is not False and rel_dir:
        yield rel_dir, captures
    for entry in _listdir(abs_dir, rel_dir, on_problem):
        if entry.name.startswith("."):
            continue
        if _is_dir(entry):
            yield from _walk_recursive(
                entry.path, _join(rel_dir, entry.name), rest, captures, want_dirs, on_problem, seen
            )
