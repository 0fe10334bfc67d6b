"""The watchdog observers the watcher runs on: inotify (tuned) and polling.

Everything that touches watchdog's internals lives in this module. Three
changes to watchdog's inotify path, each for a measured reason:

* Events go straight from the emitter thread into our bounded ``Inbox``
  instead of through watchdog's ``EventQueue`` (which silently merges
  repeated identical events) and its dispatcher thread (one more hop).
* A kernel queue overflow (``IN_Q_OVERFLOW``) and a watch that cannot be
  added (``ENOSPC``: watch limit; ``EMFILE``/``ENOMEM``) are reported to the
  watcher instead of only logged, so the stream can say "events lost" and
  reconcile, or fall back to polling.
* The move-pairing queue is replaced: watchdog's holds *every* event behind
  an ``IN_MOVED_FROM`` for a full 0.5 s, even when its ``IN_MOVED_TO``
  arrives at once; ours releases the pair as soon as it is complete and only
  waits for an unpaired move (one that left the tree).

The kernel is subscribed only to the event types asked for (plus what the
watcher needs to track the tree), through watchdog's ``event_filter``.
"""

from __future__ import annotations

import errno
import os
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    DirMovedEvent,
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
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingEmitter

try:  # watchdog >= 7.1: the inotify internals this module builds on.
    from watchdog.observers.inotify import InotifyEmitter, InotifyWatchGroup
    from watchdog.observers.inotify_c import InotifyFD

    INOTIFY_IMPORT_ERROR: str | None = None
except ImportError as exc:  # another platform, or another watchdog layout
    InotifyEmitter = InotifyWatchGroup = InotifyFD = None  # type: ignore[assignment,misc]
    INOTIFY_IMPORT_ERROR = f"inotify support is not available ({exc})"

WATCH_LIMIT_ERRNOS = (errno.ENOSPC, errno.EMFILE, errno.ENOMEM)

# watchdog warns (on stderr, which would tear the TUI) when two of its own code
# paths race to (un)register one watch; the bookkeeping is right either way.
warnings.filterwarnings("ignore", message=r"Callback with id '\d+' (already exists|does not exist)", category=RuntimeWarning)

_WATCHDOG_CLASSES: dict[str, tuple[type[FileSystemEvent], ...]] = {
    "created": (FileCreatedEvent, DirCreatedEvent),
    "deleted": (FileDeletedEvent, DirDeletedEvent),
    "moved": (FileMovedEvent, DirMovedEvent),
    "modified": (FileModifiedEvent,),
    "opened": (FileOpenedEvent,),
    "closed": (FileClosedEvent,),
    "closed_no_write": (FileClosedNoWriteEvent,),
}


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
    """watchdog event classes for our type names (narrows the inotify mask)."""
    classes: list[type[FileSystemEvent]] = []
    for name in sorted(types):
        classes.extend(_WATCHDOG_CLASSES[name])
    return classes


def converter(types: frozenset[str], sink: Callable[[RawEvent], None]) -> Callable[[FileSystemEvent], None]:
    """A ``queue_event`` replacement: watchdog event -> ``RawEvent`` -> ``sink``.

    Drops what watchdog synthesises on top of the kernel's events and nobody
    asked for: directory "modified" events for every change inside a
    directory, and one "moved" per entry inside a moved directory (the
    directory's own move already says it).
    """
    wanted = set(types)
    monotonic_ns, time_ns = time.monotonic_ns, time.time_ns

    def queue_event(event: FileSystemEvent) -> None:
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

    return queue_event


class _MoveGrouper:
    """Pairs ``IN_MOVED_FROM``/``IN_MOVED_TO`` without stalling other events.

    Drop-in for watchdog's ``InotifyMoveEventGrouper``: a completed pair is
    released at the position of its ``IN_MOVED_FROM`` at once; only an
    unpaired ``IN_MOVED_FROM`` at the head waits (up to ``delay``) for its
    partner before it is released alone (watchdog turns it into a delete).
    """

    delay = 0.5

    def __init__(self) -> None:
        self._items: deque[list[Any]] = deque()
        self._pending: dict[int, list[Any]] = {}
        self._cond = threading.Condition(threading.Lock())
        self._closed = False

    def put_event(self, event: Any) -> None:
        ev = event.ev
        with self._cond:
            if ev.is_moved_from:
                entry = [event, time.monotonic(), ev.cookie]
                self._pending[ev.cookie] = entry
                self._items.append(entry)
            elif ev.is_moved_to and ev.cookie in self._pending:
                entry = self._pending.pop(ev.cookie)
                entry[0] = (entry[0], event)
                entry[2] = None
            else:
                self._items.append([event, 0.0, None])
            self._cond.notify()

    def read_event(self) -> Any:
        with self._cond:
            while True:
                if self._closed:
                    return None
                if not self._items:
                    self._cond.wait()
                    continue
                head = self._items[0]
                if head[2] is not None:
                    left = head[1] + self.delay - time.monotonic()
                    if left > 0:
                        self._cond.wait(left)
                        continue
                    self._pending.pop(head[2], None)
                self._items.popleft()
                return head[0]

    def get_queued_moved_from_event(self, cookie: int) -> Any:
        with self._cond:
            entry = self._pending.get(cookie)
            return None if entry is None else entry[0]

    def discard_pending_events(self) -> None:
        with self._cond:
            self._items.clear()
            self._pending.clear()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()


if InotifyWatchGroup is not None:

    @dataclass
    class _WatchGroup(InotifyWatchGroup):  # type: ignore[misc,valid-type]
        """watchdog's watch group, reporting overflows and failed watches."""

        hooks: Any = None

        def __post_init__(self) -> None:
            self._move_event_grouper = _MoveGrouper()  # type: ignore[assignment]
            super().__post_init__()

        def on_queue_overflow(self) -> None:
            if self.hooks is not None:
                self.hooks.overflow()
            super().on_queue_overflow()

        def _add_callback(self, path: bytes) -> None:
            if path in self._active_callbacks_by_path:
                return  # already watched (a new directory seen both by its event and by a walk)
            try:
                wd = self._inotify_fd.add_callback(path, self.event_mask, self._callback, self._id)
            except OSError as exc:
                if path == self.path:
                    raise  # the root: start_observer falls back to polling
                if exc.errno in WATCH_LIMIT_ERRNOS and self.hooks is not None:
                    self.hooks.watch_failed(os.fsdecode(path), exc)
                return
            self._active_callbacks_by_path[path] = wd
            self._active_callbacks_by_watch[wd] = path

    class _InotifyEmitter(InotifyEmitter):  # type: ignore[misc,valid-type]
        def __init__(self, event_queue: Any, watch: Any, *, hooks: Any, types: frozenset[str], **kwargs: Any) -> None:
            super().__init__(event_queue, watch, **kwargs)
            self._hooks = hooks
            self._convert = converter(types, hooks.event)

        def on_thread_start(self) -> None:
            self._inotify = _WatchGroup(
                self._inotify_fd,
                os.fsencode(self.watch.path),
                is_recursive=self.watch.is_recursive,
                event_mask=self.get_event_mask_from_filter(),
                follow_symlink=self.watch.follow_symlink,
                hooks=self._hooks,
            )

        def queue_event(self, event: FileSystemEvent) -> None:
            self._convert(event)

    class InotifyWatchObserver(BaseObserver):
        """An observer on its own inotify instance, feeding ``hooks``."""

        def __init__(self, hooks: Hooks, types: frozenset[str]) -> None:
            self._inotify_fd = InotifyFD()
            self._inotify_fd.start()
            super().__init__(_InotifyEmitter, timeout=1.0, inotify_fd=self._inotify_fd, hooks=hooks, types=types)

        def on_thread_stop(self) -> None:
            super().on_thread_stop()
            self._inotify_fd.stop()
            self._inotify_fd.join()


class _PollingEmitter(PollingEmitter):
    def __init__(self, event_queue: Any, watch: Any, *, hooks: Any, types: frozenset[str], **kwargs: Any) -> None:
        super().__init__(event_queue, watch, **kwargs)
        self._convert = converter(types, hooks.event)

    def queue_event(self, event: FileSystemEvent) -> None:
        self._convert(event)


class PollingWatchObserver(BaseObserver):
    """watchdog's polling observer (a snapshot diff every ``interval`` s), feeding ``hooks``."""

    def __init__(self, hooks: Hooks, types: frozenset[str], interval: float) -> None:
        super().__init__(_PollingEmitter, timeout=interval, hooks=hooks, types=types)


def start_observer(top: str, hooks: Hooks, types: frozenset[str], *, poll: bool, interval: float) -> tuple[BaseObserver, str | None]:
    """Start watching ``top`` recursively.

    Returns:
        The running observer, and ``None`` when it is inotify, or the reason
        it is the polling observer instead.

    Raises:
        OSError: When even the polling observer cannot start.
    """
    reason: str | None = "polling was asked for" if poll else INOTIFY_IMPORT_ERROR
    if reason is None:
        observer: BaseObserver | None = None
        try:
            observer = InotifyWatchObserver(hooks, types)
            observer.schedule(FileSystemEventHandler(), top, recursive=True, event_filter=event_filter_for(types))
            observer.start()
            return observer, None
        except OSError as exc:
            reason = describe_watch_error(exc)
            if observer is not None:
                stop_observer(observer)
    polling = PollingWatchObserver(hooks, types, interval)
    polling.schedule(FileSystemEventHandler(), top, recursive=True)
    polling.start()
    return polling, reason


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
