"""``driftdeck events record|verify``: live filesystem events, without the TUI."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from typing import Any

import click
import orjson

from backends.errors import DriftdeckError, NotFoundError, UnsupportedError
from backends.events.model import CHANGE_TYPES, DEFAULT_TYPES, FsEvent, WatchFilter, WatchHeader
from backends.events.recording import FORMATS, RecordingWriter, format_for, strip_prefix
from backends.events.sequence import Sequencer
from backends.events.stats import EventStats
from backends.events.verify import KEEP, VerifyReport, verify_recording
from backends.reports.schemas import schema_id
from backends.source import open_source
from backends.spec import local_root
from tui.cli.json_output import dumps
from tui.cli.reports import report_options, reports_wanted, write_reports

SOURCE_HELP = "Workspace the directory belongs to (a path or URL); by default the directory itself."


@click.group()
def events() -> None:
    """Live filesystem events: record a stream to a file, verify a recording."""


@events.command("record")
@click.argument("directory", metavar="DIR")
@click.option("--output", "-o", required=True, metavar="FILE", help="Recording to write (atomically, when done).")
@click.option("--duration", type=click.FloatRange(min=0, min_open=True), metavar="S", help="Stop after S seconds.")
@click.option("--max-events", type=click.IntRange(min=1), metavar="N", help="Stop after N change events.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), help="jsonl or yaml (default: from FILE's extension, else jsonl).")
@click.option(
    "--type",
    "types",
    multiple=True,
    type=click.Choice([*CHANGE_TYPES, "all"]),
    help=f"Event type to record (repeatable). Default: {', '.join(t for t in CHANGE_TYPES if t in DEFAULT_TYPES)}.",
)
@click.option("--include", multiple=True, metavar="GLOB", help="Record only paths matching a glob (repeatable).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave out paths matching a glob (repeatable).")
@click.option("--gitignore", is_flag=True, help="Leave out what .gitignore files ignore.")
@click.option("--debounce", type=click.IntRange(min=0), default=0, metavar="MS", help="Coalesce repeated modify/open/close events of a path within MS ms.")
@click.option("--no-baseline", is_flag=True, help="Do not start with the list of existing paths (verify is then lenient).")
@click.option("--poll", is_flag=True, help="Use the polling observer instead of inotify.")
@click.option("--source", "-s", default=None, metavar="SOURCE", help=SOURCE_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def record_command(
    directory: str,
    output: str,
    duration: float | None,
    max_events: int | None,
    fmt: str | None,
    types: tuple[str, ...],
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    gitignore: bool,
    debounce: int,
    no_baseline: bool,
    poll: bool,
    source: str | None,
    as_json: bool,
) -> int:
    """Record the events under DIR to FILE until --duration, --max-events or Ctrl-C.

    Paths in the recording are relative to DIR; the recording starts with a
    header and (unless --no-baseline) one `exists` record per existing path.
    """
    chosen = frozenset(CHANGE_TYPES) if "all" in types else (frozenset(types) or DEFAULT_TYPES)
    output_abs = os.path.abspath(output)
    if os.path.isdir(output_abs):
        raise click.BadParameter(f"{output}: is a directory", param_hint="--output")
    if not os.path.isdir(os.path.dirname(output_abs)):
        raise click.BadParameter(f"{output}: its directory does not exist", param_hint="--output")
    spec_args: dict[str, Any] = dict(
        types=chosen, include=include, exclude=exclude, gitignore=gitignore,
        debounce_ms=debounce, baseline=not no_baseline, poll=poll,
    )
    summary = asyncio.run(
        _record(source, directory, output_abs, format_for(output, fmt), duration, max_events, spec_args)
    )
    summary["output"] = output
    if as_json:
        sys.stdout.buffer.write(dumps({"schema": schema_id("events-record"), **summary}, option=orjson.OPT_APPEND_NEWLINE))
    else:
        _print_record_summary(summary)
    return 0


def _open_watch_target(source_spec: str | None, directory: str) -> tuple[Any, str, str]:
    """The source to watch through, the path to watch in it, and the absolute directory (if local).

    A local DIR is watched through a source opened on DIR itself (paths come
    out relative to it); DIR may be a real path or relative to ``--source``.
    Over a URL source, DIR is a path inside that source.
    """
    if source_spec and local_root(source_spec) is None:
        return open_source(source_spec), directory.strip("/"), ""
    candidate = directory
    if source_spec and not os.path.isabs(directory):
        root = local_root(source_spec) or source_spec
        inside = os.path.join(root, directory)
        if os.path.isdir(inside) or not os.path.isdir(directory):
            candidate = inside
    if not os.path.isdir(candidate):
        raise NotFoundError(f"{directory}: no such directory to watch", path=directory)
    absolute = os.path.abspath(candidate)
    return open_source(absolute), "", absolute


async def _record(
    source_spec: str | None,
    directory: str,
    output: str,
    fmt: str,
    duration: float | None,
    max_events: int | None,
    spec_args: dict[str, Any],
) -> dict[str, Any]:
    source, watch_path, local_dir = _open_watch_target(source_spec, directory)
    if local_dir and (output == local_dir or output.startswith(local_dir + os.sep)):
        # Writing the recording inside the watched tree would record its own writes.
        inside = os.path.relpath(output, local_dir).replace(os.sep, "/")
        spec_args["exclude"] = (*spec_args["exclude"], inside, ".driftdeck-rec-*.tmp")
    spec = WatchFilter(**spec_args)
    header = WatchHeader(path=directory, filter=spec, started_wall_ns=time.time_ns())
    stats = EventStats()
    writer = RecordingWriter(output, header, fmt)
    loop = asyncio.get_running_loop()
    finish = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(signum, finish.set)
        except (NotImplementedError, RuntimeError):
            pass
    started = time.monotonic()
    changes = 0
    reason = "interrupted"
    try:
        stream = source.watch(watch_path, spec)
        sequence = Sequencer()  # a remote source that restarts begins again at 1; the recording never does
        next_batch: asyncio.Task[list[FsEvent]] | None = None
        stopper = asyncio.ensure_future(finish.wait())
        try:
            while True:
                remaining = None if duration is None else duration - (time.monotonic() - started)
                if remaining is not None and remaining <= 0:
                    reason = "duration reached"
                    break
                if next_batch is None:
                    next_batch = asyncio.ensure_future(stream.__anext__())
                done, _ = await asyncio.wait({next_batch, stopper}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    break
                if next_batch not in done:
                    continue
                try:
                    batch = next_batch.result()
                except StopAsyncIteration:
                    reason = "the stream ended"
                    break
                next_batch = None
                if max_events is not None:
                    batch, changes, full = _cut_at(batch, changes, max_events)
                else:
                    changes += sum(1 for e in batch if not e.is_marker)
                    full = False
                batch = [strip_prefix(e, watch_path) for e in sequence.number(batch)]
                _say_markers(batch)
                writer.write(batch)
                stats.add(batch)
                if full:
                    reason = "max events reached"
                    break
        finally:
            stopper.cancel()
            if next_batch is not None:
                next_batch.cancel()
                try:
                    await next_batch
                except (asyncio.CancelledError, StopAsyncIteration, DriftdeckError):
                    pass
            await stream.aclose()
    except BaseException:
        writer.close()
        raise
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            try:
                loop.remove_signal_handler(signum)
            except (NotImplementedError, RuntimeError):
                pass
        await source.aclose()
    writer.close()
    elapsed = time.monotonic() - started
    snapshot = stats.snapshot(int(time.time()), width=0)
    return {
        "format": fmt,
        "records": writer.count,
        "events": snapshot.total,
        "seconds": round(elapsed, 3),
        "stopped": reason,
        "stats": snapshot.to_json(),
    }


def _say_markers(batch: list[FsEvent]) -> None:
    """Echo how the watch runs (start, fallback, restart) and every loss to stderr as they happen."""
    for event in batch:
        if event.type == "notice":
            click.echo(f"events record: {event.detail}", err=True)
        elif event.type == "lost":
            click.echo(f"events record: events lost: {event.detail}", err=True)


def _cut_at(batch: list[FsEvent], changes: int, limit: int) -> tuple[list[FsEvent], int, bool]:
    """Keep events up to the ``limit``-th change event overall."""
    for index, event in enumerate(batch):
        if event.is_marker or event.type == "exists":
            continue
        changes += 1
        if changes >= limit:
            return batch[: index + 1], changes, True
    return batch, changes, False


def _print_record_summary(summary: dict[str, Any]) -> None:
    stats = summary["stats"]
    click.echo(
        f"recorded {summary['events']:,} events ({summary['records']:,} records) to {summary['output']} "
        f"({summary['format']}) in {summary['seconds']:.1f} s; {summary['stopped']}"
    )
    parts = [f"{t} {n:,}" for t, n in stats["by_type"].items() if n]
    if parts:
        click.echo("  " + " · ".join(parts))
    if stats["lost_markers"]:
        click.echo(f"  events were lost {stats['lost_markers']} time(s) and reconciled ({stats['reconciled']:,} reconciled events)")
    latency = stats["latency_ms"]
    if latency["p50"] is not None:
        click.echo(f"  write-to-receipt latency: p50 {latency['p50']:.1f} ms, p95 {latency['p95']:.1f} ms")
    for entry in stats["top_paths"][:5]:
        click.echo(f"  {entry['count']:>8,}  {entry['path']}")


@events.command("verify")
@click.argument("file", metavar="FILE")
@click.option("--source", "-s", default=None, metavar="SOURCE", help="Workspace FILE may be relative to.")
@click.option("--json", "as_json", is_flag=True, help="Print the verdict as one JSON object.")
@report_options
def verify_command(file: str, source: str | None, as_json: bool, junit: str | None, html: str | None) -> int:
    """Check a recording: ordering and per-path causal integrity.

    \b
    Exit codes: 0 ordered and causal, 1 order or causality violations,
    2 unreadable or usage error, 3 malformed file, 4 records with missing fields.
    """
    path = file
    if source and not os.path.isabs(file) and not os.path.exists(file):
        root = local_root(source)
        if root is None:
            raise UnsupportedError(f"{source}: verify reads local files; download {file} first")
        path = os.path.join(root, file)
    report = verify_recording(path, label=file)
    if as_json:
        sys.stdout.buffer.write(dumps({"schema": schema_id("events-verify"), **report.to_json()}, option=orjson.OPT_APPEND_NEWLINE))
    else:
        _print_report(report)
    if reports_wanted(junit, html):
        from backends.reports.events import verify_report

        write_reports(verify_report(report), junit, html)
    return report.exit_code


def _print_report(report: VerifyReport) -> None:
    for problem in report.malformed:
        click.echo(f"{problem}  [malformed]")
    for problem in report.missing:
        click.echo(f"{problem}  [missing fields]")
    if report.violations:
        click.echo("--- the rules: seq increasing, time non-decreasing, causal per path")
        click.echo(f"+++ {report.path}")
        for violation in report.violations:
            where = f"line {violation.line}" if violation.line is not None else "record"
            click.echo(f"@@ {where}, seq {violation.seq}: {violation.rule} @@")
            click.echo(f"-{violation.message}")
            click.echo(f"+{violation.record}")
    shown = len(report.violations) + len(report.malformed) + len(report.missing)
    hidden = report.violation_count + report.malformed_count + report.missing_count - shown
    if hidden > 0:
        click.echo(f"... and {hidden:,} more problems, counted below (the first {KEEP} of each kind are listed)")
    mode = "strict: baseline present" if report.strict else "lenient: no baseline, or not every structural type recorded"
    verdict = {0: "OK: ordered and causal", 1: "VIOLATIONS", 3: "MALFORMED", 4: "MISSING FIELDS"}[report.exit_code]
    click.echo(
        f"{report.path}: {verdict} · {report.records:,} records ({report.format}, {mode}) · "
        f"{report.violation_count:,} violations (order {report.order_violations:,}, causality {report.causality_violations:,}) · "
        f"{report.malformed_count:,} malformed · {report.missing_count:,} with missing fields"
        + (f" · {report.lost_markers} loss markers, {report.reconciled:,} reconciled" if report.lost_markers else "")
    )

