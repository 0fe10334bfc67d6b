"""``LineReader``: a WAL file as a stream of lines, through one large buffer.

Iterating a buffered binary file is the fastest way CPython has to cut a
file into lines (C-level ``readline``), so the engines iterate it directly;
lines keep their ``\\n``. A UTF-8 byte-order mark at the start is skipped
(and remembered). Only the rare slow paths ask the reader anything else:
whether the line just read was the last one (a torn tail), or the few lines
before a position (the context of a first divergence, read back with
``os.pread``).

A file may also be a :class:`Stored` one (a path in a ``Storage``, a bucket
object say): the same buffered reader then reads the storage's ``stream``
as it arrives, and the slow paths read by range.
"""

from __future__ import annotations

import io
import os
import stat
import threading
from dataclasses import dataclass
from typing import Iterator

from backends.confine import open_read
from backends.errors import DriftdeckError, NotFoundError, UnreadableError, UnsupportedError
from backends.errors import os_reason
from backends.storage.base import ChunkStream, Storage

BUFFER = 1 << 20
"""Bytes of read buffer."""
BLOCK = 1 << 21
"""Bytes read per ``pread`` by the index builder and the forward scanner."""
UTF8_BOM = b"\xef\xbb\xbf"


class Cancelled(Exception):
    """The consumer set the ``stop`` event; the reading loop ends early."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A file named by its storage and root-relative path, read through the storage (no local copy)."""

    storage: Storage
    path: str


def open_wal(path: str, name: str) -> int:
    """Open ``path`` read-only; errors name the file as the user knows it (``name``).

    Raises:
        NotFoundError: No such file.
        UnreadableError: A directory, a symlink loop, no permission, an I/O error.
    """
    try:
        fd = open_read(path)  # never waits on a FIFO; a directory or device is refused
    except FileNotFoundError:
        raise NotFoundError(f"{name}: no such file", path=name) from None
    except OSError as exc:
        raise UnreadableError(f"{name}: unreadable: {os_reason(exc)}", path=name) from None
    try:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            raise UnreadableError(f"{name}: unreadable: is a directory", path=name)
    except BaseException:
        os.close(fd)
        raise
    return fd


class LineReader:
    """Lines of one file, in order, bounded in memory (one buffer plus the current line).

    Attributes:
        name: The file as the user knows it (for messages).
        size: File size when opened.
        bom: Whether the file started with a UTF-8 byte-order mark (skipped).
        file: The buffered file; iterate it for lines (each with its ``\\n``,
            except perhaps the last).
    """

    def __init__(self, path: str | Stored, name: str, stop: threading.Event | None = None) -> None:
        self.name = name
        self.stop = stop or threading.Event()
        self._stored = path if isinstance(path, Stored) else None
        self.file: io.BufferedReader
        if isinstance(path, Stored):
            entry = path.storage.stat(path.path)
            if entry.kind == "dir":
                raise UnreadableError(f"{name}: unreadable: is a directory", path=name)
            self._fd = -1
            self.size = entry.size
            self.file = io.BufferedReader(ChunkStream(path.storage.stream(path.path)), BUFFER)
        else:
            fd = open_wal(path, name)
            self._fd = fd
            self.size = os.fstat(fd).st_size
            self.file = io.BufferedReader(io.FileIO(fd, "rb"), BUFFER)
        self.bom = False
        try:
            if self.file.peek(3)[:3] == UTF8_BOM:
                self.file.read(3)
                self.bom = True
        except OSError as exc:
            self.close()
            raise UnreadableError(f"{name}: unreadable: {os_reason(exc)}", path=name) from None

    def close(self) -> None:
        self.file.close()

    @property
    def fileno(self) -> int:
        """The open file's descriptor (for ``os.pread`` beside the buffered reading).

        Raises:
            UnsupportedError: For a :class:`Stored` file (it has none).
        """
        if self._stored is not None:
            raise UnsupportedError(f"{self.name}: not a local file")
        return self._fd

    def _read_at(self, length: int, offset: int) -> bytes:
        """``length`` bytes from ``offset``, beside the buffered reading.

        Raises:
            OSError: When the file cannot be read (a local file).
            DriftdeckError: When the storage cannot read it (a stored file).
        """
        if self._stored is not None:
            return self._stored.storage.read_range(self._stored.path, offset, length)
        return os.pread(self._fd, length, offset)

    def __enter__(self) -> "LineReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lines(self) -> Iterator[bytes]:
        """The line iterator (the file itself)."""
        return iter(self.file)

    def check(self) -> None:
        """Raise :class:`Cancelled` when the consumer has gone away."""
        if self.stop.is_set():
            raise Cancelled()

    @property
    def position(self) -> int:
        """Bytes consumed (the end of the last line handed over)."""
        if self.file.closed:  # a closed stream's tell() says 0 instead of raising as a closed file's does
            return self.size
        try:
            return self.file.tell()
        except (OSError, ValueError):
            return self.size

    def at_end(self) -> bool:
        """Whether the line just read was the file's last one."""
        return self.position >= self.size

    def before(self, end: int, count: int) -> list[bytes]:
        """The ``count`` lines that end just before byte ``end`` (without their ``\\n``)."""
        if count <= 0 or end <= 0:
            return []
        chunk = 1 << 16
        data = b""
        start = end
        while start > 0 and data.count(b"\n") <= count:
            step = min(chunk, start)
            start -= step
            try:
                data = self._read_at(step, start) + data
            except (OSError, DriftdeckError):
                return []
            chunk *= 2
        lines = data[: max(0, end - start)].split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        if start > 0:
            lines = lines[1:]  # the first piece may be the tail of an earlier line
        if start == 0 and self.bom and lines and lines[0].startswith(UTF8_BOM):
            lines[0] = lines[0][3:]
        return lines[-count:]

    def ends_with_newline(self) -> bool:
        """Whether the file (as opened) ends with ``\\n``; an empty file, or one holding only a byte-order mark, does."""
        if self.size == (len(UTF8_BOM) if self.bom else 0):  # no line at all, so none is torn (was "torn at line 0")
            return True
        try:
            return self._read_at(1, self.size - 1) == b"\n"
        except (OSError, DriftdeckError):
            return True
