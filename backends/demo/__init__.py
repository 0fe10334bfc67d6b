"""The deterministic demo workspace behind ``driftdeck demo``.

:func:`build_demo` writes a complete workspace (runs and quarantines, WAL
pairs, trace snapshots, checksum manifests) under a root. The same seed gives
byte-identical files with identical modification times: every value comes
from ``random.Random(seed)`` and a fixed base time, never from the clock.
:class:`ActivityWriter` then makes live filesystem activity under ``live/``.

Standard library, orjson and PyYAML only; never imports textual or ``tui``.
"""

from __future__ import annotations

import os
import random
import shutil
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from backends.demo import manifests, quarantine, runs, snapshots, wal
from backends.demo.activity import ActivityWriter
from backends.errors import DriftdeckError

__all__ = ["ActivityWriter", "BASE_TIME", "DemoSummary", "MARKER", "build_demo"]

MARKER = ".driftdeck-demo"
"""Name of the marker file that makes a folder a (rebuildable) demo workspace."""
BASE_TIME = datetime(2026, 11, 1, tzinfo=timezone.utc)
"""Every timestamp in the demo derives from this."""


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` wrote.

    Attributes:
        root: The workspace root.
        runs: Number of well-formed runs (the two bad runs are not counted).
        quarantined: Number of QUARANTINED runs.
        wal_pairs: ``(run_id, description)`` of each WAL pair.
        snapshots: Snapshot names, oldest first.
        manifests: Checksum manifests, relative to the root.
        notable: Run ids of the interesting cases: ``long_record``,
            ``malformed_record``, ``large_artifact``, ``broken_status``,
            ``orphan``.
    """

    root: Path
    runs: int
    quarantined: int
    wal_pairs: list[tuple[str, str]]
    snapshots: list[str]
    manifests: list[str]
    notable: dict[str, str] = field(default_factory=dict)


def build_demo(root: Path, seed: int = 7) -> DemoSummary:
    """Write the demo workspace under ``root``.

    Args:
        root: Target folder; created if absent. It must be empty or hold a
            previous demo (its marker file), whose contents are replaced.
        seed: Seed of every random choice.

    Returns:
        A summary of what was written.

    Raises:
        DriftdeckError: ``root`` is a file, or a non-empty folder that is not a demo.
    """
    root = Path(root)
    _prepare(root)
    master = random.Random(seed)
    streams = {name: random.Random(master.getrandbits(64)) for name in ("runs", "wal", "snapshots", "manifests")}

    manifest_paths, facts = manifests.write_manifests(root, streams["manifests"])
    snapshot_names = snapshots.write_snapshots(root, streams["snapshots"])

    rng = streams["runs"]
    plans = runs.plan_runs(rng, BASE_TIME)
    by_state = {state: [p for p in plans if p.state == state] for state in runs.STATE_COUNTS}
    quarantined = {p.reason_code: p for p in reversed(by_state["QUARANTINED"])}  # first of each code wins
    chosen = {
        "parity": by_state["READY"][-1],
        "diverges": quarantined["REPLAY_DIVERGENCE"],
        "torn": by_state["FAILED"][0],
        "backwards": quarantined["WAL_SEQUENCE_VIOLATION"],
    }
    facts["wal"] = {plan.run_id: key for key, plan in chosen.items()}
    for key, count, _text in wal.PAIRS:
        chosen[key].set_replayed_events(count)
    notable = {
        "long_record": quarantined["ATTEMPT_LIMIT_EXCEEDED"].run_id,
        "malformed_record": quarantined["SCHEMA_VERSION_SKEW"].run_id,
        "large_artifact": quarantined["ENGINE_RECEIPT_MISMATCH"].run_id,
        "broken_status": "run-broken-status",
        "orphan": "run-orphan-no-status",
    }
    for plan in plans:
        bad_line = runs.MALFORMED_LINE if plan.run_id == notable["malformed_record"] else None
        runs.write_run(root, plan, malformed_line=bad_line)
        if plan.state == "QUARANTINED":
            quarantine.write_quarantine(root, rng, plan, facts)
    runs.write_bad_runs(root, rng, BASE_TIME)

    targets = {key: (plan.run_id, _epoch_ms(plan.ts_of("AttemptStarted")), _epoch_ms(plan.ts_of("ReplayStarted")))
               for key, plan in chosen.items()}
    pairs = wal.write_wal_pairs(root, streams["wal"], targets)

    summary = DemoSummary(
        root=root,
        runs=len(plans),
        quarantined=len(by_state["QUARANTINED"]),
        wal_pairs=pairs,
        snapshots=snapshot_names,
        manifests=manifest_paths,
        notable=notable,
    )
    (root / "README.txt").write_bytes(_readme(summary, chosen).encode())
    (root / MARKER).write_bytes(f"driftdeck demo workspace, seed {seed}\n".encode())
    _stamp_times(root)
    return summary


def _prepare(root: Path) -> None:
    """Make ``root`` an empty folder, refusing to clear anything but a demo."""
    if root.exists() and not root.is_dir():
        raise DriftdeckError(f"{root}: not a folder; the demo needs an empty or demo folder", path=str(root))
    if root.is_dir() and any(root.iterdir()):
        if not (root / MARKER).is_file():
            raise DriftdeckError(
                f"{root}: folder is not empty and is not a driftdeck demo (no {MARKER}); refusing to write there",
                path=str(root),
            )
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    root.mkdir(parents=True, exist_ok=True)


def _epoch_ms(iso_text: str) -> int:
    moment = datetime.strptime(iso_text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)


def _stamp_times(root: Path) -> None:
    """Set every entry's atime/mtime to a fixed time derived from its path.

    Snapshot entries get times on their snapshot's day; everything else gets
    times within 19 days of :data:`BASE_TIME`. Symlinks are stamped themselves.
    """
    entries = [root]
    for folder, dirs, files in os.walk(root):
        entries += [Path(folder, name) for name in sorted(dirs + files)]
    base = int(BASE_TIME.timestamp())
    for path in entries:
        relative = path.relative_to(root).as_posix()
        start, span = base, 19 * 86_400
        parts = relative.split("/")
        if len(parts) >= 3 and parts[:2] == ["history", "snapshots"]:
            day = datetime.strptime(parts[2][-10:], "%Y-%m-%d").replace(tzinfo=timezone.utc)
            start, span = int(day.timestamp()), 3_600
        seconds = start + zlib.crc32(relative.encode()) % span
        os.utime(path, ns=(seconds * 10**9, seconds * 10**9), follow_symlinks=False)


def _readme(summary: DemoSummary, chosen: dict[str, runs.RunPlan]) -> str:
    pairs = "\n".join(f"  runs/{run_id}/wal/  {text}" for run_id, text in summary.wal_pairs)
    n = summary.notable
    return f"""driftdeck demo workspace
========================

Built by `driftdeck demo` (backends.demo.build_demo). Deterministic: the same
seed gives the same bytes and modification times. Every timestamp derives from
{BASE_TIME:%Y-%m-%dT%H:%M:%SZ}. Safe to delete; rebuilt on the next `driftdeck demo`.

runs/                {summary.runs} runs in all six states, {summary.quarantined} QUARANTINED
  runs/{n['long_record']}/run_record.jsonl   2,500 events (paging)
  runs/{n['malformed_record']}/run_record.jsonl   line {runs.MALFORMED_LINE} is truncated JSON
  runs/{n['large_artifact']}/quarantine/engine-mismatch.json   ~300 KB (bounded preview)
  runs/run-broken-status/run_status.json   JSON syntax error on line 4
  runs/run-orphan-no-status/               a record but no run_status.json
  Three evidence refs point at files that do not exist (CHECKSUM_DRIFT and
  EVIDENCE_MISSING artifacts).

WAL v2 pairs (record.jsonl vs replay.jsonl):
{pairs}
  diverges: id {wal.DIVERGE_ID} ExternalIOFinished payload.status 200 -> 503; id {wal.SECOND_DIVERGE_ID}
    payload.decision approve -> review; replay has an extra event id {wal.EXTRA_ID} at its end.
  torn tail: the replay's last line is cut mid-JSON, no newline; a few replay
    floats (score, amount) differ from the record by < 1e-9.
  id goes backwards: replay line {wal.BACKWARDS_LINE} holds id 119 right after id 121.

history/snapshots/   {", ".join(summary.snapshots)}
  baseline -> candidate-2026-11-08:
{_listing(snapshots.CHANGES_0108)}
  candidate-2026-11-08 -> candidate-2026-11-15:
{_listing(snapshots.CHANGES_0815)}

fixtures/            checksum manifests
  fixtures/golden/SHA256SUMS, line by line:
{_listing({f"{i:>2} {name or '(garbage)'}": what for i, (what, name) in enumerate(manifests.GOLDEN_LINES, 1)})}
    unlisted: {", ".join(f"{k} ({v})" for k, v in manifests.GOLDEN_UNLISTED.items())}
  fixtures/bsd/SHA256SUMS                   BSD tag format, CRLF, all ok
  fixtures/release/artifact.tar.gz.sha256   single-file manifest, ok
  fixtures/empty/SHA256SUMS                 empty, next to one unlisted file

live/                written while `driftdeck demo` runs (ActivityWriter), not by the build
"""


def _listing(items: dict[str, str]) -> str:
    return "\n".join(f"    {key:<45} {value}" for key, value in items.items())
