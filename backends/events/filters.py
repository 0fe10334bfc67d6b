"""Which events a watch shows: types, include/exclude globs, ``.gitignore``.

Glob rules (the same for include and exclude):

* ``*`` and ``?`` never cross ``/``; ``**`` crosses any number of directories.
* A pattern without ``/`` matches any single component, so ``*.tmp`` hides
  every ``.tmp`` file and ``node_modules`` hides everything beneath one.
* A pattern with ``/`` is anchored at the watched root and matches the path
  or any directory above it, so ``live/capture-*`` covers their contents.

``.gitignore`` files are read with git's rules (``!`` negation, trailing ``/``
for directories only, anchoring by a leading or inner ``/``, ``**``), from the
watched root and every directory below it; ``.git/`` is always ignored then.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from backends.confine import NOFOLLOW, open_read
from backends.events.model import WatchFilter
from backends.patterns import Pattern, PatternError, compile_pattern


@functools.lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> Pattern:
    """Regex for one glob segment sequence (``**`` crosses ``/``)."""
    out, i = [], 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if ch == "*":
            out.append("[^/]*")
        elif ch == "?":
            out.append("[^/]")
        elif ch == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(ch))
            else:
                body = pattern[i + 1 : end]
                if body.startswith("!"):
                    body = "^" + body[1:]
                body = body.replace("\\", "\\\\").replace("[", "\\[")
                out.append(f"[{body}]")
                i = end
        else:
            out.append(re.escape(ch))
        i += 1
    # Time-limited (backends.patterns): globs come from clients too, and "**/**/**/..." over a
    # long path backtracks polynomially.
    try:
        return compile_pattern("(?s)" + "".join(out) + r"\Z")
    except PatternError:  # e.g. "[]": no valid character class; match the text literally
        return compile_pattern("(?s)" + re.escape(pattern) + r"\Z")


def glob_matches(pattern: str, path: str) -> bool:
    """Whether ``path`` (relative POSIX) is covered by ``pattern`` (rules above)."""
    pattern = pattern.strip()
    if not pattern:
        return False
    parts = path.split("/")
    if "/" not in pattern.rstrip("/"):
        regex = _glob_regex(pattern.rstrip("/"))
        return any(regex.match(part) for part in parts)
    regex = _glob_regex(pattern.strip("/"))
    return any(regex.match("/".join(parts[:n])) for n in range(1, len(parts) + 1))


@dataclass(frozen=True, slots=True)
class _Rule:
    regex: Pattern  # time-limited (see _glob_regex)
    negate: bool
    dir_only: bool
    anchored: bool


class GitIgnore:
    """The ``.gitignore`` files of one tree, reloaded when they change.

    Args:
        top: Absolute path of the watched directory.
    """

    def __init__(self, top: str) -> None:
        self.top = top
        self._rules: dict[str, list[_Rule]] = {}

    def load_all(self) -> None:
        """Read every ``.gitignore`` under the top (skipping ignored directories)."""
        for dirpath, dirnames, filenames in os.walk(self.top):
            rel = os.path.relpath(dirpath, self.top).replace(os.sep, "/")
            rel = "" if rel == "." else rel
            if ".gitignore" in filenames:
                self.reload(f"{rel}/.gitignore" if rel else ".gitignore")
            dirnames[:] = [
                d for d in dirnames if not self.ignored(f"{rel}/{d}" if rel else d, True)
            ]

    def reload(self, rel_path: str) -> None:
        """Re-read the ``.gitignore`` at ``rel_path`` (forgotten if it is gone)."""
        base = rel_path.rsplit("/", 1)[0] if "/" in rel_path else ""
        try:
            with os.fdopen(open_read(os.path.join(self.top, rel_path), NOFOLLOW), "rb") as handle:
                text = handle.read(1 << 20).decode("utf-8", errors="replace")
        except OSError:
            self._rules.pop(base, None)
            return
        self._rules[base] = [rule for line in text.splitlines() if (rule := _parse_line(line)) is not None]

    def ignored(self, path: str, is_dir: bool) -> bool:
        """Whether git would ignore ``path`` (relative to the top)."""
        parts = path.split("/")
        if ".git" in parts:
            return True
        # A directory that is ignored hides everything beneath it.
        for depth in range(1, len(parts)):
            if self._decide("/".join(parts[:depth]), True):
                return True
        return self._decide(path, is_dir)

    def _decide(self, path: str, is_dir: bool) -> bool:
        verdict = False
        for base, rules in self._rules.items():
            if base and not path.startswith(base + "/"):
                continue
            rel = path[len(base) + 1 :] if base else path
            name = rel.rsplit("/", 1)[-1]
            for rule in rules:
                if rule.dir_only and not is_dir:
                    continue
                target = rel if rule.anchored else name
                if rule.regex.match(target):
                    verdict = not rule.negate
        return verdict


def _parse_line(line: str) -> _Rule | None:
    line = line.rstrip("\r")
    if not line.strip() or line.startswith("#"):
        return None
    if not line.endswith("\\ "):
        line = line.rstrip(" ")
    negate = line.startswith("!")
    if negate:
        line = line[1:]
    if line.startswith("\\"):
        line = line[1:]
    dir_only = line.endswith("/")
    line = line.rstrip("/")
    if not line:
        return None
    anchored = "/" in line
    line = line.lstrip("/")
    return _Rule(_glob_regex(line), negate, dir_only, anchored)


class EventFilter:
    """Decides what a watch shows, given a ``WatchFilter``.

    Args:
        spec: What the user asked for.
        top: Absolute path of the watched directory (for ``.gitignore``).
        prefix: The watched directory relative to the source root; event
            paths carry it, globs and ``.gitignore`` are relative to ``top``.
    """

    def __init__(self, spec: WatchFilter, top: str, prefix: str = "") -> None:
        self.spec = spec
        self.types = spec.types
        self.prefix = prefix
        self._cut = len(prefix) + 1 if prefix else 0
        self.gitignore: GitIgnore | None = None
        if spec.gitignore:
            self.gitignore = GitIgnore(top)
            self.gitignore.load_all()
        self.passes_everything = not (spec.include or spec.exclude or spec.gitignore)

    def path_shown(self, path: str, is_dir: bool) -> bool:
        """Whether events on ``path`` (source-relative) may be shown."""
        if self.passes_everything:
            return True
        rel = path[self._cut :] if self._cut else path
        if not rel:
            return True
        if self.spec.include and not any(glob_matches(p, rel) for p in self.spec.include):
            return False
        if self.spec.exclude and any(glob_matches(p, rel) for p in self.spec.exclude):
            return False
        if self.gitignore is not None and self.gitignore.ignored(rel, is_dir):
            return False
        return True

    def notice_change(self, path: str) -> None:
        """Reload a ``.gitignore`` whose file just changed."""
        if self.gitignore is not None and path.rsplit("/", 1)[-1] == ".gitignore":
            self.gitignore.reload(path[self._cut :] if self._cut else path)
