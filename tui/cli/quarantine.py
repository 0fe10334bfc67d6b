"""``driftdeck quarantine list|show``: quarantined runs, without the TUI."""

from __future__ import annotations

import asyncio
import sys
from collections import Counter

import click
import orjson

from backends.errors import UnreadableError
from backends.reports.schemas import schema_id
from backends.models import RUN_STATES, RunDetail, RunEvent, RunQuery, RunSummary
from backends.source import open_source
from tui.cli import json_output
from tui.cli.reports import report_options, reports_wanted, write_reports
from tui.cli.terminal import echo, printable

SOURCE_OPTION = click.option(
    "--source", "-s", default=".", show_default=True, metavar="SOURCE", help="Workspace path or http(s) URL of `driftdeck serve`."
)


@click.group()
def quarantine() -> None:
    """Quarantined runs: why they were quarantined and what evidence they hold."""


@quarantine.command("list")
@SOURCE_OPTION
@click.option(
    "--state",
    "states",
    multiple=True,
    metavar="STATE",
    help=f"Keep runs in this state (repeatable; 'all' for every state). Default QUARANTINED. One of {', '.join(RUN_STATES)}.",
)
@click.option("--reason", "reasons", multiple=True, metavar="CODE", help="Keep runs with this reason code (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="NDJSON: a header naming the schema, then one run object per line.")
@report_options
def list_command(source: str, states: tuple[str, ...], reasons: tuple[str, ...], as_json: bool, junit: str | None, html: str | None) -> int:
    """List runs (quarantined by default), newest first."""
    wanted = {s.upper() for s in states} or {"QUARANTINED"}
    if "ALL" in wanted:
        wanted = set()
    unknown = wanted - set(RUN_STATES)
    if unknown:
        raise click.BadParameter(f"unknown state {sorted(unknown)[0]!r} (one of {', '.join(RUN_STATES)}, all)", param_hint="--state")
    query = RunQuery(states=frozenset(wanted), reason_codes=frozenset(reasons))
    runs = asyncio.run(_collect_runs(source, query))
    runs.sort(key=lambda r: (-r.sort_ts, r.key))
    if as_json:
        write = sys.stdout.buffer.write
        write(json_output.dumps({"type": "header", "schema": schema_id("quarantine-list")}, option=orjson.OPT_APPEND_NEWLINE))
        for run in runs:
            write(json_output.dumps({"type": "run", **run.to_json()}, option=orjson.OPT_APPEND_NEWLINE))
    else:
        _print_runs(runs)
    for run in runs:
        if run.problem is not None:
            echo(f"warning: {run.problem}", err=True)
    if reports_wanted(junit, html):  # a quarantined or failed run is a failing test case; the exit code stays 0
        from backends.reports.runs import runs_report

        write_reports(runs_report(runs, source), junit, html)
    return 0


async def _collect_runs(spec: str, query: RunQuery) -> list[RunSummary]:
    source = open_source(spec)
    try:
        runs: list[RunSummary] = []
        async for batch in source.iter_runs(query, batch=2000):
            runs.extend(batch)
        return runs
    finally:
        await source.aclose()


def _print_runs(runs: list[RunSummary]) -> None:
    if not runs:
        echo("no runs match")
        return
    ids = [printable(r.run_id) for r in runs]  # as they will be shown: the columns line up
    shown_reasons = [printable(r.reason_code or "-") for r in runs]
    id_width = max(6, *(len(i) for i in ids))
    reason_width = max(6, *(len(r) for r in shown_reasons))
    echo(f"{'RUN ID':<{id_width}}  {'STATE':<11}  {'REASON':<{reason_width}}  UPDATED")
    for run, run_id, reason in zip(runs, ids, shown_reasons, strict=True):
        state = run.state or "?"
        echo(f"{run_id:<{id_width}}  {state:<11}  {reason:<{reason_width}}  {run.updated_at or '-'}")
    states = Counter(r.state or "UNREADABLE" for r in runs)
    reasons = Counter(r.reason_code for r in runs if r.reason_code)
    echo("")
    echo(f"{len(runs)} runs: " + ", ".join(f"{s} {n}" for s, n in sorted(states.items())))
    if reasons:
        echo(f"{len(reasons)} reason codes: " + ", ".join(f"{c} {n}" for c, n in reasons.most_common()))


@quarantine.command("show")
@click.argument("run_id")
@SOURCE_OPTION
@click.option("--events", "event_count", default=10, show_default=True, help="How many of the newest record events to show.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object: status, artifacts, evidence, newest events.")
def show_command(run_id: str, source: str, event_count: int, as_json: bool) -> int:
    """One run: status, reason, quarantine artifacts, evidence and its newest record events."""
    detail, events, total, record_problem = asyncio.run(_load_run(source, run_id, max(0, event_count)))
    if as_json:
        body = {"schema": schema_id("quarantine-show"), **detail.to_json()}
        body["events_total"] = total
        body["events"] = [e.to_json() for e in events]
        sys.stdout.buffer.write(json_output.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE))
    else:
        _print_detail(detail, events, total)
    for problem in detail.problems:
        echo(f"warning: {problem}", err=True)
    if record_problem is not None:
        echo(f"warning: {record_problem}", err=True)
    return 0


async def _load_run(spec: str, run_id: str, keep: int) -> tuple[RunDetail, list[RunEvent], int, str | None]:
    """The run, the newest ``keep`` record events, how many there are, and why the record could not be read to its end."""
    source = open_source(spec)
    try:
        detail = await source.get_run(run_id)
        tail: list[RunEvent] = []
        total = 0
        if detail.record_path is None:  # no record, or one that is not a file (its problem is listed)
            return detail, tail, total, None
        cursor = None
        while True:
            try:
                page = await source.run_events(detail.summary.key, cursor, limit=2000)
            except UnreadableError as exc:  # the run is still shown, its record named as unreadable
                return detail, tail, total, str(exc)
            total += len(page.items)
            tail = (tail + list(page.items))[-keep:] if keep else []
            cursor = page.next_cursor
            if cursor is None:
                return detail, tail, total, None
    finally:
        await source.aclose()


def _print_detail(detail: RunDetail, events: list[RunEvent], total: int) -> None:
    run = detail.summary
    echo(f"run        {run.run_id}")
    echo(f"directory  {run.key}")
    echo(f"state      {run.state or '? (status unreadable)'}")
    echo(f"reason     {run.reason_code or '-'}")
    echo(f"updated    {run.updated_at or '-'}")
    for key in sorted(k for k in detail.status if k not in ("run_id", "state", "reason_code", "updated_at")):
        echo(f"{key:<10} {detail.status[key]}")
    echo("")
    echo(f"quarantine artifacts: {len(detail.artifacts)}")
    for artifact in detail.artifacts:
        echo(f"  {artifact.path}  ({artifact.size} bytes)")
        if artifact.problem is not None:
            echo(f"    ! {artifact.problem}")
            continue
        echo(f"    reason   {artifact.reason_code or '-'}   at {artifact.quarantined_at or '-'}")
        if artifact.detail:
            echo(f"    detail   {artifact.detail.splitlines()[0]}")
        for ref in artifact.evidence:
            mark = {True: "ok", False: "MISSING", None: "-"}[ref.exists]
            note = f"  ({ref.note})" if ref.note else ""
            echo(f"    evidence [{ref.kind}] {ref.ref}  {mark}{note}")
    if detail.wal_files:
        echo("")
        echo("wal files: " + ", ".join(detail.wal_files))
    echo("")
    echo(f"record: {total} events" + (f", newest {len(events)}:" if events else ""))
    for event in events:
        if event.problem is not None:
            echo(f"  {event.line:>6}  ! {event.problem.message}")
        else:
            echo(f"  {event.line:>6}  {event.ts or '-':<24}  {event.kind or '-'}")
