"""The start-up self-check: a backend that delivers nothing is a visible fallback, never a silent empty stream."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from watchdog.observers.api import BaseObserver, EventEmitter

from backends.events.model import WatchFilter
from backends.events.observers import RawEvent, start_observer
from tests.backends.test_events_harness import Collector
from tests.conftest import tree_fingerprint

STRUCTURE = frozenset({"created", "deleted", "moved"})


class SilentEmitter(EventEmitter):
    """A real emitter thread that reads nothing: what a broken backend looks like from outside."""

    def queue_events(self, timeout: float) -> None:
        time.sleep(timeout)


def dead_observer() -> BaseObserver:
    return BaseObserver(SilentEmitter, timeout=0.05)


class Sink:
    def __init__(self) -> None:
        self.events: list[RawEvent] = []

    def event(self, raw: RawEvent) -> None:
        self.events.append(raw)

    def overflow(self) -> None:
        raise AssertionError("no overflow expected")

    def watch_failed(self, path: str, error: OSError) -> None:
        raise AssertionError(f"no failed watch expected: {path}: {error}")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux's")
def test_the_installed_watchdog_delivers_events_natively(tmp_path: Path) -> None:
    # Fails (not skips) when the installed watchdog silently delivers nothing: the probe
    # falls back to polling and the backend is no longer inotify.
    with Collector(tmp_path, WatchFilter(types=STRUCTURE)) as watch:
        assert watch.watcher.backend == "inotify", watch.snapshot()[-1].detail
        (tmp_path / "seen.txt").write_text("x")
        watch.wait_for(lambda ev: any(e.type == "created" and e.path == "seen.txt" for e in ev), timeout=10)


def test_a_dead_backend_falls_back_to_polling_and_says_why(tmp_path: Path) -> None:
    before = tree_fingerprint(tmp_path)
    sink = Sink()
    backend = start_observer(str(tmp_path), sink, STRUCTURE, poll=False, interval=0.1, native=dead_observer, probe_timeout=0.3)
    try:
        assert backend.polling
        assert backend.reason is not None and "delivered no event to a start-up probe within 0.3 s" in backend.reason
        assert "watchdog " in backend.reason  # names the version that broke
        assert tree_fingerprint(tmp_path) == before  # the probe never writes under the watched tree
        (tmp_path / "late.txt").write_text("x")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(e.src.endswith("late.txt") for e in sink.events):
            time.sleep(0.02)
        assert any(e.type == "created" and e.src == os.path.join(tmp_path, "late.txt") for e in sink.events)
    finally:
        backend.stop()


def test_the_watchers_stream_says_so_first(tmp_path: Path) -> None:
    with Collector(tmp_path, WatchFilter(types=STRUCTURE, poll_interval=0.1), native=dead_observer) as watch:
        notice = next(e for e in watch.snapshot() if e.type == "notice")
        assert notice.detail.startswith("polling . every 0.1 s: the inotify observer delivered no event to a start-up probe")
        (tmp_path / "p.txt").write_text("x")
        watch.wait_for(lambda ev: any(e.type == "created" and e.path == "p.txt" for e in ev))


def test_the_probe_never_writes_inside_the_watched_tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A watched tree that holds the temporary directory: the probe goes elsewhere, or is skipped.
    inner_tmp = tmp_path / "tmp"
    inner_tmp.mkdir()
    monkeypatch.setenv("TMPDIR", str(inner_tmp))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)  # re-read TMPDIR
    with Collector(tmp_path, WatchFilter(types=STRUCTURE)) as watch:
        assert watch.watcher.backend == "inotify"
        events = watch.settle(quiet=0.3)
    assert not list(inner_tmp.iterdir())
    assert not [e for e in events if not e.is_marker]
