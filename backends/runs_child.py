"""Scan a local workspace's runs in a child process and stream compact batches back.

Why: the Runs pane used to scan on a thread of the TUI's process. Reading
100,000 status files there shares one GIL with rendering; measured on 2
cores, the pane's scan took 15.0 s where ``quarantine list`` (the same
``discover_runs``, alone in its process) took 1.8 s. In a child process the
scan runs at CLI speed and the parent only decodes one line per batch.

Protocol (child stdout): one line per batch, a JSON array of runs, each run
the array ``[run_id, key, state, reason_code, updated_at, sort_ts, problem]``
where ``problem`` is ``null`` or ``[path, line, message]``. Names that are
not valid UTF-8 go through ``json`` with ASCII escapes. The child stops when
its stdin closes; a failure goes to stderr and a non-zero status.

Child usage (internal)::

    python -m backends.runs_child SPEC
"""

from __future__ import annotations

from contextlib import aclosing

import json
import sys
import threading
from typing import Any, AsyncGenerator, Iterator

import orjson

from backends.childpipe import Child, child_lines, write_batches
from backends.models import Problem, RunQuery, RunSummary

FIRST_BATCH = 64
"""Runs in the first batch: the first screen fills sooner; later batches double up to ``BATCH``."""
BATCH = 2000


def encode_batch(batch: list[RunSummary]) -> bytes:
    """One protocol line (with its newline) for ``batch``."""
    rows = [
        [r.run_id, r.key, r.state, r.reason_code, r.updated_at, r.sort_ts,
         None if r.problem is None else [r.problem.path, r.problem.line, r.problem.message]]
        for r in batch
    ]
    try:
        return orjson.dumps(rows) + b"\n"
    except orjson.JSONEncodeError:  # a lone surrogate (undecodable name): json escapes it losslessly
        return json.dumps(rows, ensure_ascii=True).encode("ascii") + b"\n"


def decode_batch(line: bytes) -> list[RunSummary]:
    """The inverse of ``encode_batch``."""
    try:
        rows: list[list[Any]] = orjson.loads(line)
    except orjson.JSONDecodeError:
        rows = json.loads(line)
    return [
        RunSummary(a, b, c, d, e, f, None if p is None else Problem(*p))
        for a, b, c, d, e, f, p in rows
    ]


def batches(runs: Iterator[RunSummary]) -> Iterator[list[RunSummary]]:
    """``runs`` in batches of ``FIRST_BATCH``, doubling up to ``BATCH``."""
    chunk: list[RunSummary] = []
    size = FIRST_BATCH
    for run in runs:
        chunk.append(run)
        if len(chunk) >= size:
            yield chunk
            chunk = []
            size = min(BATCH, size * 2)
    if chunk:
        yield chunk


MODULE = "backends.runs_child"
WHAT = "runs scan"


def start_scan(root: str) -> Child:
    """Start the scan of the workspace at ``root`` now; ``scan_runs_in_child`` reads it later.

    Raises:
        UnavailableError: When the child cannot start.
    """
    return Child(MODULE, [root], WHAT)


async def scan_runs_in_child(root: str, started: Child | None = None) -> AsyncGenerator[list[RunSummary], None]:
    """Every run of the local workspace at ``root``, in path order, scanned by a child process.

    Args:
        root: The workspace directory.
        started: Its scan, already started by ``start_scan`` (else one starts now).

    Raises:
        UnavailableError: When the child cannot start or fails.
    """
    # aclosing: the child is killed when this generator is closed, not when the collector finds the inner one
    async with aclosing(child_lines(MODULE, [root], WHAT, started)) as lines:
        async for line in lines:
            yield decode_batch(line)


def main(argv: list[str]) -> int:
    """The child: scan, write batches to stdout, stop early on stdin EOF."""
    from backends.rooted import Rooted
    from backends.runs import discover_runs

    source = Rooted(argv[0])
    stop = threading.Event()
    return write_batches(batches(discover_runs(source.root, source.layout, RunQuery())), encode_batch, stop, "driftdeck-scan-parent")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
