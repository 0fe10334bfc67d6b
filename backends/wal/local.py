"""``WalService``: the WAL operations of a source, over its storage.

Every operation is small and serialisable so that an HTTP source can offer
the same calls: streams of frozen items with ``to_json()``, and pages of
lines. The engines run on threads (``iterate_in_thread`` /
``asyncio.to_thread``); the offset index of each file lives here, server
side, and is reused while the file is unchanged (same storage version).

The index is built from the storage's ``stream`` and lines are read by
range, so a directory and a bucket share this code; on a directory the
line pages keep one descriptor and ``os.pread``. Validation, diff and search
read lines through ``LineReader``: a directory's file by its confined path
(buffered reads, ``pread``, a second process for half of a large file), any
other storage's file as its stream (``reader.Stored``).
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, AsyncIterator, Callable, Iterator

from backends.errors import UnreadableError
from backends.models import CAP_WAL
from backends.storage.base import Storage
from backends.storage.directory import DirStorage
from backends.threadstream import iterate_in_thread

if TYPE_CHECKING:  # the engines themselves load on first use: CLI start-up stays light
    from backends.wal.diff import WalDiffSummary, WalDivergence
    from backends.wal.index import LineIndex, WalIndexInfo
    from backends.wal.lines import WalLine
    from backends.wal.progress import WalProgress
    from backends.wal.reader import Stored
    from backends.wal.rules import WalRules
    from backends.wal.validate import WalProblem, WalValidation

MAX_PAGE_LINES = 2000
"""Lines returned by one ``wal_lines`` call at most."""
PARSE_CAP = 16 << 20
PAGE_BYTES = 32 << 20
"""Raw bytes one page of ``wal_lines`` reads at most (shared by its lines)."""
PAGE_CHARS = 2 << 20
"""Characters of text one page of ``wal_lines`` returns at most (shared by its lines)."""
"""Bytes of one line read for display at most; longer lines come back cut, marked ``too-long``."""
CACHED_INDEXES = 8
"""Offset indexes kept per source (least recently used dropped first)."""


class WalService:
    """The WAL operations over one storage.

    Args:
        storage: Where the WAL files are (a ``DirStorage`` for every operation;
            any ``Storage`` for ``wal_index`` and ``wal_lines``).
    """

    CAPABILITIES: frozenset[str] = frozenset({CAP_WAL})

    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self._cache: OrderedDict[str, LineIndex] = OrderedDict()
        self._lock = threading.Lock()

    def _file(self, path: str) -> str | Stored:
        """What the file engines open: the confined real path in a directory (their fast paths: buffered
        reads, ``pread``, a second process for half of a large file), else the file in its storage (streamed)."""
        from backends.wal.reader import Stored

        if isinstance(self.storage, DirStorage):
            return self.storage.resolve(path)
        return Stored(self.storage, path)

    # Index and random access ------------------------------------------------------------

    def _identity(self, path: str) -> tuple[str | None, int]:
        """``(version, size)`` of the WAL file ``path``.

        Raises:
            NotFoundError: No such file.
            UnreadableError: A directory (other kinds are refused when opened).
        """
        entry = self.storage.stat(path)
        if entry.kind == "dir":
            raise UnreadableError(f"{path}: unreadable: is a directory", path=path)
        return entry.version, entry.size

    def _cached_index(self, path: str, identity: tuple[str | None, int]) -> LineIndex | None:
        with self._lock:
            index = self._cache.get(path)
            if index is None or index.identity != identity:
                return None
            self._cache.move_to_end(path)
            return index

    def _store_index(self, path: str, index: LineIndex) -> None:
        with self._lock:
            self._cache[path] = index
            self._cache.move_to_end(path)
            while len(self._cache) > CACHED_INDEXES:
                self._cache.popitem(last=False)

    def wal_index(self, path: str) -> AsyncIterator[WalProgress | WalIndexInfo]:
        """Build (or reuse) the line-offset index of a WAL file.

        Yields progress while indexing, then one :class:`WalIndexInfo`. Lines
        can be read with :meth:`wal_lines` while this runs.
        """

        def produce(stop: threading.Event) -> Iterator[WalProgress | WalIndexInfo]:
            from backends.wal.index import LineIndex, index_chunks
            from backends.wal.reader import Cancelled

            identity = self._identity(path)
            index = self._cached_index(path, identity)
            if index is not None and index.complete:
                yield index.info(path)
                return
            index = LineIndex(identity, identity[1])
            chunks = self.storage.stream(path)
            self._store_index(path, index)
            try:
                yield from index_chunks(chunks, index, stop)
            except Cancelled:
                return
            yield index.info(path)

        return iterate_in_thread(produce, name="driftdeck-wal-index")

    async def wal_lines(
        self, path: str, start: int, count: int, rules: WalRules | None = None, *, max_chars: int | None = None
    ) -> list[WalLine]:
        """Lines ``start`` .. ``start + count - 1`` (1-based) of a WAL file, ready to show.

        Uses the offset index when there is one (even a partial one) and scans
        forward from the last known line otherwise. Past the end of the file
        the list is just shorter.

        Args:
            path: The file, relative to the root.
            start: First line, 1-based.
            count: Lines wanted (at most ``MAX_PAGE_LINES``).
            rules: Redaction rules (default: ``WalRules()``).
            max_chars: Characters of each line's text kept (default ``lines.DISPLAY_CHARS``).
        """
        from backends.wal.lines import DISPLAY_CHARS
        from backends.wal.rules import WalRules

        count = min(max(0, count), MAX_PAGE_LINES)
        chars = DISPLAY_CHARS if max_chars is None else max(16, max_chars)
        # The page is bounded in bytes, not only in lines: 2,000 lines x 1 MiB each was a 459 MB
        # answer (and 1.5 GB of server memory). Long lines are cut shorter the more are asked for.
        chars = min(chars, max(16, PAGE_CHARS // max(1, count)))
        return await asyncio.to_thread(self._wal_lines, path, max(1, start), count, rules or WalRules(), chars)

    def _wal_lines(self, path: str, start: int, count: int, rules: WalRules, max_chars: int) -> list[WalLine]:
        from backends.wal.lines import describe_line
        from backends.wal.rules import CompiledRules

        identity = self._identity(path)
        if isinstance(self.storage, DirStorage):  # one descriptor for the page, os.pread
            fd = self.storage.open(path)
            try:
                size = os.fstat(fd).st_size
                rows = self._rows(path, identity, lambda length, offset: os.pread(fd, length, offset), size, start, count)
            finally:
                os.close(fd)
        else:
            size = identity[1]
            rows = self._rows(path, identity, lambda length, offset: self.storage.read_range(path, offset, length),
                              size, start, count)
        compiled = CompiledRules(rules)
        return [
            describe_line(line, offset, raw, full, compiled, terminated=offset + full < size, max_chars=max_chars)
            for line, offset, raw, full in rows
        ]

    def _rows(
        self, path: str, identity: tuple[str | None, int], read: Callable[[int, int], bytes], size: int, start: int, count: int
    ) -> list[tuple[int, int, bytes, int]]:
        """Lines from the index where it reaches, then by scanning forward from the last line it knows."""
        from backends.wal.index import read_line_span

        index = self._cached_index(path, identity)
        cap = min(PARSE_CAP, max(1 << 16, PAGE_BYTES // max(1, count)))  # raw bytes read per line
        rows = read_line_span(read, index, start, count, cap) if index is not None else []
        if len(rows) < count and (index is None or not index.complete):
            if index is not None and index.known_lines:
                from_line = min(index.known_lines, start + len(rows))
                from_offset = index.offsets[from_line - 1]
            else:
                from_line, from_offset = 1, 0
            rows += _scan_lines(read, size, from_line, from_offset, start + len(rows), count - len(rows), cap)
        return rows

    # Engines ----------------------------------------------------------------------------

    def validate_wal(
        self, path: str, *, max_problems: int | None = None
    ) -> AsyncIterator[WalProblem | WalProgress | WalValidation]:
        """Validate a WAL v2 file: problems in line order, progress, one summary last.

        ``max_problems`` defaults to ``validate.MAX_PROBLEMS``.
        """

        def produce(stop: threading.Event) -> Iterator[WalProblem | WalProgress | WalValidation]:
            from backends.wal.validate import MAX_PROBLEMS, validate_wal_file

            limit = MAX_PROBLEMS if max_problems is None else max_problems
            return validate_wal_file(self._file(path), path, stop, max_problems=limit)

        return iterate_in_thread(produce, name="driftdeck-wal-validate", maxsize=64)

    def diff_wal(
        self,
        record: str,
        replay: str,
        rules: WalRules | None = None,
        *,
        max_divergences: int = 0,
        context: int | None = None,
    ) -> AsyncIterator[WalDivergence | WalProgress | WalDiffSummary]:
        """Diff a record against its replay: divergences in row order, progress, one summary last.

        ``context`` (events before the first divergence) defaults to ``diff.CONTEXT``.
        """

        def produce(stop: threading.Event) -> Iterator[WalDivergence | WalProgress | WalDiffSummary]:
            from backends.wal.diff import CONTEXT, diff_wal_files
            from backends.wal.rules import WalRules

            return diff_wal_files(
                self._file(record), self._file(replay), record, replay, rules or WalRules(), stop,
                max_divergences=max_divergences, context=CONTEXT if context is None else context,
            )

        return iterate_in_thread(produce, name="driftdeck-wal-diff", maxsize=64)

    def search_wal(self, path: str, text: str, rules: WalRules | None = None) -> AsyncIterator[list[int] | WalProgress]:
        """Line numbers whose displayed (redacted) text contains ``text`` (``!`` inverts), in batches."""

        def produce(stop: threading.Event) -> Iterator[list[int] | WalProgress]:
            from backends.wal.rules import WalRules
            from backends.wal.search import search_wal_file

            return search_wal_file(self._file(path), path, text, rules or WalRules(), stop)

        return iterate_in_thread(produce, name="driftdeck-wal-search")


def _scan_lines(
    read: Callable[[int, int], bytes], size: int, line: int, offset: int, first: int, count: int, cap: int = PARSE_CAP
) -> list[tuple[int, int, bytes, int]]:
    """Read forward from a known line start until ``count`` lines from ``first`` are collected."""
    from backends.wal.reader import BLOCK

    out: list[tuple[int, int, bytes, int]] = []
    start = offset  # start of ``line``
    head = bytearray()  # the first cap bytes of ``line``, when it is wanted
    position = offset
    while position < size and len(out) < count:
        block = read(min(BLOCK, size - position), position)
        if not block:
            break
        at = 0
        while True:
            newline = block.find(b"\n", at)
            end = newline if newline >= 0 else len(block)
            if line >= first and len(head) < cap:
                head += block[at:min(end, at + cap - len(head))]
            if newline < 0:
                break
            if line >= first:
                out.append((line, start, bytes(head), position + newline - start))
                if len(out) == count:
                    return out
            head.clear()
            line += 1
            at = newline + 1
            start = position + at
        position += len(block)
    if len(out) < count and start < size and line >= first:  # a last line without newline
        out.append((line, start, bytes(head), size - start))
    return out
