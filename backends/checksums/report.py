"""A verification report as Markdown or JSON, for export."""

from __future__ import annotations

from typing import Iterable

import orjson

from backends.checksums.models import CATEGORIES, OK, ChecksumEntry, ChecksumSummary

_ORDER = {category: n for n, category in enumerate(CATEGORIES)}


def _sorted(entries: Iterable[ChecksumEntry]) -> list[ChecksumEntry]:
    return sorted(entries, key=lambda e: (e.line is None, e.line or 0, e.path))


def render_json(summary: ChecksumSummary, entries: Iterable[ChecksumEntry]) -> bytes:
    """One JSON document: ``{"summary": {...}, "entries": [...]}``, entries by manifest line."""
    body = {"summary": summary.to_json(), "entries": [e.to_json() for e in _sorted(entries)]}
    return orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE)


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", "\\n").replace("\r", "\\r") if text is not None else ""


def render_markdown(summary: ChecksumSummary, entries: Iterable[ChecksumEntry], *, include_ok: bool = False) -> bytes:
    """A Markdown report: summary counts, then one table row per entry (ok rows optional)."""
    rows = [e for e in _sorted(entries) if include_ok or e.category != OK]
    out = [f"# Checksum report: `{summary.manifest}`", ""]
    if summary.problem is not None:
        out += [f"**{summary.problem.kind}**: {summary.problem.message}", ""]
    verdict = "DRIFT" if summary.drift else "clean"
    if summary.cancelled:
        verdict += " (cancelled before the end)"
    out += [f"Verdict: **{verdict}**; {summary.files_hashed:,} files hashed, {summary.bytes_hashed:,} bytes.", ""]
    out += ["| category | entries |", "|---|---:|"]
    for category in sorted(summary.counts, key=lambda c: _ORDER.get(c, 99)):
        out.append(f"| {category} | {summary.counts[category]:,} |")
    out.append("")
    if rows:
        out += ["| line | category | path | expected | actual | detail |", "|---:|---|---|---|---|---|"]
        for e in rows:
            detail = e.reason or ""
            if e.other and e.other not in detail:
                detail = f"{detail} ({e.other})" if detail else e.other
            out.append(
                f"| {e.line or ''} | {e.category} | `{_cell(e.path)}` | {_cell(e.expected)} | {_cell(e.actual)} | {_cell(detail)} |"
            )
        out.append("")
    return "\n".join(out).encode("utf-8", errors="surrogateescape")
