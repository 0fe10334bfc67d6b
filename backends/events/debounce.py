"""``Coalescer``: the optional debounce of a watch (off by default).

Repeated ``modified``/``opened``/``closed``/``closed_no_write`` events of one
path within the window become one event carrying ``coalesced=N``. Structural
events (created, deleted, moved) are never held: before one is emitted, any
held event of the paths it touches is released, so per-path order is kept.
"""

from __future__ import annotations

from dataclasses import dataclass

COALESCIBLE: frozenset[str] = frozenset({"modified", "opened", "closed", "closed_no_write"})


@dataclass(slots=True)
class Held:
    """An event waiting out the window, and how many it stands for."""

    type: str
    path: str
    is_dir: bool
    mono_ns: int
    wall_ns: int
    count: int
    latency_us: int | None


class Coalescer:
    """Holds coalescible events for ``window_ns`` after their first occurrence.

    Args:
        window_ns: The debounce window in nanoseconds (> 0).
    """

    def __init__(self, window_ns: int) -> None:
        self.window_ns = window_ns
        self._held: dict[tuple[str, str], Held] = {}

    def __len__(self) -> int:
        return len(self._held)

    def offer(self, type_: str, path: str, is_dir: bool, mono_ns: int, wall_ns: int, latency_us: int | None) -> bool:
        """Hold the event (``True``) or refuse it because it is not coalescible."""
        if type_ not in COALESCIBLE:
            return False
        held = self._held.get((type_, path))
        if held is None:
            self._held[(type_, path)] = Held(type_, path, is_dir, mono_ns, wall_ns, 1, latency_us)
        else:
            held.count += 1
            if latency_us is not None:
                held.latency_us = latency_us
        return True

    def release_paths(self, paths: tuple[str, ...], subtree: bool) -> list[Held]:
        """Release what is held for ``paths`` (and beneath them when ``subtree``)."""
        if not self._held:
            return []
        if not subtree:
            keys = [(t, p) for p in paths for t in COALESCIBLE if (t, p) in self._held]
        else:
            prefixes = tuple(p + "/" for p in paths if p)
            keys = [key for key in self._held if key[1] in paths or (prefixes and key[1].startswith(prefixes))]
        released = [self._held.pop(key) for key in keys]
        released.sort(key=lambda held: held.mono_ns)
        return released

    def due(self, now_ns: int) -> list[Held]:
        """Release what has waited the whole window, oldest first."""
        out = []
        for key, held in list(self._held.items()):
            if held.mono_ns + self.window_ns > now_ns:
                break
            out.append(self._held.pop(key))
        return out

    def release_all(self) -> list[Held]:
        """Release everything (the stream ends)."""
        out = list(self._held.values())
        self._held.clear()
        return out
