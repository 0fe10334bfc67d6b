"""Live filesystem event models: ``FsEvent`` and ``WatchFilter``.

An event stream is a sequence of ``FsEvent`` with strictly increasing ``seq``.
Most events describe one filesystem change (``created``, ``modified``, ...);
a few are *markers* that describe the stream itself:

* ``exists``: one entry of the tree as it was when the watch started (only
  when the watch asked for a baseline); lets a reader check causality.
* ``lost``: events were lost (kernel queue overflow, our own queue full, a
  watch limit hit). ``lost`` holds how many when known, ``detail`` why.
* ``resynced``: the reconciliation that follows a loss is complete: the
  ``reconciled`` events emitted since the ``lost`` marker brought the
  reader's picture of the tree back in line with the disk.
* ``notice``: something the user must see (e.g. the fallback to polling).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Mapping

CHANGE_TYPES: tuple[str, ...] = (
    "created",
    "modified",
    "deleted",
    "moved",
    "opened",
    "closed",
    "closed_no_write",
)
"""Event types that describe a filesystem change, in display order."""

MARKER_TYPES: tuple[str, ...] = ("exists", "lost", "resynced", "notice")
"""Event types that describe the stream itself."""

ALL_TYPES: frozenset[str] = frozenset(CHANGE_TYPES) | frozenset(MARKER_TYPES)

STRUCTURE_TYPES: frozenset[str] = frozenset({"created", "deleted", "moved"})
"""Types that change which paths exist; the watcher always subscribes to them."""

DEFAULT_TYPES: frozenset[str] = frozenset({"created", "modified", "deleted", "moved", "closed"})
"""What a watch shows unless asked otherwise (no opened/closed_no_write noise)."""

FORMAT_NAME = "driftdeck-events"
FORMAT_VERSION = 1


def display_path(path: str) -> str:
    """``path`` as valid UTF-8 text: undecodable bytes become ``\\xNN`` escapes."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", errors="backslashreplace")


@dataclass(frozen=True, slots=True)
class FsEvent:
    """One event of a live stream.

    Attributes:
        seq: Position in the stream, strictly increasing from 1.
        type: One of ``CHANGE_TYPES`` or ``MARKER_TYPES``.
        path: POSIX path relative to the source root (``""`` is the root).
        mono_ns: ``time.monotonic_ns()`` when the watcher received it.
        wall_ns: ``time.time_ns()`` at the same moment.
        dest: Destination of a ``moved`` event.
        is_dir: Whether the path is a directory.
        reconciled: Synthesised by a rescan after a loss, not seen live.
        coalesced: How many raw events this one stands for (debounce); 1 when raw.
        latency_us: Receipt time minus the file's mtime, when measured.
        lost: For ``lost`` markers: how many events were dropped, ``None`` if unknown.
        detail: Human text for markers (why events were lost, the notice).
    """

    seq: int
    type: str
    path: str
    mono_ns: int
    wall_ns: int
    dest: str | None = None
    is_dir: bool = False
    reconciled: bool = False
    coalesced: int = 1
    latency_us: int | None = None
    lost: int | None = None
    detail: str | None = None

    @property
    def is_marker(self) -> bool:
        """Whether this describes the stream rather than a change."""
        return self.type in MARKER_TYPES

    def to_json(self) -> dict[str, Any]:
        """Stable JSON shape: fixed key order, optional keys only when set."""
        body: dict[str, Any] = {
            "seq": self.seq,
            "type": self.type,
            "path": display_path(self.path),
        }
        if self.dest is not None:
            body["dest"] = display_path(self.dest)
        body["is_dir"] = self.is_dir
        body["mono_ns"] = self.mono_ns
        body["wall_ns"] = self.wall_ns
        if self.reconciled:
            body["reconciled"] = True
        if self.coalesced != 1:
            body["coalesced"] = self.coalesced
        if self.latency_us is not None:
            body["latency_us"] = self.latency_us
        if self.type == "lost":
            body["lost"] = self.lost
        if self.detail is not None:
            body["detail"] = self.detail
        return body

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> "FsEvent":
        """The inverse of ``to_json``; raises ``KeyError``/``TypeError`` on bad input."""
        return cls(
            seq=int(body["seq"]),
            type=str(body["type"]),
            path=str(body["path"]),
            mono_ns=int(body["mono_ns"]),
            wall_ns=int(body.get("wall_ns", 0)),
            dest=None if body.get("dest") is None else str(body["dest"]),
            is_dir=bool(body.get("is_dir", False)),
            reconciled=bool(body.get("reconciled", False)),
            coalesced=int(body.get("coalesced", 1)),
            latency_us=None if body.get("latency_us") is None else int(body["latency_us"]),
            lost=None if body.get("lost") is None else int(body["lost"]),
            detail=None if body.get("detail") is None else str(body["detail"]),
        )


@dataclass(frozen=True, slots=True)
class WatchFilter:
    """What a watch subscribes to and shows.

    Attributes:
        types: Change types to show. The watcher subscribes the kernel to
            these plus ``created``/``deleted``/``moved`` (it needs those to
            keep its picture of the tree for reconciliation) and nothing else.
        include: Globs; when given, only paths matching one are shown.
        exclude: Globs; paths matching one are hidden.
        gitignore: Hide what ``.gitignore`` files (and ``.git/``) ignore.
        debounce_ms: Coalesce repeated ``modified``/``opened``/``closed``
            events of one path within this window; 0 (default) keeps raw events.
        baseline: Start the stream with one ``exists`` event per entry.
        queue_size: Capacity of the bounded queue between the observer and
            the consumer; past it events are dropped, counted, and reconciled.
        poll: Use the polling observer even when inotify works.
        poll_interval: Seconds between polls of the polling observer.
        latency: Measure receipt time minus file mtime for file events.
        isolate: Run the watcher in a child process (``backends.events.child``)
            rather than on threads of this one: for consumers whose own work
            (a UI) would otherwise starve the watcher of the GIL.
    """

    types: frozenset[str] = DEFAULT_TYPES
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    gitignore: bool = False
    debounce_ms: int = 0
    baseline: bool = False
    queue_size: int = 65536
    poll: bool = False
    poll_interval: float = 1.0
    latency: bool = True
    isolate: bool = False

    def __post_init__(self) -> None:
        unknown = set(self.types) - set(CHANGE_TYPES)
        if unknown:
            raise ValueError(f"unknown event type {sorted(unknown)[0]!r} (one of {', '.join(CHANGE_TYPES)})")
        if self.queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        if self.debounce_ms < 0:
            raise ValueError("debounce_ms must not be negative")

    def to_json(self) -> dict[str, Any]:
        return {
            "types": [t for t in CHANGE_TYPES if t in self.types],
            "include": list(self.include),
            "exclude": list(self.exclude),
            "gitignore": self.gitignore,
            "debounce_ms": self.debounce_ms,
            "baseline": self.baseline,
        }


@dataclass(frozen=True, slots=True)
class WatchHeader:
    """The first record of a recording: what was watched and how.

    Attributes:
        path: The watched directory, as the user named it.
        filter: The filter the stream was recorded with.
        started_wall_ns: Wall-clock time the recording started.
        extra: Any other keys found in a header read back (kept verbatim).
    """

    path: str
    filter: WatchFilter
    started_wall_ns: int
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "schema": "driftdeck/events-recording/v1",  # backends.reports.schemas names it
            "path": display_path(self.path),
            "started_wall_ns": self.started_wall_ns,
            "filter": self.filter.to_json(),
        }
