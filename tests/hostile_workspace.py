"""One hostile workspace: the demo workspace plus everything a real disk can throw at a reader.

``build_hostile(base)`` writes the demo workspace (``build_demo(seed=7)``) to
``base/ws`` and a directory outside it to ``base/outside``, then adds, each
where the engines will meet it:

* symlink cycles and aliases: ``self -> .``, ``up -> ..``, a loop ``a -> b``,
  ``b -> a``, a link to a directory outside the root, a link to
  ``/etc/passwd`` (at the root, inside a run, a snapshot and a manifest's
  folder);
* FIFOs where a file is expected: a run's ``run_status.json``, its
  ``run_record.jsonl``, a quarantine artifact, a checksum manifest, a WAL
  file (``wal/replay.jsonl``), a file inside a trace snapshot and a file a
  manifest lists;
* files and directories of mode 000;
* names with a newline, a backslash, ``%2e``, and bytes that are not UTF-8;
* a single JSONL line of several MiB, JSON nested 10,000 deep, empty and
  binary files where JSON or JSONL is expected, and a BOM + CRLF file
  (``driftdeck.yaml`` itself is one: the app must still open).

``build_hostile(base, config_fifo=True)`` makes ``driftdeck.yaml`` a FIFO
instead: every command must then fail at once, in one line.

``HOSTILE_RUN`` sorts first among the WAL pairs and, with the newest
``updated_at``, first among the quarantined runs (itself or its alias
``runs/alias``), so "the first row" of the Runs and WAL panes is the hostile one.

Everything is created with the permissions a test needs to clean it up as
root; ``restore_modes`` gives the 000 entries back their modes so a non-root
user can remove the tree.
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from backends.demo import build_demo

HOSTILE_RUN = "0-hostile"
"""A quarantined run (newest of all) whose record, an artifact and a WAL file are FIFOs."""

NEWEST = "2099-01-01T00:00:00Z"
HUGE_LINE_BYTES = 5 << 20
DEEP = 10_000

BOM = b"\xef\xbb\xbf"
BAD_UTF8 = b"caf\xe9-\xff"
"""A file or directory name that is not UTF-8 (created through bytes paths)."""

ODD_NAMES = ("new\nline", "back\\slash", "%2e%2e", "%2e")


def _status(run_id: str, state: str = "QUARANTINED", reason: str = "HOSTILE_INPUT", updated: str = "2026-11-20T00:00:00Z") -> bytes:
    return json.dumps({"run_id": run_id, "state": state, "reason_code": reason, "updated_at": updated}, indent=2).encode() + b"\n"


def _deep_json() -> bytes:
    return b'{"a":' * DEEP + b"1" + b"}" * DEEP


def _deep_list() -> bytes:
    return b"[" * DEEP + b"]" * DEEP


def _huge_jsonl_line() -> bytes:
    padding = "x" * HUGE_LINE_BYTES
    return json.dumps({"v": 2, "id": 1, "ts_ms": 0, "run_id": HOSTILE_RUN, "kind": "huge", "payload": {"blob": padding}}).encode() + b"\n"


def _wal_line(i: int, kind: str = "step") -> bytes:
    return json.dumps({"v": 2, "id": i, "ts_ms": 1000 * i, "run_id": HOSTILE_RUN, "kind": kind, "payload": {"n": i}}).encode() + b"\n"


def _binary() -> bytes:
    return bytes(range(256)) * 4 + b"\x00\xff\xfe"


@dataclass
class Hostile:
    """Where things are: ``root`` (the workspace), ``outside`` (a directory beside it)."""

    base: Path
    root: Path
    outside: Path
    fifos: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)
    """Paths (relative to the root) of mode 000, files and directories."""

    def rel(self, path: Path) -> str:
        return os.path.relpath(path, self.root)


def _fifo(ws: Hostile, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)
    ws.fifos.append(ws.rel(path))


def _lock(ws: Hostile, path: Path) -> None:
    path.chmod(0)
    ws.locked.append(ws.rel(path))


def build_hostile(base: Path, *, config_fifo: bool = False) -> Hostile:
    """Write the hostile workspace under ``base`` (``base/ws`` and ``base/outside``).

    Args:
        base: An empty directory (for unprivileged runs, one that ``nobody`` may search).
        config_fifo: Make ``driftdeck.yaml`` a FIFO (every command must then fail in one line).
    """
    root = base / "ws"
    outside = base / "outside"
    build_demo(root, seed=7)
    ws = Hostile(base, root, outside)
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the root\n")
    (outside / "run_status.json").write_bytes(_status("outside"))

    # driftdeck.yaml: the default layout, written with a BOM and CRLF line ends (or a FIFO).
    config = root / "driftdeck.yaml"
    if config_fifo:
        _fifo(ws, config)
    else:
        config.write_bytes(BOM + b"# hostile workspace\r\nlayout:\r\n  runs: \"runs/*\"\r\n  wal: \"wal/*.jsonl\"\r\n")

    # Symlink cycles and aliases at the root.
    (root / "self").symlink_to(".")
    (root / "up").symlink_to("..")
    (root / "a").symlink_to("b")
    (root / "b").symlink_to("a")
    (root / "outside").symlink_to(outside)
    (root / "passwd").symlink_to("/etc/passwd")

    runs = root / "runs"
    # The hostile run: newest quarantined run, sorts first among WAL pairs.
    hostile = runs / HOSTILE_RUN
    hostile.mkdir()
    (hostile / "run_status.json").write_bytes(_status(HOSTILE_RUN, updated=NEWEST))
    _fifo(ws, hostile / "run_record.jsonl")
    quarantine = hostile / "quarantine"
    quarantine.mkdir()
    _fifo(ws, quarantine / "a-fifo.json")
    (quarantine / "b-deep.json").write_bytes(_deep_json())
    (quarantine / "c-empty.json").write_bytes(b"")
    (quarantine / "d-binary.json").write_bytes(_binary())
    (quarantine / "e-bom-crlf.json").write_bytes(
        BOM + b'{\r\n  "reason_code": "HOSTILE_INPUT",\r\n  "quarantined_at": "2099-01-01T00:00:00Z",\r\n  "detail": "BOM and CRLF",\r\n'
        b'  "evidence": [{"kind": "file", "ref": "passwd"}, {"kind": "file", "ref": "../outside/secret.txt"},'
        b' {"kind": "file", "ref": "runs/0-hostile/run_record.jsonl"}, {"kind": "file", "ref": "self/self/up/outside/secret.txt"}]\r\n}\r\n'
    )
    (quarantine / "f-locked.json").write_bytes(b'{"reason_code": "LOCKED"}')
    _lock(ws, quarantine / "f-locked.json")
    (quarantine / "g-passwd.json").symlink_to("/etc/passwd")
    (quarantine / "h-outside.json").symlink_to(outside / "run_status.json")
    (quarantine / "i-loop.json").symlink_to("i-loop.json")
    (quarantine / "j-deep-list.json").write_bytes(_deep_list())
    (quarantine / "k-dir.json").mkdir()
    wal = hostile / "wal"
    wal.mkdir()
    (wal / "record.jsonl").write_bytes(_wal_line(1) + _huge_jsonl_line().replace(b'"id": 1', b'"id": 2') + _wal_line(3))
    _fifo(ws, wal / "replay.jsonl")
    (wal / "deep-record.jsonl").write_bytes(_wal_line(1) + b'{"v": 2, "id": 2, "payload": ' + _deep_json() + b"}\n" + _wal_line(3))
    (wal / "deep-replay.jsonl").write_bytes(_wal_line(1) + _wal_line(2) + _wal_line(3))
    (wal / "empty-record.jsonl").write_bytes(b"")
    (wal / "empty-replay.jsonl").write_bytes(_binary())
    (wal / "bom-record.jsonl").write_bytes(BOM + b"".join(_wal_line(i).replace(b"\n", b"\r\n") for i in (1, 2, 3)))
    (wal / "bom-replay.jsonl").write_bytes(_wal_line(1) + _wal_line(2) + _wal_line(3))
    (wal / "locked-record.jsonl").write_bytes(_wal_line(1))
    _lock(ws, wal / "locked-record.jsonl")
    (wal / "locked-replay.jsonl").write_bytes(_wal_line(1))
    (wal / "passwd-record.jsonl").symlink_to("/etc/passwd")
    (wal / "passwd-replay.jsonl").write_bytes(_wal_line(1))
    (wal / "loop-record.jsonl").symlink_to("loop-record.jsonl")
    (wal / "self").symlink_to(".")

    # Runs whose status file is hostile.
    _status_run(ws, "fifo-status", None)
    _status_run(ws, "deep-status", _deep_json())
    _status_run(ws, "empty-status", b"")
    _status_run(ws, "binary-status", _binary())
    _status_run(ws, "bom-crlf-status", BOM + _status("bom-crlf-status").replace(b"\n", b"\r\n"))
    _status_run(ws, "locked-status", _status("locked-status"))
    _lock(ws, runs / "locked-status" / "run_status.json")
    locked_dir = _status_run(ws, "locked-dir", _status("locked-dir"))
    _lock(ws, locked_dir)
    passwd_run = runs / "passwd-status"
    passwd_run.mkdir()
    (passwd_run / "run_status.json").symlink_to("/etc/passwd")
    huge = _status_run(ws, "huge-record", _status("huge-record", state="FAILED"))
    (huge / "run_record.jsonl").write_bytes(
        b'{"event_id": "e1", "ts": "2026-11-01T00:00:00Z", "kind": "RunCreated"}\n'
        + b'{"event_id": "e2", "kind": "Huge", "blob": "' + b"y" * HUGE_LINE_BYTES + b'"}\n'
        + _deep_json() + b"\n" + _binary() + b"\n"
        + b'{"event_id": "e3", "ts": "2026-11-01T00:00:01Z", "kind": "Done"}'
    )
    for name in ODD_NAMES:
        _status_run(ws, name, _status(name))
    bad = os.fsencode(runs) + b"/" + BAD_UTF8
    os.mkdir(bad)
    with open(bad + b"/run_status.json", "wb") as handle:
        handle.write(_status("not-utf8-name"))
    with open(bad + b"/run_record.jsonl", "wb") as handle:
        handle.write(b'{"event_id": "e1", "kind": "caf\xe9"}\n')
    (runs / "self").symlink_to(".")
    (runs / "up").symlink_to("..")
    (runs / "alias").symlink_to(HOSTILE_RUN)
    (runs / "outside").symlink_to(outside)
    (runs / "loop-a").symlink_to("loop-b")
    (runs / "loop-b").symlink_to("loop-a")

    # A trace snapshot holding every kind of trouble (it sorts newest: the Snapshots pane's candidate).
    snaps = root / "history" / "snapshots"
    candidate = sorted(p for p in snaps.iterdir())[-1]
    snap = snaps / "zz-hostile"
    shutil.copytree(candidate, snap, symlinks=True)  # same newest mtime, later name: the newest snapshot
    _fifo(ws, snap / "notes" / "fifo.txt")
    _fifo(ws, snap / "rules" / "velocity.yaml")  # a FIFO where the baseline has a file
    (snap / "self").symlink_to(".")
    (snap / "up").symlink_to("..")
    (snap / "outside").symlink_to(outside)
    (snap / "passwd").symlink_to("/etc/passwd")
    (snap / "loop").symlink_to("loop")
    (snap / "validator" / "report.json").write_bytes(_deep_json())
    (snap / "validator" / "checks" / "empty.json").write_bytes(b"")
    (snap / "validator" / "checks" / "binary.json").write_bytes(_binary())
    (snap / "validator" / "checks" / "bom.json").write_bytes(BOM + b'{\r\n"a": 1\r\n}\r\n')
    (snap / "telemetry" / "spans-score.jsonl").write_bytes(_huge_jsonl_line())
    (snap / "notes" / "locked.txt").write_text("locked\n")
    _lock(ws, snap / "notes" / "locked.txt")
    (snap / "locked-dir").mkdir()
    (snap / "locked-dir" / "inside.txt").write_text("inside\n")
    _lock(ws, snap / "locked-dir")
    for name in ODD_NAMES:
        (snap / "notes" / name).write_text(f"{name}\n")
    with open(os.fsencode(snap / "notes") + b"/" + BAD_UTF8, "wb") as handle:
        handle.write(b"not utf-8 name\n")

    # Checksum manifests: a FIFO, a locked one, a binary, an empty and a BOM/CRLF one, and hostile entries.
    fixtures = root / "fixtures"
    _fifo(ws, fixtures / "fifo" / "SHA256SUMS")
    hostile_sums = fixtures / "hostile"
    hostile_sums.mkdir()
    data = hostile_sums / "data"
    data.mkdir()
    (data / "plain.txt").write_text("plain\n")
    _fifo(ws, data / "fifo.bin")
    (data / "locked.bin").write_text("locked\n")
    _lock(ws, data / "locked.bin")
    (data / "locked-dir").mkdir()
    (data / "locked-dir" / "inside.bin").write_text("inside\n")
    _lock(ws, data / "locked-dir")
    (data / "passwd").symlink_to("/etc/passwd")
    (data / "outside").symlink_to(outside)
    (data / "self").symlink_to(".")
    (data / "up").symlink_to("..")
    (data / "loop").symlink_to("loop")
    for name in ODD_NAMES:
        (data / name).write_text(f"{name}\n")
    with open(os.fsencode(data) + b"/" + BAD_UTF8, "wb") as handle:
        handle.write(b"not utf-8 name\n")
    zero = "0" * 64
    lines = [
        f"{zero}  data/plain.txt",
        f"{zero}  data/fifo.bin",
        f"{zero}  data/locked.bin",
        f"{zero}  data/locked-dir/inside.bin",
        f"{zero}  data/passwd",
        f"{zero}  data/outside/secret.txt",
        f"{zero}  data/self/self/up/up/outside/secret.txt",
        f"{zero}  ../outside/secret.txt",
        f"{zero}  /etc/passwd",
        f"{zero}  data/loop",
        f"\\{zero}  data/new\\nline",
        f"\\{zero}  data/back\\\\slash",
        f"{zero}  data/%2e%2e",
        f"{zero}  data/%2e%2e/%2e%2e/outside/secret.txt",
        "not a checksum line",
        "",
    ]
    (hostile_sums / "SHA256SUMS").write_bytes(BOM + "\r\n".join(lines).encode() + b"\xe9\xff\r\n" + b"y" * HUGE_LINE_BYTES + b"\r\n")
    (hostile_sums / "binary.sha256").write_bytes(_binary())
    (hostile_sums / "empty.sha256").write_bytes(b"")
    (hostile_sums / "deep.sha256").write_bytes(_deep_json())
    (hostile_sums / "locked.sha256").write_text(f"{zero}  data/plain.txt\n")
    _lock(ws, hostile_sums / "locked.sha256")
    (hostile_sums / "passwd.sha256").symlink_to("/etc/passwd")
    (hostile_sums / "outside.sha256").symlink_to(outside / "secret.txt")
    (hostile_sums / "loop.sha256").symlink_to("loop.sha256")
    (hostile_sums / "dir.sha256").mkdir()
    return ws


def _status_run(ws: Hostile, name: str, status: bytes | None) -> Path:
    run = ws.root / "runs" / name
    run.mkdir(parents=True)
    if status is None:
        _fifo(ws, run / "run_status.json")
    else:
        (run / "run_status.json").write_bytes(status)
    return run


def restore_modes(ws: Hostile) -> None:
    """Give the mode-000 entries their modes back (so that anyone may remove the tree)."""
    for rel in ws.locked:
        path = ws.root / rel
        path.chmod(0o755 if path.is_dir() else 0o644)
