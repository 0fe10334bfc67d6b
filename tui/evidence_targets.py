"""From a quarantined run's reason and evidence to the place in the deck that shows it.

An evidence reference is a path (``runs/R/wal/record.jsonl#L37``,
``fixtures/golden/SHA256SUMS#L7``, ``history/snapshots/S/blobs/x.bin``) or a
URL. This module turns one into go-to targets in their command-line form
(``wal:R``, ``line:37``, ``manifest:M``, ``snap:A..B``, ``path:P``; see
:mod:`tui.goto`), so the same answer serves the key in the run detail and a
deep link printed for CI (``driftdeck WS --goto wal:R --goto line:37``).
Plain functions over the run's data: tested without an app.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from backends.models import EvidenceRef, RunDetail, SnapshotInfo

WAL_REASONS = frozenset({"REPLAY_DIVERGENCE", "WAL_SEQUENCE_VIOLATION"})
"""Reasons whose evidence is the run's own WAL pair."""

PREFERRED = {"CHECKSUM_DRIFT": "manifest:", "SEALED_OUTPUT_MUTATED": "snap:"}
"""For these reasons, the evidence shown by this kind of place answers the reason (others only support it)."""


@dataclass(frozen=True)
class Place:
    """Where one piece of evidence is shown.

    Attributes:
        targets: Go-to targets, in order (``wal:R`` then ``line:N``, ``snap:A..B`` then ``path:P``).
        label: What the place is, for the key's notice (``pane 3, line 37 of record.jsonl``).
    """

    targets: tuple[str, ...]
    label: str


def split_ref(ref: str) -> tuple[str, int | None]:
    """``path#L12`` -> ``("path", 12)``; a ref without a line anchor -> ``(ref, None)``."""
    path, sep, anchor = ref.partition("#L")
    if sep and anchor.isascii() and anchor.isdigit():  # "²" is a digit int() refuses: a ref is data, not trusted
        return path, int(anchor)
    return ref, None


def _name(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def evidence_place(
    ref: EvidenceRef, detail: RunDetail, snapshots: Sequence[SnapshotInfo], manifests: Sequence[str], others: Sequence[EvidenceRef] = ()
) -> Place | None:
    """The place that shows ``ref``, or ``None`` (a URL, the run's own record, an unknown path).

    Args:
        ref: The evidence reference.
        detail: The run citing it.
        snapshots: Snapshots of the source (a ref inside one opens pane 4 on it).
        manifests: Manifest paths of the source (a ref to one opens pane 5 on it).
        others: The other references of the same artifact: a second snapshot among them
            is the other side of the comparison.
    """
    if "://" in ref.ref:
        return None
    path, line = split_ref(ref.ref)
    if path in detail.wal_files:
        pair = [f"wal:{detail.summary.run_id}"]
        is_record = _name(path).startswith("record")
        if line is not None and is_record:
            return Place((*pair, f"line:{line}"), f"pane 3, line {line} of {_name(path)}")
        return Place(tuple(pair), f"pane 3, the WAL pair of {detail.summary.run_id}")
    if path in manifests:
        return Place((f"manifest:{path}",), f"pane 5, {path}")
    for manifest in manifests:  # a file a manifest lists: that manifest, on that entry
        folder = manifest.rpartition("/")[0]
        if folder and path.startswith(folder + "/"):
            return Place((f"manifest:{manifest}", f"path:{path}"), f"pane 5, {path} in {manifest}")
    inside = _snapshot_of(path, snapshots)
    if inside is not None:
        snapshot, relative = inside
        names = [s.name for s in snapshots]
        other = next((o for o in (_snapshot_of(split_ref(r.ref)[0], snapshots) for r in others) if o and o[0].name != snapshot.name), None)
        if other is not None:
            first, second = sorted((snapshot.name, other[0].name), key=names.index)
        else:
            index = names.index(snapshot.name)
            if len(names) < 2:
                return None
            first, second = (names[index - 1], snapshot.name) if index > 0 else (snapshot.name, names[1])
        return Place((f"snap:{first}..{second}", f"path:{relative}"), f"pane 4, {relative} in {first} → {second}")
    return None


def _snapshot_of(path: str, snapshots: Sequence[SnapshotInfo]) -> tuple[SnapshotInfo, str] | None:
    for snapshot in snapshots:
        prefix = snapshot.path.rstrip("/") + "/"
        if path.startswith(prefix) and len(path) > len(prefix):
            return snapshot, path[len(prefix):]
    return None


def reason_place(detail: RunDetail, snapshots: Sequence[SnapshotInfo], manifests: Sequence[str]) -> Place | None:
    """Where the run's reason code is answered: its WAL pair at the first divergence for a replay reason,
    else the first evidence reference that has a place (a manifest for checksum drift, a snapshot pair for
    a mutated sealed output)."""
    summary = detail.summary
    if summary.reason_code in WAL_REASONS and detail.wal_files:
        return Place((f"wal:{summary.run_id}",), f"pane 3, the WAL pair of {summary.run_id}")
    places = [
        place
        for artifact in detail.artifacts
        for ref in artifact.evidence
        if ref.exists is not False  # missing evidence is shown in the run detail, not elsewhere
        for place in (evidence_place(ref, detail, snapshots, manifests, artifact.evidence),)
        if place is not None
    ]
    preferred = PREFERRED.get(summary.reason_code or "")
    return next((p for p in places if preferred and p.targets[0].startswith(preferred)), places[0] if places else None)
