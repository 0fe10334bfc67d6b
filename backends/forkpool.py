"""Worker processes for command-line runs: claims over a pipe, results through memory.

A single-threaded process (a CLI command) may fork safely, and its children
run Python on the other cores while the parent works too; threads would share
one interpreter lock, which is what limits work on many small files. Work is
split into numbered items that every process claims from a shared pipe (4
bytes per claim, atomic under ``PIPE_BUF``), so fast and slow processes even
out. ``fork_map`` sends each child's results back pickled in an anonymous
in-memory file (``memfd``), which never blocks the child; ``HashPool`` uses
``Claims`` and ``Children`` with its own shared memory instead.
"""

from __future__ import annotations

import gc
import os
import struct
import threading
from collections.abc import Callable, Iterator

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import TypeVar

    R = TypeVar("R")

_CLAIM = struct.Struct("<I")


def cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def can_fork() -> bool:
    """Whether worker processes may be forked here: POSIX, and exactly one thread."""
    return hasattr(os, "fork") and threading.active_count() == 1


class Claims:
    """Item numbers ``0 .. count-1`` in a pipe; each ``claim`` takes the next free one.

    Create it before forking: every process then reads from the same pipe.
    """

    MAX = 16384
    """Most items: all claims are written before anyone reads, so they must fit a 64 KiB pipe."""

    def __init__(self, count: int) -> None:
        if count > self.MAX:
            raise ValueError(f"{count} items: group them into at most {self.MAX}")
        read_end, write_end = os.pipe()
        try:
            view = memoryview(b"".join(_CLAIM.pack(i) for i in range(count)))
            while view:
                view = view[os.write(write_end, view):]
        finally:
            os.close(write_end)
        self._fd: int | None = read_end

    def claim(self) -> int | None:
        """The next item, or ``None`` when all are taken."""
        if self._fd is None:
            return None
        raw = os.read(self._fd, _CLAIM.size)
        return _CLAIM.unpack(raw)[0] if len(raw) == _CLAIM.size else None

    def close(self) -> None:
        """Release the pipe; idempotent."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


class Children:
    """Forked worker processes, always reaped."""

    def __init__(self) -> None:
        self.pids: list[int] = []
        self.failed: list[str] = []

    def fork(self, body: Callable[[], None]) -> None:
        """Run ``body`` in a new child, which exits when it returns (status 1 if it raised).

        The collector's view of the objects that exist now is frozen until the
        children are reaped, so a collection in either process does not write
        to (and so copy) every page the two still share.
        """
        if not self.pids:
            gc.freeze()
        try:
            pid = os.fork()
        except BaseException:
            if not self.pids:
                gc.unfreeze()
            raise
        if pid == 0:  # pragma: no cover - runs in the child, reported through what body writes
            code = 0
            try:
                body()
            except BaseException:
                code = 1
            finally:
                os._exit(code)
        self.pids.append(pid)

    def reap(self, *, kill: bool = False) -> None:
        """Wait for every child (killing them first when ``kill``); safe to call again.

        A child that did not exit with status 0 is noted in ``failed``
        (unless it was killed here).
        """
        while self.pids:
            pid = self.pids[-1]
            if kill:
                try:
                    os.kill(pid, 9)
                except ProcessLookupError:
                    pass
            try:
                _, status = os.waitpid(pid, 0)
            except ChildProcessError:  # already reaped
                status = 0
            self.pids.pop()  # only once reaped: an interrupted wait is retried by the next reap
            if status and not kill:
                code = os.waitstatus_to_exitcode(status)
                self.failed.append(f"signal {-code}" if code < 0 else f"exit status {code}")
            if not self.pids:
                gc.unfreeze()


def fork_map(
    fn: Callable[[int], R], count: int, *, workers: int, stop: threading.Event | None = None
) -> Iterator[tuple[int, R]]:
    """``(i, fn(i))`` for ``i`` in ``range(count)``, computed by this process and ``workers - 1`` children.

    The caller must have checked ``can_fork()`` and ``os.memfd_create`` (Linux). Results of this process come
    as they are computed; the children's once they have all finished. Results
    must pickle. A child that fails makes the whole call fail (its items
    would be missing otherwise).

    Raises:
        RuntimeError: A worker process failed or died.
    """
    import pickle  # only here: the checksum hasher shares memory instead

    claims = Claims(count)
    children = Children()
    files: list[int] = []
    finished = False
    try:
        for _ in range(workers - 1):
            fd = os.memfd_create("driftdeck-worker", os.MFD_CLOEXEC)
            files.append(fd)

            def body(fd: int = fd) -> None:
                done = [(i, fn(i)) for i in iter(claims.claim, None) if not (stop is not None and stop.is_set())]
                view = memoryview(pickle.dumps(done, protocol=pickle.HIGHEST_PROTOCOL))
                while view:
                    view = view[os.write(fd, view):]

            children.fork(body)
        for i in iter(claims.claim, None):
            if stop is not None and stop.is_set():
                return
            yield i, fn(i)
        children.reap()
        for fd in files:
            size = os.fstat(fd).st_size
            if not size:
                raise RuntimeError("a worker process failed without a result")
            yield from pickle.loads(os.pread(fd, size, 0))
        finished = True
    finally:
        children.reap(kill=not finished)
        claims.close()
        for fd in files:
            os.close(fd)
