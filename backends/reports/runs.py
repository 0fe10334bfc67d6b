"""The report of ``quarantine list``: one case per run listed."""

from __future__ import annotations

from collections import Counter
from typing import Iterable

from backends.models import RunSummary
from backends.reports.model import ERROR, FAILED, PASSED, Case, Report, Suite

FAILING_STATES = frozenset({"QUARANTINED", "FAILED"})


def run_case(run: RunSummary) -> Case:
    """A quarantined or failed run fails (its reason code the message); an unreadable status is an error."""
    details = tuple((label, value) for label, value in (("directory", run.key), ("state", run.state or "-"),
                                                        ("reason", run.reason_code or "-"), ("updated", run.updated_at or "-")))
    if run.problem is not None:
        return Case(run.run_id, ERROR, run.problem.message, details, run.problem.path, run.problem.line, "unreadable")
    if run.state in FAILING_STATES:
        message = f"{run.state}: {run.reason_code or 'no reason code'}"
        return Case(run.run_id, FAILED, message, details, f"{run.key}/run_status.json", None, run.state or "")
    return Case(run.run_id, PASSED, "", details, None, None, run.state or "")


def runs_report(runs: Iterable[RunSummary], source: str) -> Report:
    """The runs listed, newest first as given."""
    listed = list(runs)
    cases = tuple(run_case(run) for run in listed)
    states = Counter(run.state or "UNREADABLE" for run in listed)
    reasons = Counter(run.reason_code for run in listed if run.reason_code)
    suite = Suite(
        name=source,
        cases=cases,
        counts=tuple(sorted(states.items())),
        facts=tuple((f"reason {code}", str(n)) for code, n in reasons.most_common()),
    )
    ok = not any(case.failing for case in cases)
    return Report("quarantine list", source, "CLEAN" if ok else "QUARANTINED", ok, (suite,))
