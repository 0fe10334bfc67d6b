"""``EventRing``: a bounded ring of ``FsEvent`` that the cyclic garbage collector never scans.

A live view keeps up to 100,000 events for minutes. Held as ``FsEvent``
objects (slotted instances: tracked by the collector) every full collection
walks all of them, and CPython runs a full collection each time the
long-lived objects grow by a quarter: measured in the Live pane at
~10,000 events/s, nine full collections in 10 s, up to 240-300 ms each,
during which every thread of the process (the watcher's included) stands
still. Exact tuples of atomic values (``int``, ``str``, ``bool``, ``None``)
are untracked by the collector after their first young collection, so the
ring stores each event as such a tuple and rebuilds the ``FsEvent`` when one
is read. Reading is ~2 µs per event: fine for the rows on screen and for
one pass over the ring on a key press.
"""

from __future__ import annotations

from collections import deque
from typing import Any, Callable, Iterable, Iterator, Sequence, overload

from backends.events.model import FsEvent

Raw = tuple[Any, ...]
"""One event as a plain tuple, in ``FsEvent`` field order."""


def to_raw(event: FsEvent) -> Raw:
    """``event`` as a tuple of its fields (in declaration order)."""
    return (
        event.seq,
        event.type,
        event.path,
        event.mono_ns,
        event.wall_ns,
        event.dest,
        event.is_dir,
        event.reconciled,
        event.coalesced,
        event.latency_us,
        event.lost,
        event.detail,
    )


def from_raw(raw: Raw) -> FsEvent:
    """The inverse of ``to_raw``."""
    return FsEvent(*raw)


RAW_TYPE, RAW_PATH, RAW_DEST, RAW_RECONCILED = 1, 2, 5, 7
"""Positions of ``type``, ``path``, ``dest`` and ``reconciled`` in a raw tuple (for passes over ``raw``)."""


class EventRing(Sequence[FsEvent]):
    """A bounded FIFO of events: appending past ``maxlen`` drops the oldest.

    Indexing and iteration give ``FsEvent`` objects (built on access);
    ``raw`` is the underlying deque of tuples for passes that only need a
    few fields.

    Args:
        maxlen: Events kept at most.
        raw: Initial content, as raw tuples (oldest first).
    """

    __slots__ = ("raw",)

    def __init__(self, maxlen: int, raw: Iterable[Raw] = ()) -> None:
        self.raw: deque[Raw] = deque(raw, maxlen=maxlen)

    @property
    def maxlen(self) -> int:
        """Capacity."""
        return self.raw.maxlen or 0

    def __len__(self) -> int:
        return len(self.raw)

    @overload
    def __getitem__(self, index: int) -> FsEvent: ...

    @overload
    def __getitem__(self, index: slice) -> list[FsEvent]: ...

    def __getitem__(self, index: int | slice) -> FsEvent | list[FsEvent]:
        if isinstance(index, slice):
            return [FsEvent(*self.raw[i]) for i in range(*index.indices(len(self.raw)))]
        return FsEvent(*self.raw[index])

    def __iter__(self) -> Iterator[FsEvent]:
        for raw in self.raw:
            yield FsEvent(*raw)

    def __reversed__(self) -> Iterator[FsEvent]:
        for raw in reversed(self.raw):
            yield FsEvent(*raw)

    def __bool__(self) -> bool:
        return bool(self.raw)

    def append(self, event: FsEvent) -> None:
        """Add one event at the new end."""
        self.raw.append(to_raw(event))

    def extend(self, events: Iterable[FsEvent]) -> None:
        """Add events at the new end, oldest first."""
        self.raw.extend(map(to_raw, events))

    def clear(self) -> None:
        self.raw.clear()

    def select(self, keep: Callable[[Raw], bool]) -> "EventRing":
        """A new ring (same capacity) of the events whose raw tuple ``keep`` accepts."""
        return EventRing(self.maxlen, filter(keep, self.raw))
