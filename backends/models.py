"""Frozen data models shared by every source, engine, the CLI and the TUI.

Models are plain frozen dataclasses with ``slots`` so that 100,000 of them stay
small. ``to_json()`` gives the stable JSON shape used by ``--json`` output and,
later, by the HTTP API.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Generic, Mapping, TypeVar

RUN_STATES: tuple[str, ...] = ("PENDING", "RUNNING", "WAITING", "READY", "FAILED", "QUARANTINED")
"""Run states in lifecycle order."""

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong with one file (and line), reported instead of raised.

    Attributes:
        path: File path relative to the source root.
        line: 1-based line number, or ``None`` for file-wide problems.
        message: What is wrong, without the location.
    """

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.path}:{self.line}" if self.line is not None else self.path
        return f"{where}: {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line, "message": self.message}


@dataclass(frozen=True, slots=True)
class RunSummary:
    """One run as listed: enough to filter, sort and draw a row.

    Attributes:
        run_id: The run's id (``run_id`` in its status, else its directory name).
        key: The run directory relative to the root (POSIX); unique per source.
        state: One of ``RUN_STATES``, another string the file holds, or ``None``
            when the status is missing or unreadable.
        reason_code: Upper-snake reason, if any.
        updated_at: Timestamp as written in the status file.
        sort_ts: ``updated_at`` as epoch seconds (0.0 when absent or unparsable).
        problem: Why the status could not be read, if it could not.
    """

    run_id: str
    key: str
    state: str | None
    reason_code: str | None
    updated_at: str | None
    sort_ts: float
    problem: Problem | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "key": self.key,
            "state": self.state,
            "reason_code": self.reason_code,
            "updated_at": self.updated_at,
            "problem": None if self.problem is None else self.problem.to_json(),
        }


@dataclass(frozen=True, slots=True)
class RunQuery:
    """A filter over runs.

    Attributes:
        states: States to keep; empty keeps every state.
        reason_codes: Reason codes to keep; empty keeps every reason.
        text: Case-insensitive substring over id, key, state and reason; a
            leading ``!`` inverts the match.
    """

    states: frozenset[str] = frozenset()
    reason_codes: frozenset[str] = frozenset()
    text: str = ""

    def matches(self, run: RunSummary) -> bool:
        """Whether ``run`` passes this filter.

        A run whose status could not be read (``state is None``) passes the
        state and reason filters, since both are unknown: a filter never
        hides a broken run, only the text filter can.
        """
        if run.state is None:
            return not self.text or text_matches(self.text, (run.run_id, run.key))
        if self.states and (run.state or "") not in self.states:
            return False
        if self.reason_codes and (run.reason_code or "") not in self.reason_codes:
            return False
        if self.text:
            return text_matches(self.text, (run.run_id, run.key, run.state or "", run.reason_code or ""))
        return True

    def to_json(self) -> dict[str, Any]:
        return {"states": sorted(self.states), "reason_codes": sorted(self.reason_codes), "text": self.text}


def text_matches(pattern: str, haystacks: tuple[str, ...]) -> bool:
    """Case-insensitive substring match; a leading ``!`` inverts it.

    Args:
        pattern: The user's filter text, possibly prefixed with ``!``.
        haystacks: The strings to look in.

    Returns:
        Whether any haystack contains the pattern (or none does, inverted).
    """
    invert = pattern.startswith("!")
    needle = (pattern[1:] if invert else pattern).casefold()
    if not needle:
        return True
    found = any(needle in hay.casefold() for hay in haystacks)
    return found != invert


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a paginated list.

    Attributes:
        items: The items of this page, in order.
        next_cursor: Opaque cursor for the next page, ``None`` on the last one.
    """

    items: tuple[T, ...]
    next_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """A pointer from a quarantine artifact to the evidence behind it.

    Attributes:
        ref: Path (relative to the root), URI or other locator.
        kind: What it points at (``file``, ``wal_event``, ``receipt`` ...).
        note: Free text, if the artifact gave one.
        exists: For local paths, whether the target exists; ``None`` if unknown.
    """

    ref: str
    kind: str = "ref"
    note: str | None = None
    exists: bool | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ArtifactInfo:
    """A quarantine artifact of one run, parsed (bounded) for its headline fields.

    Attributes:
        name: File name inside the run's quarantine folder.
        path: Path relative to the source root.
        size: Size in bytes.
        reason_code: ``reason_code`` from the artifact.
        quarantined_at: ``quarantined_at`` from the artifact.
        detail: ``detail`` from the artifact (first line kept for lists).
        evidence: Evidence references.
        problem: Why the artifact could not be parsed, if it could not.
    """

    name: str
    path: str
    size: int
    reason_code: str | None = None
    quarantined_at: str | None = None
    detail: str | None = None
    evidence: tuple[EvidenceRef, ...] = ()
    problem: Problem | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "path": self.path,
            "size": self.size,
            "reason_code": self.reason_code,
            "quarantined_at": self.quarantined_at,
            "detail": self.detail,
            "evidence": [e.to_json() for e in self.evidence],
            "problem": None if self.problem is None else self.problem.to_json(),
        }


@dataclass(frozen=True, slots=True)
class RunDetail:
    """Everything known about one run except its (paged) record events.

    Attributes:
        summary: The run as listed.
        status: The parsed status object (empty when unreadable).
        status_path: Path of the status file relative to the root.
        record_path: Path of the record file, or ``None`` when the run has none.
        record_size: Size of the record file in bytes (0 when absent).
        artifacts: Quarantine artifacts, sorted by name.
        wal_files: WAL files of the run, relative to the root.
        problems: Everything that could not be read while building this.
    """

    summary: RunSummary
    status: Mapping[str, Any]
    status_path: str
    record_path: str | None
    record_size: int
    artifacts: tuple[ArtifactInfo, ...]
    wal_files: tuple[str, ...]
    problems: tuple[Problem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            **self.summary.to_json(),
            "status": dict(self.status),
            "status_path": self.status_path,
            "record_path": self.record_path,
            "record_size": self.record_size,
            "artifacts": [a.to_json() for a in self.artifacts],
            "wal_files": list(self.wal_files),
            "problems": [p.to_json() for p in self.problems],
        }


@dataclass(frozen=True, slots=True)
class RunEvent:
    """One line of a run's append-only record.

    Attributes:
        line: 1-based line number in the record file.
        event_id: ``event_id`` of the event, if present.
        ts: ``ts`` of the event as written.
        kind: ``kind`` of the event.
        fields: The whole event object (empty for malformed lines).
        problem: Why the line could not be parsed, if it could not.
    """

    line: int
    event_id: str | None
    ts: str | None
    kind: str | None
    fields: Mapping[str, Any] = field(default_factory=dict)
    problem: Problem | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "event_id": self.event_id,
            "ts": self.ts,
            "kind": self.kind,
            "fields": dict(self.fields),
            "problem": None if self.problem is None else self.problem.to_json(),
        }


@dataclass(frozen=True, slots=True)
class ArtifactPreview:
    """A bounded, display-ready preview of an artifact.

    Attributes:
        path: Path relative to the root.
        size: Full size of the file in bytes.
        text: The preview text (pretty-printed JSON when it parsed).
        language: ``json`` when ``text`` is pretty JSON, else ``text``.
        truncated: Whether ``text`` is cut short of the whole file.
        problem: Why the file could not be pretty-printed, if it could not.
    """

    path: str
    size: int
    text: str
    language: str
    truncated: bool
    problem: Problem | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "size": self.size,
            "text": self.text,
            "language": self.language,
            "truncated": self.truncated,
            "problem": None if self.problem is None else self.problem.to_json(),
        }


@dataclass(frozen=True, slots=True)
class FileEntry:
    """A directory entry or ``stat`` result, relative to the source root.

    Attributes:
        path: POSIX path relative to the root.
        kind: ``file``, ``dir``, ``symlink`` or ``other``.
        size: Size in bytes (of the link itself for symlinks).
        mtime: Modification time, epoch seconds.
        target: Symlink target as stored, for symlinks.
        error: Why the entry could not be examined, if it could not.
    """

    path: str
    kind: str
    size: int
    mtime: float
    target: str | None = None
    error: str | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class SnapshotInfo:
    """A trace snapshot (a directory of files).

    Attributes:
        name: Snapshot name (its directory name).
        path: Path relative to the root.
        files: Number of files it holds (recursively).
        size: Total bytes of those files.
        mtime: Newest modification time inside it.
    """

    name: str
    path: str
    files: int
    size: int
    mtime: float

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class WalPair:
    """A record/replay pair of WAL files found in one run's ``wal`` folder.

    Attributes:
        run_id: Run the pair belongs to.
        record: Path of the recorded WAL, relative to the root.
        replay: Path of the replay WAL, or ``None`` when only a record exists.
    """

    run_id: str
    record: str
    replay: str | None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# Capability names in ``SourceInfo.capabilities`` (what a source offers; panes read them).
CAP_RUNS = "runs"
CAP_FILES = "files"
CAP_INVENTORY = "inventory"
CAP_CHECKSUMS = "checksums"
CAP_WAL = "wal"
CAP_SNAPSHOTS = "snapshots"
CAP_WATCH = "watch"


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What a source is and what it can do; cheap to compute.

    Attributes:
        spec: The spec the source was opened from, as the user gave it.
        kind: ``local``, ``http`` or a plugin's name.
        root: The root it reads, as the source reports it.
        read_only: Always true for sources that never write.
        capabilities: Names of the operations it supports.
        layout: The globs it uses to find runs, snapshots, manifests.
    """

    spec: str
    kind: str
    root: str
    read_only: bool
    capabilities: frozenset[str]
    layout: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "spec": self.spec,
            "kind": self.kind,
            "root": self.root,
            "read_only": self.read_only,
            "capabilities": sorted(self.capabilities),
            "layout": dict(self.layout),
        }
