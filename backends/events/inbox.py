"""``Inbox``: the bounded queue between the observer threads and the watcher.

The observer must never block (blocking it only moves the overflow into the
kernel, where it is also lost), so a full inbox drops the newest item and
counts it. The count comes out of ``take`` as a ``Loss`` item at the exact
place in the stream where the dropping began, so the watcher can say "N
events lost here" and reconcile. Markers (``put_marker``) always fit.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Loss:
    """Events were lost at this point of the stream.

    Attributes:
        count: How many, or ``None`` when nobody can know (kernel overflow).
        reason: Why, for the user.
        path: Absolute directory whose subtree is affected.
        fallback: inotify cannot go on (watch limit): switch to polling.
    """

    count: int | None
    reason: str
    path: str
    fallback: bool = False


class Inbox:
    """A bounded, thread-safe FIFO that counts what it had to drop.

    Args:
        capacity: Items held at most (markers excepted).
        top: Absolute watched directory (the subtree a queue overflow affects).
    """

    def __init__(self, capacity: int, top: str) -> None:
        self.capacity = capacity
        self.top = top
        self._items: deque[Any] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._dropped = 0
        self.dropped_total = 0
        """Items dropped since creation."""
        self.high_water = 0
        """Most items ever held at once."""

    def __len__(self) -> int:
        return len(self._items)

    def put(self, item: Any) -> None:
        """Append ``item``, or drop and count it when full (never blocks)."""
        with self._cond:
            items = self._items
            if len(items) >= self.capacity:
                self._dropped += 1
                self.dropped_total += 1
                return
            if self._dropped:
                items.append(Loss(self._dropped, f"our event queue was full ({self.capacity:,} events)", self.top))
                self._dropped = 0
            items.append(item)
            if len(items) > self.high_water:
                self.high_water = len(items)
            self._cond.notify()

    def put_marker(self, item: Any) -> None:
        """Append a marker (a ``Loss`` or a sentinel) even when full."""
        with self._cond:
            if self._dropped:
                self._items.append(Loss(self._dropped, f"our event queue was full ({self.capacity:,} events)", self.top))
                self._dropped = 0
            self._items.append(item)
            self._cond.notify()

    def take(self, limit: int, timeout: float) -> list[Any]:
        """Up to ``limit`` items, waiting at most ``timeout`` seconds for the first."""
        with self._cond:
            items = self._items
            if not items and not self._dropped:
                self._cond.wait(timeout)
            count = min(limit, len(items))
            batch = [items.popleft() for _ in range(count)]
            if not items and self._dropped:
                batch.append(Loss(self._dropped, f"our event queue was full ({self.capacity:,} events)", self.top))
                self._dropped = 0
            return batch
