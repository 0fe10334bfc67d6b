"""``LineIndex``: where each line of a WAL file starts, in 8 bytes per line.

The index is an ``array('q')`` of line start offsets, filled by
:func:`build_index` block by block (with progress, cancellable), usable while
it grows. Lines are then read at random with ``os.pread``: never ``mmap``, so
a file truncated under us yields short reads, not a ``SIGBUS``.
"""

from __future__ import annotations

import os
import threading
from array import array
from dataclasses import dataclass
from typing import Any, Iterator

from backends.errors import UnreadableError
from backends.errors import os_reason
from backends.wal.progress import WalProgress
from backends.wal.reader import BLOCK, Cancelled

SPAN_READ_LIMIT = 4 << 20
"""Read a run of lines in one ``pread`` when it spans at most this many bytes."""


@dataclass(frozen=True, slots=True)
class WalIndexInfo:
    """The final item of ``wal_index``: the file is indexed.

    Attributes:
        path: The file, relative to the source root.
        lines: Number of lines (a last line without newline counts).
        size: File size in bytes when indexed.
        terminated: Whether the file ends with a newline (or is empty).
        index_bytes: Memory the offset index takes.
    """

    path: str
    lines: int
    size: int
    terminated: bool
    index_bytes: int

    def to_json(self) -> dict[str, Any]:
        return {"type": "index", "path": self.path, "lines": self.lines, "size": self.size,
                "terminated": self.terminated, "index_bytes": self.index_bytes}


def file_identity(st: os.stat_result) -> tuple[int, int, int, int]:
    """What must not change for a cached index to stay valid."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


class LineIndex:
    """Start offsets of the lines of one file (a growing array while it is built).

    Attributes:
        identity: :func:`file_identity` of the file indexed.
        size: File size the index covers.
        offsets: Start offset of line ``n`` at ``offsets[n - 1]``.
        complete: Whether every line is in ``offsets``.
    """

    def __init__(self, identity: tuple[int, int, int, int]) -> None:
        self.identity = identity
        self.size = identity[2]
        self.offsets: array[int] = array("q")
        self.complete = False
        self.terminated_at_end: bool | None = None

    @property
    def known_lines(self) -> int:
        """Lines whose start is known."""
        return len(self.offsets)

    @property
    def nbytes(self) -> int:
        return self.offsets.buffer_info()[1] * self.offsets.itemsize

    def span(self, line: int) -> tuple[int, int] | None:
        """``(start, end)`` byte range of ``line`` (1-based, newline excluded), if known."""
        offsets = self.offsets
        count = len(offsets)
        if not 1 <= line <= count:
            return None
        start = offsets[line - 1]
        if line < count:
            return start, offsets[line] - 1
        if self.complete:
            return start, self.size - (1 if self.terminated_at_end else 0)
        return None

    def info(self, path: str) -> WalIndexInfo:
        return WalIndexInfo(path, len(self.offsets), self.size, self.terminated_at_end is not False, self.nbytes)


def build_index(fd: int, index: LineIndex, stop: threading.Event) -> Iterator[WalProgress]:
    """Fill ``index`` from ``fd``, yielding progress after each block.

    Args:
        fd: An open file descriptor (read with ``pread``; its offset is untouched).
        index: An empty index whose identity matches the file.
        stop: Set by the consumer to cancel.

    Raises:
        Cancelled: When ``stop`` is set.
        UnreadableError: On an I/O error.
    """
    offsets = index.offsets
    append = offsets.append
    size = index.size
    position = 0
    if size > 0:
        append(0)
    while position < size:
        if stop.is_set():
            raise Cancelled()
        try:
            block = os.pread(fd, min(BLOCK, size - position), position)
        except OSError as exc:
            raise UnreadableError(f"read failed: {os_reason(exc)}") from None
        if not block:  # truncated under us: index what was there
            size = index.size = position
            break
        find = block.find
        at = find(b"\n")
        while at >= 0:
            append(position + at + 1)
            at = find(b"\n", at + 1)
        position += len(block)
        yield WalProgress("index", len(offsets), position, size)
    if offsets and offsets[-1] == size:  # the file ends with a newline: no line starts there
        offsets.pop()
    index.terminated_at_end = size == 0 or _ends_with_newline(fd, size)
    index.complete = True


def _ends_with_newline(fd: int, size: int) -> bool:
    return _pread(fd, 1, size - 1) == b"\n"


def read_line_span(fd: int, index: LineIndex, first: int, count: int, cap: int) -> list[tuple[int, int, bytes, int]]:
    """Lines ``first`` .. ``first + count - 1`` that the index knows.

    Args:
        fd: The open file.
        index: Its (possibly partial) index.
        first: First line, 1-based.
        count: How many lines.
        cap: Bytes of one line read at most (longer lines come back cut).

    Returns:
        ``(line, offset, bytes, full_length)`` per line; ``bytes`` may be
        shorter than ``full_length`` (cut at ``cap``, or the file shrank).
    """
    out: list[tuple[int, int, bytes, int]] = []
    spans = []
    for line in range(max(1, first), first + count):
        span = index.span(line)
        if span is None:
            break
        spans.append((line, *span))
    if not spans:
        return out
    start, end = spans[0][1], spans[-1][2]
    if end - start <= SPAN_READ_LIMIT and all(e - s <= cap for _, s, e in spans):
        data = _pread(fd, end - start, start)
        for line, s, e in spans:
            out.append((line, s, data[s - start:e - start], e - s))
        return out
    for line, s, e in spans:
        out.append((line, s, _pread(fd, min(cap, e - s), s), e - s))
    return out


def _pread(fd: int, length: int, offset: int) -> bytes:
    try:
        return os.pread(fd, max(0, length), offset)
    except OSError as exc:
        raise UnreadableError(f"read failed: {os_reason(exc)}") from None
