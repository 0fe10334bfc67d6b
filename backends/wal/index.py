"""``LineIndex``: where each line of a WAL file starts, in 8 bytes per line.

The index is an ``array('q')`` of line start offsets, filled by
:func:`index_chunks` from a stream of byte chunks (a storage's ``stream``:
blocks of a file, or the body of a GET as it arrives), with progress,
cancellable, usable while it grows. Lines are then read at random by range
(``os.pread`` on a file: never ``mmap``, so a file truncated under us yields
short reads, not a ``SIGBUS``; a ranged GET on an object).
"""

from __future__ import annotations

import os
import threading
from array import array
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

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
        identity: What must not change for the index to stay valid (:func:`file_identity`
            of a file; a storage's version and size).
        size: File size the index covers.
        offsets: Start offset of line ``n`` at ``offsets[n - 1]``.
        complete: Whether every line is in ``offsets``.
    """

    def __init__(self, identity: tuple[Any, ...], size: int | None = None) -> None:
        self.identity = identity
        self.size = identity[2] if size is None else size
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
    """Fill ``index`` from the open file ``fd`` (read with ``pread``; its offset is untouched).

    Raises:
        Cancelled: When ``stop`` is set.
        UnreadableError: On an I/O error.
    """
    return index_chunks(_blocks(fd, index.size), index, stop)


def _blocks(fd: int, size: int) -> Iterator[bytes]:
    position = 0
    while position < size:
        block = _pread(fd, min(BLOCK, size - position), position)
        if not block:  # truncated under us: index what was there
            return
        position += len(block)
        yield block


def index_chunks(chunks: Iterable[bytes], index: LineIndex, stop: threading.Event) -> Iterator[WalProgress]:
    """Fill ``index`` from the file's content in chunks (borders anywhere), yielding progress after each.

    Args:
        chunks: The whole content, in order (a storage's ``stream``).
        index: An empty index whose ``size`` is the content's expected size.
        stop: Set by the consumer to cancel.

    Raises:
        Cancelled: When ``stop`` is set.
        UnreadableError: When the stream fails.
    """
    offsets = index.offsets
    append = offsets.append
    size = index.size
    position = 0
    last = b""
    if size > 0:
        append(0)
    for block in chunks:
        if stop.is_set():
            raise Cancelled()
        if not block:
            continue
        find = block.find
        at = find(b"\n")
        while at >= 0:
            append(position + at + 1)
            at = find(b"\n", at + 1)
        position += len(block)
        last = block[-1:]
        yield WalProgress("index", len(offsets), position, max(size, position))
    if stop.is_set():
        raise Cancelled()
    size = index.size = position  # what was streamed: shorter when the file shrank, longer when it grew
    if not size:
        del offsets[:]
    elif offsets[-1] == size:  # the content ends with a newline: no line starts there
        offsets.pop()
    index.terminated_at_end = size == 0 or last == b"\n"
    index.complete = True


def read_line_span(
    read: int | Callable[[int, int], bytes], index: LineIndex, first: int, count: int, cap: int
) -> list[tuple[int, int, bytes, int]]:
    """Lines ``first`` .. ``first + count - 1`` that the index knows.

    Args:
        read: The open file, or ``read(length, offset)`` (a storage's ``read_range``).
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
    if isinstance(read, int):
        fd = read

        def read(length: int, offset: int) -> bytes:
            return _pread(fd, length, offset)

    start, end = spans[0][1], spans[-1][2]
    if end - start <= SPAN_READ_LIMIT and all(e - s <= cap for _, s, e in spans):
        data = read(end - start, start)
        for line, s, e in spans:
            out.append((line, s, data[s - start:e - start], e - s))
        return out
    for line, s, e in spans:
        out.append((line, s, read(min(cap, e - s), s), e - s))
    return out


def _pread(fd: int, length: int, offset: int) -> bytes:
    try:
        return os.pread(fd, max(0, length), offset)
    except OSError as exc:
        raise UnreadableError(f"read failed: {os_reason(exc)}") from None
