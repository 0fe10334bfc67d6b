"""A real watcher on a thread, collecting its events, for the live-event tests.

(Named ``test_events_*`` so it sits with the tests it serves; it holds no tests.)
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterable

from backends.events.model import FsEvent, WatchFilter
from backends.events.tree import Tree
from backends.events.watcher import Watcher


class Collector:
    """Runs ``Watcher.batches`` on a thread; ``events`` grows as batches arrive.

    Args:
        top: Directory to watch.
        spec: The watch filter.
        prefix: Prefix of event paths (the directory relative to a source root).
        delay: Seconds to sleep after each batch (a slow consumer).
    """

    def __init__(
        self, top: Path, spec: WatchFilter = WatchFilter(), prefix: str = "", delay: float = 0.0, native: Any = None
    ) -> None:
        self.watcher = Watcher(str(top), spec, prefix, native=native)
        self.stop = threading.Event()
        self.events: list[FsEvent] = []
        self.error: BaseException | None = None
        self.delay = delay
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, name="test-collector", daemon=True)

    def _run(self) -> None:
        try:
            for batch in self.watcher.batches(self.stop):
                with self._lock:
                    self.events.extend(batch)
                if self.delay:
                    time.sleep(self.delay)
        except BaseException as exc:  # re-raised by the test through ``check``
            self.error = exc

    def __enter__(self) -> "Collector":
        self._thread.start()
        self.wait_for(lambda events: any(e.type == "notice" for e in events), what="the start notice")
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self._thread.join(15)
        assert not self._thread.is_alive(), "the watcher did not stop"

    def snapshot(self) -> list[FsEvent]:
        with self._lock:
            return list(self.events)

    def wait_for(self, predicate: Callable[[list[FsEvent]], bool], timeout: float = 20.0, what: str = "") -> list[FsEvent]:
        """Wait until ``predicate(events)`` holds (no timing assertion: a generous cap)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            events = self.snapshot()
            if predicate(events):
                return events
            time.sleep(0.02)
        raise AssertionError(f"timed out waiting for {what or predicate}; got {len(self.snapshot())} events")

    def settle(self, quiet: float = 0.8, timeout: float = 60.0) -> list[FsEvent]:
        """Wait until no event has arrived for ``quiet`` seconds and the queue is drained."""
        deadline = time.monotonic() + timeout
        count, since = -1, time.monotonic()
        while time.monotonic() < deadline:
            if self.error is not None:
                raise self.error
            now = len(self.snapshot())
            if now != count:
                count, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet and len(self.watcher.inbox) == 0:
                return self.snapshot()
            time.sleep(0.05)
        raise AssertionError("the event stream never went quiet")


def implied_tree(events: Iterable[FsEvent]) -> set[tuple[str, bool]]:
    """The set of ``(path, is_dir)`` a reader of the stream believes exist."""
    tree = Tree()
    for event in events:
        if event.type in ("exists", "created"):
            tree.add(event.path, event.is_dir)
        elif event.type == "deleted":
            tree.remove(event.path)
        elif event.type == "moved" and event.dest is not None:
            if not tree.move(event.path, event.dest):
                tree.add(event.dest, event.is_dir)
    return {(path, is_dir) for path, is_dir, _ in tree.walk()}


def real_tree(top: Path, prefix: str = "") -> set[tuple[str, bool]]:
    """The set of ``(path, is_dir)`` on disk under ``top``."""
    lead = f"{prefix}/" if prefix else ""
    return {(lead + path, is_dir) for path, is_dir, _ in Tree.scan(str(top)).walk()}
