"""``LiveState``: what pane 2 knows about the stream it shows."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from backends.events.model import CHANGE_TYPES, FsEvent
from backends.events.recording import RecordingWriter
from backends.events.ring import RAW_DEST, RAW_PATH, RAW_TYPE, EventRing, Raw
from backends.events.sequence import Sequencer
from backends.events.stats import EventStats
from backends.models import text_matches

Banner = tuple[str, str]
"""``(css class, text)``: ``-lost`` (red) or ``-notice`` (amber)."""


@dataclass
class LiveState:
    """The ring of events, the view of it, and what the stream and the user have set.

    Attributes:
        ring: Every event kept (bounded).
        view: What the list shows: the ring itself, or a filtered copy of it.
        pending: Events received since the last merge (bounded like the ring).
        arrived: Events that fell off ``pending`` before they could be shown.
        stats: Counts per type and per second.
        types: Change types shown (and watched).
        path: Directory watched, relative to the root ("" for the root).
        paused: Whether ingestion into the view is paused (events are still counted and held).
        held: Events held while paused.
        held_events: The held events themselves.
        following: Whether the view follows the newest event.
        unseen: Events that arrived while scrolled back.
        text: Filter on path, destination and type (``!`` prefix inverts).
        started: Whether the watch has been started (the pane was shown once).
        backend: What the watcher says it is doing (``watching …`` or ``polling …``).
        banner: The loss or notice banner, if one is up.
        error: Why the watch failed, if it did.
        sequence: Renumbers streams so numbers keep rising across watch restarts.
        gaps: ``(type, wall_ns)`` of the markers a server sent about a gap (shown once, as a banner).
        recorder: The recording in progress, if any.
        record_path: Its absolute path.
        record_prefix: The watched path when it started (event paths are recorded relative to it).
    """

    ring: EventRing
    view: EventRing
    pending: deque[FsEvent]
    held_events: EventRing
    arrived: int = 0
    stats: EventStats = field(default_factory=EventStats)
    types: frozenset[str] = frozenset()
    path: str = ""
    paused: bool = False
    held: int = 0
    following: bool = True
    unseen: int = 0
    text: str = ""
    started: bool = False
    backend: str = "starting…"
    banner: Banner | None = None
    error: str | None = None
    sequence: Sequencer = field(default_factory=Sequencer)
    gaps: set[tuple[str, int]] = field(default_factory=set)
    recorder: RecordingWriter | None = None
    record_path: str = ""
    record_prefix: str = ""

    @classmethod
    def sized(cls, ring_size: int, types: frozenset[str]) -> LiveState:
        """A state whose ring, pending queue and held events all hold ``ring_size`` (at least 100)."""
        size = max(100, ring_size)
        ring = EventRing(size)
        return cls(ring=ring, view=ring, pending=deque(maxlen=size), held_events=EventRing(size), types=types)

    def take(self, batch: list[FsEvent]) -> None:
        """Queue a batch for the next merge, counting what falls off a full queue."""
        overflow = len(self.pending) + len(batch) - (self.pending.maxlen or 0)
        if overflow > 0:
            self.arrived += overflow
        self.pending.extend(batch)

    def drain(self) -> list[FsEvent]:
        """The queued events, oldest first; the queue is left empty."""
        batch = list(self.pending)
        self.pending.clear()
        return batch

    def gap(self, marker: FsEvent) -> None:
        """A remote source resumed its stream and says what the gap cost: a banner, shown once."""
        self.gaps.add((marker.type, marker.wall_ns))
        if marker.type == "lost":
            count = "an unknown number of" if marker.lost is None else f"{marker.lost:,}"
            self.banner = ("-lost", f"⚠ reconnected: {count} events may have been missed while offline ({marker.detail})")
        else:
            self.banner = ("-lost", f"⚠ reconnected — {marker.detail}")

    def read_markers(self, batch: list[FsEvent]) -> list[FsEvent]:
        """Update the banner and the backend's words from the batch's markers; the batch without notices
        (they go to the status line and the banner, not the list)."""
        for event in batch:
            if (event.type, event.wall_ns) in self.gaps:
                continue  # its banner is up already (gap)
            if event.type == "lost":
                count = "an unknown number of" if event.lost is None else f"{event.lost:,}"
                self.banner = ("-lost", f"⚠ {count} events lost ({event.detail}); reconciling with a rescan…")
            elif event.type == "resynced" and self.banner and self.banner[0] == "-lost":
                self.banner = ("-notice", f"reconciled after a loss: {event.detail}")
            elif event.type == "notice":
                self.backend = event.detail or ""
                if (event.detail or "").startswith("polling"):
                    self.banner = ("-notice", f"⚠ {event.detail}")
        return [e for e in batch if e.type != "notice"]

    def matches(self, event: FsEvent) -> bool:
        """Whether ``event`` is shown under the type toggles and the filter."""
        if event.type in CHANGE_TYPES and event.type not in self.types:
            return False
        return text_matches(self.text, (event.path, event.dest or "", event.type))

    def matches_raw(self, raw: Raw) -> bool:
        """``matches`` on an event as the ring stores it."""
        kind = raw[RAW_TYPE]
        if kind in CHANGE_TYPES and kind not in self.types:
            return False
        return text_matches(self.text, (raw[RAW_PATH], raw[RAW_DEST] or "", kind))

    def refilter(self) -> None:
        """Recompute the view from the ring (the filter or the shown types changed)."""
        seen = {kind for kind, count in self.stats.by_type.items() if count}
        self.view = self.ring.select(self.matches_raw) if self.text or not seen <= self.types else self.ring

    def status(self, rate: int) -> str:
        """The status line under the head (``rate``: events per second just now)."""
        if self.error:
            return f"⚠ cannot watch: {self.error}"
        parts = []
        if self.paused:
            parts.append(f"{self.held:,} new events held while paused")
        backend = self.backend.replace(", recursively", "") if self.backend.startswith("watching") else self.backend.split(":")[0]
        parts.append(f"{backend} · {rate:,}/s · {len(self.ring):,} in the ring (max {self.ring.maxlen:,})")
        if self.view is not self.ring:
            parts.append(f"{len(self.view):,} shown")
        if self.text:
            parts.append(f"filter {self.text!r}")
        if self.arrived:
            parts.append(f"{self.arrived:,} fell off before display")
        return " · ".join(parts)
