"""Data models of snapshot comparison: rules, entry diffs, progress, summary, content.

Every model is a frozen dataclass with ``slots`` and a ``to_json()`` giving the
stable shape used by ``--json`` and by an HTTP source; ``from_json`` exists
where a client needs to rebuild the object from that shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

CATEGORIES: tuple[str, ...] = (
    "added",
    "removed",
    "changed",
    "binary_changed",
    "type_changed",
    "symlink_changed",
    "renamed",
    "unreadable",
    "unchanged",
)
"""Entry categories, in the order reports list them."""

CATEGORY_TITLES: Mapping[str, str] = {
    "added": "added",
    "removed": "removed",
    "changed": "changed",
    "binary_changed": "binary changed",
    "type_changed": "type changed",
    "symlink_changed": "symlink target changed",
    "renamed": "renamed",
    "unreadable": "unreadable",
    "unchanged": "unchanged",
}
"""How each category is written for people."""

DEFAULT_GROUPS: tuple[tuple[str, str], ...] = (
    ("rules/**", "rule drift"),
    ("validator/**", "validator"),
    ("telemetry/**", "telemetry"),
)
"""Default path pattern -> group label mapping (first match wins)."""

OTHER_GROUP = "other"
"""Group of paths no pattern matches."""

DEFAULT_KEYS: tuple[str, ...] = ("id", "span_id")
"""Record fields tried, in order, to index structured records (else position)."""

MODES: tuple[str, ...] = ("auto", "unified", "side", "structured", "binary")
"""Content diff modes of ``diff_entry``."""


@dataclass(frozen=True, slots=True)
class SnapshotRules:
    """What a snapshot diff ignores, and how it labels and indexes things.

    Attributes:
        ignore_paths: Path globs (``**`` spans directories; a glob without
            ``/`` matches a name at any depth; a directory match covers all
            beneath it). Matching entries are compared but reported as
            "same after rules".
        ignore_lines: Regexes over text lines: the parts of a line they match
            are ignored (a regex matching a whole line makes any change to
            that line ignored; lines added or removed still count).
        exclude_fields: Dotted field paths excluded from structured
            comparison (``*`` one key or index, ``**`` any depth).
        tolerance: Absolute tolerance for numbers in structured files.
        ignore_order: Compare lists in structured files as multisets.
        ignore_whitespace: Treat whitespace-only text changes as same.
        ignore_eol: Treat line-ending-only text changes as same.
        keys: Record fields used to pair records of JSONL files and JSON
            arrays, tried in order; records without any are paired by position.
        groups: ``(glob, label)`` pairs, first match wins.
        rename_threshold: Minimum similarity (0..1) for a text file pair to
            count as a rename with edits.
        structured_max_bytes: Above this size (per side) structured files get
            a line diff instead, and say so.
        apply: Whether the ignore rules apply at all (labels always do).
    """

    ignore_paths: tuple[str, ...] = ()
    ignore_lines: tuple[str, ...] = ()
    exclude_fields: tuple[str, ...] = ()
    tolerance: float = 0.0
    ignore_order: bool = False
    ignore_whitespace: bool = False
    ignore_eol: bool = False
    keys: tuple[str, ...] = DEFAULT_KEYS
    groups: tuple[tuple[str, str], ...] = DEFAULT_GROUPS
    rename_threshold: float = 0.5
    structured_max_bytes: int = 64 << 20
    apply: bool = True

    @property
    def has_ignores(self) -> bool:
        """Whether any rule can make a difference disappear."""
        return self.apply and bool(
            self.ignore_paths
            or self.ignore_lines
            or self.exclude_fields
            or self.tolerance
            or self.ignore_order
            or self.ignore_whitespace
            or self.ignore_eol
        )

    def describe(self) -> list[str]:
        """The active ignore rules, one human line each."""
        if not self.apply:
            return ["rules off"]
        lines = [f"ignore path {g}" for g in self.ignore_paths]
        lines += [f"ignore lines matching /{r}/" for r in self.ignore_lines]
        lines += [f"exclude field {f}" for f in self.exclude_fields]
        if self.tolerance:
            lines.append(f"numeric tolerance {self.tolerance:g}")
        if self.ignore_order:
            lines.append("ignore list order")
        if self.ignore_whitespace:
            lines.append("ignore whitespace")
        if self.ignore_eol:
            lines.append("ignore line endings")
        return lines

    def to_json(self) -> dict[str, Any]:
        return {
            "ignore_paths": list(self.ignore_paths),
            "ignore_lines": list(self.ignore_lines),
            "exclude_fields": list(self.exclude_fields),
            "tolerance": self.tolerance,
            "ignore_order": self.ignore_order,
            "ignore_whitespace": self.ignore_whitespace,
            "ignore_eol": self.ignore_eol,
            "keys": list(self.keys),
            "groups": [[glob, label] for glob, label in self.groups],
            "rename_threshold": self.rename_threshold,
            "structured_max_bytes": self.structured_max_bytes,
            "apply": self.apply,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "SnapshotRules":
        """Rebuild rules from ``to_json()`` output."""
        return cls(
            ignore_paths=tuple(data.get("ignore_paths", ())),
            ignore_lines=tuple(data.get("ignore_lines", ())),
            exclude_fields=tuple(data.get("exclude_fields", ())),
            tolerance=float(data.get("tolerance", 0.0)),
            ignore_order=bool(data.get("ignore_order", False)),
            ignore_whitespace=bool(data.get("ignore_whitespace", False)),
            ignore_eol=bool(data.get("ignore_eol", False)),
            keys=tuple(data.get("keys", DEFAULT_KEYS)),
            groups=tuple((str(g), str(label)) for g, label in data.get("groups", DEFAULT_GROUPS)),
            rename_threshold=float(data.get("rename_threshold", 0.5)),
            structured_max_bytes=int(data.get("structured_max_bytes", 64 << 20)),
            apply=bool(data.get("apply", True)),
        )


@dataclass(frozen=True, slots=True)
class EntryDiff:
    """One path of a tree diff.

    Attributes:
        path: Path inside the snapshots (the candidate's path for renames).
        category: One of ``CATEGORIES``.
        group: Group label from the path patterns.
        kind_a: ``file``, ``dir``, ``symlink``, ``other`` in the baseline, or ``None``.
        kind_b: The same in the candidate.
        size_a: Size in the baseline (0 when absent).
        size_b: Size in the candidate (0 when absent).
        old_path: Baseline path of a renamed entry.
        similarity: Percent similarity of a rename (100 for identical bytes).
        content_changed: For renames, whether the bytes differ too.
        target_a: Symlink target in the baseline.
        target_b: Symlink target in the candidate.
        format: ``text``, ``json``, ``yaml``, ``jsonl``, ``binary`` or ``None``.
        label: ``whitespace-only`` or ``line-endings-only`` for such text changes.
        same_after_rules: Whether every difference is ignored by a rule.
        rule: Which rule made it the same, when it is.
        error: Why an entry could not be read (category ``unreadable``).
    """

    path: str
    category: str
    group: str = OTHER_GROUP
    kind_a: str | None = None
    kind_b: str | None = None
    size_a: int = 0
    size_b: int = 0
    old_path: str | None = None
    similarity: int | None = None
    content_changed: bool = False
    target_a: str | None = None
    target_b: str | None = None
    format: str | None = None
    label: str | None = None
    same_after_rules: bool = False
    rule: str | None = None
    error: str | None = None

    @property
    def is_difference(self) -> bool:
        """Whether this entry still counts as a difference after the rules."""
        return self.category != "unchanged" and not self.same_after_rules

    @property
    def a_path(self) -> str:
        """The entry's path in the baseline."""
        return self.old_path or self.path

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "category": self.category,
            "group": self.group,
            "kind_a": self.kind_a,
            "kind_b": self.kind_b,
            "size_a": self.size_a,
            "size_b": self.size_b,
            "old_path": self.old_path,
            "similarity": self.similarity,
            "content_changed": self.content_changed,
            "target_a": self.target_a,
            "target_b": self.target_b,
            "format": self.format,
            "label": self.label,
            "same_after_rules": self.same_after_rules,
            "rule": self.rule,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntryDiff":
        """Rebuild an entry from ``to_json()`` output."""
        fields: dict[str, Any] = {name: data.get(name) for name in cls.__slots__ if name in data}
        return cls(**fields)


@dataclass(frozen=True, slots=True)
class DiffProgress:
    """How far a tree diff has got.

    Attributes:
        phase: ``scan``, ``compare``, ``renames`` or ``done``.
        done: Paths finished in this phase.
        total: Paths in this phase, when known.
        bytes_done: Bytes read so far.
    """

    phase: str
    done: int
    total: int | None
    bytes_done: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"type": "progress", "phase": self.phase, "done": self.done, "total": self.total,
                "bytes_done": self.bytes_done}


@dataclass(frozen=True, slots=True)
class DiffSummary:
    """Counts of a finished tree diff; always the last item of the stream.

    Attributes:
        a: Baseline path relative to the source root.
        b: Candidate path relative to the source root.
        categories: Entries per category (``unchanged`` included).
        groups: Differences (after rules) per group label.
        same_after_rules: Entries whose differences the rules all ignore.
        labels: Entries per label (``whitespace-only``, ``line-endings-only``).
        differences: Entries that still differ after the rules.
        files_a: Entries walked in the baseline.
        files_b: Entries walked in the candidate.
        bytes_read: Bytes read to compare.
        rules: The rules applied.
        notes: Things the reader should know (work skipped, limits hit).
    """

    a: str
    b: str
    categories: Mapping[str, int]
    groups: Mapping[str, int]
    same_after_rules: int
    labels: Mapping[str, int]
    differences: int
    files_a: int
    files_b: int
    bytes_read: int
    rules: SnapshotRules = field(default_factory=SnapshotRules)
    notes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "summary",
            "a": self.a,
            "b": self.b,
            "categories": dict(self.categories),
            "groups": dict(self.groups),
            "same_after_rules": self.same_after_rules,
            "labels": dict(self.labels),
            "differences": self.differences,
            "files_a": self.files_a,
            "files_b": self.files_b,
            "bytes_read": self.bytes_read,
            "rules": self.rules.to_json(),
            "notes": list(self.notes),
        }


@dataclass(frozen=True, slots=True)
class DiffLine:
    """One line of a unified diff.

    Attributes:
        tag: ``" "`` context, ``"-"`` removed, ``"+"`` added, ``"@"`` hunk
            header, ``"~"`` a line the rules ignore (shown as context), ``"…"`` a
            note that lines were cut.
        old: Line number in the baseline, if the line is there.
        new: Line number in the candidate, if the line is there.
        text: The line without its line ending.
        spans: ``(start, end)`` character ranges that changed within the line.
    """

    tag: str
    old: int | None
    new: int | None
    text: str
    spans: tuple[tuple[int, int], ...] = ()

    def to_json(self) -> list[Any]:
        return [self.tag, self.old, self.new, self.text, [list(s) for s in self.spans]]

    @classmethod
    def from_json(cls, data: list[Any]) -> "DiffLine":
        tag, old, new, text, spans = data
        return cls(tag, old, new, text, tuple((int(a), int(b)) for a, b in spans))


@dataclass(frozen=True, slots=True)
class SideRow:
    """One row of a side-by-side diff.

    Attributes:
        tag: ``" "`` same, ``"!"`` changed, ``"-"`` only left, ``"+"`` only
            right, ``"@"`` hunk separator, ``"~"`` ignored by rules.
        old: Left line number.
        left: Left text.
        left_spans: Changed ranges in ``left``.
        new: Right line number.
        right: Right text.
        right_spans: Changed ranges in ``right``.
    """

    tag: str
    old: int | None
    left: str
    left_spans: tuple[tuple[int, int], ...]
    new: int | None
    right: str
    right_spans: tuple[tuple[int, int], ...]

    def to_json(self) -> list[Any]:
        return [self.tag, self.old, self.left, [list(s) for s in self.left_spans],
                self.new, self.right, [list(s) for s in self.right_spans]]

    @classmethod
    def from_json(cls, data: list[Any]) -> "SideRow":
        tag, old, left, lspans, new, right, rspans = data
        return cls(tag, old, left, tuple((int(a), int(b)) for a, b in lspans),
                   new, right, tuple((int(a), int(b)) for a, b in rspans))


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One value that differs in a structured file.

    Attributes:
        kind: ``changed``, ``added``, ``removed`` or ``type_changed``.
        path: Dotted path of the value (record key first for record files).
        old: The old value as compact JSON (``None`` when added).
        new: The new value as compact JSON (``None`` when removed).
        context: Where it is: record key and line numbers, or the parent path.
        ignored: Whether a rule ignores it (excluded field, within the
            numeric tolerance); listed so the user sees what the rules hide.
        parent: The object around the value (candidate side; baseline side
            for removals), compact JSON, cut short.
    """

    kind: str
    path: str
    old: str | None
    new: str | None
    context: str = ""
    ignored: bool = False
    parent: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "old": self.old, "new": self.new,
                "context": self.context, "ignored": self.ignored, "parent": self.parent}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "FieldChange":
        return cls(data["kind"], data["path"], data.get("old"), data.get("new"),
                   data.get("context", ""), bool(data.get("ignored", False)), data.get("parent"))


@dataclass(frozen=True, slots=True)
class EntryContent:
    """The content diff of one entry, computed on demand.

    Attributes:
        path: The entry path (candidate side).
        old_path: Baseline path, when different.
        mode: ``unified``, ``side``, ``structured``, ``binary`` or ``none``
            (nothing to compare, e.g. a directory or a symlink).
        lines: Unified diff lines (mode ``unified``).
        rows: Side-by-side rows (mode ``side``).
        fields: Structured changes (mode ``structured``).
        size_a: Baseline size.
        size_b: Candidate size.
        sha256_a: Baseline digest, for binary entries.
        sha256_b: Candidate digest, for binary entries.
        notes: Human notes: fallbacks, parse errors, truncation, labels.
        truncated: Whether lines/rows/fields were cut at the limit.
        records: For record files, ``(records_a, records_b, differing)``.
    """

    path: str
    mode: str
    old_path: str | None = None
    lines: tuple[DiffLine, ...] = ()
    rows: tuple[SideRow, ...] = ()
    fields: tuple[FieldChange, ...] = ()
    size_a: int = 0
    size_b: int = 0
    sha256_a: str | None = None
    sha256_b: str | None = None
    notes: tuple[str, ...] = ()
    truncated: bool = False
    records: tuple[int, int, int] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "mode": self.mode,
            "old_path": self.old_path,
            "lines": [line.to_json() for line in self.lines],
            "rows": [row.to_json() for row in self.rows],
            "fields": [f.to_json() for f in self.fields],
            "size_a": self.size_a,
            "size_b": self.size_b,
            "sha256_a": self.sha256_a,
            "sha256_b": self.sha256_b,
            "notes": list(self.notes),
            "truncated": self.truncated,
            "records": None if self.records is None else list(self.records),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "EntryContent":
        """Rebuild content from ``to_json()`` output."""
        records = data.get("records")
        return cls(
            path=data["path"],
            mode=data["mode"],
            old_path=data.get("old_path"),
            lines=tuple(DiffLine.from_json(x) for x in data.get("lines", ())),
            rows=tuple(SideRow.from_json(x) for x in data.get("rows", ())),
            fields=tuple(FieldChange.from_json(x) for x in data.get("fields", ())),
            size_a=int(data.get("size_a", 0)),
            size_b=int(data.get("size_b", 0)),
            sha256_a=data.get("sha256_a"),
            sha256_b=data.get("sha256_b"),
            notes=tuple(data.get("notes", ())),
            truncated=bool(data.get("truncated", False)),
            records=None if records is None else (int(records[0]), int(records[1]), int(records[2])),
        )
