"""``Storage``: the small interface engines read through (list, stat, read a range, stream).

Both a directory (``DirStorage``) and a bucket prefix (``BucketStorage``)
implement it, synchronously: engines are generators running on threads.
Paths are POSIX paths relative to the storage root (``""`` is the root).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Iterable, Iterator, Protocol, runtime_checkable

CHUNK = 1 << 21
"""Bytes per chunk of ``stream`` by default (the WAL index builder's block)."""
PAGE = 1000
"""Entries per page of ``list`` by default (an S3 listing's page)."""


@dataclass(frozen=True, slots=True)
class Stat:
    """What storage says about one entry, without reading it.

    Attributes:
        path: Root-relative path.
        kind: ``file``, ``dir``, ``symlink`` or ``other`` (FIFO, socket, device).
        size: Bytes (0 for a directory).
        mtime: Modification time, seconds since the epoch.
        version: Changes whenever the content may have changed: the ETag of an
            object; device, inode, size and nanosecond mtime of a file.
        sha256: Hex SHA-256 of the content when the store keeps one (never computed here).
    """

    path: str
    kind: str
    size: int
    mtime: float
    version: str | None
    sha256: str | None = None


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a directory listing with a delimiter: sub-directories and entries, by name.

    Attributes:
        dirs: Root-relative paths of sub-directories (common prefixes), sorted.
        files: Every other entry, sorted by path.
        cursor: Pass as ``after`` for the next page; ``None`` on the last page.
    """

    dirs: tuple[str, ...]
    files: tuple[Stat, ...]
    cursor: str | None


@runtime_checkable
class Storage(Protocol):
    """What an engine may ask of the place its data lives."""

    label: str
    """How messages name the storage root (a directory path or ``s3://bucket/prefix``)."""

    def list(self, path: str = "", *, after: str | None = None, limit: int = PAGE) -> Listing:
        """One page of what is directly under the directory ``path``, names after ``after`` only.

        Raises:
            NotFoundError: When there is no such directory.
            ForbiddenError: When ``path`` leaves the root.
        """
        ...

    def stat(self, path: str) -> Stat:
        """What ``path`` is, its size and version.

        Raises:
            NotFoundError: When there is no such entry.
            ForbiddenError: When ``path`` leaves the root.
        """
        ...

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of the file ``path`` from ``offset`` (shorter at the end).

        Raises:
            NotFoundError: When there is no such file.
            UnreadableError: When it is not a regular file or cannot be read.
        """
        ...

    def stream(self, path: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The content of the file ``path`` in chunks, in order (chunk borders fall anywhere).

        Errors are raised as for :meth:`read_range`, when the stream starts.
        """
        ...


def parents(paths: Iterable[str]) -> set[str]:
    """Every directory the slash-separated ``paths`` imply (``a/b/c`` implies ``a`` and ``a/b``): what a
    bucket's recursive listing says of its "directories" (each path walks up only to a known one)."""
    found: set[str] = set()
    for path in paths:
        cut = path.rfind("/")
        while cut > 0:
            above = path[:cut]
            if above in found:
                break
            found.add(above)
            cut = path.rfind("/", 0, cut)
    return found


@runtime_checkable
class WalkStorage(Storage, Protocol):
    """A storage that lists a whole tree at once (a bucket: one recursive listing, 1,000 keys a request)."""

    def walk(self, path: str = "") -> Iterator[Stat]:
        """Every file under the directory ``path``, at any depth.

        Raises:
            DriftdeckError: When it cannot be listed.
        """
        ...


class ChunkStream(io.RawIOBase):
    """A storage's chunk iterator as a raw binary stream: wrap it in ``io.BufferedReader`` for ``readline``,
    line iteration and ``tell`` over a stream."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._left = memoryview(b"")
        self._position = 0

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def readinto(self, buffer: "memoryview | bytearray") -> int:  # type: ignore[override]  # typeshed: WriteableBuffer
        while not self._left:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._left = memoryview(chunk)
        count = min(len(buffer), len(self._left))
        buffer[:count] = self._left[:count]
        self._left = self._left[count:]
        self._position += count
        return count

    def close(self) -> None:
        close = getattr(self._chunks, "close", None)
        if close is not None:
            close()  # a generator's close ends its GET (or closes its descriptor)
        super().close()
