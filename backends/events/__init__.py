"""Live filesystem events: watcher, filters, statistics, recording and verification.

Engines are plain synchronous code (``Watcher.batches(stop)``,
``verify_recording``); ``EventsService`` exposes the watcher to a source
asynchronously.
"""

from backends.events.model import CHANGE_TYPES, DEFAULT_TYPES, MARKER_TYPES, FsEvent, WatchFilter

__all__ = ["CHANGE_TYPES", "DEFAULT_TYPES", "MARKER_TYPES", "FsEvent", "WatchFilter"]
