"""Recordings of an event stream: JSONL or YAML, deterministic, written atomically.

Both formats hold the same records: a header (format, version, the watched
path as the user named it, the start time, the filter), then one record per
event in stream order, with the keys of ``FsEvent.to_json`` in a fixed order
and paths relative to the watched directory.

JSONL::

    {"format":"driftdeck-events","version":1,"path":"live",...}
    {"seq":1,"type":"created","path":"a.txt","is_dir":false,...}

YAML (one JSON flow mapping per line, which is valid YAML and streams)::

    # driftdeck events recording
    header: {"format":"driftdeck-events","version":1,...}
    events:
    - {"seq":1,"type":"created","path":"a.txt","is_dir":false,...}

The file is written to a temporary name in the destination directory and
renamed into place by ``close()``: a reader never sees half a recording.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import replace
from typing import IO, Iterable

import orjson

from backends.events.model import FsEvent, WatchHeader

FORMATS = ("jsonl", "yaml")
YAML_COMMENT = "# driftdeck events recording\n"


def format_for(path: str, requested: str | None) -> str:
    """The format to write: ``requested``, else from the extension (``.yaml``/``.yml``), else JSONL."""
    if requested:
        if requested not in FORMATS:
            raise ValueError(f"unknown format {requested!r} (one of {', '.join(FORMATS)})")
        return requested
    return "yaml" if path.lower().endswith((".yaml", ".yml")) else "jsonl"


def strip_prefix(event: FsEvent, prefix: str) -> FsEvent:
    """``event`` with paths relative to ``prefix`` (the watched directory)."""
    if not prefix:
        return event
    cut = len(prefix) + 1

    def rel(path: str | None) -> str | None:
        if path is None:
            return None
        if path == prefix:
            return ""
        return path[cut:] if path.startswith(prefix + "/") else path

    return replace(event, path=rel(event.path) or "", dest=rel(event.dest))


class RecordingWriter:
    """Writes a header then events; ``close()`` publishes the file atomically.

    Args:
        path: Destination file.
        header: What the recording is of.
        fmt: ``jsonl`` or ``yaml``.
    """

    def __init__(self, path: str, header: WatchHeader, fmt: str = "jsonl") -> None:
        self.path = os.path.abspath(path)
        self.fmt = fmt
        self.count = 0
        directory = os.path.dirname(self.path)
        fd, self._temp = tempfile.mkstemp(prefix=".driftdeck-rec-", suffix=".tmp", dir=directory)
        self._handle: IO[bytes] | None = os.fdopen(fd, "wb")
        head = orjson.dumps(header.to_json())
        if fmt == "yaml":
            self._handle.write(YAML_COMMENT.encode() + b"header: " + head + b"\n")
        else:
            self._handle.write(head + b"\n")

    def write(self, events: Iterable[FsEvent]) -> None:
        """Append events in order."""
        assert self._handle is not None, "recording already closed"
        lead = b"- " if self.fmt == "yaml" else b""
        lines = [lead + orjson.dumps(event.to_json()) + b"\n" for event in events]
        if not lines:
            return
        if self.fmt == "yaml" and self.count == 0:
            self._handle.write(b"events:\n")
        self._handle.write(b"".join(lines))
        self.count += len(lines)

    def close(self) -> None:
        """Flush, fsync and rename into place."""
        if self._handle is None:
            return
        handle, self._handle = self._handle, None
        if self.fmt == "yaml" and self.count == 0:
            handle.write(b"events: []\n")
        handle.flush()
        os.fsync(handle.fileno())
        handle.close()
        os.replace(self._temp, self.path)

    def abort(self) -> None:
        """Drop the temporary file; nothing is published."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None
        try:
            os.unlink(self._temp)
        except FileNotFoundError:
            pass
