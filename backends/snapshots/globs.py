"""Path globs for snapshot rules and group labels.

``*`` and ``?`` stay inside one path segment, ``[...]`` is a character class,
``**`` spans any number of directories (``rules/**`` matches everything under
``rules/``; ``**/x.json`` matches ``x.json`` at any depth). A glob without a
``/`` matches an entry's name at any depth, as in ``.gitignore``.
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=512)
def glob_regex(glob: str) -> re.Pattern[str]:
    """Compile a path glob to a regex matching whole relative POSIX paths.

    Args:
        glob: The glob, relative (a leading ``/`` or ``./`` is dropped).

    Returns:
        The compiled pattern.
    """
    glob = glob.strip()
    while glob.startswith("./"):
        glob = glob[2:]
    glob = glob.lstrip("/")
    if "/" not in glob.rstrip("/"):
        glob = "**/" + glob
    out: list[str] = []
    i, n = 0, len(glob)
    while i < n:
        c = glob[i]
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif c == "*":
            out.append("[^/]*")
            i += 1
        elif c == "?":
            out.append("[^/]")
            i += 1
        elif c == "[":
            start = i + 1
            if start < n and glob[start] == "!":
                start += 1
            if start < n and glob[start] == "]":
                start += 1
            end = glob.find("]", start)
            if end < 0:
                out.append(re.escape(c))
                i += 1
                continue
            body = glob[i + 1 : end]
            negate = body.startswith("!")
            body = body[1:] if negate else body
            body = re.sub(r"([\\\[^&~|])", r"\\\1", body)
            out.append("[" + ("^" if negate else "") + body + "]")
            i = end + 1
        else:
            out.append(re.escape(c))
            i += 1
    pattern = "".join(out).rstrip("/")
    return re.compile(f"(?s:{pattern})(?:/.*)?\\Z")


def match_glob(glob: str, path: str) -> bool:
    """Whether ``path`` (or a directory above it) matches ``glob``."""
    return glob_regex(glob).match(path) is not None


def first_match(globs: tuple[str, ...], path: str) -> str | None:
    """The first glob of ``globs`` that matches ``path``, if any."""
    for glob in globs:
        if match_glob(glob, path):
            return glob
    return None
