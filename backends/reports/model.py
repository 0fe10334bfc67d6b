"""The neutral shape of a checking command's answer: suites of cases, each passed or failed.

One ``Case`` per checked item (a manifest entry, a WAL divergence or
problem, a snapshot entry, a recording problem, a run). Renderers read only
these classes, so JUnit, HTML and annotations say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.snapshots.models import SideRow

PASSED, FAILED, ERROR, SKIPPED = "passed", "failed", "error", "skipped"
STATUSES = (PASSED, FAILED, ERROR, SKIPPED)


@dataclass(frozen=True, slots=True)
class SideDiff:
    """A side-by-side diff: rows with the changed words marked (``SideRow`` spans).

    Attributes:
        title: What is compared (``record line 37 / replay line 37``).
        left: Heading of the left column (baseline, record, expected).
        right: Heading of the right column (candidate, replay, found).
        rows: The rows, hunk separators (tag ``@``) included.
        truncated: Whether rows were cut at the engine's limit.
    """

    title: str
    left: str
    right: str
    rows: tuple[SideRow, ...]
    truncated: bool = False


@dataclass(frozen=True, slots=True)
class Case:
    """One checked item.

    Attributes:
        name: What was checked (a path, ``line 37 (id 37)``, ...), one line.
        status: One of ``STATUSES``.
        message: The verdict in one line (``expected 200, found 503``); empty when passed.
        details: Label/value pairs shown with the case (expected, found, size ...).
        file: The file the item is in, relative to the workspace, when known.
        line: Its 1-based line in ``file``, when known.
        kind: Category of the item (``changed``, ``missing``, ``ts-backwards`` ...).
        diffs: Side-by-side diffs of the item's content.
    """

    name: str
    status: str
    message: str = ""
    details: tuple[tuple[str, str], ...] = ()
    file: str | None = None
    line: int | None = None
    kind: str = ""
    diffs: tuple[SideDiff, ...] = ()

    @property
    def failing(self) -> bool:
        return self.status in (FAILED, ERROR)


@dataclass(frozen=True, slots=True)
class Suite:
    """The cases of one checked thing (a manifest, a WAL pair, a snapshot pair, a recording).

    Attributes:
        name: What was checked, one line.
        cases: Its cases, in report order.
        counts: Label/count pairs for the summary (``changed 3``).
        facts: Label/value pairs about the whole (rules, totals, verdict).
        notes: Things the reader should know (cut short, torn tail ...).
        seconds: Time spent, when measured.
    """

    name: str
    cases: tuple[Case, ...]
    counts: tuple[tuple[str, int], ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    notes: tuple[str, ...] = ()
    seconds: float = 0.0

    def tally(self, status: str) -> int:
        return sum(1 for case in self.cases if case.status == status)


@dataclass(frozen=True, slots=True)
class Report:
    """A checking command's whole answer.

    Attributes:
        command: The command, as typed (``checksums verify``).
        title: One line naming what was checked.
        verdict: ``OK``, ``DRIFT``, ``DIVERGED`` ... in a word.
        ok: Whether the verdict is clean.
        suites: One per checked thing.
    """

    command: str
    title: str
    verdict: str
    ok: bool
    suites: tuple[Suite, ...]

    def tally(self, status: str) -> int:
        return sum(suite.tally(status) for suite in self.suites)

    @property
    def total(self) -> int:
        return sum(len(suite.cases) for suite in self.suites)
