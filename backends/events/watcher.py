"""``Watcher``: a watchdog observer turned into an ordered, loss-aware event stream.

Pipeline::

    kernel -> watchdog threads -> Inbox (bounded) -> Watcher.batches() -> consumer

``batches(stop)`` is a plain generator of ``list[FsEvent]``; run it on a
thread (``backends.threadstream.iterate_in_thread``). It keeps a ``Tree`` --
the picture of the watched tree implied by the stream -- and guarantees that
the stream is causally consistent with it:

* A loss (kernel ``IN_Q_OVERFLOW``, our inbox full, a watch that cannot be
  added) becomes a ``lost`` marker at the place it happened, followed by a
  rescan whose differences with the picture are emitted as ``reconciled``
  events, then a ``resynced`` marker once the events queued during the
  rescan are worked off. A watch limit also switches to polling, with a
  ``notice``.
* An event that contradicts the picture (the create of something that
  already exists, a delete of something gone) can only be a stale duplicate
  of what a scan already reported; it is folded away and counted
  (``superseded``). A change on a path the picture lacks is checked on disk:
  present means the picture missed it (emitted as ``reconciled`` created
  first), absent means it is stale.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Iterator

from backends.events.debounce import Coalescer, Held
from backends.events.filters import EventFilter
from backends.events.inbox import Inbox, Loss
from backends.events.model import STRUCTURE_TYPES, FsEvent, WatchFilter, display_path
from backends.events.observers import Backend, ObserverFactory, RawEvent, describe_watch_error, start_observer
from backends.events.tree import Tree, diff_trees

BATCH = 4096
"""Events handed to the consumer at most per batch."""
IDLE_WAIT = 0.05
"""Seconds the watcher waits for the first event of a batch."""
LATENCY_BACKLOG = 2048
"""Above this many queued events the watcher stops measuring latency (it costs a stat)."""
LATENCY_SPACING_NS = 1_000_000
"""Latency is sampled: at most one file stat per millisecond of event time."""


class _Sentinel:
    """Put in the inbox after a scan: everything before it predates the scan's end."""

    __slots__ = ("after_loss",)

    def __init__(self, after_loss: bool) -> None:
        self.after_loss = after_loss


class Watcher:
    """Watches one directory recursively and yields ordered batches of ``FsEvent``.

    Args:
        top: Absolute path of the directory to watch.
        spec: Types, globs and options.
        prefix: ``top`` relative to the source root; prepended to event paths.
        native: Builds the native observer (default: watchdog's ``Observer``);
            a test hands a dead one to see the start-up probe fall back.
    """

    def __init__(
        self, top: str, spec: WatchFilter = WatchFilter(), prefix: str = "", native: ObserverFactory | None = None
    ) -> None:
        self.top = os.path.abspath(top)
        self.spec = spec
        self.prefix = prefix.strip("/")
        self.subscribed = frozenset(spec.types) | STRUCTURE_TYPES
        self.inbox = Inbox(spec.queue_size, self.top)
        self.filter = EventFilter(spec, self.top, self.prefix)
        self.coalescer = Coalescer(spec.debounce_ms * 1_000_000) if spec.debounce_ms else None
        self.tree = Tree()
        self.backend = "none"
        """``inotify`` or ``polling``."""
        self.superseded = 0
        """Stale events folded away since the start."""
        self.reconciled = 0
        """Synthetic events emitted by rescans since the start."""
        self.losses = 0
        """``lost`` markers emitted since the start."""
        self._backend: Backend | None = None
        self._native = native
        self._seq = 0
        self._last_mono = 0
        self._resync: list[int] | None = None  # [reconciled, superseded] since the last loss
        self._fallback_reason: str | None = None
        self._next_latency = 0
        self._outstanding = 0  # rescans whose sentinel has not come out of the inbox yet
        self._cut = len(self.top) + 1

    # Hooks called on watchdog's threads -------------------------------------------

    def event(self, raw: RawEvent) -> None:
        self.inbox.put(raw)

    def overflow(self) -> None:
        self.inbox.put_marker(Loss(None, "the kernel's inotify queue overflowed (IN_Q_OVERFLOW)", self.top))

    def watch_failed(self, path: str, error: OSError) -> None:
        reason = describe_watch_error(error)
        self._fallback_reason = reason
        self.inbox.put_marker(Loss(None, f"cannot watch {self._show(self._full(self._rel(path) or '')) or '.'}: {reason}", path, fallback=True))

    # The stream ----------------------------------------------------------------------

    def batches(self, stop: threading.Event) -> Iterator[list[FsEvent]]:
        """Yield batches until ``stop`` is set (or the watched directory goes away)."""
        try:
            yield from self._run(stop)
        finally:
            if self._backend is not None:
                self._backend.stop()
                self._backend = None

    def _run(self, stop: threading.Event) -> Iterator[list[FsEvent]]:
        out: list[FsEvent] = []
        self._start(out, self.spec.poll)
        self.tree = Tree.scan(self.top, stop)
        self.inbox.put_marker(_Sentinel(after_loss=False))
        if self.spec.baseline:
            for path, is_dir, _ in self.tree.walk():
                full = self._full(path)
                if self.filter.path_shown(full, is_dir):
                    self._emit(out, "exists", full, is_dir=is_dir)
                    if len(out) >= BATCH:
                        yield out
                        out = []
        self._emit(out, "notice", self.prefix, detail=self._start_notice())
        last_health = time.monotonic()
        while not stop.is_set():
            items = self.inbox.take(BATCH, IDLE_WAIT)
            for item in items:
                if type(item) is RawEvent:
                    self._apply(item, out)
                elif type(item) is Loss:
                    self._reconcile(item, out, stop)
                elif type(item) is _Sentinel:
                    self._settled(item, out)
                if len(out) >= BATCH:
                    yield out
                    out = []
            if self.coalescer is not None:
                self._release(out, self.coalescer.due(time.monotonic_ns()))
            if out:
                yield out
                out = []
            if self.top_gone:
                self._emit(out, "notice", self.prefix, detail=f"{self.prefix or '.'} was deleted; the watch ended")
                yield out
                return
            if time.monotonic() - last_health > 1.0:
                last_health = time.monotonic()
                self._check_health()
        if self.coalescer is not None:
            self._release(out, self.coalescer.release_all())
            if out:
                yield out

    @property
    def top_gone(self) -> bool:
        """Whether the watched directory itself has disappeared."""
        return not os.path.isdir(self.top) if self._top_event_seen else False

    _top_event_seen = False

    def _start(self, out: list[FsEvent], poll: bool) -> None:
        self._backend = start_observer(
            self.top, self, self.subscribed, poll=poll, interval=self.spec.poll_interval, native=self._native
        )
        self.backend = "polling" if self._backend.polling else "inotify"
        self._poll_reason = self._backend.reason

    def _start_notice(self) -> str:
        where = self.prefix or "."
        if self.backend == "inotify":
            return f"watching {where} with inotify, recursively: {len(self.tree):,} entries"
        return f"polling {where} every {self.spec.poll_interval:g} s: {self._poll_reason}"

    def _check_health(self) -> None:
        if self._backend is not None and self._backend.stalled and os.path.isdir(self.top):
            self.inbox.put_marker(Loss(None, f"the {self.backend} observer stopped unexpectedly", self.top, fallback=True))

    # Applying one raw event ----------------------------------------------------------------

    def _rel(self, abs_path: str) -> str | None:
        if abs_path.startswith(self.top) and len(abs_path) > len(self.top) and abs_path[len(self.top)] == "/":
            return abs_path[self._cut :]
        if abs_path == self.top:
            return ""
        return None

    def _full(self, rel: str) -> str:
        if not self.prefix:
            return rel
        return f"{self.prefix}/{rel}" if rel else self.prefix

    def _apply(self, raw: RawEvent, out: list[FsEvent]) -> None:
        rel = self._rel(raw.src)
        if rel is None:
            return
        if rel == "":
            if raw.type == "deleted":
                self._top_event_seen = True
            return
        kind = raw.type
        tree = self.tree
        if kind == "created":
            if tree.exists(rel):
                self._fold()
                return
            tree.add(rel, raw.is_dir, (-1, raw.wall_ns))
        elif kind == "deleted":
            if not tree.remove(rel):
                self._fold()
                return
        elif kind == "moved":
            dest = self._rel(raw.dest or "")
            if not dest:
                return
            if not tree.move(rel, dest):
                if tree.exists(dest) or not os.path.lexists(raw.dest or ""):
                    self._fold()
                    return
                # The source never reached our picture but the destination is real: a creation.
                tree.add(dest, raw.is_dir, (-1, raw.wall_ns))
                self._show_event(out, "created", dest, raw, reconciled=True)
                return
            self._show_move(out, rel, dest, raw)
            return
        else:
            if not tree.exists(rel):
                if not os.path.lexists(raw.src):
                    self._fold()
                    return
                tree.add(rel, raw.is_dir, (-1, raw.wall_ns))
                self._show_event(out, "created", rel, raw, reconciled=True)
            elif kind in ("modified", "closed"):
                tree.touch(rel, (-1, raw.wall_ns))
        self._show_event(out, kind, rel, raw)

    def _fold(self) -> None:
        self.superseded += 1
        if self._resync is not None:
            self._resync[1] += 1

    def _latency(self, raw: RawEvent) -> int | None:
        if not self.spec.latency or raw.is_dir or raw.type not in ("created", "modified", "closed"):
            return None
        if raw.mono_ns < self._next_latency or len(self.inbox) > LATENCY_BACKLOG:
            return None
        self._next_latency = raw.mono_ns + LATENCY_SPACING_NS
        try:
            mtime_ns = os.lstat(raw.src).st_mtime_ns
        except OSError:
            return None
        delta = raw.wall_ns - mtime_ns
        return delta // 1000 if delta >= 0 else None

    def _show_event(self, out: list[FsEvent], kind: str, rel: str, raw: RawEvent, *, reconciled: bool = False) -> None:
        full = self._full(rel)
        if self.filter.gitignore is not None:
            self.filter.notice_change(full)
        if kind not in self.spec.types or not self.filter.path_shown(full, raw.is_dir):
            return
        if reconciled:
            self.reconciled += 1
            self._emit(out, kind, full, is_dir=raw.is_dir, reconciled=True)
            return
        latency = self._latency(raw)
        coalescer = self.coalescer
        if coalescer is not None:
            if coalescer.offer(kind, full, raw.is_dir, raw.mono_ns, raw.wall_ns, latency):
                return
            self._release(out, coalescer.release_paths((full,), raw.is_dir))
        self._emit(out, kind, full, mono_ns=raw.mono_ns, wall_ns=raw.wall_ns, is_dir=raw.is_dir, latency_us=latency)

    def _show_move(self, out: list[FsEvent], rel: str, dest: str, raw: RawEvent) -> None:
        src_full, dest_full = self._full(rel), self._full(dest)
        if self.filter.gitignore is not None:
            self.filter.notice_change(src_full)
            self.filter.notice_change(dest_full)
        src_shown = self.filter.path_shown(src_full, raw.is_dir)
        dest_shown = self.filter.path_shown(dest_full, raw.is_dir)
        if self.coalescer is not None:
            self._release(out, self.coalescer.release_paths((src_full, dest_full), raw.is_dir))
        stamp: dict[str, Any] = {"mono_ns": raw.mono_ns, "wall_ns": raw.wall_ns, "is_dir": raw.is_dir}
        if src_shown and dest_shown:
            if "moved" in self.spec.types:
                self._emit(out, "moved", src_full, dest=dest_full, **stamp)
        elif src_shown:
            if "deleted" in self.spec.types:
                self._emit(out, "deleted", src_full, **stamp)
        elif dest_shown:
            if "created" in self.spec.types:
                self._emit(out, "created", dest_full, **stamp)

    def _release(self, out: list[FsEvent], held: list[Held]) -> None:
        for item in held:
            self._emit(
                out,
                item.type,
                item.path,
                mono_ns=item.mono_ns,
                wall_ns=item.wall_ns,
                is_dir=item.is_dir,
                coalesced=item.count,
                latency_us=item.latency_us,
            )

    def _emit(
        self,
        out: list[FsEvent],
        kind: str,
        path: str,
        *,
        mono_ns: int = 0,
        wall_ns: int = 0,
        dest: str | None = None,
        is_dir: bool = False,
        reconciled: bool = False,
        coalesced: int = 1,
        latency_us: int | None = None,
        lost: int | None = None,
        detail: str | None = None,
    ) -> None:
        if not mono_ns:
            mono_ns, wall_ns = time.monotonic_ns(), time.time_ns()
        if mono_ns < self._last_mono:
            mono_ns = self._last_mono
        self._last_mono = mono_ns
        self._seq += 1
        out.append(
            FsEvent(self._seq, kind, path, mono_ns, wall_ns, dest, is_dir, reconciled, coalesced, latency_us, lost, detail)
        )

    # Losses and reconciliation ------------------------------------------------------------

    def _reconcile(self, loss: Loss, out: list[FsEvent], stop: threading.Event) -> None:
        if self.coalescer is not None:
            self._release(out, self.coalescer.release_all())
        self.losses += 1
        affected = self._rel(loss.path)
        self._emit(out, "lost", self._full(affected or ""), lost=loss.count, detail=loss.reason)
        if loss.fallback and self.backend == "inotify":
            if self._backend is not None:
                self._backend.stop()
            self._start(out, poll=True)
            self.backend = "polling"
            self._poll_reason = self._fallback_reason or loss.reason
            self._emit(out, "notice", self.prefix, detail=self._start_notice())
        fresh = Tree.scan(self.top, stop)
        self.inbox.put_marker(_Sentinel(after_loss=True))
        self._outstanding += 1
        if self._resync is None:
            self._resync = [0, 0]
        for kind, rel, is_dir in diff_trees(self.tree, fresh):
            full = self._full(rel)
            if kind in self.spec.types and self.filter.path_shown(full, is_dir):
                self._emit(out, kind, full, is_dir=is_dir, reconciled=True)
                self.reconciled += 1
                self._resync[0] += 1
        self.tree = fresh

    def _settled(self, sentinel: _Sentinel, out: list[FsEvent]) -> None:
        if not sentinel.after_loss or self._resync is None:
            return
        self._outstanding -= 1
        if self._outstanding > 0:
            return
        reconciled, superseded = self._resync
        self._resync = None
        self._emit(
            out,
            "resynced",
            self.prefix,
            detail=f"picture reconciled with the disk: {reconciled:,} reconciled, {superseded:,} stale events superseded",
        )

    def _show(self, path: str) -> str:
        return display_path(path)


def watch_events(top: str, spec: WatchFilter, stop: threading.Event, prefix: str = "") -> Iterator[list[FsEvent]]:
    """Batches of events under ``top`` until ``stop`` is set (see ``Watcher``)."""
    yield from Watcher(top, spec, prefix).batches(stop)
