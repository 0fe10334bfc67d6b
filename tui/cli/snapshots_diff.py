"""``driftdeck snapshots diff`` without click: compare two snapshots and print the report.

The click command in ``tui.cli.snapshots`` and the fast path (``tui.cli.fast``)
both call ``run_diff``. A local workspace is diffed in this process directly
(no event loop: the tree diff may then compare files in worker processes);
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

TYPE_CHECKING = False  # the fast path keeps typing out of a command-line start
if TYPE_CHECKING:
    from typing import Any


def run_diff(
    a: str,
    b: str,
    source: str = ".",
    ignore_paths: tuple[str, ...] = (),
    ignore_lines: tuple[str, ...] = (),
    exclude_fields: tuple[str, ...] = (),
    tolerance: float | None = None,
    ignore_order: bool | None = None,
    ignore_whitespace: bool | None = None,
    ignore_eol: bool | None = None,
    keys: tuple[str, ...] = (),
    no_rules: bool = False,
    show_all: bool = False,
    brief: bool = False,
    unified: bool = False,
    context: int = 3,
    as_json: bool = False,
    output: str | None = None,
    junit: str | None = None,
    html: str | None = None,
) -> int:
    """Compare snapshot A (baseline) with snapshot B (candidate) and print the report.

    The keyword arguments are the options of ``driftdeck snapshots diff``.

    Returns:
        0 no difference after the rules, 1 differences, 2 entries could not be read.
    """
    flags = dict(ignore_paths=ignore_paths, ignore_lines=ignore_lines, exclude_fields=exclude_fields,
                 tolerance=tolerance, ignore_order=ignore_order, ignore_whitespace=ignore_whitespace,
                 ignore_eol=ignore_eol, keys=keys, apply=not no_rules)
    mode = "unified" if unified else "auto"
    from tui.cli.reports import reports_wanted

    reports = reports_wanted(junit, html)
    entries, summary, contents = _collect(
        source, a, b, flags, show_all, want_content=not brief or output is not None or reports, mode=mode, context=context
    )
    shown = entries if show_all else [e for e in entries if e.category != "unchanged"]
    from backends.snapshots.report import render_markdown, render_text

    if as_json:
        import orjson

        from backends.reports.schemas import schema_id

        body = {"schema": schema_id("snapshots-diff"), "a": summary.a, "b": summary.b, "entries": [_clean(e.to_json()) for e in shown],
                "summary": summary.to_json()}
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        sys.stdout.write(render_text(shown, summary, {} if brief else contents))
    if output is not None:
        from backends.atomic import atomic_write

        written = atomic_write(output, render_markdown(shown, summary, contents).encode("utf-8"))
        print(f"report written to {written}", file=sys.stderr)
    if reports:  # --junit/--html and GitHub annotations (tui.cli.reports)
        from backends.reports.snapshots import snapshots_report
        from tui.cli.reports import write_reports

        write_reports(snapshots_report(shown, summary, contents), junit, html)
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
    spec: str, a: str, b: str, flags: dict[str, Any], show_all: bool, *, want_content: bool, mode: str, context: int
) -> tuple[list[EntryDiff], DiffSummary, dict[str, EntryContent]]:
    from backends.snapshots.report import wanted_contents
    from backends.snapshots.rules import merge_rules

    source, name_a, name_b = _open(spec, a, b)
    try:
        base = source.rules() if flags["apply"] else SnapshotRules()
        rules = merge_rules(base, **flags)
        entries: list[EntryDiff] = []
        summary: DiffSummary | None = None
        for item in source.diff(name_a, name_b, rules, show_all):
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
