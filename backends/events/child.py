"""Run the watcher in a child process and stream its batches back through a pipe.

Why: in the process of a terminal UI, the watcher's threads (watchdog's
inotify reader, its emitter, our batching loop: ~6 Python objects and tens
of microseconds per event) share one GIL and one garbage collector with the
UI thread. Measured in the Live pane at ~10,000 events/s on 2 cores: the
inotify reader starved during the UI's work and full collections (up to
~300 ms each), write-to-receipt p95 of hundreds of ms and kernel queue
overflows; the same watcher in its own process (``driftdeck events record``)
had a p95 of ~2 ms. ``watch_in_child`` gives the watcher its own process;
the parent only parses one line per batch.

Protocol (child stdout): one line per batch, a JSON array of events, each
event the array of its fields in ``FsEvent`` order. Paths that are not
valid UTF-8 (surrogate escapes) go through ``json`` with ASCII escapes, so
nothing is lost. The child stops when its stdin closes or on ``SIGTERM``;
a failure is written to stderr (a temporary file) and ends it with a
non-zero status. The parent kills the child when its consumer stops.

Child usage (internal)::

    python -m backends.events.child TOP PREFIX FILTER_JSON
"""

from __future__ import annotations

from contextlib import aclosing

import json
import signal
import sys
import threading
from dataclasses import asdict
from typing import AsyncIterator

import orjson

from backends.childpipe import child_lines, write_batches
from backends.events.model import FsEvent, WatchFilter
from backends.events.ring import to_raw
from backends.events.watcher import watch_events



def encode_batch(batch: list[FsEvent]) -> bytes:
    """One protocol line (with its newline) for ``batch``."""
    rows = [to_raw(event) for event in batch]
    try:
        return orjson.dumps(rows) + b"\n"
    except orjson.JSONEncodeError:  # a lone surrogate (undecodable file name): json escapes it losslessly
        return json.dumps(rows, ensure_ascii=True).encode("ascii") + b"\n"


def decode_batch(line: bytes) -> list[FsEvent]:
    """The inverse of ``encode_batch``."""
    try:
        rows = orjson.loads(line)
    except orjson.JSONDecodeError:
        rows = json.loads(line)
    return [FsEvent(*row) for row in rows]


def filter_json(spec: WatchFilter) -> str:
    """``spec`` with every option, for the child's command line."""
    body = asdict(spec)
    body["types"] = sorted(spec.types)
    return json.dumps(body)


def filter_from_json(text: str) -> WatchFilter:
    """The inverse of ``filter_json``."""
    body = json.loads(text)
    body["types"] = frozenset(body["types"])
    body["include"] = tuple(body["include"])
    body["exclude"] = tuple(body["exclude"])
    return WatchFilter(**body)


async def watch_in_child(top: str, spec: WatchFilter, prefix: str = "") -> AsyncIterator[list[FsEvent]]:
    """Batches of ``watch_events(top, spec, prefix=prefix)``, produced by a child process.

    The child is killed when the consumer stops (it holds nothing worth a
    graceful stop: the kernel drops its inotify instance).

    Raises:
        UnavailableError: When the child cannot start or fails.
    """
    # aclosing: the child is killed when this generator is closed, not when the collector finds the inner one
    async with aclosing(child_lines("backends.events.child", [top, prefix, filter_json(spec)], "watcher")) as lines:
        async for line in lines:
            yield decode_batch(line)


def main(argv: list[str]) -> int:
    """The child: watch, write batches to stdout, stop on stdin EOF or SIGTERM."""
    top, prefix, spec = argv[0], argv[1], filter_from_json(argv[2])
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return write_batches(watch_events(top, spec, stop, prefix=prefix), encode_batch, stop, "driftdeck-watch-parent")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
