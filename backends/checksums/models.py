"""What checksum verification yields: per-entry verdicts, progress, a summary.

Entry paths are POSIX and relative to the source root (``fixtures/golden/data/a.csv``);
``name`` keeps the spelling the manifest used (``./data/a.csv``).

These models are named tuples, not dataclasses like the other models:
``checksums verify`` loads them on every start, and importing
``dataclasses`` (with ``inspect``, which it imports) and building the
classes cost about 15 ms, a tenth of verifying 20,000 small files. They
cross the HTTP wire all the same (``backends.http.wire`` takes both kinds).
"""

from __future__ import annotations

from collections import namedtuple

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import Any

OK = "ok"
CHANGED = "changed"
MISSING = "missing"
UNREADABLE = "unreadable"
MOVED = "moved"
NEW = "new"
DUPLICATE = "duplicate"
ALIAS = "alias"
MALFORMED = "malformed"

CATEGORIES: tuple[str, ...] = (CHANGED, MISSING, UNREADABLE, MOVED, NEW, DUPLICATE, ALIAS, MALFORMED, OK)
"""Every entry category, most alarming first (the order summaries use)."""

MANIFEST_MISSING = "missing"
MANIFEST_UNREADABLE = "unreadable"
MANIFEST_EMPTY = "empty"
MANIFEST_UNPARSEABLE = "unparseable"


class ChecksumEntry(
    namedtuple(
        "ChecksumEntry",
        "category path line name expected actual size mtime reason other other_line conflict",
        defaults=(None, None, None, None, None, None, None, None, None, False),
    )
):
    """The verdict on one manifest line (or one unlisted file, for ``new``).

    Attributes:
        category: One of ``CATEGORIES``.
        path: Path relative to the source root (POSIX); for a malformed line,
            the manifest's path.
        line: 1-based manifest line, ``None`` for ``new`` files.
        name: The name exactly as listed (unescaped), ``None`` for ``new``.
        expected: Listed SHA-256, lowercase hex.
        actual: SHA-256 of the file as read now, if it was read.
        size: Size in bytes now, if the file could be examined.
        mtime: Modification time now (epoch seconds), if examined.
        reason: Why: the OS reason for ``unreadable``, what is wrong with a
            ``malformed`` line, a note for ``duplicate``/``alias``.
        other: The other path involved: where a ``moved`` entry's content is
            now; the first listing of a ``duplicate``/``alias`` entry.
        other_line: Manifest line of the first listing, for ``duplicate``/``alias``.
        conflict: For ``duplicate``/``alias``: the two lines list different hashes.
    """

    __slots__ = ()

    category: str
    path: str
    line: int | None
    name: str | None
    expected: str | None
    actual: str | None
    size: int | None
    mtime: float | None
    reason: str | None
    other: str | None
    other_line: int | None
    conflict: bool

    @property
    def is_drift(self) -> bool:
        """Whether this entry makes the manifest fail verification.

        Everything but ``ok`` is drift, except a repeated listing whose hash
        agrees with the first one and with the file.
        """
        if self.category == OK:
            return False
        if self.category in (DUPLICATE, ALIAS):
            return self.conflict or (self.actual is not None and self.actual != self.expected) or self.actual is None
        return True

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "path": self.path,
            "line": self.line,
            "name": self.name,
            "expected": self.expected,
            "actual": self.actual,
            "size": self.size,
            "mtime": self.mtime,
            "reason": self.reason,
            "other": self.other,
            "other_line": self.other_line,
            "conflict": self.conflict,
        }


class ChecksumProgress(
    namedtuple(
        "ChecksumProgress", "manifest files_done files_total bytes_done bytes_total totals_known", defaults=(True,)
    )
):
    """How far hashing has got.

    Attributes:
        manifest: The manifest being verified.
        files_done: Files examined so far.
        files_total: Files to examine (listed paths plus unlisted candidates).
        bytes_done: Bytes hashed so far.
        bytes_total: Bytes to hash, as far as known.
        totals_known: Whether ``bytes_total`` is final (sizing still runs otherwise).
    """

    __slots__ = ()

    manifest: str
    files_done: int
    files_total: int
    bytes_done: int
    bytes_total: int
    totals_known: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "progress",
            "manifest": self.manifest,
            "files_done": self.files_done,
            "files_total": self.files_total,
            "bytes_done": self.bytes_done,
            "bytes_total": self.bytes_total,
            "totals_known": self.totals_known,
        }


class ManifestProblem(namedtuple("ManifestProblem", "kind message")):
    """Why a manifest as a whole could not be verified.

    Attributes:
        kind: ``missing``, ``unreadable``, ``empty`` or ``unparseable``.
        message: One line naming the manifest.
    """

    __slots__ = ()

    kind: str
    message: str

    @property
    def is_input_error(self) -> bool:
        """Missing or unreadable: the CLI exits 2 for these."""
        return self.kind in (MANIFEST_MISSING, MANIFEST_UNREADABLE)

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "message": self.message}


class ChecksumSummary(
    namedtuple(
        "ChecksumSummary",
        "manifest counts drift files_hashed bytes_hashed elapsed problem cancelled format",
        defaults=(False, 0, 0, 0.0, None, False, None),
    )
):
    """The last item of a verification.

    Attributes:
        manifest: The manifest verified (relative to the source root).
        counts: Entries per category (categories with no entry are absent);
            the one field without a default, as a shared empty dict would be.
        drift: Whether any entry is drift (see ``ChecksumEntry.is_drift``) or
            the manifest itself has a problem.
        files_hashed: Files read to the end.
        bytes_hashed: Bytes hashed.
        elapsed: Seconds spent.
        problem: A manifest-level problem, if any.
        cancelled: The verification was stopped before the end.
        format: ``gnu``, ``bsd`` or ``mixed`` (``None`` when nothing parsed).
    """

    __slots__ = ()

    manifest: str
    counts: dict[str, int]
    drift: bool
    files_hashed: int
    bytes_hashed: int
    elapsed: float
    problem: ManifestProblem | None
    cancelled: bool
    format: str | None

    @property
    def entries(self) -> int:
        """Entries of every category."""
        return sum(self.counts.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "summary",
            "manifest": self.manifest,
            "counts": {c: self.counts[c] for c in CATEGORIES if c in self.counts},
            "drift": self.drift,
            "files_hashed": self.files_hashed,
            "bytes_hashed": self.bytes_hashed,
            "elapsed": round(self.elapsed, 6),
            "problem": None if self.problem is None else self.problem.to_json(),
            "cancelled": self.cancelled,
            "format": self.format,
        }
