"""Opening the file under the cursor in the user's ``$EDITOR`` or ``$PAGER``.

A local source's file is opened where it is (its real path, confined to the
root). A remote source's file is first copied, read-only, into a temporary
directory of this machine (never under any source root), and the user is told
that it is a copy.
"""

from __future__ import annotations

import os
import shlex
import stat
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass

from typing import TYPE_CHECKING

from backends.confine import confined_path, require_regular

if TYPE_CHECKING:
    from backends.source import DataSource

COPY_LIMIT = 64 * 1024 * 1024
"""Bytes of a remote file copied at most (a pager or editor on more is rarely what is wanted)."""
CHUNK = 8 * 1024 * 1024
"""Bytes asked of a remote source per request (its byte ranges stop at 16 MiB)."""

LINE_AWARE = frozenset({"vi", "vim", "nvim", "view", "nano", "emacs", "emacsclient", "less", "more", "most", "micro", "joe", "mg", "ne", "kak"})
"""Programs that take ``+N`` before the file to open it at line N."""


@dataclass(frozen=True)
class Opened:
    """A file ready for an external program.

    Attributes:
        path: The local path to hand to the program.
        copy: Whether it is a temporary copy (a remote source's file).
        truncated: Whether the copy stops at ``COPY_LIMIT``.
    """

    path: str
    copy: bool = False
    truncated: bool = False


def command(purpose: str, env: Mapping[str, str] = os.environ) -> list[str]:
    """The program for ``purpose`` (``editor`` or ``pager``) as argv words.

    ``editor``: ``$VISUAL``, else ``$EDITOR``, else ``vi``; ``pager``: ``$PAGER``, else ``less``.
    """
    names = ("VISUAL", "EDITOR") if purpose == "editor" else ("PAGER",)
    for name in names:
        words = shlex.split(env.get(name, ""))
        if words:
            return words
    return ["vi"] if purpose == "editor" else ["less"]


def argv(program: list[str], path: str, line: int | None) -> list[str]:
    """``program path``, with ``+line`` before the path for programs known to take it."""
    at_line = [f"+{line}"] if line and os.path.basename(program[0]) in LINE_AWARE else []
    return [*program, *at_line, path]


def local_file(source: "DataSource", path: str) -> str | None:
    """The real path of ``path`` in a local source (refused outside its root), or ``None`` for a remote source.

    Only an existing regular file is handed out: an editor given a missing
    path would create it under the read-only root on save, and a FIFO would block it.

    Raises:
        ForbiddenError: When ``path`` resolves outside the root.
        OSError: When it does not exist or is not a regular file.
    """
    root = getattr(source, "root", None)
    if getattr(source, "kind", None) != "local" or not isinstance(root, str):
        return None
    real = confined_path(root, path)
    require_regular(os.stat(real).st_mode, path)
    return real


async def remote_copy(source: "DataSource", path: str, directory: str) -> Opened:
    """Copy a remote source's file (its first ``COPY_LIMIT`` bytes) into ``directory``, read-only."""
    info = await source.stat(path)
    size = min(info.size, COPY_LIMIT)
    target = os.path.join(tempfile.mkdtemp(prefix="copy-", dir=directory), os.path.basename(path) or "file")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        offset = 0
        while offset < size:
            data = await source.read_range(path, offset, min(CHUNK, size - offset))
            if not data:
                break
            out.write(data)
            offset += len(data)
    os.chmod(target, stat.S_IRUSR | stat.S_IRGRP)
    return Opened(target, copy=True, truncated=info.size > COPY_LIMIT)
