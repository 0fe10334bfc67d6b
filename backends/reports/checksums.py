"""The report of ``checksums verify``: one suite per manifest, one case per manifest entry."""

from __future__ import annotations

from typing import Iterable

from backends.checksums.models import CATEGORIES, MALFORMED, UNREADABLE, ChecksumEntry, ChecksumSummary
from backends.reports.model import ERROR, FAILED, PASSED, Case, Report, Suite


def entry_case(manifest: str, entry: ChecksumEntry) -> Case:
    """One entry: ok (or a harmless repeat) passes; an unreadable file or malformed line is an error; other drift fails."""
    details: list[tuple[str, str]] = []
    for label, value in (("expected sha256", entry.expected), ("found sha256", entry.actual), ("size", entry.size),
                         ("listed as", entry.name), ("reason", entry.reason), ("other path", entry.other),
                         ("other line", entry.other_line)):
        if value is not None:
            details.append((label, str(value)))
    if not entry.is_drift:
        status = PASSED
    else:
        status = ERROR if entry.category in (UNREADABLE, MALFORMED) else FAILED
    return Case(
        name=entry.path,
        status=status,
        message="" if status == PASSED else _message(entry),
        details=tuple(details),
        file=manifest if entry.line is not None else entry.path,
        line=entry.line,
        kind=entry.category,
    )


def _message(entry: ChecksumEntry) -> str:
    if entry.category == "changed":
        return f"changed: expected sha256 {entry.expected}, found {entry.actual}"
    if entry.category == "missing":
        return "missing: listed in the manifest, not on disk"
    if entry.category == "new":
        return "new: on disk, not listed in the manifest"
    if entry.category == "moved":
        return f"moved: the listed content is now at {entry.other}"
    return f"{entry.category}: {entry.reason}" if entry.reason else entry.category


def checksums_report(runs: Iterable[tuple[ChecksumSummary, list[ChecksumEntry]]]) -> Report:
    """The report of a verification of one or more manifests (entries in manifest-line order)."""
    suites = []
    clean = True
    for summary, entries in runs:
        notes = [summary.problem.message] if summary.problem is not None else []
        if summary.cancelled:
            notes.append("cancelled before the end")
        cases = [entry_case(summary.manifest, entry) for entry in entries]
        if summary.problem is not None:
            cases.insert(0, Case(summary.manifest, ERROR, summary.problem.message, file=summary.manifest, kind=summary.problem.kind))
        verdict = summary.problem.kind.upper() if summary.problem is not None else ("DRIFT" if summary.drift else "OK")
        clean = clean and verdict == "OK"
        suites.append(Suite(
            name=summary.manifest,
            cases=tuple(cases),
            counts=tuple((c, summary.counts[c]) for c in CATEGORIES if summary.counts.get(c)),
            facts=(("verdict", verdict), ("format", summary.format or "-"), ("files hashed", f"{summary.files_hashed:,}"),
                   ("bytes hashed", f"{summary.bytes_hashed:,}")),
            notes=tuple(notes),
            seconds=summary.elapsed,
        ))
    names = ", ".join(s.name for s in suites)
    return Report("checksums verify", names, "OK" if clean else "DRIFT", clean, tuple(suites))
