"""``EventsService``: the live-events operation of a directory source."""

from __future__ import annotations

import os
from typing import AsyncIterator

from backends.errors import NotFoundError
from backends.events.model import FsEvent, WatchFilter
from backends.models import CAP_WATCH
from backends.storage.directory import DirStorage
from backends.threadstream import iterate_in_thread

IN_FLIGHT_BATCHES = 16
"""Batches produced ahead of a slow consumer before the watcher's own queue takes the strain."""


class EventsService:
    """Live events under a directory (watchdog observers, or a child process).

    Args:
        storage: The directory.
    """

    CAPABILITIES: frozenset[str] = frozenset({CAP_WATCH})

    def __init__(self, storage: DirStorage) -> None:
        self.storage = storage
        self._resolve = storage.resolve

    def watch(self, path: str = "", filters: WatchFilter = WatchFilter()) -> AsyncIterator[list[FsEvent]]:
        """Stream batches of live events under ``path`` (default: the whole source).

        Paths in events are relative to the source root. Losses are reported
        in the stream (``lost`` markers followed by ``reconciled`` events),
        never silently; see ``backends.events.watcher``. With
        ``filters.isolate`` the watcher runs in a child process
        (``backends.events.child``).

        Args:
            path: Directory to watch, relative to the source root.
            filters: Types, globs and options of the watch.

        Raises:
            ForbiddenError: When ``path`` resolves outside the source root.
            NotFoundError: When ``path`` is not a directory.
        """
        if os.path.isabs(path or ""):
            self._resolve(path)  # refuses absolute paths with a ForbiddenError
        rel = "/".join(part for part in (path or "").split("/") if part and part != ".")
        top = self._resolve(rel or ".")
        if not os.path.isdir(top):
            raise NotFoundError(f"{rel or '.'}: no such directory to watch", path=rel)
        # Imported here, not with the source: watchdog's observers and the child's pipe took ~30 ms
        # of every start (the TUI's first screen, every CLI command), and only a watch needs them.
        from backends.events.child import watch_in_child
        from backends.events.watcher import watch_events

        if filters.isolate:
            return watch_in_child(top, filters, prefix=rel)
        return iterate_in_thread(
            lambda stop: watch_events(top, filters, stop, prefix=rel),
            maxsize=IN_FLIGHT_BATCHES,
            name="driftdeck-watch",
        )
