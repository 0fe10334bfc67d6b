"""``driftdeck wal validate|diff``: WAL v2 validation and record/replay parity, without the TUI.

Exit codes: 0 valid / parity, 1 problems / divergences found, 2 unreadable
input or usage error.
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import IO, Any, AsyncIterator, Callable, Protocol, TypeVar

import click

from backends.reports.schemas import schema_id
from backends.source import open_source
from backends.spec import local_root
from backends.wal.diff import CONTEXT, WalDiffSummary, WalDivergence
from backends.wal.progress import WalProgress
from backends.wal.rules import DEFAULT_IGNORE, DEFAULT_REDACT, WalRules
from backends.wal.validate import CODES, MAX_PROBLEMS, WalProblem, WalValidation
from backends.reports.wal import diff_report, validate_report
from tui.cli.json_output import dumps
from tui.cli.reports import report_options, reports_wanted, write_reports
from tui.cli.terminal import echo, printable
from backends.units import counted

SOURCE_OPTION = click.option(
    "--source", "-s", default=".", show_default=True, metavar="SOURCE",
    help="Workspace the paths are relative to (a path outside it is read from its own folder).",
)
TEXT_CHARS = 160
"""Characters of an event's text printed in the human output."""


@click.group()
def wal() -> None:
    """WAL v2 files: validate one, or diff a recorded run against its replay."""


def locate(source: str, paths: tuple[str, ...]) -> tuple[str, list[str]]:
    """The source to open and the paths relative to it.

    A path is taken relative to the source root when it exists there;
    otherwise as a filesystem path (relative to the working directory). When
    a path lies outside the source root, the source becomes the deepest folder
    that holds every path.
    """
    local = local_root(source)
    if local is None:
        return source, list(paths)
    root = os.path.abspath(os.path.expanduser(local))
    absolute = []
    for path in paths:
        under_root = os.path.join(root, path)
        if not os.path.isabs(path) and os.path.lexists(under_root):
            absolute.append(os.path.normpath(under_root))
        elif os.path.lexists(path):
            absolute.append(os.path.abspath(path))
        else:
            absolute.append(os.path.normpath(under_root))  # reported as missing, relative to the root
    real_root = os.path.realpath(root)
    if all(os.path.commonpath([os.path.realpath(os.path.dirname(p)), real_root]) == real_root for p in absolute):
        return root, [_posix(os.path.relpath(p, root)) for p in absolute]
    base = os.path.commonpath([os.path.dirname(p) for p in absolute])
    return base, [_posix(os.path.relpath(p, base)) for p in absolute]


def _posix(path: str) -> str:
    return path.replace(os.sep, "/")


class _Progress:
    """A one-line progress indicator on stderr, only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.shown = False

    def show(self, item: WalProgress) -> None:
        if self.enabled:
            sys.stderr.write(f"\r{item.phase}: {item.fraction:6.1%} ({item.lines:,} lines)")
            sys.stderr.flush()
            self.shown = True

    def clear(self) -> None:
        if self.shown:
            sys.stderr.write("\r\x1b[2K")
            sys.stderr.flush()
            self.shown = False


class _JsonDocument:
    """One JSON object written as items stream in: ``{head..., "<list>": [items...], "summary": {...}}``."""

    def __init__(self, out: IO[bytes], head: dict[str, Any], list_name: str) -> None:
        self.out = out
        self.head = head
        self.list_name = list_name
        self.count = 0

    def start(self) -> None:
        body = dumps(self.head)[:-1]
        self.out.write(body + (b"," if len(body) > 1 else b"") + f'"{self.list_name}":['.encode())

    def item(self, body: dict[str, Any]) -> None:
        self.out.write((b",\n" if self.count else b"\n") + dumps(body))
        self.count += 1

    def finish(self, summary: dict[str, Any]) -> None:
        self.out.write(b'\n],"summary":' + dumps(summary) + b"}\n")
        self.out.flush()


# validate ----------------------------------------------------------------------------------


@wal.command("validate")
@click.argument("file")
@SOURCE_OPTION
@click.option("--max-problems", default=MAX_PROBLEMS, show_default=True, type=click.IntRange(min=1),
              help="Problems listed at most (all are counted).")
@click.option("--json", "as_json", is_flag=True, help='One JSON object: {"path", "problems": [...], "summary": {...}}.')
@report_options
def validate_command(file: str, source: str, max_problems: int, as_json: bool, junit: str | None, html: str | None) -> int:
    """Validate a WAL v2 file: every problem with its line and a stable code.

    Codes: """
    spec, (path,) = locate(source, (file,))
    kept: list[WalProblem] | None = [] if reports_wanted(junit, html) else None
    summary = asyncio.run(_validate(spec, path, max_problems, as_json, kept))
    if kept is not None:
        write_reports(validate_report(kept, summary), junit, html)
    return 1 if summary.problems else 0


validate_command.help = (validate_command.help or "") + ", ".join(CODES) + "."


async def _validate(spec: str, path: str, max_problems: int, as_json: bool, kept: list[WalProblem] | None) -> WalValidation:
    source = open_source(spec)
    document = _JsonDocument(sys.stdout.buffer, {"schema": schema_id("wal-validate"), "path": path}, "problems") if as_json else None
    try:
        stream = source.validate_wal(path, max_problems=max_problems)
        return await _report(stream, document, WalProblem, WalValidation,
                             lambda problem: echo(str(problem)),
                             lambda summary: echo(_validation_line(summary)), kept)
    finally:
        await source.aclose()


class _JsonModel(Protocol):
    def to_json(self) -> dict[str, Any]: ...


ItemT = TypeVar("ItemT", bound=_JsonModel)
SummaryT = TypeVar("SummaryT", bound=_JsonModel)


async def _report(stream: AsyncIterator[object], document: "_JsonDocument | None", item_type: type[ItemT],
                  summary_type: type[SummaryT], print_item: Callable[[ItemT], None],
                  print_summary: Callable[[SummaryT], None], kept: list[ItemT] | None = None) -> SummaryT:
    """Show an engine stream: progress on the terminal, items and the final summary
    as human lines or as one JSON document. Returns the summary; the items are
    also appended to ``kept`` when given (for --junit/--html)."""
    progress = _Progress()
    started = False
    try:
        async for item in stream:
            if isinstance(item, WalProgress):
                progress.show(item)
                continue
            progress.clear()
            if document is not None and not started:
                document.start()
                started = True
            if isinstance(item, item_type):
                if kept is not None:
                    kept.append(item)
                if document is not None:
                    document.item(item.to_json())
                else:
                    print_item(item)
            elif isinstance(item, summary_type):
                if document is not None:
                    document.finish(item.to_json())
                else:
                    print_summary(item)
                return item
    finally:
        progress.clear()
    raise RuntimeError(f"the stream ended without a {summary_type.__name__}")


def _validation_line(summary: WalValidation) -> str:
    head = f"{summary.path}: {summary.lines:,} lines, {summary.events:,} events"
    if not summary.problems:
        return head + ": valid"
    codes = ", ".join(f"{code} {count:,}" for code, count in sorted(summary.by_code.items()))
    shown = "" if summary.shown == summary.problems else f" ({summary.shown:,} listed)"
    return (f"{head}: {counted(summary.problems, 'problem')}{shown} "
            f"({counted(summary.errors, 'error')}, "
            f"{counted(summary.warnings, 'warning')}): {codes}")


# diff --------------------------------------------------------------------------------------


@wal.command("diff")
@click.argument("record")
@click.argument("replay")
@SOURCE_OPTION
@click.option("--ignore", "ignore", multiple=True, metavar="PATH",
              help=f"Dotted field path to leave out of the comparison (repeatable; added to {', '.join(DEFAULT_IGNORE)}).")
@click.option("--redact", "redact", multiple=True, metavar="PATH",
              help=f"Dotted field path shown as sha256:<12 hex> (repeatable; added to {', '.join(DEFAULT_REDACT)}).")
@click.option("--float-tolerance", default=0.0, show_default=True, type=click.FloatRange(min=0.0),
              help="Absolute tolerance when floats are compared.")
@click.option("--no-default-rules", is_flag=True, help="Start from no ignored and no redacted fields.")
@click.option("--max-divergences", default=0, show_default=True, type=click.IntRange(min=0),
              help="Stop after this many divergences (0: no limit).")
@click.option("--context", "context", default=CONTEXT, show_default=True, type=click.IntRange(0, 1000),
              help="Events shown before the first divergence.")
@click.option("--json", "as_json", is_flag=True,
              help='One JSON object: {"record", "replay", "rules", "divergences": [...], "summary": {...}}.')
@report_options
def diff_command(
    record: str, replay: str, source: str, ignore: tuple[str, ...], redact: tuple[str, ...], float_tolerance: float,
    no_default_rules: bool, max_divergences: int, context: int, as_json: bool, junit: str | None, html: str | None,
) -> int:
    """Diff a recorded WAL against its replay; the first divergence comes first.

    Events are aligned by id (by position where a line has no id). Lines that
    are byte-identical are not parsed.
    """
    try:
        rules = WalRules.build(ignore, redact, float_tolerance, defaults=not no_default_rules)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--ignore/--redact") from None
    spec, (record_path, replay_path) = locate(source, (record, replay))
    kept: list[WalDivergence] | None = [] if reports_wanted(junit, html) else None
    summary = asyncio.run(_diff(spec, record_path, replay_path, rules, max_divergences, context, as_json, kept))
    if kept is not None:
        write_reports(diff_report(kept, summary), junit, html)
    return 0 if summary.parity else 1


async def _diff(spec: str, record: str, replay: str, rules: WalRules, max_divergences: int, context: int,
                as_json: bool, kept: list[WalDivergence] | None) -> WalDiffSummary:
    source = open_source(spec)
    head = {"schema": schema_id("wal-diff"), "record": record, "replay": replay, "rules": rules.to_json()}
    document = _JsonDocument(sys.stdout.buffer, head, "divergences") if as_json else None

    def print_divergence(item: WalDivergence) -> None:
        if item.index == 1:
            _print_first(item)
            echo("divergences:")
        echo(_divergence_line(item))

    try:
        stream = source.diff_wal(record, replay, rules, max_divergences=max_divergences, context=context)
        return await _report(stream, document, WalDivergence, WalDiffSummary, print_divergence, _print_summary, kept)
    finally:
        await source.aclose()


def _short(text: str | None, limit: int = TEXT_CHARS) -> str:
    if text is None:
        return "-"
    text = printable(text)  # escaped first: the cut counts what is shown
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _print_first(first: WalDivergence) -> None:
    echo(f"first divergence at {first.headline()}")
    if first.context:
        echo(f"  the {counted(len(first.context), 'event')} before it (matched):")
        for event in first.context:
            label = f"id {event.event_id}" if event.event_id is not None else "no id"
            echo(f"    line {event.record_line:<6} {label:<10} {event.kind or '-':<20} {_short(event.text, 100)}")
    echo(f"  record line {first.record_line or '-'}: {_short(first.record)}")
    echo(f"  replay line {first.replay_line or '-'}: {_short(first.replay)}")
    for change in first.changes[:20]:
        echo(f"    {change.describe()}")
    if len(first.changes) > 20:
        echo(f"    … and {len(first.changes) - 20} more fields")


def _divergence_line(item: WalDivergence) -> str:
    return f"  #{item.index:<4} {item.kind:<9} {item.headline()}"


def _print_summary(summary: WalDiffSummary) -> None:
    if summary.parity:
        echo(f"parity: {summary.rows:,} events match ({summary.record_lines:,} record lines, "
                   f"{summary.replay_lines:,} replay lines, {summary.identical:,} byte-identical)")
    else:
        echo(f"summary: {summary.describe()}")
        if summary.truncated:
            echo(f"stopped after {summary.divergences:,} divergences (--max-divergences); the rest was not compared")
        elif not summary.complete:
            echo("the diff did not finish; the counts cover what was compared")
    for name, line in (("record", summary.record_torn), ("replay", summary.replay_torn)):
        if line is not None:
            echo(f"note: {name} line {line} is a torn tail (the writer stopped mid-event)")
    echo(f"rules: {summary.rules.describe()}")
