"""Hash many files in parallel, each read once, strategy chosen by file size.

``hashlib`` releases the GIL while it hashes a buffer of 2 KiB or more and
``os.readv`` releases it while it reads, so big files hash in parallel on
threads. Small files do not: per-file Python work (open, fstat, close) holds
the GIL, so two threads barely beat one. ``HashPool`` therefore:

- with many files in a single-threaded process (the CLI), forks worker
  processes (``backends.forkpool``) that claim chunks of work from a shared
  pipe and report into a shared anonymous ``mmap``: one status byte per
  file, and a digest slot for files that did not match. Given the expected
  digests, a worker compares them itself, so a match costs the parent
  nothing but a count. Files are opened relative to a cached directory
  descriptor (no full path walk per file). Files of ``BIG_FILE`` bytes or
  more, and anything unusual (symlinks, errors, special files, an empty
  read), are left to threads in the parent afterwards;
- otherwise (the TUI has threads; forking there is unsafe), runs threads.

Forking is only ever done when the calling process has exactly one thread,
so no lock can be inherited in a held state.
"""

from __future__ import annotations

import errno
import hashlib
import itertools
import mmap
import os
import stat as stat_mod
import struct
import threading
import time
from functools import partial
from collections import namedtuple
from collections.abc import Generator, Iterator, Sequence

from backends.confine import describe_mode
from backends.errors import os_reason
from backends.forkpool import Children, Claims, can_fork, cores

BIG_FILE = 1 << 20
"""Files at least this big are hashed by threads, never by forked workers."""

CHUNK = 1 << 20
"""Read size."""

HEAD = 1 << 16
"""First read of a worker's file: files smaller than this take one read and no ``fstat``."""

FORK_MIN_FILES = 1024
"""Fewer files than this are not worth forking for."""

DIR_FDS = 256
"""Directories a worker process keeps open at once (files are opened relative to them)."""

BATCH = 256
"""Results handed over at once (fewer, larger hand-overs between threads)."""

_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
IS_A_DIRECTORY = "is a directory"
"""The reason given for a listed path that is a directory."""

_FADVISE = hasattr(os, "posix_fadvise")
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_SLOT = struct.Struct("<qd32s")
_COUNTERS = struct.Struct("<qq")
_EMPTY, _DONE, _DEFERRED, _MATCHED, _YIELDED = 0, 1, 2, 3, 4
_sha256 = hashlib.sha256


class Outcome(namedtuple("Outcome", "digest size mtime failure reason", defaults=(None, None))):
    """What reading one file gave (a named tuple: one is built per file).

    Attributes:
        digest: Lowercase hex SHA-256, when the file was read to the end.
        size: Size in bytes (``lstat`` of a file that could not be opened).
        mtime: Modification time, epoch seconds.
        failure: ``None``, ``"missing"`` or ``"unreadable"``.
        reason: The OS reason for a failure.
    """

    __slots__ = ()

    digest: str | None
    size: int | None
    mtime: float | None
    failure: str | None
    reason: str | None


def _kind(mode: int) -> str:
    if stat_mod.S_ISDIR(mode):
        return IS_A_DIRECTORY
    kind = describe_mode(mode)  # "a FIFO", "a socket", "a device", ...
    return "not a regular file" if kind in ("a special file", "a symlink") else f"not a regular file ({kind[2:]})"


def inside(real_root: str, path: str) -> bool:
    """Whether ``path`` (already real) is ``real_root`` or below it."""
    return path == real_root or path.startswith(real_root.rstrip("/") + "/")


def hash_file(
    path: str, real_root: str, buf: bytearray, stop: threading.Event | None = None, *, follow: bool = False
) -> Outcome:
    """Hash one file, never raising for an OS error.

    A final symlink is followed only if it resolves inside ``real_root``.

    Args:
        path: Absolute path.
        real_root: ``os.path.realpath`` of the source root.
        buf: A scratch buffer (``CHUNK`` bytes) owned by the calling thread.
        stop: Checked between reads; a stopped hash reports ``unreadable``.
        follow: Open through a final symlink (already checked by the caller).
    """
    try:
        fd = os.open(path, _OPEN_FLAGS if follow else _OPEN_FLAGS | _NOFOLLOW)
    except OSError as exc:
        return _open_failed(path, real_root, buf, stop, exc, follow)
    try:
        st = os.fstat(fd)
        if not stat_mod.S_ISREG(st.st_mode):
            return Outcome(None, st.st_size, st.st_mtime, "unreadable", _kind(st.st_mode))
        if st.st_size >= BIG_FILE and _FADVISE:
            # Read once from start to end: a larger readahead window when the file is not cached
            # (one call per big file; a warm page cache is unaffected).
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
        view = memoryview(buf)
        size = len(buf)
        h = _sha256()
        n = os.readv(fd, (buf,))
        while n:
            h.update(view[:n])
            if n < size:
                break
            if stop is not None and stop.is_set():
                return Outcome(None, st.st_size, st.st_mtime, "unreadable", "cancelled")
            n = os.readv(fd, (buf,))
        return Outcome(h.hexdigest(), st.st_size, st.st_mtime)
    except OSError as exc:
        return Outcome(None, None, None, "unreadable", os_reason(exc))
    finally:
        os.close(fd)


def _open_failed(
    path: str, real_root: str, buf: bytearray, stop: threading.Event | None, exc: OSError, follow: bool
) -> Outcome:
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        if follow:
            try:
                target = os.readlink(path)
            except OSError:
                return Outcome(None, None, None, "missing", os_reason(exc))
            return Outcome(None, None, None, "unreadable", f"dangling symlink -> {target}")
        return Outcome(None, None, None, "missing", os_reason(exc))
    if exc.errno == errno.ELOOP and not follow:
        try:
            st = os.lstat(path)
        except OSError as again:
            return Outcome(None, None, None, "unreadable", os_reason(again))
        if stat_mod.S_ISLNK(st.st_mode):
            try:
                real = os.path.realpath(path)
            except OSError as again:  # pragma: no cover - realpath tolerates loops on 3.11
                return Outcome(None, None, None, "unreadable", os_reason(again))
            if not inside(real_root, real):
                return Outcome(None, st.st_size, st.st_mtime, "unreadable", "symlink points outside the source root")
            return hash_file(path, real_root, buf, stop, follow=True)
    try:
        st = os.lstat(path)
        return Outcome(None, st.st_size, st.st_mtime, "unreadable", os_reason(exc))
    except OSError:
        return Outcome(None, None, None, "unreadable", os_reason(exc))


def _hash_listed(path: str | None, real_root: str, buf: bytearray, stop: threading.Event | None) -> Outcome:
    """``hash_file`` for a pool's path; ``None`` (a name with a NUL byte, see ``HashPool``) names no file."""
    if path is None:
        return Outcome(None, None, None, "unreadable", "the name holds a NUL byte")
    return hash_file(path, real_root, buf, stop)


def _fast_hash(
    name: str, dir_fd: int, buf: bytearray, view: memoryview, expect: str | None
) -> tuple[bytes, int, float] | int | None:
    """The common case only: a small regular file, not a symlink.

    Args:
        name: The file's name inside the directory open as ``dir_fd``.
        dir_fd: An open directory.
        buf: Scratch buffer of ``CHUNK`` bytes; ``view`` is a memoryview of it.
        expect: The SHA-256 it should have (lowercase hex), or ``None``.

    Returns:
        The number of bytes read when the content hashes to ``expect``;
        otherwise ``(digest, size, mtime)`` for a regular file; or ``None``
        when the careful path must decide (errors, symlinks, special files,
        big files, an empty read, a file that changed size meanwhile).

    With ``expect``, a file under ``HEAD`` bytes costs four system calls:
    open, one positional read (which FIFOs and terminals refuse, so what a
    writer sent them is never consumed), close, and nothing else; a read that
    fills ``HEAD`` asks ``fstat`` whether the file is small and regular before
    reading on, and a digest that differs is only reported when ``fstat``
    agrees on the size read.
    """
    try:
        fd = os.open(name, _OPEN_FLAGS | _NOFOLLOW, dir_fd=dir_fd)
    except OSError:
        return None
    try:
        st = None
        if expect is None:
            st = os.fstat(fd)
            if st.st_size >= BIG_FILE or not stat_mod.S_ISREG(st.st_mode):
                return None
            n = os.readv(fd, (buf,))
            if n == CHUNK:  # grew past BIG_FILE since fstat
                return None
        else:
            n = os.preadv(fd, (view[:HEAD],), 0)
            if n == 0:  # empty, or a device that reads nothing: look closer
                return None
            if n == HEAD:
                st = os.fstat(fd)
                if st.st_size >= BIG_FILE or not stat_mod.S_ISREG(st.st_mode):
                    return None
                n += os.preadv(fd, (view[HEAD:],), HEAD)
                if n == CHUNK:  # grew past BIG_FILE
                    return None
        h = _sha256(view[:n])
        if expect is not None:
            if h.hexdigest() == expect:
                return n
            st = os.fstat(fd)
            if st.st_size != n or not stat_mod.S_ISREG(st.st_mode):
                return None  # changing, or a short read: the careful path reads it again
        assert st is not None
        return h.digest(), st.st_size, st.st_mtime
    except OSError:
        return None
    finally:
        os.close(fd)


class HashPool:
    """Hash ``paths`` in parallel; ``results()`` yields ``(index, Outcome)`` as they complete.

    Args:
        paths: Absolute paths; indexes into this sequence identify results.
            A worker process reads nothing for a ``None`` path, nor in a
            directory that resolves outside ``real_root``: those, like
            every unusual file, are left to the careful path.
        real_root: ``os.path.realpath`` of the source root (symlinks may not leave it).
        workers: Parallelism (default: the cores this process may use).
        stop: Set to cancel; every worker stops between reads.
        allow_fork: Permit worker processes (still only when single-threaded).
        sizes: File sizes, if known (thread mode uses them to choose who hashes what).
        expected: The SHA-256 each file should have (lowercase hex). A file whose
            digest equals its expected one is not yielded: it is counted in
            ``matched`` and its bytes in ``matched_bytes``, which is what
            keeps verifying many small files cheap.
    """

    def __init__(
        self,
        paths: Sequence[str | None],
        real_root: str,
        *,
        workers: int | None = None,
        stop: threading.Event | None = None,
        allow_fork: bool = True,
        sizes: Sequence[int] | None = None,
        expected: Sequence[str] | None = None,
    ) -> None:
        self.paths = paths
        self.sizes = sizes
        self.expected = expected
        self.real_root = real_root
        self.workers = max(1, workers or cores())
        self.stop = stop or threading.Event()
        self.matched = 0
        self.matched_bytes = 0
        self.forked = (
            allow_fork
            and self.workers > 1
            and len(paths) >= FORK_MIN_FILES
            and can_fork()
        )
        self._children = Children()
        self._shared: mmap.mmap | None = None
        self._claims: Claims | None = None
        self._chunk = 0
        self._started = False
        n = len(paths)
        self._counters_at = -(-n // 8) * 8  # after one status byte per path
        self._slots_at = self._counters_at + _COUNTERS.size * self.workers

    def start(self) -> None:
        """Fork the worker processes (fork mode); threads start in ``results()``."""
        if self._started:
            return
        self._started = True
        if self.forked:
            try:
                self._fork()
            except OSError:  # no process, pipe or memory to spare: hash on threads
                self.close()
                self.forked = False

    # Fork mode -------------------------------------------------------------
    #
    # Shared anonymous memory: one status byte per path, then per-worker
    # counters (matched files, matched bytes), then a slot per path for a
    # digest that did not match (or every digest, without ``expected``).

    def _fork(self) -> None:
        n = len(self.paths)
        self._chunk = chunk = max(64, -(-n // 8192))
        self._shared = mmap.mmap(-1, self._slots_at + n * _SLOT.size)
        self._claims = Claims(-(-n // chunk))
        for worker in range(1, self.workers):
            self._children.fork(partial(self._run_worker, worker))

    def _run_worker(self, worker: int) -> None:  # pragma: no cover - runs in a child
        for _ in self._work_claims(worker):
            pass

    def _claim(self) -> range | None:
        assert self._claims is not None
        number = self._claims.claim()
        if number is None:
            return None
        first = number * self._chunk
        return range(first, min(first + self._chunk, len(self.paths)))

    def _work_claims(self, worker: int) -> Iterator[int]:
        """Hash claimed chunks into shared memory; yield each index given a slot here.

        Each directory is opened once per run of paths in it, and files are
        opened relative to it (no full path walk per file).
        """
        shared = self._shared
        assert shared is not None
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        paths, expected = self.paths, self.expected
        pack_into = _SLOT.pack_into
        size, slots_at = _SLOT.size, self._slots_at
        matched = matched_bytes = 0
        dir_fds: dict[str, int] = {}  # open directories (-1: could not be opened)
        try:
            while not self.stop.is_set():
                claimed = self._claim()
                if claimed is None:
                    return
                first, last = claimed.start, claimed.stop
                wanted = [None] * (last - first) if expected is None else expected[first:last]
                for i, path, expect in zip(claimed, paths[first:last], wanted, strict=True):
                    if path is None:  # nothing this worker may read: the careful path decides
                        shared[i] = _DEFERRED
                        continue
                    directory, _, name = path.rpartition("/")
                    dir_fd = dir_fds.get(directory)
                    if dir_fd is None:
                        if len(dir_fds) >= DIR_FDS:
                            _close_all(dir_fds)
                        dir_fd = dir_fds[directory] = _open_dir(directory or "/", self.real_root)
                    got = None if dir_fd < 0 else _fast_hash(name, dir_fd, buf, view, expect)
                    if got is None:
                        shared[i] = _DEFERRED
                    elif isinstance(got, int):
                        shared[i] = _MATCHED
                        matched += 1
                        matched_bytes += got
                    else:
                        pack_into(shared, slots_at + i * size, got[1], got[2], got[0])
                        shared[i] = _DONE
                        yield i
        finally:
            _close_all(dir_fds)
            _COUNTERS.pack_into(shared, self._counters_at + worker * _COUNTERS.size, matched, matched_bytes)

    def _outcome(self, i: int) -> Outcome:
        assert self._shared is not None
        fsize, mtime, digest = _SLOT.unpack_from(self._shared, self._slots_at + i * _SLOT.size)
        return Outcome(digest.hex(), fsize, mtime)

    def _reap(self) -> None:
        """Wait for every worker process (killing them first when stopped); safe to call again."""
        self._children.reap(kill=self.stop.is_set())
        if self._claims is not None:
            self._claims.close()
            self._claims = None

    # Thread mode -----------------------------------------------------------

    def _threaded(self, indexes: Sequence[int]) -> Iterator[list[tuple[int, Outcome]]]:
        """Hash on threads: big files on worker threads, small ones inline.

        Small files gain nothing from more threads (their per-file work holds
        the GIL) and lose a lot to GIL hand-overs, so when sizes are known
        the calling thread hashes them itself while the workers hash the big
        ones (largest first). Without sizes, every file goes to the workers.
        """
        import queue  # thread mode only

        results: queue.SimpleQueue[list[tuple[int, Outcome]] | None] = queue.SimpleQueue()
        paths, real_root, stop, sizes = self.paths, self.real_root, self.stop, self.sizes
        if sizes is None:
            big, small = list(indexes), []
        else:
            big = sorted((i for i in indexes if sizes[i] >= BIG_FILE), key=lambda i: -sizes[i])
            small = [i for i in indexes if sizes[i] < BIG_FILE]
        big_next = itertools.count()

        def work() -> None:
            buf = bytearray(CHUNK)
            batch: list[tuple[int, Outcome]] = []
            since = time.monotonic()
            try:
                while not stop.is_set():
                    k = next(big_next)
                    if k >= len(big):
                        break
                    i = big[k]
                    outcome = _hash_listed(paths[i], real_root, buf, stop)
                    batch.append((i, outcome))
                    if len(batch) >= BATCH or (outcome.size or 0) >= BIG_FILE or time.monotonic() - since > 0.05:
                        results.put(batch)
                        batch = []
                        since = time.monotonic()
            finally:
                if batch:
                    results.put(batch)
                results.put(None)

        count = min(self.workers, len(big))
        threads = [threading.Thread(target=work, name=f"driftdeck-hash-{n}", daemon=True) for n in range(count)]
        for thread in threads:
            thread.start()
        running = count
        try:
            if small:
                buf = bytearray(CHUNK)
                batch: list[tuple[int, Outcome]] = []
                since = time.monotonic()
                for i in small:
                    if stop.is_set():
                        break
                    batch.append((i, _hash_listed(paths[i], real_root, buf, stop)))
                    if len(batch) >= BATCH or time.monotonic() - since > 0.05:
                        yield batch
                        batch = []
                        since = time.monotonic()
                        while running:
                            try:
                                item = results.get_nowait()
                            except queue.Empty:
                                break
                            if item is None:
                                running -= 1
                            else:
                                yield item
                if batch:
                    yield batch
            while running:
                item = results.get()
                if item is None:
                    running -= 1
                else:
                    yield item
        finally:
            if running:  # the consumer went away early: stop the threads
                self.stop.set()
            for thread in threads:
                thread.join()

    # Both ------------------------------------------------------------------

    def results(self) -> Generator[list[tuple[int, Outcome]], None, None]:
        """Batches of ``(index, outcome)``, in completion order (matches left out, see ``expected``)."""
        self.start()
        try:
            if self.forked:
                yield from self._forked_results()
            else:
                yield from self._unmatched(self._threaded(range(len(self.paths))))
        finally:
            self.close()

    def _unmatched(self, batches: Iterator[list[tuple[int, Outcome]]]) -> Iterator[list[tuple[int, Outcome]]]:
        """Count and drop the outcomes that match ``expected`` (all pass without it)."""
        expected = self.expected
        if expected is None:
            yield from batches
            return
        for batch in batches:
            kept = []
            for item in batch:
                outcome = item[1]
                if outcome.digest is not None and outcome.digest == expected[item[0]]:
                    self.matched += 1
                    self.matched_bytes += outcome.size or 0
                else:
                    kept.append(item)
            if kept:
                yield kept

    def _forked_results(self) -> Iterator[list[tuple[int, Outcome]]]:
        shared = self._shared
        assert shared is not None
        batch: list[tuple[int, Outcome]] = []
        for i in self._work_claims(0):
            batch.append((i, self._outcome(i)))
            shared[i] = _YIELDED
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        self._reap()
        if self.stop.is_set():
            return
        if self._children.failed:
            raise RuntimeError(f"a hashing worker process died ({self._children.failed[0]}); its files were not all examined")
        for worker in range(self.workers):
            files, nbytes = _COUNTERS.unpack_from(shared, self._counters_at + worker * _COUNTERS.size)
            self.matched += files
            self.matched_bytes += nbytes
        status = shared[: len(self.paths)]
        batch = []
        for i in _positions(status, _DONE):  # hashed by the other processes
            batch.append((i, self._outcome(i)))
            if len(batch) >= BATCH:
                yield batch
                batch = []
        if batch:
            yield batch
        leftovers = sorted([*_positions(status, _DEFERRED), *_positions(status, _EMPTY)])
        if leftovers:
            yield from self._unmatched(self._threaded(leftovers))

    def close(self) -> None:
        """Stop and reap worker processes, release the shared memory; idempotent."""
        if self._children.pids:
            self.stop.set()
        self._reap()
        if self._shared is not None:
            self._shared.close()
            self._shared = None


def _open_dir(directory: str, real_root: str) -> int:
    """A descriptor of ``directory`` if it resolves inside ``real_root``, else -1 (nothing is read there)."""
    if not inside(real_root, os.path.realpath(directory)):
        return -1
    try:
        return os.open(directory, _DIR_FLAGS)
    except OSError:
        return -1


def _close_all(dir_fds: dict[str, int]) -> None:
    for fd in dir_fds.values():
        if fd >= 0:
            os.close(fd)
    dir_fds.clear()


def _positions(data: bytes, value: int) -> Iterator[int]:
    """Every index of ``value`` in ``data`` (searched in C, so sparse hits cost little)."""
    needle = bytes((value,))
    i = data.find(needle)
    while i >= 0:
        yield i
        i = data.find(needle, i + 1)


def hash_paths(
    paths: Sequence[str], real_root: str, *, workers: int | None = None, stop: threading.Event | None = None
) -> Iterator[tuple[int, Outcome]]:
    """``(index, outcome)`` for each path, hashed on threads (never forks)."""
    for batch in HashPool(paths, real_root, workers=workers, stop=stop, allow_fork=False).results():
        yield from batch

