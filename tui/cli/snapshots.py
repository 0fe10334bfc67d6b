"""``driftdeck snapshots diff``: compare two trace snapshots without the TUI.

Exit codes follow diff(1): 0 when no difference remains after the rules, 1
when some do, 2 on a usage or input error (and when entries could not be
read: the report is still printed in full first).
"""

from __future__ import annotations

import asyncio
import os
import sys

import click
import orjson

from backends.errors import DriftdeckError, ForbiddenError, NotFoundError
from backends.snapshots.models import DiffSummary, EntryContent, EntryDiff, SnapshotRules
from backends.atomic import atomic_write
from backends.snapshots.report import render_markdown, render_text, wanted_contents
from backends.snapshots.rules import merge_rules
from backends.source import DataSource, open_source


@click.group()
def snapshots() -> None:
    """Trace snapshots: what differs between two trees of files."""


@snapshots.command("diff")
@click.argument("a")
@click.argument("b")
@click.option("--source", "-s", default=".", show_default=True, metavar="SOURCE", help="Workspace path.")
@click.option("--ignore-path", "ignore_paths", multiple=True, metavar="GLOB",
              help="Entries matching GLOB are 'same after rules' (repeatable; ** spans directories).")
@click.option("--ignore-line", "ignore_lines", multiple=True, metavar="REGEX",
              help="Ignore the parts of text lines REGEX matches, e.g. timestamps (repeatable).")
@click.option("--exclude-field", "exclude_fields", multiple=True, metavar="PATH",
              help="Ignore this field of JSON/YAML/JSONL values, dotted, * and ** allowed (repeatable).")
@click.option("--tolerance", type=float, default=None, metavar="X", help="Numbers within X are equal.")
@click.option("--ignore-order", is_flag=True, default=None, help="Compare lists in structured files as multisets.")
@click.option("--ignore-whitespace", "-w", is_flag=True, default=None, help="Whitespace-only changes are the same.")
@click.option("--ignore-eol", is_flag=True, default=None, help="Line-ending-only changes are the same.")
@click.option("--key", "keys", multiple=True, metavar="FIELD",
              help="Record key of JSONL files and JSON arrays (repeatable, tried in order; default id, span_id).")
@click.option("--no-rules", is_flag=True, help="Apply no ignore rules, not even those of driftdeck.yaml.")
@click.option("--all", "show_all", is_flag=True, help="List unchanged entries too.")
@click.option("--brief", "-q", is_flag=True, help="Only list entries, no content diffs.")
@click.option("--unified", is_flag=True, help="Line diffs for JSON/YAML/JSONL too, not value tables.")
@click.option("--context", "-U", "context", type=click.IntRange(0, 1000), default=3, show_default=True,
              help="Lines of context in unified diffs.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: entries and summary.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Also write a Markdown report to this file (atomically).")
def diff_command(
    a: str,
    b: str,
    source: str,
    ignore_paths: tuple[str, ...],
    ignore_lines: tuple[str, ...],
    exclude_fields: tuple[str, ...],
    tolerance: float | None,
    ignore_order: bool | None,
    ignore_whitespace: bool | None,
    ignore_eol: bool | None,
    keys: tuple[str, ...],
    no_rules: bool,
    show_all: bool,
    brief: bool,
    unified: bool,
    context: int,
    as_json: bool,
    output: str | None,
) -> int:
    """Compare snapshot A (baseline) with snapshot B (candidate).

    A and B are snapshot names of the source, directories relative to its
    root, or any directories on disk.
    """
    if tolerance is not None and tolerance < 0:
        raise click.BadParameter("must be >= 0", param_hint="--tolerance")
    flags = dict(ignore_paths=ignore_paths, ignore_lines=ignore_lines, exclude_fields=exclude_fields,
                 tolerance=tolerance, ignore_order=ignore_order, ignore_whitespace=ignore_whitespace,
                 ignore_eol=ignore_eol, keys=keys, apply=not no_rules)
    mode = "unified" if unified else "auto"
    entries, summary, contents = asyncio.run(
        _run(source, a, b, flags, show_all, want_content=not brief or output is not None, mode=mode, context=context)
    )
    shown = entries if show_all else [e for e in entries if e.category != "unchanged"]
    if as_json:
        body = {"a": summary.a, "b": summary.b, "entries": [_clean(e.to_json()) for e in shown],
                "summary": summary.to_json()}
        sys.stdout.buffer.write(orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        sys.stdout.write(render_text(shown, summary, {} if brief else contents))
    if output is not None:
        written = atomic_write(output, render_markdown(shown, summary, contents).encode("utf-8"))
        click.echo(f"report written to {written}", err=True)
    unreadable = summary.categories.get("unreadable", 0)
    if unreadable:
        click.echo(f"driftdeck: {unreadable} entries could not be read", err=True)
        return 2
    return 1 if summary.differences else 0


async def _run(
    spec: str, a: str, b: str, flags: dict, show_all: bool, *, want_content: bool, mode: str, context: int
) -> tuple[list[EntryDiff], DiffSummary, dict[str, EntryContent]]:
    source, name_a, name_b = await _open(spec, a, b)
    try:
        base = await source.snapshot_rules() if flags["apply"] else SnapshotRules()  # type: ignore[attr-defined]
        rules = merge_rules(base, **flags)
        entries: list[EntryDiff] = []
        summary: DiffSummary | None = None
        async for item in source.diff_snapshots(name_a, name_b, rules, unchanged=show_all):  # type: ignore[call-arg]
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
                    contents[entry.path] = await source.diff_entry(  # type: ignore[attr-defined]
                        name_a, name_b, entry.path, rules, mode, old_path=entry.old_path, context=context)
                except DriftdeckError as exc:
                    contents[entry.path] = EntryContent(entry.path, "none", notes=(str(exc),))
        return entries, summary, contents
    finally:
        await source.aclose()


async def _open(spec: str, a: str, b: str) -> tuple[DataSource, str, str]:
    """A source holding both A and B, and their names in it.

    Names of the source (snapshot names, root-relative directories) win; other
    arguments are directories on disk: when one lies outside the source root,
    a local source is opened on the deepest directory holding both.
    """
    source = open_source(spec)
    names: list[str | None] = []
    for arg in (a, b):
        try:
            names.append(await source.snapshot_path(arg))  # type: ignore[attr-defined]
        except (NotFoundError, ForbiddenError):
            names.append(None)
    if all(name is not None for name in names):
        return source, a, b
    paths = []
    for arg, name in zip((a, b), names):
        path = os.path.abspath(arg)
        if name is None and not os.path.isdir(path):
            await source.aclose()
            raise NotFoundError(f"{arg}: no such snapshot or directory", path=arg)
        paths.append(path if name is None else None)
    root = getattr(source, "root", None)
    if root is not None and all(p is None or _inside(p, root) for p in paths):
        rel = [arg if p is None else os.path.relpath(p, root) for arg, p in zip((a, b), paths)]
        return source, rel[0], rel[1]
    await source.aclose()
    real = [p if p is not None else os.path.join(root or ".", name or "") for name, p in zip(names, paths)]
    real = [os.path.abspath(p) for p in real]
    common = os.path.commonpath(real)
    if common in real:
        common = os.path.dirname(common) or common
    parent = open_source(common)
    return parent, os.path.relpath(real[0], common), os.path.relpath(real[1], common)


def _clean(entry: dict) -> dict:
    """An entry's JSON with undecodable file-name bytes written as ``\\xNN`` (JSON needs valid text)."""
    for key in ("path", "old_path", "target_a", "target_b"):
        value = entry.get(key)
        if isinstance(value, str) and not value.isprintable():
            entry[key] = value.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return entry


def _inside(path: str, root: str) -> bool:
    real_root = os.path.realpath(root)
    return os.path.commonpath([os.path.realpath(path), real_root]) == real_root
