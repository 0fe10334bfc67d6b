"""``driftdeck snapshots diff``: compare two trace snapshots without the TUI.

The comparison and its report are ``tui.cli.snapshots_diff.run_diff``
(shared with the click-free fast path of ``tui.cli.fast``). Exit codes
follow diff(1): 0 when no difference remains after the rules, 1 when some
do, 2 on a usage or input error (and when entries could not be read: the
report is still printed in full first).
"""

from __future__ import annotations

import click

from tui.cli.reports import report_options
from tui.cli.snapshots_diff import run_diff


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
@report_options
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
    junit: str | None,
    html: str | None,
) -> int:
    """Compare snapshot A (baseline) with snapshot B (candidate).

    A and B are snapshot names of the source, directories relative to its
    root, or any directories on disk.
    """
    if tolerance is not None and tolerance < 0:
        raise click.BadParameter("must be >= 0", param_hint="--tolerance")
    return run_diff(a, b, source, ignore_paths, ignore_lines, exclude_fields, tolerance, ignore_order,
                    ignore_whitespace, ignore_eol, keys, no_rules, show_all, brief, unified, context, as_json, output,
                    junit, html)
