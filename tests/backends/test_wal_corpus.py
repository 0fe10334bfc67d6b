"""Hand-written WAL v2 lines shared by the WAL tests (golden inputs; no tests here)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson


def event(event_id: int, kind: str = "ActivityScheduled", *, ts: int | None = None, run: str = "run-1",
          **payload: Any) -> dict[str, Any]:
    """One well-formed WAL v2 event."""
    return {"v": 2, "id": event_id, "ts_ms": 1_000 + 10 * event_id if ts is None else ts, "run_id": run,
            "kind": kind, "payload": payload or {"n": event_id}}


def line(value: Any) -> bytes:
    """``value`` as one compact JSONL line."""
    return orjson.dumps(value) + b"\n"


def write(path: Path, *lines: bytes | dict[str, Any]) -> Path:
    """Write lines (dicts are serialised) to ``path``; returns it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"".join(item if isinstance(item, bytes) else line(item) for item in lines))
    return path
