"""``driftdeck snapshots diff`` without click: compare two snapshots and print the report.

Its options are declared once, in ``DiffOptions``; the click command in
``tui.cli.snapshots`` and the fast path (``tui.cli.fast``) both parse them
into one and call ``run_diff``. A local workspace is diffed in this process
directly (no event loop: the tree diff may then compare files in worker processes);
any other source goes through its ``DataSource`` on a private event loop.
Exit codes follow diff(1): 0 when no difference remains after the rules, 1
when some do, 2 on a usage or input error (and when entries could not be
read: the report is still printed in full first).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

from backends.errors import DriftdeckError, ForbiddenError, NotFoundError
from backends.snapshots.models import DiffSummary, EntryContent, EntryDiff, SnapshotRules
from backends.spec import local_root
from tui.cli.options import AtLeast, IntRange, WritableFile, argument, flag, multiple, value
from tui.cli.reports import ReportOptions

TYPE_CHECKING = False  # the fast path keeps typing out of a command-line start
if TYPE_CHECKING:
    from typing import Any


class DiffOptions(ReportOptions):
    """The options of ``driftdeck snapshots diff``.

    The rule options carry the names of ``SnapshotRules``' fields, so
    ``merge_rules`` takes this object as it is (``apply`` is ``not no_rules``).
    """

    a: str = argument()
    b: str = argument()
    source: str = value("--source", "-s", default=".", show_default=True, metavar="SOURCE", help="Workspace path.")
    ignore_paths: tuple[str, ...] = multiple("--ignore-path", metavar="GLOB",
        help="Entries matching GLOB are 'same after rules' (repeatable; ** spans directories).")
    ignore_lines: tuple[str, ...] = multiple("--ignore-line", metavar="REGEX",
        help="Ignore the parts of text lines REGEX matches, e.g. timestamps (repeatable).")
    exclude_fields: tuple[str, ...] = multiple("--exclude-field", metavar="PATH",
        help="Ignore this field of JSON/YAML/JSONL values, dotted, * and ** allowed (repeatable).")
    tolerance: float | None = value("--tolerance", type=AtLeast(0.0), metavar="X", help="Numbers within X are equal.")
    ignore_order: bool | None = flag("--ignore-order", default=None, help="Compare lists in structured files as multisets.")
    ignore_whitespace: bool | None = flag("--ignore-whitespace", "-w", default=None,
        help="Whitespace-only changes are the same.")
    ignore_eol: bool | None = flag("--ignore-eol", default=None, help="Line-ending-only changes are the same.")
    keys: tuple[str, ...] = multiple("--key", metavar="FIELD",
        help="Record key of JSONL files and JSON arrays (repeatable, tried in order; default id, span_id).")
    no_rules: bool = flag("--no-rules", help="Apply no ignore rules, not even those of driftdeck.yaml.")
    show_all: bool = flag("--all", help="List unchanged entries too.")
    brief: bool = flag("--brief", "-q", help="Only list entries, no content diffs.")
    unified: bool = flag("--unified", help="Line diffs for JSON/YAML/JSONL too, not value tables.")
    context: int = value("--context", "-U", type=IntRange(0, 1000), default=3, show_default=True,
        help="Lines of context in unified diffs.")
    as_json: bool = flag("--json", help="One JSON object: entries and summary.")
    output: str | None = value("--output", "-o", type=WritableFile(),
        help="Also write a Markdown report to this file (atomically).")

    @property
    def apply(self) -> bool:
        """Whether the ignore rules apply (``SnapshotRules.apply``)."""
        return not self.no_rules


def run_diff(options: DiffOptions) -> int:
    """Compare snapshot A (baseline) with snapshot B (candidate) and print the report.

    Returns:
        0 no difference after the rules, 1 differences, 2 entries could not be read.
    """
    mode = "unified" if options.unified else "auto"
    from tui.cli.reports import reports_wanted

    reports = reports_wanted(options.junit, options.html)
    entries, summary, contents = _collect(
        options, want_content=not options.brief or options.output is not None or reports, mode=mode
    )
    shown = entries if options.show_all else [e for e in entries if e.category != "unchanged"]
    from backends.snapshots.report import render_markdown, render_text

    if options.as_json:
        import orjson

        from backends.reports.schemas import schema_id

        body = {"schema": schema_id("snapshots-diff"), "a": summary.a, "b": summary.b, "entries": [_clean(e.to_json()) for e in shown],
                "summary": summary.to_json()}
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        sys.stdout.write(render_text(shown, summary, {} if options.brief else contents))
    if options.output is not None:
        from backends.atomic import atomic_write

        written = atomic_write(options.output, render_markdown(shown, summary, contents).encode("utf-8"))
        print(f"report written to {written}", file=sys.stderr)
    if reports:  # --junit/--html and GitHub annotations (tui.cli.reports)
        from backends.reports.snapshots import snapshots_report
        from tui.cli.reports import write_reports

        write_reports(snapshots_report(shown, summary, contents), options.junit, options.html)
    unreadable = summary.categories.get("unreadable", 0)
    if unreadable:
        print(f"driftdeck: {unreadable} entries could not be read", file=sys.stderr)
        return 2
    return 1 if summary.differences else 0


class _Local:
    """The calls the report needs, on a local workspace, synchronous."""

    def __init__(self, spec: str) -> None:
        from backends.snapshots.store import LocalSnapshots

        self.store = LocalSnapshots(spec)
        self.root: str | None = self.store.root

    def rules(self) -> SnapshotRules:
        return self.store._snapshot_rules()

    def path(self, name: str) -> str:
        return self.store._snapshot_path(name)

    def diff(self, a: str, b: str, rules: SnapshotRules, unchanged: bool) -> Iterator[object]:
        for item in self.store._snapshot_diff(a, b, rules, unchanged=unchanged, allow_fork=True):
            if isinstance(item, list):
                yield from item
            else:
                yield item

    def entry(self, a: str, b: str, path: str, rules: SnapshotRules, mode: str, old_path: str | None, context: int) -> EntryContent:
        return self.store._diff_entry(a, b, path, rules, mode, old_path, max(0, context))

    def close(self) -> None:
        return None


class _Remote:
    """The same calls on any ``DataSource``, each run to completion on a private event loop."""

    def __init__(self, spec: str) -> None:
        import asyncio

        from backends.source import open_source

        self.loop = asyncio.new_event_loop()
        self.source = open_source(spec)
        self.root = getattr(self.source, "root", None)

    def rules(self) -> SnapshotRules:
        return self.loop.run_until_complete(self.source.snapshot_rules())

    def path(self, name: str) -> str:
        return self.loop.run_until_complete(self.source.snapshot_path(name))

    def diff(self, a: str, b: str, rules: SnapshotRules, unchanged: bool) -> Iterator[object]:
        stream = self.source.diff_snapshots(a, b, rules, unchanged=unchanged)
        try:
            while True:
                try:
                    yield self.loop.run_until_complete(stream.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            close = getattr(stream, "aclose", None)  # async generators have it; the protocol promises an AsyncIterator only
            if close is not None:
                self.loop.run_until_complete(close())

    def entry(self, a: str, b: str, path: str, rules: SnapshotRules, mode: str, old_path: str | None, context: int) -> EntryContent:
        return self.loop.run_until_complete(
            self.source.diff_entry(a, b, path, rules, mode, old_path=old_path, context=context)
        )

    def close(self) -> None:
        try:
            self.loop.run_until_complete(self.source.aclose())
        finally:
            self.loop.close()


def _connect(spec: str) -> _Local | _Remote:
    return _Local(spec) if local_root(spec) is not None else _Remote(spec)


def _collect(
    options: DiffOptions, *, want_content: bool, mode: str
) -> tuple[list[EntryDiff], DiffSummary, dict[str, EntryContent]]:
    from backends.snapshots.report import wanted_contents
    from backends.snapshots.rules import merge_rules

    a, b, context = options.a, options.b, options.context
    source, name_a, name_b = _open(options.source, a, b)
    try:
        base = source.rules() if options.apply else SnapshotRules()
        rules = merge_rules(base, options)
        entries: list[EntryDiff] = []
        summary: DiffSummary | None = None
        for item in source.diff(name_a, name_b, rules, options.show_all):
            if isinstance(item, EntryDiff):
                entries.append(item)
            elif isinstance(item, DiffSummary):
                summary = item
        if summary is None:
            raise DriftdeckError(f"{a} -> {b}: the diff ended without a summary")
        contents: dict[str, EntryContent] = {}
        if want_content:
            for entry in wanted_contents(entries):
                try:
                    contents[entry.path] = source.entry(name_a, name_b, entry.path, rules, mode, entry.old_path, context)
                except DriftdeckError as exc:
                    contents[entry.path] = EntryContent(entry.path, "none", notes=(str(exc),))
        return entries, summary, contents
    finally:
        source.close()


def _open(spec: str, a: str, b: str) -> tuple[_Local | _Remote, str, str]:
    """A source holding both A and B, and their names in it.

    Names of the source (snapshot names, root-relative directories) win; other
    arguments are directories on disk: when one lies outside the source root,
    a local workspace is opened on the deepest directory holding both.
    """
    source = _connect(spec)
    names: list[str | None] = []
    for arg in (a, b):
        try:
            names.append(source.path(arg))
        except (NotFoundError, ForbiddenError):
            names.append(None)
    if all(name is not None for name in names):
        return source, a, b
    paths = []
    for arg, name in zip((a, b), names, strict=True):
        path = os.path.abspath(arg)
        if name is None and not os.path.isdir(path):
            source.close()
            raise NotFoundError(f"{arg}: no such snapshot or directory", path=arg)
        paths.append(path if name is None else None)
    root = source.root
    if root is not None and all(p is None or _inside(p, root) for p in paths):
        rel = [arg if p is None else os.path.relpath(p, root) for arg, p in zip((a, b), paths, strict=True)]
        return source, rel[0], rel[1]
    source.close()
    real = [p if p is not None else os.path.join(root or ".", name or "") for name, p in zip(names, paths, strict=True)]
    real = [os.path.abspath(p) for p in real]
    common = os.path.commonpath(real)
    if common in real:
        common = os.path.dirname(common) or common
    return _Local(common), os.path.relpath(real[0], common), os.path.relpath(real[1], common)


def _clean(entry: dict[str, Any]) -> dict[str, Any]:
    """An entry's JSON with undecodable file-name bytes written as ``\\xNN`` (JSON needs valid text)."""
    for key in ("path", "old_path", "target_a", "target_b"):
        value = entry.get(key)
        if isinstance(value, str) and not value.isprintable():
            entry[key] = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return entry


def _inside(path: str, root: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root
