"""The report of ``events verify``: one case per listed problem of a recording."""

from __future__ import annotations

from backends.events.verify import VerifyReport
from backends.reports.model import ERROR, FAILED, PASSED, Case, Report, Suite

_VERDICTS = {0: "OK", 1: "VIOLATIONS", 3: "MALFORMED", 4: "MISSING FIELDS"}


def verify_report(report: VerifyReport) -> Report:
    """Violations fail; malformed records and records with missing fields are errors; a clean recording passes."""
    cases = []
    for violation in report.violations:
        where = f"line {violation.line}" if violation.line is not None else "record"
        cases.append(Case(f"{where}, seq {violation.seq}: {violation.rule}", FAILED, violation.message,
                          (("record", violation.record),), report.path, violation.line, violation.rule))
    for kind, problems in (("malformed", report.malformed), ("missing fields", report.missing)):
        for problem in problems:
            cases.append(Case(f"line {problem.line}: {kind}", ERROR, problem.message, (), report.path, problem.line, kind))
    if not cases:
        cases.append(Case(f"{report.path}: ordered and causal", PASSED, file=report.path, kind="ok"))
    shown = len(report.violations) + len(report.malformed) + len(report.missing)
    hidden = report.violation_count + report.malformed_count + report.missing_count - shown
    notes = [f"{hidden:,} more problems are counted but not listed"] if hidden > 0 else []
    suite = Suite(
        name=report.path,
        cases=tuple(cases),
        counts=(("records", report.records), ("order violations", report.order_violations),
                ("causality violations", report.causality_violations), ("malformed", report.malformed_count),
                ("missing fields", report.missing_count)),
        facts=(("format", report.format), ("mode", "strict" if report.strict else "lenient")),
        notes=tuple(notes),
    )
    verdict = _VERDICTS.get(report.exit_code, "UNREADABLE")
    return Report("events verify", report.path, verdict, report.exit_code == 0, (suite,))
