"""GitHub Actions annotations: ``::error file=F,line=N::message`` for failing items with a file and line.

Escaped as the runner unescapes them (actions/toolkit ``command.ts``): in the
message ``%``, ``\\r`` and ``\\n``; in a property value also ``:`` and ``,``.
"""

from __future__ import annotations

from backends.reports.model import Report


def escape_data(text: str) -> str:
    """A workflow command's message, escaped."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(report: Report) -> list[str]:
    """One ``::error`` line per failing case that has a file and a line, in report order."""
    out = []
    for suite in report.suites:
        for case in suite.cases:
            if not case.failing or case.file is None or case.line is None:
                continue
            title = f"driftdeck {report.command}: {case.kind or case.status}"
            properties = f"file={escape_property(case.file)},line={case.line},title={escape_property(title)}"
            out.append(f"::error {properties}::{escape_data(f'{case.name}: {case.message}')}")
    return out
