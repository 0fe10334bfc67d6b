"""The tree diff engine: what was added, removed, changed, renamed between two trees.

``diff_trees`` walks both trees (never following symlinks), pairs paths, and
compares file pairs on a thread pool: sizes first, then the bytes (each file is
read once; a pair whose contents differ is labelled and judged by the rules
while its bytes are in memory). Files only on one side are then matched into
renames: identical content by SHA-256 (hashed in parallel, only for sizes seen
on both sides), then, for text, by git's similarity score. Content diffs are
not computed here; ``content.entry_content`` does that for one entry on demand.

The generator yields batches (lists) of ``EntryDiff``, ``DiffProgress`` now and
then, and one ``DiffSummary`` last. It checks ``stop`` between steps.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter, defaultdict, deque
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Callable, Iterable, Iterator, TypeVar

from backends.confine import NOFOLLOW, open_read
from backends.errors import UnreadableError
from backends.forkpool import Claims, can_fork, cores, fork_map
from backends.snapshots.formats import SNIFF_BYTES, format_of
from backends.snapshots.globs import first_match
from backends.snapshots.models import (
    CATEGORIES,
    OTHER_GROUP,
    DiffProgress,
    DiffSummary,
    EntryDiff,
    SnapshotRules,
)
from backends.snapshots.rules import CompiledRules
from backends.snapshots.similarity import chunk_counts, plausible, similarity
from backends.snapshots.verdict import judge

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

T = TypeVar("T")
R = TypeVar("R")

READ_CHUNK = 1 << 20
ANALYZE_MAX = 32 << 20
"""Changed files up to this size (per side) are labelled and judged by the rules."""

RENAME_MAX_BYTES = 8 << 20
"""Files above this size are not considered for renames with edits."""

RENAME_MAX_PAIRS = 1_000_000
"""Inexact rename detection is skipped above this many candidate pairs (git: 1000 x 1000)."""

BATCH = 256
"""File pairs (of one directory) per task on the thread pool."""

PROGRESS_EVERY = 1024

FORK_MIN_FILES = 1024
"""File pairs below this are compared on threads even when worker processes are allowed."""


@dataclass(frozen=True, slots=True)
class Node:
    """One entry of a walked tree."""

    kind: str
    size: int
    target: str | None = None
    error: str | None = None


_FILE = Node("file", -1)
_DIR = Node("dir", 0)
_OTHER = Node("other", 0)
"""Shared nodes (they are immutable): most entries need nothing of their own."""


def walk_tree(root: str, stop: threading.Event | None = None) -> dict[str, Node]:
    """Every entry under ``root`` by relative POSIX path, without following symlinks.

    Kinds come from the directory listing itself (no ``stat`` per file where
    the filesystem reports entry types), so file sizes are left unknown
    (``-1``); ``fill_sizes`` looks up the few that are needed.

    Raises:
        UnreadableError: When ``root`` itself cannot be listed.
    """
    nodes: dict[str, Node] = {}
    pending = _list_root(root, nodes)
    _walk(pending, nodes, stop)
    return nodes


def _list_root(root: str, nodes: dict[str, Node]) -> list[tuple[str, str]]:
    """``_list`` of ``root`` itself: its subdirectories, to walk.

    Raises:
        UnreadableError: When ``root`` cannot be listed.
    """
    try:
        return _list(root, "", nodes)
    except OSError as exc:
        raise UnreadableError(f"{root}: cannot list: {exc.strerror or exc}", path=root) from None


def _walk(pending: list[tuple[str, str]], nodes: dict[str, Node], stop: threading.Event | None) -> None:
    """Add every entry below the directories ``pending`` (``(absolute, relative)``) to ``nodes``.

    A directory that cannot be listed gets an ``error`` in place of its node.
    """
    while pending:
        if stop is not None and stop.is_set():
            break
        abs_dir, rel_dir = pending.pop()
        try:
            pending.extend(_list(abs_dir, rel_dir, nodes))
        except OSError as exc:
            nodes[rel_dir] = Node("dir", 0, error=f"cannot list directory: {exc.strerror or exc}")


def _list(abs_dir: str, rel_dir: str, nodes: dict[str, Node]) -> list[tuple[str, str]]:
    """Add the entries of one directory to ``nodes``; its subdirectories ``(absolute, relative)``.

    Raises:
        OSError: When the directory cannot be listed (nothing was added).
    """
    with os.scandir(abs_dir) as it:
        entries = list(it)
    subdirs: list[tuple[str, str]] = []
    prefix = f"{rel_dir}/" if rel_dir else ""
    for entry in entries:
        rel = prefix + entry.name
        try:
            if entry.is_file(follow_symlinks=False):  # the common case first; symlinks are not files here
                nodes[rel] = _FILE
            elif entry.is_dir(follow_symlinks=False):
                nodes[rel] = _DIR
                subdirs.append((entry.path, rel))
            elif entry.is_symlink():
                target = os.readlink(entry.path)
                nodes[rel] = Node("symlink", len(os.fsencode(target)), target)
            else:
                nodes[rel] = _OTHER
        except OSError as exc:
            nodes[rel] = Node("other", 0, error=f"unreadable: {exc.strerror or exc}")
    return subdirs


def fill_sizes(root: str, items: list[tuple[str, Node]]) -> list[tuple[str, Node]]:
    """``items`` with the sizes of their files looked up (``lstat``)."""
    out = []
    for rel, node in items:
        if node.kind == "file" and node.size < 0:
            try:
                node = replace(node, size=os.lstat(os.path.join(root, rel)).st_size)
            except OSError as exc:
                node = replace(node, size=0, error=f"unreadable: {exc.strerror or exc}")
        out.append((rel, node))
    return out


def read_file(path: str, limit: int | None = None) -> bytes:
    """The bytes of a file (at most ``limit``), with plain ``os`` calls (a regular file only)."""
    fd = open_read(path, NOFOLLOW)
    try:
        parts: list[bytes] = []
        got = 0
        while limit is None or got < limit:
            want = READ_CHUNK if limit is None else min(READ_CHUNK, limit - got)
            chunk = os.read(fd, want)
            if not chunk:
                break
            parts.append(chunk)
            got += len(chunk)
        return parts[0] if len(parts) == 1 else b"".join(parts)
    finally:
        os.close(fd)


def sha256_file(path: str) -> tuple[str, int]:
    """Hex SHA-256 of a file and the bytes read."""
    digest = hashlib.sha256()
    fd = open_read(path, NOFOLLOW)
    size = 0
    try:
        while True:
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                break
            digest.update(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    return digest.hexdigest(), size


def _same_large(path_a: str, path_b: str) -> tuple[bool, int]:
    """Compare two big files chunk by chunk, stopping at the first difference."""
    fa = open_read(path_a, NOFOLLOW)
    try:
        fb = open_read(path_b, NOFOLLOW)
    except BaseException:
        os.close(fa)
        raise
    read = 0
    try:
        while True:
            ca, cb = os.read(fa, READ_CHUNK), os.read(fb, READ_CHUNK)
            read += len(ca) + len(cb)
            if ca != cb:
                return False, read
            if not ca:
                return True, read
    finally:
        os.close(fa)
        os.close(fb)


class DiffContext:
    """What every step of one tree diff needs."""

    def __init__(self, root_a: str, root_b: str, rules: SnapshotRules, keep_unchanged: bool) -> None:
        self.root_a = root_a
        self.root_b = root_b
        self.rules = rules
        self.compiled = CompiledRules(rules)
        self.keep_unchanged = keep_unchanged

    READ_ERRORS: tuple[type[Exception], ...] = (OSError,)
    """What a failed read of one file raises here (the file is then reported, the rest still compared)."""

    def digest(self, root: str, rel: str) -> tuple[str, int]:
        """Hex SHA-256 of the file ``rel`` under ``root`` (``root_a`` or ``root_b``) and the bytes read."""
        return sha256_file(os.path.join(root, rel))

    def read(self, root: str, rel: str, limit: int | None = None) -> bytes:
        """The bytes of the file ``rel`` under ``root`` (at most ``limit``)."""
        return read_file(os.path.join(root, rel), limit)

    def same_large(self, rel: str) -> tuple[bool, int]:
        """Whether the two sides of ``rel`` (too big to hold) hold the same bytes; bytes read."""
        return _same_large(os.path.join(self.root_a, rel), os.path.join(self.root_b, rel))

    def group(self, path: str) -> str:
        """The group label of a path (first matching pattern)."""
        for glob, label in self.rules.groups:
            if first_match((glob,), path):
                return label
        return OTHER_GROUP

    def path_rule(self, path: str, old_path: str | None = None) -> str | None:
        """The ignore-path rule that covers an entry, if any."""
        if not (self.rules.apply and self.rules.ignore_paths):
            return None
        glob = first_match(self.rules.ignore_paths, path)
        if glob is None and old_path is not None:
            glob = first_match(self.rules.ignore_paths, old_path)
        return None if glob is None else f"ignore path {glob}"

    def finish(self, entry: EntryDiff) -> EntryDiff:
        """Add the group label and the path rule to a new entry."""
        rule = None if entry.category == "unchanged" else self.path_rule(entry.path, entry.old_path)
        if rule is not None:
            return replace(entry, group=self.group(entry.path), same_after_rules=True, rule=rule)
        return replace(entry, group=self.group(entry.path))

    def compare_dir(self, batch: tuple[str, list[str]]) -> tuple[list[EntryDiff], int, int]:
        """Compare the files of one directory present on both sides.

        Returns:
            ``(entries, unchanged, bytes_read)``: unchanged files are counted,
            and listed in ``entries`` only when they are kept.
        """
        rel_dir, names = batch
        prefix = f"{rel_dir}/" if rel_dir else ""
        out: list[EntryDiff] = []
        unchanged = total = 0
        try:
            dir_a = os.open(os.path.join(self.root_a, rel_dir), _DIR_FLAGS)
        except OSError as exc:
            return [self.finish(_unreadable(prefix + n, exc)) for n in names], 0, 0
        try:
            dir_b = os.open(os.path.join(self.root_b, rel_dir), _DIR_FLAGS)
        except OSError as exc:
            os.close(dir_a)
            return [self.finish(_unreadable(prefix + n, exc)) for n in names], 0, 0
        # os calls inline, not through a helper per file: at 100,000 small files the two calls
        # per file were a fifth of the Python time of the compare.
        open_, read_, close = os.open, os.read, os.close
        data_a: bytes | None
        data_b: bytes | None
        try:
            for name in names:
                try:
                    fd = open_(name, _FILE_FLAGS, dir_fd=dir_a)
                    try:
                        data_a = read_(fd, FIRST_READ)
                        size_a = len(data_a)
                        if size_a == FIRST_READ:
                            data_a, size_a = _rest(fd, data_a)
                    finally:
                        close(fd)
                    fd = open_(name, _FILE_FLAGS, dir_fd=dir_b)
                    try:
                        data_b = read_(fd, FIRST_READ)
                        size_b = len(data_b)
                        if size_b == FIRST_READ:
                            data_b, size_b = _rest(fd, data_b)
                    finally:
                        close(fd)
                except OSError as exc:
                    out.append(self.finish(_unreadable(prefix + name, exc)))
                    continue
                if data_a is not None and data_a == data_b:
                    unchanged += 1
                    total += size_a + size_b
                    if self.keep_unchanged:
                        rel = prefix + name
                        out.append(EntryDiff(rel, "unchanged", self.group(rel), "file", "file", size_a, size_b))
                    continue
                entry, read = self.changed_pair(prefix + name, data_a, size_a, data_b, size_b)
                out.append(entry)
                total += read
        finally:
            os.close(dir_a)
            os.close(dir_b)
        return out, unchanged, total

    def changed_pair(
        self, rel: str, data_a: bytes | None, size_a: int, data_b: bytes | None, size_b: int
    ) -> tuple[EntryDiff, int]:
        """The entry of a file pair whose bytes differ (or are too big to hold); bytes read."""
        group = self.group(rel)
        rule = self.path_rule(rel)
        if data_a is not None and data_b is not None:
            verdict = judge(rel, data_a, data_b, self.compiled)
            category = "binary_changed" if verdict.format == "binary" else "changed"
            same = verdict.same_after_rules or rule is not None
            return EntryDiff(rel, category, group, "file", "file", size_a, size_b, format=verdict.format,
                             label=verdict.label, same_after_rules=same, rule=rule or verdict.rule), size_a + size_b
        try:
            read = 0
            if size_a == size_b:
                same_bytes, read = self.same_large(rel)
                if same_bytes:
                    return EntryDiff(rel, "unchanged", group, "file", "file", size_a, size_b), read
            head_a, head_b = self.read(self.root_a, rel, SNIFF_BYTES), self.read(self.root_b, rel, SNIFF_BYTES)
        except self.READ_ERRORS as exc:
            return self.finish(_unreadable(rel, exc)), 0
        read += len(head_a) + len(head_b)
        fmt = "binary" if "binary" in (format_of(rel, head_a), format_of(rel, head_b)) else format_of(rel, head_b)
        category = "binary_changed" if fmt == "binary" else "changed"
        return EntryDiff(rel, category, group, "file", "file", size_a, size_b, format=fmt,
                         same_after_rules=rule is not None, rule=rule), read


_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
FIRST_READ = 1 << 16
"""First read of a file: below the allocator's mmap threshold, so small files cost no mmap/munmap."""


def _rest(fd: int, head: bytes) -> tuple[bytes | None, int]:
    """A whole file (``None`` above ``ANALYZE_MAX``) and its size, given its first ``FIRST_READ`` bytes."""
    size = os.fstat(fd).st_size
    if size > ANALYZE_MAX:
        return None, size
    parts = [head]
    while True:
        chunk = os.read(fd, READ_CHUNK)
        if not chunk:
            break
        parts.append(chunk)
    data = b"".join(parts)
    return data, len(data)


def _unreadable(rel: str, exc: Exception) -> EntryDiff:
    return EntryDiff(rel, "unreadable", kind_a="file", kind_b="file", error=_reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return f"unreadable: {exc.strerror or exc}"
    return str(exc)  # a storage error: already one line naming what happened


def _workers() -> int:
    """Threads comparing files: small files gain little from more (the GIL), cold caches do."""
    return max(2, min(4, os.cpu_count() or 2))


class _Pool:
    """A thread pool made on first use (``concurrent.futures`` is slow to import; forked runs may never need it).

    ``map`` over a handful of items runs them inline.
    """

    INLINE = 8

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._executor: ThreadPoolExecutor | None = None

    def _get(self) -> ThreadPoolExecutor:
        if self._executor is None:
            from concurrent.futures import ThreadPoolExecutor

            self._executor = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="driftdeck-snapdiff")
        return self._executor

    def submit(self, fn: Callable[[T], R], arg: T) -> Future[R]:
        return self._get().submit(fn, arg)

    def map(self, fn: Callable[[T], R], items: list[T]) -> Iterator[R]:
        if len(items) <= self.INLINE:
            return map(fn, items)
        return self._get().map(fn, items)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None


def _ordered(pool: _Pool, fn: Callable[[T], R], items: Iterable[T], stop: threading.Event, window: int) -> Iterator[R]:
    """``pool.map`` with at most ``window`` tasks in flight, stopping on ``stop``."""
    queue: deque[Future[R]] = deque()
    iterator = iter(items)
    try:
        for item in iterator:
            queue.append(pool.submit(fn, item))
            if len(queue) >= window:
                yield queue.popleft().result()
            if stop.is_set():
                return
        while queue:
            yield queue.popleft().result()
            if stop.is_set():
                return
    finally:
        for future in queue:
            future.cancel()


def diff_trees(
    root_a: str,
    root_b: str,
    rules: SnapshotRules = SnapshotRules(),
    stop: threading.Event | None = None,
    *,
    name_a: str = "a",
    name_b: str = "b",
    unchanged: bool = True,
    allow_fork: bool = False,
) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
    """Diff two directory trees.

    Args:
        root_a: Absolute path of the baseline tree.
        root_b: Absolute path of the candidate tree.
        rules: Ignore rules, groups and thresholds.
        stop: Set to stop early (nothing more is yielded, not even the summary).
        name_a: How the summary names the baseline.
        name_b: How the summary names the candidate.
        unchanged: Whether unchanged files are yielded (they are counted anyway).
        allow_fork: Walk and compare in worker processes when this process is
            single-threaded and the trees are big enough (the command line);
            threads otherwise. Either way the same items come in the same order.

    Yields:
        Batches of entries, progress, then the summary.

    Raises:
        UnreadableError: When a root cannot be listed.
    """
    stop = stop or threading.Event()
    ctx = DiffContext(root_a, root_b, rules, unchanged)
    yield DiffProgress("scan", 0, None)
    processes = cores()
    forking = allow_fork and processes > 1 and can_fork() and hasattr(os, "memfd_create")
    split = _split(root_a, root_b, SPLIT_UNITS * processes) if forking else None
    if split is not None:
        yield from _diff_split(ctx, split, stop, processes, name_a, name_b)
        return
    nodes_a = walk_tree(root_a, stop)
    nodes_b = walk_tree(root_b, stop)
    if stop.is_set():
        return
    yield from diff_walked(ctx, nodes_a, nodes_b, stop, name_a, name_b, workers=_workers(),
                           processes=processes if forking else 1)


def diff_walked(
    ctx: DiffContext,
    nodes_a: dict[str, Node],
    nodes_b: dict[str, Node],
    stop: threading.Event,
    name_a: str,
    name_b: str,
    *,
    workers: int,
    processes: int = 1,
) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
    """Pair two walked trees, compare the pairs through ``ctx``, find renames; the items of ``diff_trees``.

    Shared by the directory (``diff_trees``) and storage (``stored.diff_stored``) diffs: one pairing,
    one set of rules and verdicts; only how a file is read differs (``ctx``).

    Args:
        ctx: The diff's context (how files are read).
        nodes_a: The baseline tree, as ``walk_tree`` gives it.
        nodes_b: The candidate tree.
        stop: Set to stop early.
        name_a: How the summary names the baseline.
        name_b: How the summary names the candidate.
        workers: Threads comparing batches of file pairs.
        processes: Worker processes for the compare (1: threads only).
    """
    plan = _plan(ctx, nodes_a, nodes_b, _parents(nodes_a), _parents(nodes_b))
    removed = fill_sizes(ctx.root_a, plan.removed)
    added = fill_sizes(ctx.root_b, plan.added)
    tally = _Tally(ctx.keep_unchanged)
    if plan.simple:
        yield tally(plan.simple)
    yield DiffProgress("compare", 0, plan.total)
    batches = [(d, names[i : i + BATCH]) for d, names in plan.by_dir.items() for i in range(0, len(names), BATCH)]
    pool = _Pool(workers)
    try:
        if processes > 1 and plan.total >= FORK_MIN_FILES and len(batches) <= Claims.MAX:
            # Worker processes: comparing many small files is Python work that threads cannot share.
            done_batches = dict(fork_map(lambda i: ctx.compare_dir(batches[i]), len(batches), workers=processes, stop=stop))
            compared: Iterable[tuple[list[EntryDiff], int, int]] = (done_batches[i] for i in sorted(done_batches))
        else:
            compared = _ordered(pool, ctx.compare_dir, batches, stop, window=workers * 4)
        yield from tally.compared(compared, plan.total, stop)
        if stop.is_set():
            return
        yield from _finish(ctx, pool, tally, removed, added, stop, name_a, name_b, _files(nodes_a), _files(nodes_b))
    finally:
        pool.shutdown()


class _Tally:
    """The counts of the summary, kept as entries are yielded."""

    def __init__(self, unchanged: bool) -> None:
        self.unchanged = unchanged
        self.counts: Counter[str] = Counter()
        self.groups: Counter[str] = Counter()
        self.labels: Counter[str] = Counter()
        self.same_after = 0
        self.done = 0
        self.total = 0
        self.bytes_read = 0

    def __call__(self, entries: list[EntryDiff]) -> list[EntryDiff]:
        """Count ``entries``; those to yield (unchanged ones only when kept)."""
        for entry in entries:
            self.counts[entry.category] += 1
            if entry.label:
                self.labels[entry.label] += 1
            if entry.same_after_rules and entry.category != "unchanged":
                self.same_after += 1
            if entry.is_difference:
                self.groups[entry.group] += 1
        return entries if self.unchanged else [e for e in entries if e.category != "unchanged"]

    def compared(
        self, compared: Iterable[tuple[list[EntryDiff], int, int]], total: int, stop: threading.Event
    ) -> Iterator[list[EntryDiff] | DiffProgress]:
        """Count and yield the results of ``compare_dir`` in order, with progress now and then."""
        self.total = total
        last_report = 0
        for entries, same, read in compared:
            self.bytes_read += read
            self.done += len(entries) + (0 if self.unchanged else same)
            if not self.unchanged:
                self.counts["unchanged"] += same
            yield self(entries)
            if self.done - last_report >= PROGRESS_EVERY:
                last_report = self.done
                yield DiffProgress("compare", self.done, total, self.bytes_read)
        if not stop.is_set():
            yield DiffProgress("compare", self.done, total, self.bytes_read)


def _finish(
    ctx: DiffContext,
    pool: _Pool,
    tally: _Tally,
    removed: list[tuple[str, Node]],
    added: list[tuple[str, Node]],
    stop: threading.Event,
    name_a: str,
    name_b: str,
    files_a: int,
    files_b: int,
) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
    """Renames, then the entries only on one side, then the summary."""
    notes: list[str] = []
    yield DiffProgress("renames", 0, len(removed) + len(added), tally.bytes_read)
    renamed, read = _renames(ctx, pool, removed, added, stop, notes)
    tally.bytes_read += read
    if stop.is_set():
        return
    matched_a = {e.old_path for e in renamed}
    matched_b = {e.path for e in renamed}
    rest = [ctx.finish(_one_side(rel, node, "removed")) for rel, node in removed if rel not in matched_a]
    rest += [ctx.finish(_one_side(rel, node, "added")) for rel, node in added if rel not in matched_b]
    rest += [ctx.finish(e) for e in renamed]
    rest.sort(key=lambda e: e.path)
    if rest:
        yield tally(rest)
    yield DiffProgress("done", tally.done, tally.total, tally.bytes_read)
    yield DiffSummary(
        a=name_a,
        b=name_b,
        categories={c: tally.counts.get(c, 0) for c in CATEGORIES},
        groups=dict(sorted(tally.groups.items())),
        same_after_rules=tally.same_after,
        labels=dict(sorted(tally.labels.items())),
        differences=sum(tally.groups.values()),
        files_a=files_a,
        files_b=files_b,
        bytes_read=tally.bytes_read,
        rules=ctx.rules,
        notes=tuple(notes),
    )


def _files(nodes: dict[str, Node]) -> int:
    """Entries that are not directories."""
    return sum(1 for n in nodes.values() if n.kind != "dir")


def _parents(nodes: Iterable[str]) -> set[str]:
    """The directories that hold at least one of these paths."""
    return {p.rsplit("/", 1)[0] for p in nodes if "/" in p}


@dataclass(slots=True)
class _Plan:
    """What pairing two walked trees decided: entries known at once, and the work left."""

    simple: list[EntryDiff]
    """Entries decided without reading a file (symlinks, kind changes, errors), in path order."""
    by_dir: dict[str, list[str]]
    """Names of the files on both sides, by directory, to compare (directories in order of their first file)."""
    removed: list[tuple[str, Node]]
    added: list[tuple[str, Node]]
    total: int
    """Files to compare."""


def _plan(
    ctx: DiffContext, nodes_a: dict[str, Node], nodes_b: dict[str, Node], parents_a: set[str], parents_b: set[str]
) -> _Plan:
    """Pair the paths of two walked trees, in path order.

    ``parents_*`` name the directories that are not empty on each side (an
    empty directory only on one side is an entry of its own; a full one is
    told by its contents).
    """
    by_dir: dict[str, list[str]] = defaultdict(list)
    removed: list[tuple[str, Node]] = []
    added: list[tuple[str, Node]] = []
    simple: list[EntryDiff] = []
    total = 0
    get_a, get_b = nodes_a.get, nodes_b.get
    for rel in sorted(nodes_a.keys() | nodes_b.keys()):
        na, nb = get_a(rel), get_b(rel)
        if na is _FILE and nb is _FILE:  # nearly every path: a plain file on both sides (the walk shares this node)
            head, _, name = rel.rpartition("/")
            by_dir[head].append(name)
            total += 1
        elif na is not None and nb is not None:
            entry = _pair_entry(rel, na, nb)
            if entry is None:
                if na.kind == "file":
                    head, _, name = rel.rpartition("/")
                    by_dir[head].append(name)
                    total += 1
                continue
            simple.append(ctx.finish(entry))
        elif na is not None:
            if na.error is not None:
                simple.append(ctx.finish(EntryDiff(rel, "unreadable", kind_a=na.kind, error=na.error)))
            elif na.kind != "dir" or rel not in parents_a:
                removed.append((rel, na))
        elif nb is not None:
            if nb.error is not None:
                simple.append(ctx.finish(EntryDiff(rel, "unreadable", kind_b=nb.kind, error=nb.error)))
            elif nb.kind != "dir" or rel not in parents_b:
                added.append((rel, nb))
    return _Plan(simple, by_dir, removed, added, total)


# Two processes, end to end ------------------------------------------------
#
# Measured on 2 vCPUs, 2 x 100,000 files of ~2 KB: walking both trees and
# pairing their paths took 0.5 s of one core before the forked compare began,
# 40 % of the run. Split instead: the trees' directories near the root become
# units (a unit is a directory with everything below it, on both sides), and
# the parent and a forked child each claim units and walk, pair, size and
# compare them whole; the parent then puts the results in the order one
# process would have produced them (see ``_diff_split``).

SPLIT_UNITS = 8
"""Units wanted per process before the split stops descending (more even out uneven directories)."""

SPLIT_DEPTH = 3
"""Levels below the root the split descends at most to find units."""


@dataclass(slots=True)
class _Split:
    """Both trees listed down to the units' level (``top_*``), and the units (relative paths, sorted)."""

    top_a: dict[str, Node]
    top_b: dict[str, Node]
    units: list[str]


def _split(root_a: str, root_b: str, want: int) -> _Split | None:
    """List both trees level by level until there are ``want`` directories to share out (or ``SPLIT_DEPTH``).

    ``None`` when there are fewer than two units: one process then does it all.

    Raises:
        UnreadableError: When a root cannot be listed.
    """
    top_a: dict[str, Node] = {}
    top_b: dict[str, Node] = {}
    level_a = _list_root(root_a, top_a)
    level_b = _list_root(root_b, top_b)
    units = sorted({rel for _, rel in level_a} | {rel for _, rel in level_b})
    for _ in range(SPLIT_DEPTH):
        if len(units) >= want:
            break
        below_a: dict[str, Node] = {}  # kept only if the level below has more directories to share out
        below_b: dict[str, Node] = {}
        next_a, next_b = _list_level(level_a, below_a), _list_level(level_b, below_b)
        below = sorted({rel for _, rel in next_a} | {rel for _, rel in next_b})
        if len(below) <= len(units):
            break
        top_a.update(below_a)
        top_b.update(below_b)
        level_a, level_b, units = next_a, next_b, below
    return _Split(top_a, top_b, units) if len(units) >= 2 else None


def _list_level(level: list[tuple[str, str]], nodes: dict[str, Node]) -> list[tuple[str, str]]:
    """``_list`` every directory of ``level``; all their subdirectories (an unlistable one gets its error)."""
    below: list[tuple[str, str]] = []
    for abs_dir, rel_dir in level:
        try:
            below.extend(_list(abs_dir, rel_dir, nodes))
        except OSError as exc:
            nodes[rel_dir] = Node("dir", 0, error=f"cannot list directory: {exc.strerror or exc}")
    return below


@dataclass(slots=True)
class _Part:
    """What one unit (or the top levels, unit 0) gave, pickled back from a worker process."""

    simple: list[EntryDiff]
    compared: list[tuple[str, int, tuple[list[EntryDiff], int, int]]]
    """``(first file's path in its directory, batch start, compare_dir result)`` for each batch."""
    removed: list[tuple[str, Node]]
    added: list[tuple[str, Node]]
    total: int
    files_a: int
    files_b: int


def _part(ctx: DiffContext, split: _Split, number: int, stop: threading.Event) -> _Part:
    """Walk, pair, size and compare part ``number``: 0 is what the split listed above the units, then each unit."""
    if number == 0:
        units = set(split.units)
        nodes_a = {rel: node for rel, node in split.top_a.items() if rel not in units}
        nodes_b = {rel: node for rel, node in split.top_b.items() if rel not in units}
        parents_a, parents_b = _parents(split.top_a), _parents(split.top_b)  # the units count as contents here
    else:
        unit = split.units[number - 1]
        nodes_a, nodes_b = _unit(ctx.root_a, split.top_a, unit, stop), _unit(ctx.root_b, split.top_b, unit, stop)
        parents_a, parents_b = _parents(nodes_a), _parents(nodes_b)
    plan = _plan(ctx, nodes_a, nodes_b, parents_a, parents_b)
    compared = []
    for rel_dir, names in plan.by_dir.items():
        first = f"{rel_dir}/{names[0]}" if rel_dir else names[0]
        for start in range(0, len(names), BATCH):
            if stop.is_set():
                break
            compared.append((first, start, ctx.compare_dir((rel_dir, names[start : start + BATCH]))))
    return _Part(plan.simple, compared, fill_sizes(ctx.root_a, plan.removed), fill_sizes(ctx.root_b, plan.added),
                 plan.total, _files(nodes_a), _files(nodes_b))


def _unit(root: str, top: dict[str, Node], unit: str, stop: threading.Event) -> dict[str, Node]:
    """The node of ``unit`` on one side (if any) and every entry below it."""
    node = top.get(unit)
    if node is None:
        return {}
    nodes = {unit: node}
    if node.kind == "dir" and node.error is None:
        _walk([(os.path.join(root, unit), unit)], nodes, stop)
    return nodes


def _diff_split(
    ctx: DiffContext, split: _Split, stop: threading.Event, processes: int, name_a: str, name_b: str
) -> Iterator[list[EntryDiff] | DiffProgress | DiffSummary]:
    """``diff_trees`` on worker processes, each claiming whole units; the same items in the same order.

    One process pairs every path in sorted order, so its ``simple`` entries
    are sorted by path, and its directories are compared in the order of
    their first file. Units are disjoint, whole subtrees, so sorting the parts'
    entries by path, and their batches by (first file, batch start), gives
    that order back.
    """
    parts = [part for _, part in fork_map(lambda i: _part(ctx, split, i, stop), len(split.units) + 1,
                                          workers=processes, stop=stop)]
    if stop.is_set():
        return
    tally = _Tally(ctx.keep_unchanged)
    simple = sorted((e for part in parts for e in part.simple), key=lambda e: e.path)
    if simple:
        yield tally(simple)
    total = sum(part.total for part in parts)
    yield DiffProgress("compare", 0, total)
    batches = sorted((b for part in parts for b in part.compared), key=lambda b: (b[0], b[1]))
    yield from tally.compared((result for _, _, result in batches), total, stop)
    if stop.is_set():
        return
    removed = sorted((item for part in parts for item in part.removed), key=lambda item: item[0])
    added = sorted((item for part in parts for item in part.added), key=lambda item: item[0])
    pool = _Pool(_workers())
    try:
        yield from _finish(ctx, pool, tally, removed, added, stop, name_a, name_b,
                           sum(part.files_a for part in parts), sum(part.files_b for part in parts))
    finally:
        pool.shutdown()


def _pair_entry(rel: str, na: Node, nb: Node) -> EntryDiff | None:
    """The entry of a path on both sides, or ``None`` when bytes must be compared (or dirs)."""
    if na.kind == nb.kind and na.kind in ("file", "dir") and na.error is None and nb.error is None:
        return None
    base = EntryDiff(rel, "unchanged", kind_a=na.kind, kind_b=nb.kind, size_a=max(0, na.size), size_b=max(0, nb.size),
                     target_a=na.target, target_b=nb.target)
    if na.error is not None or nb.error is not None:
        return replace(base, category="unreadable", error=na.error or nb.error)
    if na.kind != nb.kind:
        return replace(base, category="type_changed")
    if na.kind in ("file", "dir"):
        return None
    if na.kind == "symlink":
        return base if na.target == nb.target else replace(base, category="symlink_changed")
    return base


def _one_side(rel: str, node: Node, category: str) -> EntryDiff:
    fmt = format_of(rel, None) if node.kind == "file" else None
    if node.error is not None:
        if category == "added":
            return EntryDiff(rel, "unreadable", error=node.error, kind_b=node.kind)
        return EntryDiff(rel, "unreadable", error=node.error, kind_a=node.kind)
    if category == "added":
        return EntryDiff(rel, "added", kind_b=node.kind, size_b=node.size, target_b=node.target, format=fmt)
    return EntryDiff(rel, "removed", kind_a=node.kind, size_a=node.size, target_a=node.target, format=fmt)


def _renames(
    ctx: DiffContext,
    pool: _Pool,
    removed: list[tuple[str, Node]],
    added: list[tuple[str, Node]],
    stop: threading.Event,
    notes: list[str],
) -> tuple[list[EntryDiff], int]:
    """Pair removed and added files into renames: exact by hash, then by similarity for text."""
    gone = [(rel, n.size) for rel, n in removed if n.kind == "file"]
    new = [(rel, n.size) for rel, n in added if n.kind == "file"]
    if not gone or not new:
        return [], 0
    read = 0
    sizes_gone, sizes_new = {s for _, s in gone}, {s for _, s in new}
    both = sizes_gone & sizes_new
    to_hash = [(ctx.root_a, rel) for rel, s in gone if s in both] + [(ctx.root_b, rel) for rel, s in new if s in both]

    def digest(item: tuple[str, str]) -> tuple[str, str, str | None, int]:
        root, rel = item
        try:
            hexdigest, size = ctx.digest(root, rel)
        except ctx.READ_ERRORS:  # an unreadable file is simply no rename candidate
            return root, rel, None, 0
        return root, rel, hexdigest, size

    by_digest_a: dict[str, list[str]] = defaultdict(list)
    by_digest_b: dict[str, list[str]] = defaultdict(list)
    for root, rel, hexdigest, size in pool.map(digest, to_hash):
        read += size
        if hexdigest is not None:
            (by_digest_a if root == ctx.root_a else by_digest_b)[hexdigest].append(rel)
    size_of = dict(gone) | {f"b:{rel}": s for rel, s in new}
    out: list[EntryDiff] = []
    for hexdigest, olds in sorted(by_digest_a.items()):
        news = by_digest_b.get(hexdigest)
        if not news:
            continue
        for old, target in _pair_names(sorted(olds), sorted(news)):
            out.append(EntryDiff(target, "renamed", kind_a="file", kind_b="file", size_a=size_of[old],
                                 size_b=size_of[f"b:{target}"], old_path=old, similarity=100,
                                 format=format_of(target, None)))
    if stop.is_set() or ctx.rules.rename_threshold >= 1.0:
        return out, read
    taken_a = {e.old_path for e in out}
    taken_b = {e.path for e in out}
    left = [(rel, s) for rel, s in gone if rel not in taken_a and 0 < s <= RENAME_MAX_BYTES]
    right = [(rel, s) for rel, s in new if rel not in taken_b and 0 < s <= RENAME_MAX_BYTES]
    if not left or not right:
        return out, read
    if len(left) * len(right) > RENAME_MAX_PAIRS:
        notes.append(f"renames with edits not looked for: {len(left):,} removed x {len(right):,} added files "
                     f"exceed {RENAME_MAX_PAIRS:,} pairs")
        return out, read
    threshold = ctx.rules.rename_threshold
    sized_right = [(rel, s) for rel, s in right]
    if not any(plausible(sa, sb, threshold) for _, sa in left for _, sb in sized_right):
        return out, read

    def profile(item: tuple[str, str]) -> tuple[str, str, Counter[int] | None, int]:
        root, rel = item
        try:
            data = ctx.read(root, rel, RENAME_MAX_BYTES)
        except ctx.READ_ERRORS:  # an unreadable file is simply no rename candidate
            return root, rel, None, 0
        if format_of(rel, data[:SNIFF_BYTES]) == "binary":
            return root, rel, None, len(data)
        return root, rel, chunk_counts(data), len(data)

    profiles: dict[tuple[str, str], Counter[int]] = {}
    items = [(ctx.root_a, rel) for rel, _ in left] + [(ctx.root_b, rel) for rel, _ in right]
    for root, rel, counts, size in pool.map(profile, items):
        read += size
        if counts is not None:
            profiles[(root, rel)] = counts
    scored: list[tuple[float, str, str]] = []
    for old, sa in left:
        pa = profiles.get((ctx.root_a, old))
        if pa is None:
            continue
        for target, sb in right:
            if stop.is_set():
                return out, read
            pb = profiles.get((ctx.root_b, target))
            if pb is None or not plausible(sa, sb, threshold):
                continue
            score = similarity(pa, sa, pb, sb)
            if score >= threshold:
                scored.append((score, old, target))
    scored.sort(key=lambda t: (-t[0], _basename(t[1]) != _basename(t[2]), t[1], t[2]))
    for score, old, target in scored:
        if old in taken_a or target in taken_b:
            continue
        taken_a.add(old)
        taken_b.add(target)
        out.append(EntryDiff(target, "renamed", kind_a="file", kind_b="file", size_a=size_of[old],
                             size_b=size_of[f"b:{target}"], old_path=old, similarity=int(score * 100),
                             content_changed=True, format=format_of(target, None)))
    return out, read


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _pair_names(olds: list[str], news: list[str]) -> list[tuple[str, str]]:
    """Pair identical files, same names first, then in path order."""
    pairs: list[tuple[str, str]] = []
    news_left = list(news)
    olds_left: list[str] = []
    for old in olds:
        match = next((n for n in news_left if _basename(n) == _basename(old)), None)
        if match is None:
            olds_left.append(old)
        else:
            news_left.remove(match)
            pairs.append((old, match))
    pairs.extend(zip(olds_left, news_left, strict=False))  # the leftovers pair in path order; the longer list's tail stays unpaired
    return pairs
