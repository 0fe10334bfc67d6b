"""Shared fixtures: small hand-made workspaces and a tree fingerprint for read-only checks."""

from __future__ import annotations

import json
import os
import pickle
import pwd
import select
import shutil
import signal
import stat
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tests.seaweed import seaweed as seaweed  # the session's one SeaweedFS, shared by tests/contract and tests/s3

T = TypeVar("T")


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


# -- Permission cases as an unprivileged user -------------------------------------------------
#
# Root reads a file of mode 000 whatever its bits, and CI runs as root. A test that needs a
# file the process cannot read runs that part through run_unprivileged(): as root it runs in a
# forked child that has dropped to nobody/nogroup with no supplementary groups; otherwise the
# mode bits already stop this process, and it runs here as it always did.


def _unprivileged_ids() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
        return entry.pw_uid, entry.pw_gid
    except KeyError:
        return 65534, 65534


def _searchable_by_others(path: Path) -> bool:
    return all(os.stat(p).st_mode & stat.S_IXOTH for p in (path, *path.parents))


@pytest.fixture
def unprivileged_tmp(tmp_path: Path) -> Iterator[Path]:
    """A fresh directory that run_unprivileged's callable can reach.

    Not root: ``tmp_path``. Root: pytest's own tree (/tmp/pytest-of-root) is 0700, so a
    dedicated 0755 directory under the first temp dir whose ancestors others may search,
    removed afterwards (root removes it whatever modes the test left inside).
    """
    if os.geteuid() != 0:
        yield tmp_path
        return
    for base in (tempfile.gettempdir(), "/tmp", "/var/tmp", "/dev/shm"):
        if os.path.isdir(base) and _searchable_by_others(Path(base)):
            break
    else:
        pytest.fail("no temp directory that an unprivileged user can reach")
    path = Path(tempfile.mkdtemp(prefix="driftdeck-unprivileged-", dir=base))
    try:
        path.chmod(0o755)
        yield path
    finally:
        shutil.rmtree(path)


def run_unprivileged(fn: Callable[..., T], *args: Any, timeout: float = 120.0, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` run where a file of mode 000 cannot be read; its result.

    Not root: called in this process. Root: called in a forked child that first drops to
    nobody/nogroup (``setgroups([])``, ``setgid``, ``setuid``); the result, or the exception
    with the child's traceback as a note, comes back pickled through a pipe, so both must
    pickle. The paths it touches must be reachable by nobody (``unprivileged_tmp``). The child
    cannot import anything new: the interpreter may live where nobody may not read (under
    /root here), so whatever ``fn`` imports lazily must already be imported by the test.
    """
    if os.geteuid() != 0:
        return fn(*args, **kwargs)
    uid, gid = _unprivileged_ids()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(read_end)
            try:
                os.setgroups([])
                os.setgid(gid)
                os.setuid(uid)
                assert (os.getuid(), os.geteuid(), os.getgid(), os.getegid(), os.getgroups()) == (uid, uid, gid, gid, [])
                payload: tuple[bool, Any, str] = (True, fn(*args, **kwargs), "")
            except BaseException as exc:  # everything goes back to the parent
                if isinstance(exc, ImportError):
                    exc.add_note("nobody cannot read the interpreter's files here: import this in the test, before run_unprivileged")
                payload = (False, exc, "".join(traceback.format_exception(exc)))
            try:
                data = pickle.dumps(payload)
                pickle.loads(data)  # what the parent will do: fail here, with the traceback
            except Exception as exc:
                data = pickle.dumps((False, None, f"{payload[2]}\nthe child's result does not pickle: {exc!r}"))
            with os.fdopen(write_end, "wb") as out:
                out.write(data)
        finally:
            os._exit(0)
    os.close(write_end)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([read_end], [], [], left)[0]:
                os.kill(pid, signal.SIGKILL)
                pytest.fail(f"the unprivileged child did not finish within {timeout} s")
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)
    if not chunks:
        pytest.fail("the unprivileged child ended without a result")
    ok, value, child_traceback = pickle.loads(b"".join(chunks))
    if ok:
        return value
    if isinstance(value, BaseException):
        value.add_note(f"raised as {uid}:{gid} in the unprivileged child:\n{child_traceback}")
        raise value
    pytest.fail(f"the unprivileged child failed:\n{child_traceback}")
