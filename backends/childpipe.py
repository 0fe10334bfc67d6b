"""Lines from a child Python process's stdout, read on the event loop.

Why a child process: in the process of a terminal UI, a producer thread
shares one GIL and one garbage collector with the UI thread, and each
starves the other (measured for the Live pane's watcher in
``backends/events/child.py`` and the Runs pane's scan in
``backends/runs_child.py``). A child has its own GIL; the parent only reads
and decodes one line per batch.

A plain ``Popen`` and a read-pipe transport, not an asyncio subprocess:
stopping must not need the event loop, which may already be closing. The
child's stderr goes to a temporary file (a pipe could fill up and block it);
its last line names the failure.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import threading
from typing import AsyncGenerator, Callable, Iterable, TypeVar

from backends.errors import UnavailableError

T = TypeVar("T")

LINE_LIMIT = 64 * 1024 * 1024
"""Longest line the parent accepts."""
STOP_WAIT = 5.0
"""Seconds the parent waits at most for the killed child to be reaped."""


class Child:
    """A started child process whose stdout is read later by ``child_lines``.

    Starting it ahead of its reader lets it work while the reader's side is
    still starting up (the Runs scan begins while the TUI imports and composes).

    Args:
        module: The module run with ``python -P -m``.
        args: Its arguments.
        what: How messages name the process ("runs scan").

    Raises:
        UnavailableError: When the process cannot start.
    """

    def __init__(self, module: str, args: list[str], what: str) -> None:
        self.what = what
        self.errors = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(
                # -P: the working directory is not put on sys.path (a "backends" package there must not run)
                [sys.executable, "-P", "-m", module, *args],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.errors,
            )
        except OSError as exc:
            self.errors.close()
            raise UnavailableError(f"cannot start the {what} process: {exc}") from exc

    def close(self) -> None:
        """Kill the process (if still running) and release its pipes."""
        stop(self.proc)
        self.errors.close()

    def failure(self, status: int) -> UnavailableError:
        """The error for an exit with ``status``: the last line the process wrote to stderr."""
        self.errors.seek(0)
        lines = self.errors.read()[-4096:].decode("utf-8", "replace").strip().splitlines()
        return UnavailableError(f"the {self.what} process failed (status {status}): {lines[-1] if lines else 'no message'}")


async def child_lines(module: str, args: list[str], what: str, started: Child | None = None) -> AsyncGenerator[bytes, None]:
    """Each stdout line of ``python -P -m module *args`` until it ends.

    The child is killed when the consumer stops; it should end itself when
    its stdin closes.

    Args:
        module: The module to run.
        args: Its arguments.
        what: How messages name the process.
        started: The same child already started with ``Child`` (its lines are read instead of starting one).

    Raises:
        UnavailableError: When the child cannot start or exits non-zero
            (``what`` names it in the message).
    """
    child = started or Child(module, args, what)
    proc = child.proc
    assert proc.stdout is not None
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=LINE_LIMIT)
    transport = None
    try:
        transport, _ = await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), proc.stdout)
        while True:
            line = await reader.readline()
            if not line:
                break
            yield line
        status = await asyncio.to_thread(proc.wait)
        if status != 0:
            raise child.failure(status)
    finally:
        if transport is not None:
            transport.close()
        child.close()


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the child and reap it (milliseconds; bounded by ``STOP_WAIT``)."""
    if proc.poll() is None:
        proc.kill()
        try:
            proc.wait(STOP_WAIT)
        except subprocess.TimeoutExpired:
            pass  # not reaped yet: Popen reaps it later
    for pipe in (proc.stdin, proc.stdout):
        if pipe is not None:
            pipe.close()


def write_batches(batches: Iterable[T], encode: Callable[[T], bytes], stop: threading.Event, name: str) -> int:
    """The child's side: write each encoded batch to stdout until done, ``stop`` is set, or the parent
    goes (stdin reaches EOF: the parent closed the pipe or died; a closed stdout ends quietly). Exit status 0.
    """

    def orphaned() -> None:
        # os.read, not sys.stdin.buffer: a daemon thread blocked inside a buffered
        # reader aborts the interpreter's exit ("could not acquire lock ... at interpreter shutdown").
        while os.read(0, 65536):
            pass
        stop.set()

    threading.Thread(target=orphaned, name=name, daemon=True).start()
    out = sys.stdout.buffer
    try:
        for batch in batches:
            out.write(encode(batch))
            out.flush()
            if stop.is_set():
                break
    except BrokenPipeError:
        pass
    finally:
        try:
            out.flush()
        except BrokenPipeError:
            pass
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # no flush error on a closed pipe at exit
    return 0
