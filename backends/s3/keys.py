"""Workspace paths as object keys: confinement and glob matching over key strings."""

from __future__ import annotations

import fnmatch
import re

from backends.globwalk import is_wildcard
from backends.storage.bucket import checked

__all__ = ["checked", "glob_regex", "literal_head", "segment_matches"]


def segment_matches(pattern: str, name: str) -> bool:
    """Whether one path segment matches, with the shell's rule for leading dots."""
    if name.startswith(".") and not pattern.startswith("."):
        return False
    return fnmatch.fnmatchcase(name, pattern)


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A regex for a root-relative glob over whole keys; ``**`` spans any number of directories (or none)."""
    parts = []
    for segment in pattern.strip("/").split("/"):
        if segment == "**":
            parts.append(r"(?:[^/]+/)*")
            continue
        text = "(?!\\.)" if not segment.startswith(".") and is_wildcard(segment) else ""
        i = 0
        while i < len(segment):
            c = segment[i]
            if c == "*":
                text += "[^/]*"
            elif c == "?":
                text += "[^/]"
            elif c == "[" and "]" in segment[i + 1:]:
                end = segment.index("]", i + 2 if segment[i + 1:i + 2] in ("!", "]") else i + 1)
                body = segment[i + 1:end].replace("\\", "\\\\")
                text += "[^" + body[1:] + "]" if body.startswith("!") else "[" + body + "]"
                i = end
            else:
                text += re.escape(c)
            i += 1
        parts.append(text + "/")
    return re.compile("".join(parts)[:-1] + r"\Z")


def literal_head(pattern: str) -> str:
    """The segments of a glob before its first wildcard: the key prefix worth listing."""
    head = []
    for segment in pattern.strip("/").split("/")[:-1]:
        if is_wildcard(segment):
            break
        head.append(segment)
    return "/".join(head)
