"""The reports of ``wal validate`` (one case per problem) and ``wal diff`` (one case per divergence).

Event texts and field values come from the engine already redacted
(``WalRules.redact``): a redacted field is ``sha256:<12 hex>`` here as on screen.
"""

from __future__ import annotations

from typing import Iterable

from backends.reports.diffs import text_diff, value_rows
from backends.reports.model import FAILED, PASSED, Case, Report, SideDiff, Suite
from backends.wal.diff import KINDS, WalDiffSummary, WalDivergence
from backends.wal.validate import WalProblem, WalValidation


def problem_case(problem: WalProblem) -> Case:
    return Case(
        name=f"{problem.path}:{problem.line} {problem.code}",
        status=FAILED,
        message=f"{problem.code} ({problem.severity}): {problem.message}",
        details=(("severity", problem.severity),),
        file=problem.path,
        line=problem.line,
        kind=problem.code,
    )


def validate_report(problems: Iterable[WalProblem], summary: WalValidation) -> Report:
    """One case per listed problem; a valid file is one passing case."""
    cases = [problem_case(p) for p in problems]
    if not cases:
        cases.append(Case(f"{summary.path}: valid", PASSED, file=summary.path, kind="valid"))
    notes = []
    if summary.shown < summary.problems:
        notes.append(f"{summary.problems:,} problems, the first {summary.shown:,} listed")
    if summary.torn_tail:
        notes.append("the last line is a torn tail (the writer stopped mid-event)")
    ok = summary.problems == 0
    suite = Suite(
        name=summary.path,
        cases=tuple(cases),
        counts=tuple(sorted(summary.by_code.items())),
        facts=(("lines", f"{summary.lines:,}"), ("events", f"{summary.events:,}"), ("errors", f"{summary.errors:,}"),
               ("warnings", f"{summary.warnings:,}"), ("run id", str(summary.run_id or "-"))),
        notes=tuple(notes),
    )
    return Report("wal validate", summary.path, "VALID" if ok else "PROBLEMS", ok, (suite,))


def divergence_case(item: WalDivergence, record: str, replay: str) -> Case:
    """A divergence: where, the changed fields (expected vs found), and the two events side by side."""
    details: list[tuple[str, str]] = [("record line", str(item.record_line or "-")), ("replay line", str(item.replay_line or "-"))]
    if item.event_id is not None:
        details.append(("event id", str(item.event_id)))
    if item.event_kind:
        details.append(("event kind", item.event_kind))
    if item.note:
        details.append(("note", item.note))
    details += [(f"{change.path or '(event)'}", f"expected {change.expected or 'absent'}, found {change.found or 'absent'}")
                for change in item.changes]
    diffs = []
    if item.changes:
        diffs.append(SideDiff("changed fields", "expected (record)", "found (replay)",
                              value_rows((c.path or "(event)", c.expected, c.found) for c in item.changes)))
    if item.record is not None or item.replay is not None:
        diffs.append(text_diff(f"record line {item.record_line or '-'} / replay line {item.replay_line or '-'}",
                               f"record {record}", f"replay {replay}", item.record, item.replay))
    on_record = item.record_line is not None
    return Case(
        name=item.where(),
        status=FAILED,
        message=item.what(),
        details=tuple(details),
        file=record if on_record else replay,
        line=item.record_line if on_record else item.replay_line,
        kind=item.kind,
        diffs=tuple(diffs),
    )


def diff_report(divergences: Iterable[WalDivergence], summary: WalDiffSummary) -> Report:
    """One case per divergence; parity is one passing case."""
    cases = [divergence_case(d, summary.record, summary.replay) for d in divergences]
    if not cases and summary.parity:
        cases.append(Case(f"{summary.record} = {summary.replay}", PASSED, file=summary.record, kind="parity"))
    notes = []
    if summary.truncated:
        notes.append(f"stopped after {summary.divergences:,} divergences; the rest was not compared")
    elif not summary.complete:
        notes.append("the diff did not finish; the counts cover what was compared")
    for name, line in (("record", summary.record_torn), ("replay", summary.replay_torn)):
        if line is not None:
            notes.append(f"{name} line {line} is a torn tail (the writer stopped mid-event)")
    suite = Suite(
        name=f"{summary.record} -> {summary.replay}",
        cases=tuple(cases),
        counts=tuple((k, summary.counts.get(k, 0)) for k in KINDS if summary.counts.get(k)),
        facts=(("totals", summary.describe()), ("rules", summary.rules.describe())),
        notes=tuple(notes),
    )
    return Report("wal diff", f"{summary.record} -> {summary.replay}", "PARITY" if summary.parity else "DIVERGED",
                  summary.parity, (suite,))
