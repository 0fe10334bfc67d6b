"""The watchdog observers the watcher runs on, through watchdog's public API only.

The native observer is ``watchdog.observers.Observer`` (inotify on Linux),
the fallback ``watchdog.observers.polling.PollingObserver``. Both are fed
through ``schedule(handler, top, recursive=True, event_filter=...)``: the
filter narrows what the kernel reports to the types asked for, and our
handler turns watchdog events into ``RawEvent`` for the watcher.

What the watcher needs beyond events, and where it comes from:

* A kernel queue overflow: watchdog's public ``EventsLostEvent`` (listed in
  the filter), queued after watchdog has rebuilt its own watches. The
  watcher then says "events lost" and reconciles with a rescan.
* A watch that cannot be added (``ENOSPC`` watch limit, ``EMFILE``): for the
  root or the start-up walk, ``schedule`` raises ``OSError`` and we poll at
  once. For a directory created later, watchdog only logs a warning and
  carries on with that directory unwatched; ``WatchFailures`` listens to
  that warning (a ``logging.Handler`` on watchdog's module logger, the one
  place it says so) and the watcher falls back to polling with a ``lost``
  marker and a rescan.
* Proof that the backend works at all: ``probe`` watches a private
  temporary directory (never under the watched tree) with the same
  observer, creates a file and waits for its event. A dependency that
  silently delivers nothing becomes a visible fallback to polling.

Costs of the public path (re-measured in ``benchmarks/events.py``): events
take one more thread hop (watchdog's event queue and dispatcher), identical
consecutive events still waiting in that queue are folded by watchdog, and an
``IN_MOVED_FROM`` whose partner has not arrived yet holds the events behind it
(up to 0.5 s for a move out of the tree).
"""

from __future__ import annotations

import errno
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Callable, Protocol

from backends.confine import inside
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
    EventsLostEvent,
    FileAttribEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

WATCH_LIMIT_ERRNOS = (errno.ENOSPC, errno.EMFILE, errno.ENOMEM)
PROBE_TIMEOUT = 2.0
"""Seconds the start-up probe waits for its event before the backend is declared dead."""
WATCHDOG_LOGGER = "watchdog.observers.inotify"
"""The logger watchdog's inotify observer warns on when a subdirectory cannot be watched."""

_WATCHDOG_CLASSES: dict[str, tuple[type[FileSystemEvent], ...]] = {
    "created": (FileCreatedEvent, DirCreatedEvent),
    "deleted": (FileDeletedEvent, DirDeletedEvent),
    "moved": (FileMovedEvent, DirMovedEvent),
    "modified": (FileModifiedEvent, FileAttribEvent),
    "opened": (FileOpenedEvent,),
    "closed": (FileClosedEvent,),
    "closed_no_write": (FileClosedNoWriteEvent,),
}


def watchdog_version() -> str:
    """The installed watchdog's version, for notices."""
    try:
        return version("watchdog")
    except PackageNotFoundError:
        return "unknown"


@dataclass(frozen=True, slots=True)
class RawEvent:
    """What the observer hands the watcher: absolute paths, stamped on receipt."""

    type: str
    src: str
    dest: str | None
    is_dir: bool
    mono_ns: int
    wall_ns: int


class Hooks(Protocol):
    """Where the observers report to (the watcher)."""

    def event(self, raw: RawEvent) -> None: ...

    def overflow(self) -> None: ...

    def watch_failed(self, path: str, error: OSError) -> None: ...


def event_filter_for(types: frozenset[str]) -> list[type[FileSystemEvent]]:
    """watchdog event classes for our type names, plus ``EventsLostEvent`` (narrows the inotify mask)."""
    classes: list[type[FileSystemEvent]] = [EventsLostEvent]
    for name in sorted(types):
        classes.extend(_WATCHDOG_CLASSES[name])
    return classes


def converter(types: frozenset[str], sink: Callable[[RawEvent], None]) -> Callable[[FileSystemEvent], None]:
    """watchdog event -> ``RawEvent`` -> ``sink``.

    Drops what watchdog synthesises on top of the kernel's events and nobody
    asked for: directory "modified" events for every change inside a
    directory, and one "moved" per entry inside a moved directory (the
    directory's own move already says it).
    """
    wanted = set(types)
    monotonic_ns, time_ns = time.monotonic_ns, time.time_ns

    def convert(event: FileSystemEvent) -> None:
        kind = event.event_type
        if kind == "attrib":
            kind = "modified"
        elif kind == "modified" and event.is_directory:
            return
        if kind not in wanted or (kind == "moved" and event.is_synthetic):
            return
        dest = event.dest_path or None
        sink(
            RawEvent(
                kind,
                os.fsdecode(event.src_path),
                None if dest is None else os.fsdecode(dest),
                event.is_directory,
                monotonic_ns(),
                time_ns(),
            )
        )

    return convert


class StreamHandler(FileSystemEventHandler):
    """The handler scheduled on the watched tree: events and losses go to ``hooks``."""

    def __init__(self, hooks: Hooks, types: frozenset[str]) -> None:
        super().__init__()
        self._hooks = hooks
        self._convert = converter(types, hooks.event)

    def dispatch(self, event: FileSystemEvent) -> None:
        """Route one event (overrides the per-type dispatch: one call per event)."""
        if isinstance(event, EventsLostEvent):
            self._hooks.overflow()
        else:
            self._convert(event)


class WatchFailures(logging.Handler):
    """Reports the subdirectories watchdog could not watch under ``top`` to ``hooks``.

    watchdog's inotify observer logs ``Unable to watch <path>: <OSError>`` and
    carries on when a directory created after the start cannot get a watch
    (limit reached). The record's arguments carry the path and the error.
    """

    def __init__(self, top: str, hooks: Hooks) -> None:
        super().__init__(logging.WARNING)
        self.top = top
        self.hooks = hooks

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        error = next((arg for arg in args if isinstance(arg, OSError)), None)
        if error is None or error.errno not in WATCH_LIMIT_ERRNOS:
            return
        path = next((arg for arg in args if isinstance(arg, (str, bytes))), None)
        where = self.top if path is None else os.fsdecode(path)
        if where == self.top or where.startswith(self.top.rstrip("/") + "/"):
            self.hooks.watch_failed(where, error)

    def attach(self) -> None:
        logging.getLogger(WATCHDOG_LOGGER).addHandler(self)

    def detach(self) -> None:
        logging.getLogger(WATCHDOG_LOGGER).removeHandler(self)


class _ProbeHandler(FileSystemEventHandler):
    def __init__(self, target: str) -> None:
        super().__init__()
        self.target = target
        self.seen = threading.Event()

    def dispatch(self, event: FileSystemEvent) -> None:
        if os.fsdecode(event.src_path) == self.target:
            self.seen.set()


def probe_directory(top: str) -> str | None:
    """A private new directory outside ``top`` for the probe, or ``None`` when every candidate is inside it."""
    real_top = os.path.realpath(top)
    # Not tempfile.gettempdir(): its first call writes a test file into $TMPDIR, which may be under ``top``.
    candidates = [os.environ.get(name, "") for name in ("TMPDIR", "TEMP", "TMP")]
    candidates += ["/tmp", "/var/tmp", "/dev/shm", os.path.join(os.path.expanduser("~"), ".cache")]
    for base in filter(None, candidates):
        real = os.path.realpath(base)
        if not os.path.isdir(real) or inside(real_top, real):
            continue
        try:
            return tempfile.mkdtemp(prefix="driftdeck-probe-", dir=real)
        except OSError:
            continue
    return None


def probe(observer: BaseObserver, top: str, timeout: float = PROBE_TIMEOUT) -> str | None:
    """Prove that ``observer`` (started) delivers events: watch a private directory, create a file.

    Returns:
        ``None`` when the probe's event arrived (or no private directory
        outside ``top`` exists, so nothing can be proved without writing under
        it), otherwise why the backend is taken for dead.

    Raises:
        OSError: When the probe's watch cannot be added (a watch limit).
    """
    where = probe_directory(top)
    if where is None:
        return None
    try:
        target = os.path.join(where, "probe")
        handler = _ProbeHandler(target)
        watch = observer.schedule(handler, where, recursive=False, event_filter=[FileCreatedEvent])
        try:
            with open(target, "wb"):
                pass
            if handler.seen.wait(timeout):
                return None
        finally:
            observer.unschedule(watch)
        return (
            f"the inotify observer delivered no event to a start-up probe within {timeout:g} s "
            f"(watchdog {watchdog_version()})"
        )
    finally:
        shutil.rmtree(where, ignore_errors=True)


ObserverFactory = Callable[[], BaseObserver]


class Backend:
    """A running observer on one tree: native, or polling with the reason why.

    Attributes:
        observer: The running watchdog observer.
        reason: ``None`` for the native observer, else why it is polling.
    """

    def __init__(self, observer: BaseObserver, reason: str | None, failures: WatchFailures | None = None) -> None:
        self.observer = observer
        self.reason = reason
        self._failures = failures  # attached by ``start_observer``, detached by ``stop``

    @property
    def polling(self) -> bool:
        return self.reason is not None

    @property
    def stalled(self) -> bool:
        """Whether every emitter thread of the observer has died."""
        emitters = list(self.observer.emitters)
        return bool(emitters) and not any(emitter.is_alive() for emitter in emitters)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the observer and wait (bounded) for its threads."""
        if self._failures is not None:
            self._failures.detach()
            self._failures = None
        stop_observer(self.observer, timeout)


def start_observer(
    top: str,
    hooks: Hooks,
    types: frozenset[str],
    *,
    poll: bool,
    interval: float,
    native: ObserverFactory | None = None,
    probe_timeout: float = PROBE_TIMEOUT,
) -> Backend:
    """Start watching ``top`` recursively, proving the native backend first.

    Args:
        top: Absolute directory to watch.
        hooks: Where events, overflows and failed watches go.
        types: Our event type names to subscribe to.
        poll: Use the polling observer without trying the native one.
        interval: Seconds between polls.
        native: Builds the native observer (default: watchdog's ``Observer``; a test hands a dead one).
        probe_timeout: Seconds the start-up probe waits.

    Returns:
        The running backend: native when ``reason`` is ``None``.

    Raises:
        OSError: When even the polling observer cannot start.
    """
    reason: str | None = "polling was asked for" if poll else None
    if reason is None:
        observer = (native or Observer)()
        failures = WatchFailures(top, hooks)
        failures.attach()  # before the first watch: a directory created during the probe counts too
        try:
            observer.start()
            observer.schedule(StreamHandler(hooks, types), top, recursive=True, event_filter=event_filter_for(types))
            reason = probe(observer, top, probe_timeout)
        except OSError as exc:
            reason = describe_watch_error(exc)
        if reason is None:
            return Backend(observer, None, failures)
        failures.detach()
        stop_observer(observer)
    polling = PollingObserver(timeout=interval)
    polling.schedule(StreamHandler(hooks, types), top, recursive=True)
    polling.start()
    return Backend(polling, reason)


def stop_observer(observer: BaseObserver, timeout: float = 5.0) -> None:
    """Stop an observer and wait (bounded) for its threads."""
    try:
        observer.stop()
    except OSError:
        pass
    if observer.is_alive():
        observer.join(timeout)
    for emitter in list(observer.emitters):
        if emitter.is_alive():
            emitter.join(timeout)


def describe_watch_error(exc: OSError) -> str:
    """A user-facing reason for an inotify failure."""
    if exc.errno == errno.ENOSPC:
        return "the inotify watch limit is reached (fs.inotify.max_user_watches)"
    if exc.errno == errno.EMFILE:
        return "the inotify instance limit is reached (fs.inotify.max_user_instances)"
    if exc.errno == errno.ENOMEM:
        return "the kernel is out of memory for inotify watches"
    return f"inotify failed: {os.strerror(exc.errno) if exc.errno else exc}"
