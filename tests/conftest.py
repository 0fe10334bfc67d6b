"""Shared fixtures: small hand-made workspaces and a tree fingerprint for read-only checks."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest


def write_run(
    root: Path,
    run_id: str,
    *,
    state: str | None = "QUARANTINED",
    reason: str | None = "INSTANCE_RECEIPT_DRIFT",
    updated: str = "2026-11-02T10:00:00Z",
    status_bytes: bytes | None = None,
    record: list[dict[str, Any]] | bytes | None = None,
    artifacts: dict[str, Any] | None = None,
    parent: str = "runs",
) -> Path:
    """Create one run directory the way a real platform would."""
    run_dir = root / parent / run_id
    run_dir.mkdir(parents=True, exist_ok=True)
    if status_bytes is not None:
        (run_dir / "run_status.json").write_bytes(status_bytes)
    else:
        status: dict[str, Any] = {"run_id": run_id, "updated_at": updated}
        if state is not None:
            status["state"] = state
        status["reason_code"] = reason
        (run_dir / "run_status.json").write_text(json.dumps(status, indent=2) + "\n")
    if isinstance(record, bytes):
        (run_dir / "run_record.jsonl").write_bytes(record)
    elif record is not None:
        (run_dir / "run_record.jsonl").write_text("".join(json.dumps(e) + "\n" for e in record))
    for name, body in (artifacts or {}).items():
        (run_dir / "quarantine").mkdir(exist_ok=True)
        data = body if isinstance(body, bytes) else json.dumps(body, indent=2).encode()
        (run_dir / "quarantine" / name).write_bytes(data)
    return run_dir


def tree_fingerprint(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every path under ``root`` with (mode, size, mtime_ns), without following symlinks."""
    seen: dict[str, tuple[int, int, int]] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            seen[os.path.relpath(path, root)] = (st.st_mode, st.st_size, st.st_mtime_ns)
    return seen


@pytest.fixture
def small_workspace(tmp_path: Path) -> Path:
    """Five runs in several states, one with a record and a quarantine artifact."""
    root = tmp_path / "ws"
    write_run(
        root,
        "run-a",
        updated="2026-11-03T08:00:00Z",
        record=[
            {"event_id": "e1", "ts": "2026-11-03T07:00:00.000Z", "kind": "RunCreated"},
            {"event_id": "e2", "ts": "2026-11-03T07:30:00.000Z", "kind": "CheckFailed", "check": "receipt"},
            {"event_id": "e3", "ts": "2026-11-03T08:00:00.000Z", "kind": "Quarantined"},
        ],
        artifacts={
            "receipt-drift.json": {
                "reason_code": "INSTANCE_RECEIPT_DRIFT",
                "quarantined_at": "2026-11-03T08:00:00Z",
                "detail": "Receipt digest differs from the sealed instance.",
                "evidence": [
                    {"kind": "file", "ref": "runs/run-a/run_record.jsonl", "note": "the record"},
                    {"kind": "file", "ref": "missing/evidence.json"},
                    "https://ci.example/run-a",
                ],
            }
        },
    )
    write_run(root, "run-b", reason="ENGINE_RECEIPT_MISMATCH", updated="2026-11-04T08:00:00Z")
    write_run(root, "run-c", state="READY", reason=None, updated="2026-11-01T08:00:00Z")
    write_run(root, "run-d", state="FAILED", reason="ATTEMPT_LIMIT_EXCEEDED", updated="2026-11-05T08:00:00Z")
    write_run(root, "run-e", state="RUNNING", reason=None, updated="2026-11-06T08:00:00Z")
    return root


@pytest.fixture
def single_threaded() -> None:
    """Wait for threads left by earlier tests to end: worker processes are only forked from one thread.

    Watchers stopped by an earlier test may still be winding down; a thread
    still running after five seconds is a leak, and the test fails naming it.
    """
    import threading
    import time

    deadline = time.monotonic() + 5
    while threading.active_count() > 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    others = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    assert not others, f"threads still running before a fork test: {others}"
