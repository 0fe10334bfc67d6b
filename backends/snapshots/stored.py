"""Tree diffs of two trees held in a ``Storage`` (a bucket prefix), read through the interface.

The trees are walked from delimiter listings (each directory paged to its
end, a level's directories listed concurrently); the pairs, rules, verdicts,
renames and summary are the directory engine's own (``tree.diff_walked``);
only reading differs (``StoredContext``). A pair whose ETag (``Stat.version``)
and size are the same on both sides is counted unchanged without a GET; the
others are read whole (up to ``tree.ANALYZE_MAX`` per side, as on a
directory) by concurrent GETs. A bucket holds no symlinks or FIFOs; a
``dir/`` marker key lists as a directory. An object that vanished between
listing and reading, or became a marker, is one ``unreadable`` entry with a
one-line reason, and the rest is still compared.
"""

from __future__ import annotations

import hashlib
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Iterator

from backends.errors import ForbiddenError, NotFoundError, UnreadableError
from backends.snapshots.content import ABSENT, Side, first_difference
from backends.snapshots.models import DiffProgress, DiffSummary, EntryDiff, SnapshotRules
from backends.snapshots.tree import ANALYZE_MAX, READ_CHUNK, DiffContext, Node, diff_walked
from backends.storage.base import Stat, Storage

THREADS = 16
"""Listings and GETs in flight at once (the WAL and runs paths measured obstore best at 16-32 on 2 cores)."""

COMPARE_WORKERS = 4
"""Batches of one directory's pairs compared at once (each fetches its differing pairs on the shared pool)."""

MARKER = "a directory marker key, not an object"
VANISHED = "vanished between listing and reading"
BOTH = "both an object and a directory of this name (a marker key or keys below it)"


def walk_stored(
    storage: Storage, root: str, stop: threading.Event, pool: ThreadPoolExecutor
) -> tuple[dict[str, Node], dict[str, Stat]]:
    """Every entry under the directory ``root`` of ``storage``, as ``tree.walk_tree`` gives a directory's.

    Returns:
        ``(nodes, stats)``: nodes by path relative to ``root`` (files with their
        listed sizes), and the listing's ``Stat`` of every file (its ETag is
        ``version``).

    Raises:
        DriftdeckError: When ``root`` itself cannot be listed, or the store refuses.
    """
    nodes: dict[str, Node] = {}
    stats: dict[str, Stat] = {}
    level = [""]
    while level and not stop.is_set():
        futures = [pool.submit(_list_all, storage, _join(root, rel)) for rel in level]
        following: list[str] = []
        for rel_dir, future in zip(level, futures, strict=True):
            try:
                dirs, files = future.result()
            except (NotFoundError, UnreadableError, ForbiddenError) as exc:  # forbidden: a listed name with "..\\"
                if not rel_dir:
                    raise
                nodes[rel_dir] = Node("dir", 0, error=f"cannot list directory: {exc}")
                continue
            for path in dirs:
                rel = _below(root, path)
                nodes[rel] = Node("dir", 0)
                following.append(rel)
            for found in files:
                rel = _below(root, found.path)
                if rel in nodes:  # a key "x" beside keys "x/...": the directory is still walked
                    nodes[rel] = Node("other", 0, error=BOTH)
                    continue
                nodes[rel] = Node(found.kind, found.size)
                stats[rel] = found
        level = following
    return nodes, stats


def _list_all(storage: Storage, path: str) -> tuple[list[str], list[Stat]]:
    """Every page of one directory's listing."""
    dirs: list[str] = []
    files: list[Stat] = []
    cursor: str | None = None
    while True:
        # one big page: a bucket's listing returns the whole directory in one call anyway
        page = storage.list(path, after=cursor, limit=1 << 20)
        dirs.extend(page.dirs)
        files.extend(page.files)
        cursor = page.cursor
        if cursor is None:
            return dirs, files


class StoredContext(DiffContext):
    """``DiffContext`` reading through a ``Storage``: ``root_a``/``root_b`` are storage paths.

    Args:
        storage: Where both trees are.
        root_a: The baseline tree's storage path.
        root_b: The candidate tree's storage path.
        rules: Ignore rules, groups and thresholds.
        keep_unchanged: Whether unchanged pairs are listed.
        stats_a: The baseline's listed files (``walk_stored``).
        stats_b: The candidate's listed files.
        pool: Threads for the GETs.
    """

    READ_ERRORS = (NotFoundError, UnreadableError, ForbiddenError)

    def __init__(self, storage: Storage, root_a: str, root_b: str, rules: SnapshotRules, keep_unchanged: bool,
                 stats_a: dict[str, Stat], stats_b: dict[str, Stat], pool: ThreadPoolExecutor) -> None:
        super().__init__(root_a, root_b, rules, keep_unchanged)
        self.storage = storage
        self.stats_a = stats_a
        self.stats_b = stats_b
        self.pool = pool

    def digest(self, root: str, rel: str) -> tuple[str, int]:
        digest = hashlib.sha256()
        size = 0
        for chunk in self.storage.stream(_join(root, rel), chunk_size=READ_CHUNK):
            digest.update(chunk)
            size += len(chunk)
        return digest.hexdigest(), size

    def read(self, root: str, rel: str, limit: int | None = None) -> bytes:
        if limit is not None:
            return self.storage.read_range(_join(root, rel), 0, limit)
        return b"".join(self.storage.stream(_join(root, rel), chunk_size=READ_CHUNK))

    def same_large(self, rel: str) -> tuple[bool, int]:
        size = self.stats_a[rel].size
        offset = first_difference(self.storage.stream(_join(self.root_a, rel)), self.storage.stream(_join(self.root_b, rel)))
        return offset is None, 2 * (size if offset is None else offset)

    def compare_dir(self, batch: tuple[str, list[str]]) -> tuple[list[EntryDiff], int, int]:
        """Compare one directory's pairs: equal ETag and size counts as unchanged unread; the rest are fetched."""
        rel_dir, names = batch
        prefix = f"{rel_dir}/" if rel_dir else ""
        fetching: dict[str, Future[tuple[bytes | None, bytes | None]]] = {}
        for name in names:
            rel = prefix + name
            a, b = self.stats_a[rel], self.stats_b[rel]
            if not (a.version and a.version == b.version and a.size == b.size):
                fetching[rel] = self.pool.submit(self._pair, rel)
        out: list[EntryDiff] = []
        unchanged = total = 0
        for name in names:
            rel = prefix + name
            size_a, size_b = self.stats_a[rel].size, self.stats_b[rel].size
            future = fetching.get(rel)
            if future is None:
                unchanged += 1
                if self.keep_unchanged:
                    out.append(EntryDiff(rel, "unchanged", self.group(rel), "file", "file", size_a, size_b))
                continue
            try:
                data_a, data_b = future.result()
            except self.READ_ERRORS as exc:
                out.append(self.finish(self.problem(rel, exc)))
                continue
            if data_a is not None and data_a == data_b:  # one content under two ETags (a multipart upload)
                unchanged += 1
                total += 2 * len(data_a)
                if self.keep_unchanged:
                    out.append(EntryDiff(rel, "unchanged", self.group(rel), "file", "file", size_a, size_b))
                continue
            if data_a is not None and data_b is not None:
                size_a, size_b = len(data_a), len(data_b)
            entry, read = self.changed_pair(rel, data_a, size_a, data_b, size_b)
            out.append(entry)
            total += read
        return out, unchanged, total

    def _pair(self, rel: str) -> tuple[bytes | None, bytes | None]:
        """Both sides' bytes (``None`` for a side above ``ANALYZE_MAX``: compared in chunks later)."""
        return self._whole(self.root_a, rel, self.stats_a[rel]), self._whole(self.root_b, rel, self.stats_b[rel])

    def _whole(self, root: str, rel: str, listed: Stat) -> bytes | None:
        if listed.size > ANALYZE_MAX:
            return None
        data = self.read(root, rel, ANALYZE_MAX + 1)  # bounded: the object may have grown since it was listed
        return None if len(data) > ANALYZE_MAX else data

    def problem(self, rel: str, exc: NotFoundError | UnreadableError | ForbiddenError) -> EntryDiff:
        """The one-line entry of a pair that could not be read: vanished, turned into a marker, or unreadable."""
        reason = str(exc)
        if isinstance(exc, NotFoundError) and exc.path is not None:
            side = "baseline" if exc.path == _join(self.root_a, rel) else "candidate"
            try:
                became = self.storage.stat(exc.path).kind
            except NotFoundError:
                became = None
            reason = f"{side}: {MARKER if became == 'dir' else VANISHED}"
        return EntryDiff(rel, "unreadable", kind_a="file", kind_b="file", error=reason)


def diff_stored(
    storage: Storage,
    root_a: str,
    root_b: str,
    rules: SnapshotRules = SnapshotRules(),
    stop: threading.Event | None = None,
    *,
    name_a: str = "a",
    name_b: str = "b",
    unchanged: bool = True,
) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
    """``tree.diff_trees`` of two directories of ``storage``: the same items in the same order.

    Raises:
        DriftdeckError: When a root cannot be listed or the store refuses.
    """
    stop = stop or threading.Event()
    yield DiffProgress("scan", 0, None)
    pool = ThreadPoolExecutor(max_workers=THREADS, thread_name_prefix="driftdeck-stored")
    try:
        nodes_a, stats_a = walk_stored(storage, root_a, stop, pool)
        nodes_b, stats_b = walk_stored(storage, root_b, stop, pool)
        if stop.is_set():
            return
        ctx = StoredContext(storage, root_a, root_b, rules, unchanged, stats_a, stats_b, pool)
        yield from diff_walked(ctx, nodes_a, nodes_b, stop, name_a, name_b, workers=COMPARE_WORKERS)
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def stored_side(storage: Storage, path: str) -> Side:
    """The ``content.Side`` of one storage path (reads bounded by the size it had when looked at).

    Raises:
        DriftdeckError: When the store refuses.
    """
    try:
        found = storage.stat(path)
    except NotFoundError:
        return ABSENT
    if found.kind != "file":
        return Side(found.kind)
    size = found.size
    return Side("file", size, head=lambda n: storage.read_range(path, 0, min(n, size)),
                read=lambda: storage.read_range(path, 0, size),
                chunks=lambda: storage.stream(path, chunk_size=READ_CHUNK))


def _join(base: str, rel: str) -> str:
    return f"{base}/{rel}" if base and rel else base or rel


def _below(base: str, path: str) -> str:
    return path[len(base) + 1:] if base else path
