"""Snapshot diff reports: plain text for the terminal, Markdown for files, atomic writes.

Both renderers take the entries and summary of a tree diff and the content
diffs fetched for the entries worth showing (``wanted_contents`` says which),
so the CLI and the TUI produce the same report from the same calls.
"""

from __future__ import annotations

from typing import Iterable, Mapping

from backends.snapshots.models import CATEGORIES, CATEGORY_TITLES, DiffSummary, EntryContent, EntryDiff
from backends.snapshots.textdiff import render_unified
from backends.units import human_size

SAME_TITLE = "same after rules"

ORDER = {category: index for index, category in enumerate(CATEGORIES)}


def sort_key(entry: EntryDiff) -> tuple[int, int, str]:
    """Differences first by category, then entries the rules made the same, each by path."""
    return (1 if entry.same_after_rules else 0, ORDER.get(entry.category, 99), entry.path)


def wanted_contents(entries: Iterable[EntryDiff]) -> list[EntryDiff]:
    """Entries whose content diff a report shows: changed files still differing after rules."""
    return [
        e for e in entries
        if e.is_difference and e.category in ("changed", "binary_changed", "renamed")
        and (e.category != "renamed" or e.content_changed)
    ]


def display_path(path: str) -> str:
    """A path safe to print on one line: control characters and undecodable bytes escaped."""
    if path.isprintable():
        return path
    out = []
    for char in path:
        if "\udc80" <= char <= "\udcff":
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif not char.isprintable():
            out.append(repr(char)[1:-1])
        else:
            out.append(char)
    return "".join(out)


def entry_title(entry: EntryDiff) -> str:
    """``path`` or ``old -> new (87%)``, plus what kind of change, on one line."""
    path = display_path(entry.path)
    if entry.category == "renamed":
        path = f"{display_path(entry.old_path or '')} -> {path} ({entry.similarity}%)"
    extras = []
    if entry.category == "type_changed":
        extras.append(f"{entry.kind_a} -> {entry.kind_b}")
    if entry.category == "symlink_changed":
        extras.append(f"-> {entry.target_a} now -> {entry.target_b}")
    if entry.label:
        extras.append(entry.label)
    if entry.error:
        extras.append(entry.error)
    if entry.same_after_rules:
        extras.append(f"{CATEGORY_TITLES[entry.category]}; {entry.rule or 'rules'}")
    return path + (f"  [{'; '.join(extras)}]" if extras else "")



def summary_lines(summary: DiffSummary) -> list[str]:
    """The summary as a few human lines."""
    counts = [f"{n:,} {CATEGORY_TITLES[c]}" for c in CATEGORIES if (n := summary.categories.get(c, 0))
              and c != "unchanged"]
    lines = [
        f"{summary.a} -> {summary.b}: "
        + (", ".join(counts) if counts else "no differences")
        + f"; {summary.categories.get('unchanged', 0):,} unchanged",
        f"{summary.differences:,} differences after rules, {summary.same_after_rules:,} same after rules",
    ]
    if summary.groups:
        lines.append("groups: " + ", ".join(f"{g} {n:,}" for g, n in summary.groups.items()))
    if summary.labels:
        lines.append("labels: " + ", ".join(f"{label} {n:,}" for label, n in summary.labels.items()))
    rules = summary.rules.describe()
    if rules:
        lines.append("rules: " + "; ".join(rules))
    lines.extend(f"note: {note}" for note in summary.notes)
    return lines


def content_text(entry: EntryDiff, content: EntryContent) -> list[str]:
    """The content diff of one entry as plain lines (unified, values, or sizes and hashes)."""
    out: list[str] = [f"  ({note})" for note in content.notes]
    if content.mode == "binary":
        out.append(f"  Binary files differ: {human_size(content.size_a)} -> {human_size(content.size_b)}, "
                   f"sha256 {(content.sha256_a or '-')[:12]} -> {(content.sha256_b or '-')[:12]}")
    elif content.mode == "structured":
        if content.records is not None:
            a, b, differing = content.records
            out.append(f"  {differing:,} of {max(a, b):,} records differ")
        for change in content.fields:
            mark = " (ignored)" if change.ignored else ""
            where = f"  @ {change.context}" if change.context else ""
            if change.kind == "added":
                out.append(f"  + {change.path}: {change.new}{where}{mark}")
            elif change.kind == "removed":
                out.append(f"  - {change.path}: {change.old}{where}{mark}")
            else:
                out.append(f"  ~ {change.path}: {change.old} -> {change.new}{where}{mark}")
    elif content.mode in ("unified", "side"):
        text = render_unified(content.lines, f"a/{display_path(entry.a_path)}", f"b/{display_path(entry.path)}")
        out.extend(text.splitlines())
    if content.truncated:
        out.append("  (cut short)")
    return out


def render_text(entries: list[EntryDiff], summary: DiffSummary, contents: Mapping[str, EntryContent]) -> str:
    """The human report of ``driftdeck snapshots diff``."""
    out: list[str] = []
    titles = [SAME_TITLE if e.same_after_rules else CATEGORY_TITLES[e.category] for e in entries]
    width = max((len(t) for t in titles), default=8) + 2
    for entry in sorted(entries, key=sort_key):
        title = SAME_TITLE if entry.same_after_rules else CATEGORY_TITLES[entry.category]
        out.append(f"{title:<{width}}{entry_title(entry)}")
        content = contents.get(entry.path)
        if content is not None:
            out.extend(content_text(entry, content))
    if out:
        out.append("")
    out.extend(summary_lines(summary))
    return "\n".join(out) + "\n"


def render_markdown(entries: list[EntryDiff], summary: DiffSummary, contents: Mapping[str, EntryContent]) -> str:
    """A Markdown report: summary tables, then every difference with its content diff."""
    out = [f"# Snapshot diff: `{summary.a}` → `{summary.b}`", ""]
    out += ["| category | entries |", "|---|---:|"]
    out += [f"| {CATEGORY_TITLES[c]} | {summary.categories.get(c, 0):,} |" for c in CATEGORIES]
    out += [f"| **differences after rules** | **{summary.differences:,}** |",
            f"| same after rules | {summary.same_after_rules:,} |", ""]
    if summary.groups:
        out += ["| group | differences |", "|---|---:|"]
        out += [f"| {g} | {n:,} |" for g, n in summary.groups.items()]
        out.append("")
    rules = summary.rules.describe()
    out += ["Rules: " + ("; ".join(f"`{r}`" for r in rules) if rules else "none"), ""]
    out += [f"> {note}" for note in summary.notes]
    differing = [e for e in sorted(entries, key=sort_key) if e.is_difference]
    same = [e for e in sorted(entries, key=sort_key) if e.same_after_rules and e.category != "unchanged"]
    out += [f"## Differences ({len(differing):,})", ""]
    for entry in differing:
        out.append(f"### {CATEGORY_TITLES[entry.category]}: `{entry_title(entry)}` ({entry.group})")
        out.append("")
        content = contents.get(entry.path)
        if content is not None:
            out.extend(_markdown_content(entry, content))
    if same:
        out += [f"## Same after rules ({len(same):,})", ""]
        out += [f"- {CATEGORY_TITLES[e.category]}: `{display_path(e.path)}` — {e.rule or e.label}" for e in same]
        out.append("")
    return "\n".join(out) + "\n"


def _markdown_content(entry: EntryDiff, content: EntryContent) -> list[str]:
    out = [f"_{note}_" for note in content.notes]
    if out:
        out.append("")
    if content.mode == "binary":
        out += ["| | size | sha256 |", "|---|---:|---|",
                f"| baseline | {content.size_a:,} | `{content.sha256_a or '-'}` |",
                f"| candidate | {content.size_b:,} | `{content.sha256_b or '-'}` |", ""]
    elif content.mode == "structured":
        if content.records is not None:
            a, b, differing = content.records
            out += [f"{differing:,} of {max(a, b):,} records differ.", ""]
        out += ["| path | old | new | where |", "|---|---|---|---|"]
        for change in content.fields:
            ignored = " (ignored)" if change.ignored else ""
            out.append(f"| `{_cell(change.path)}`{ignored} | {_code(change.old)} | {_code(change.new)} | "
                       f"{_cell(change.context)} |")
        out.append("")
    elif content.mode in ("unified", "side") and content.lines:
        fence = "````" if any("```" in line.text for line in content.lines) else "```"
        body = render_unified(content.lines, f"a/{entry.a_path}", f"b/{entry.path}")
        out += [f"{fence}diff", body.rstrip("\n"), fence, ""]
    if content.truncated:
        out += ["_(cut short)_", ""]
    return out


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def _code(text: str | None) -> str:
    return "—" if text is None else f"`{_cell(text)}`"
