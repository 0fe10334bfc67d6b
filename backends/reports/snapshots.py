"""The report of ``snapshots diff``: one case per entry, content diffs side by side."""

from __future__ import annotations

from typing import Mapping

from backends.reports.diffs import side_rows, value_rows
from backends.reports.model import ERROR, FAILED, PASSED, Case, Report, SideDiff, Suite
from backends.snapshots.models import CATEGORIES, CATEGORY_TITLES, DiffSummary, EntryContent, EntryDiff
from backends.snapshots.report import display_path, entry_title, sort_key, summary_lines
from backends.units import human_size


def entry_case(summary: DiffSummary, entry: EntryDiff, content: EntryContent | None) -> Case:
    """An entry: a difference fails (an unreadable one is an error); unchanged or same after the rules passes."""
    if entry.category == "unreadable":
        status = ERROR
    elif entry.is_difference:
        status = FAILED
    else:
        status = PASSED
    message = ""
    if status != PASSED:
        title, path = entry_title(entry), display_path(entry.path)
        rest = title[len(path):].strip() if title.startswith(path) else title  # the case is named by the path already
        message = CATEGORY_TITLES[entry.category] + (f" {rest}" if rest else "")
    elif entry.same_after_rules and entry.category != "unchanged":
        message = f"same after rules ({entry.rule or 'rules'})"
    details: list[tuple[str, str]] = [("group", entry.group)]
    if entry.size_a or entry.size_b:
        details.append(("size", f"{human_size(entry.size_a)} -> {human_size(entry.size_b)}"))
    diffs: list[SideDiff] = []
    line = None
    if content is not None:
        details += [("note", note) for note in content.notes]
        diffs, line = _content(entry, content)
        if content.mode == "binary":
            details.append(("sha256", f"{content.sha256_a or '-'} -> {content.sha256_b or '-'}"))
    where = f"{summary.b}/{entry.path}" if entry.kind_b is not None else f"{summary.a}/{entry.a_path}"
    return Case(
        name=display_path(entry.path),
        status=status,
        message=message,
        details=tuple(details),
        file=display_path(where),
        line=line,
        kind=entry.category,
        diffs=tuple(diffs),
    )


def _content(entry: EntryDiff, content: EntryContent) -> tuple[list[SideDiff], int | None]:
    """The side-by-side diffs of an entry's content and the first changed line of the candidate."""
    left, right = f"a/{display_path(entry.a_path)}", f"b/{display_path(entry.path)}"
    if content.mode == "structured" and content.fields:
        rows = value_rows((f.path, f.old, f.new) for f in content.fields if not f.ignored)
        return [SideDiff("changed values", left, right, rows, content.truncated)], None
    if content.mode == "side" and content.rows:
        rows = tuple(content.rows)
    elif content.mode == "unified" and content.lines:
        rows = tuple(side_rows(content.lines))
    else:
        return [], None
    first = next((r.new or r.old for r in rows if r.tag in ("!", "+", "-") and (r.new or r.old)), None)
    return [SideDiff("lines", left, right, rows, content.truncated)], first


def snapshots_report(entries: list[EntryDiff], summary: DiffSummary, contents: Mapping[str, EntryContent]) -> Report:
    """The report of a snapshot comparison (entries in the order the text report uses)."""
    cases = tuple(entry_case(summary, e, contents.get(e.path)) for e in sorted(entries, key=sort_key))
    counts = [(CATEGORY_TITLES[c], n) for c in CATEGORIES if (n := summary.categories.get(c, 0))]
    counts += [("differences after rules", summary.differences), ("same after rules", summary.same_after_rules)]
    rules = summary.rules.describe()
    suite = Suite(
        name=f"{summary.a} -> {summary.b}",
        cases=cases,
        counts=tuple(counts),
        facts=(("summary", summary_lines(summary)[0]), ("rules", "; ".join(rules) if rules else "none")),
        notes=tuple(summary.notes),
    )
    ok = summary.differences == 0 and not summary.categories.get("unreadable", 0)
    return Report("snapshots diff", f"{summary.a} -> {summary.b}", "SAME" if ok else "DIFFERENT", ok, (suite,))
