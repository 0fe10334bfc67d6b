"""``EventStats``: rates, per-type counts, churning paths and latency of a stream.

Bounded whatever the stream's length: one counter per second for the last
``window`` seconds, a latency histogram plus a fixed-size reservoir of
samples for percentiles, and a path counter pruned to its heaviest entries
when it grows past ``max_paths`` (so "top churning paths" is exact for the
heavy hitters and approximate in the tail).
"""

from __future__ import annotations

import random
from collections import Counter, deque
from dataclasses import dataclass
from typing import Any, Iterable

from backends.events.model import CHANGE_TYPES, FsEvent

LATENCY_BOUNDS_MS: tuple[float, ...] = (1, 5, 10, 50, 100, 500, 1000)
"""Upper bounds of the latency buckets, in ms; the last bucket is open."""


def latency_labels() -> list[str]:
    """``<1 ms``, ``<5 ms`` ... ``≥1000 ms``: one label per bucket."""
    return [f"<{b:g} ms" for b in LATENCY_BOUNDS_MS] + [f"≥{LATENCY_BOUNDS_MS[-1]:g} ms"]


@dataclass(frozen=True, slots=True)
class StatsSnapshot:
    """A moment's view of ``EventStats``.

    Attributes:
        total: Change events seen (markers excluded), counting coalesced ones.
        by_type: Change events per type.
        rate: Events per second over the last complete second.
        peak_rate: Highest one-second count seen.
        series: Events per second, oldest first, for a sparkline.
        top_paths: Most frequently changed paths with their counts.
        latency_buckets: Counts per ``LATENCY_BOUNDS_MS`` bucket.
        latency_p50_ms: Median write-to-receipt latency, if measured.
        latency_p95_ms: 95th percentile, if measured.
        lost_markers: ``lost`` markers seen.
        lost_known: Sum of the known loss counts.
        reconciled: Events synthesised by reconciliation.
        notices: The last notice, if any.
    """

    total: int
    by_type: dict[str, int]
    rate: int
    peak_rate: int
    series: tuple[int, ...]
    top_paths: tuple[tuple[str, int], ...]
    latency_buckets: tuple[int, ...]
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    lost_markers: int
    lost_known: int
    reconciled: int
    notices: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "total": self.total,
            "by_type": {t: self.by_type.get(t, 0) for t in CHANGE_TYPES},
            "rate": self.rate,
            "peak_rate": self.peak_rate,
            "top_paths": [{"path": p, "count": c} for p, c in self.top_paths],
            "latency_ms": {
                "buckets": dict(zip(latency_labels(), self.latency_buckets, strict=True)),
                "p50": self.latency_p50_ms,
                "p95": self.latency_p95_ms,
            },
            "lost_markers": self.lost_markers,
            "lost_known": self.lost_known,
            "reconciled": self.reconciled,
        }


class EventStats:
    """Accumulates statistics over batches of events.

    Args:
        window: Seconds of per-second counts kept (the sparkline's width).
        max_paths: Distinct paths counted before the counter is pruned.
        reservoir: Latency samples kept for percentiles.
    """

    def __init__(self, window: int = 120, max_paths: int = 20_000, reservoir: int = 4096) -> None:
        self.window = window
        self.max_paths = max_paths
        self.total = 0
        self.by_type: Counter[str] = Counter()
        self.paths: Counter[str] = Counter()
        self._seconds: deque[list[int]] = deque(maxlen=window + 1)  # [second, count]
        self.peak_rate = 0
        self.latency_buckets = [0] * (len(LATENCY_BOUNDS_MS) + 1)
        self._samples: list[int] = []
        self._reservoir = reservoir
        self._seen_samples = 0
        self._random = random.Random(0)
        self.lost_markers = 0
        self.lost_known = 0
        self.reconciled = 0
        self.last_notice: str | None = None

    def add(self, events: Iterable[FsEvent]) -> None:
        """Count a batch."""
        for event in events:
            kind = event.type
            if kind in ("exists", "resynced"):
                continue
            if kind == "lost":
                self.lost_markers += 1
                self.lost_known += event.lost or 0
                continue
            if kind == "notice":
                self.last_notice = event.detail
                continue
            n = event.coalesced
            self.total += n
            self.by_type[kind] += n
            if event.reconciled:
                self.reconciled += 1
            self.paths[event.path] += n
            self._count_second(event.wall_ns // 1_000_000_000, n)
            if event.latency_us is not None:
                self._latency(event.latency_us)
        if len(self.paths) > self.max_paths:
            self.paths = Counter(dict(self.paths.most_common(self.max_paths // 2)))

    def _count_second(self, second: int, n: int) -> None:
        seconds = self._seconds
        if seconds and seconds[-1][0] == second:
            seconds[-1][1] += n
        elif not seconds or seconds[-1][0] < second:
            if seconds and seconds[-1][1] > self.peak_rate:
                self.peak_rate = seconds[-1][1]
            seconds.append([second, n])
        else:
            for slot in reversed(seconds):
                if slot[0] == second:
                    slot[1] += n
                    break

    def _latency(self, latency_us: int) -> None:
        ms = latency_us / 1000
        for index, bound in enumerate(LATENCY_BOUNDS_MS):
            if ms < bound:
                self.latency_buckets[index] += 1
                break
        else:
            self.latency_buckets[-1] += 1
        self._seen_samples += 1
        if len(self._samples) < self._reservoir:
            self._samples.append(latency_us)
        else:
            slot = self._random.randrange(self._seen_samples)
            if slot < self._reservoir:
                self._samples[slot] = latency_us

    def rate(self, now_s: int) -> int:
        """Events in the last complete second before ``now_s`` (cheap)."""
        for second, count in reversed(self._seconds):
            if second == now_s - 1:
                return count
            if second < now_s - 1:
                break
        return 0

    def series(self, now_s: int, width: int) -> tuple[int, ...]:
        """Events per second for the ``width`` seconds before ``now_s`` (exclusive)."""
        counts = {second: count for second, count in self._seconds}
        return tuple(counts.get(second, 0) for second in range(now_s - width, now_s))

    def percentile(self, q: float) -> float | None:
        """Latency percentile in ms from the reservoir, ``None`` without samples."""
        if not self._samples:
            return None
        ordered = sorted(self._samples)
        index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
        return ordered[index] / 1000

    def snapshot(self, now_s: int, width: int = 60, top: int = 10) -> StatsSnapshot:
        """The current figures; ``now_s`` is the wall-clock second to end the series at."""
        last_complete = {second: count for second, count in self._seconds}.get(now_s - 1, 0)
        current_peak = max([self.peak_rate, *(count for second, count in self._seconds if second < now_s)])
        return StatsSnapshot(
            total=self.total,
            by_type=dict(self.by_type),
            rate=last_complete,
            peak_rate=current_peak,
            series=self.series(now_s, width),
            top_paths=tuple(self.paths.most_common(top)),
            latency_buckets=tuple(self.latency_buckets),
            latency_p50_ms=self.percentile(0.5),
            latency_p95_ms=self.percentile(0.95),
            lost_markers=self.lost_markers,
            lost_known=self.lost_known,
            reconciled=self.reconciled,
            notices=self.last_notice,
        )
