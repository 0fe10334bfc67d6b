"""``Sequencer``: one monotonic sequence over successive watch streams.

A consumer that restarts its watch (the Live pane when an event type is
toggled or another path is picked; a remote source whose server restarted)
gets a new stream whose ``seq`` begins again at 1. A recording or a ring that
spans both would hold two events with one number and fail ``events verify``.
The sequencer renumbers every stream after the first so that numbers keep
rising for the consumer's whole life, keeps gaps (events missed between two
connections stay visible as a gap), and puts a ``notice`` at each restart.
A marker with ``seq`` 0 (what an HTTP server says about the gap when a client
resumes: events lost, or its restart) gets the next number in place.
Monotonic times are held from going backwards across the seam too (the old
watcher may stamp its last events after the new one stamped its first).
"""

from __future__ import annotations

import time
from dataclasses import replace

from backends.events.model import FsEvent


class Sequencer:
    """Renumbers batches so ``seq`` strictly increases across restarts.

    A new stream is noticed either by ``restart`` (the consumer started a new
    watch) or by a ``seq`` that does not rise (the source started over).
    """

    def __init__(self) -> None:
        self.last = 0
        """The last number handed out."""
        self._offset = 0
        self._last_in = 0
        self._restart: tuple[str, str] | None = None
        self._last_mono = 0

    def restart(self, why: str, path: str = "") -> None:
        """The next batch comes from a new stream: it is preceded by a ``notice`` saying ``why``."""
        self._restart = (why, path)

    def number(self, batch: list[FsEvent]) -> list[FsEvent]:
        """``batch`` with numbers continuing this sequencer's (the same list while nothing changes)."""
        out: list[FsEvent] = []
        if self._restart is not None:
            why, path = self._restart
            self._restart = None
            self.last += 1
            detail = f"{why}; sequence numbers continue from {self.last + 1:,}"
            mono, wall = (batch[0].mono_ns, batch[0].wall_ns) if batch else (time.monotonic_ns(), time.time_ns())
            self._last_mono = max(self._last_mono, mono)
            out.append(FsEvent(self.last, "notice", path, self._last_mono, wall, detail=detail))
            self._offset, self._last_in = self.last, 0
        elif not self._offset and all(a.seq < b.seq for a, b in zip(batch, batch[1:], strict=False)) and (not batch or batch[0].seq > self._last_in):
            if batch:
                self._last_in = self.last = batch[-1].seq
                self._last_mono = max(self._last_mono, batch[-1].mono_ns)
            return batch  # the first stream, rising: passed through untouched
        for event in batch:
            if event.seq == 0 and event.is_marker:
                # Made between two events by a transport (an HTTP server resuming a client): the
                # next number; the events after it keep their distance from the ones before.
                self.last += 1
                self._offset += 1
                self._last_mono = max(self._last_mono, event.mono_ns)
                out.append(replace(event, seq=self.last, mono_ns=self._last_mono))
                continue
            if event.seq <= self._last_in:  # the source started over
                self._offset = self.last - event.seq + 1
            self._last_in = event.seq
            seq = self._offset + event.seq
            self.last = seq
            mono = event.mono_ns
            if mono < self._last_mono:  # the old stream's last events were stamped after the new one's first
                mono = self._last_mono
            self._last_mono = mono
            out.append(event if seq == event.seq and mono == event.mono_ns else replace(event, seq=seq, mono_ns=mono))
        return out
