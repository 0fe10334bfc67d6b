"""Benchmark: ``driftdeck quarantine list`` and the TUI's first screen on a large workspace.

Builds a deterministic workspace of ``--runs`` run directories (exactly
``--quarantined`` of them QUARANTINED), then measures, warm cache:

* ``driftdeck quarantine list --json`` against the peer
  ``grep -rl '"QUARANTINED"' --include=run_status.json runs/`` (best of 3 wall
  clock, after one warm-up run each; budget: at most 2x grep);
* the peak RSS of ``driftdeck quarantine list --json`` (budget 200 MB);
* the TUI (``DriftdeckApp`` under ``run_test``): time to the first rows of the (from opening the source, as ``driftdeck WS`` does, Textual's import included)
  run table (budget < 0.5 s) and time until the scan of every run is done
  (budget: at most 1.5x ``quarantine list``).

This is a measurement, not a test: it exits 0 whatever the numbers, and non-zero
only when something breaks (a command fails or the outputs disagree).

Usage::

    python benchmarks/quarantine.py [--runs 100000] [--quarantined 2000] [--dir PATH] [--keep]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from command import driftdeck_command, prepare

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SEED = 20261101
CHUNK = 2000
"""Runs per build task; each chunk has its own seeded random stream, so the
workspace is identical whatever the number of worker processes."""
PARAMS_FILE = ".driftdeck-bench.json"
"""Marker in a built workspace: the parameters it was built with (reused by ``--dir``)."""

RATIO_BUDGET = 2.0
RSS_BUDGET_MB = 200.0
FIRST_SCREEN_BUDGET_S = 0.5
TUI_VS_CLI_BUDGET = 1.5
REPEATS = 3
TUI_TIMEOUT_S = 300.0

BASE_TIME = datetime(2026, 9, 1, tzinfo=timezone.utc)
SPAN_S = 60 * 86_400
"""Runs are created over 60 days from ``BASE_TIME``, in directory-name order."""

OTHER_STATES = ("PENDING", "RUNNING", "WAITING", "READY", "FAILED")
OTHER_WEIGHTS = (5, 8, 5, 70, 12)
QUARANTINE_CODES = (
    "REPLAY_DIVERGENCE",
    "INSTANCE_RECEIPT_DRIFT",
    "ENGINE_RECEIPT_MISMATCH",
    "ATTEMPT_LIMIT_EXCEEDED",
    "SCHEMA_VERSION_SKEW",
    "CHECKSUM_DRIFT",
    "EVIDENCE_MISSING",
    "WAL_SEQUENCE_VIOLATION",
)
FAILED_CODES = ("UPSTREAM_TIMEOUT", "DEPENDENCY_UNAVAILABLE", "ATTEMPT_LIMIT_EXCEEDED")
PIPELINES = ("ingest-ledger", "score-transactions", "sr-snapshot", "reconcile-payouts", "build-features")
RECORD_KINDS = ("StepStarted", "StepProgress", "StepFinished")


# --- building the workspace -------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + "Z"


def _build_chunk(task: tuple[str, int, int, int, int, int, frozenset[int]]) -> tuple[int, int]:
    """Write runs ``[start, stop)`` of ``total``; return (files, bytes) written."""
    runs_dir, seed, chunk, start, stop, total, quarantined = task
    rng = random.Random(seed * 1_000_003 + chunk)
    files = size = 0
    for index in range(start, stop):
        created = BASE_TIME + timedelta(seconds=SPAN_S * index / total + rng.random())
        run_id = f"run-{created:%Y%m%d-%H%M%S}-{index:06d}"
        if index in quarantined:
            state, code = "QUARANTINED", rng.choice(QUARANTINE_CODES)
        else:
            state = rng.choices(OTHER_STATES, OTHER_WEIGHTS)[0]
            code = rng.choice(FAILED_CODES) if state == "FAILED" else None
        pipeline = rng.choice(PIPELINES)
        updated = created + timedelta(seconds=rng.randint(5, 6 * 3600))
        attempt = 0 if state == "PENDING" else rng.choice((1, 1, 1, 2, 3))
        status = {
            "run_id": run_id,
            "state": state,
            "reason_code": code,
            "created_at": _iso(created),
            "updated_at": _iso(updated),
            "attempt": attempt,
            "pipeline": pipeline,
            "platform_run_id": f"fp-{created:%Y%m%d}-{rng.randrange(10000):04d}",
        }
        folder = os.path.join(runs_dir, run_id)
        os.mkdir(folder)
        size += _write(os.path.join(folder, "run_status.json"), orjson.dumps(status, option=orjson.OPT_INDENT_2) + b"\n")
        files += 1
        if index % 10 == 0:
            size += _write(os.path.join(folder, "run_record.jsonl"), _record(rng, run_id, created, pipeline))
            files += 1
        if state == "QUARANTINED":
            os.mkdir(os.path.join(folder, "quarantine"))
            name = code.lower().replace("_", "-") + ".json"
            size += _write(os.path.join(folder, "quarantine", name), _artifact(rng, run_id, code, updated))
            files += 1
    return files, size


def _write(path: str, data: bytes) -> int:
    with open(path, "wb") as handle:
        handle.write(data)
    return len(data)


def _record(rng: random.Random, run_id: str, created: datetime, pipeline: str) -> bytes:
    lines = []
    now = created
    for number in range(1, rng.randint(5, 20) + 1):
        now += timedelta(milliseconds=rng.randint(40, 90_000))
        event = {
            "event_id": f"evt-{number:06d}",
            "ts": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
            "kind": "RunCreated" if number == 1 else rng.choice(RECORD_KINDS),
            "run_id": run_id,
            "pipeline": pipeline,
            "rows": rng.randint(1_000, 250_000),
        }
        lines.append(orjson.dumps(event) + b"\n")
    return b"".join(lines)


def _artifact(rng: random.Random, run_id: str, code: str, updated: datetime) -> bytes:
    record = f"runs/{run_id}/run_record.jsonl"
    body = {
        "reason_code": code,
        "quarantined_at": _iso(updated),
        "detail": f"The run was quarantined: {code.lower().replace('_', ' ')} detected by the post-run checks.",
        "evidence": [
            {"kind": "file", "ref": f"{record}#L{rng.randint(2, 20)}", "note": "the check that failed"},
            {"kind": "url", "ref": f"https://ci.example.internal/runs/{run_id}/logs", "note": "orchestrator logs"},
        ],
        "context": {"expected_sha256": f"{rng.getrandbits(256):064x}", "actual_sha256": f"{rng.getrandbits(256):064x}",
                    "rows": rng.randint(10_000, 900_000)},
    }
    return orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n"


def build_workspace(root: Path, runs: int, quarantined: int, seed: int = SEED) -> None:
    """Write (or reuse) the benchmark workspace under ``root``."""
    params = {"runs": runs, "quarantined": quarantined, "seed": seed, "format": 1}
    marker = root / PARAMS_FILE
    if marker.is_file():
        try:
            if json.loads(marker.read_text()) == params:
                print(f"build: reusing the workspace in {root} (same parameters)")
                return
        except ValueError:
            pass
        print(f"build: {root} was built with other parameters; rebuilding")
        shutil.rmtree(root / "runs", ignore_errors=True)
        marker.unlink()
    elif root.exists() and any(root.iterdir()):
        raise SystemExit(f"benchmark: {root} is not empty and is not a benchmark workspace; refusing to write there")
    runs_dir = root / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    chosen = frozenset(random.Random(seed).sample(range(runs), quarantined))
    tasks = []
    for chunk, start in enumerate(range(0, runs, CHUNK)):
        stop = min(runs, start + CHUNK)
        tasks.append((str(runs_dir), seed, chunk, start, stop, runs, frozenset(i for i in chosen if start <= i < stop)))
    began = time.perf_counter()
    files = size = 0
    with multiprocessing.Pool(max(1, os.cpu_count() or 1)) as pool:
        for f, s in pool.imap_unordered(_build_chunk, tasks):
            files += f
            size += s
    marker.write_text(json.dumps(params) + "\n")
    print(f"build: {runs:,} runs ({quarantined:,} quarantined), {files:,} files, {size / 1e6:.1f} MB "
          f"in {time.perf_counter() - began:.1f} s -> {root}")


# --- measuring commands -----------------------------------------------------------------------




def run_once(argv: Sequence[str], cwd: Path, *, capture: bool = False) -> tuple[float, int, bytes]:
    """Run ``argv``; return (wall seconds, peak RSS of that child in KiB, stdout if captured).

    ``os.wait4`` gives the resource usage of exactly this child, so earlier
    children (grep, warm-ups) cannot inflate the number.
    """
    out = subprocess.PIPE if capture else subprocess.DEVNULL
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: a chatty stderr cannot block the child
        began = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=errors)
        data = b""
        if capture:
            assert proc.stdout is not None
            data = proc.stdout.read()
            proc.stdout.close()
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            errors.seek(0)
            tail = errors.read().decode(errors="replace")[-500:]
            raise SystemExit(f"benchmark: {shlex.join(argv)} exited {proc.returncode}: {tail}")
    return elapsed, usage.ru_maxrss, data


def best_of(argv: Sequence[str], cwd: Path, repeats: int = REPEATS) -> tuple[float, list[float], int]:
    """One warm-up run, then ``repeats`` timed runs: (best, all times, max peak RSS KiB)."""
    run_once(argv, cwd)
    times, rss = [], 0
    for _ in range(repeats):
        elapsed, peak, _ = run_once(argv, cwd)
        times.append(elapsed)
        rss = max(rss, peak)
    return min(times), times, rss


# --- measuring the TUI ------------------------------------------------------------------------


async def _tui_probe(ws: str) -> dict[str, Any]:
    # Timed as `driftdeck WS` starts (tui/cli/tui_commands.run_app): from opening the
    # source, the scan started early and Textual's import (~0.25 s) included.
    began = time.perf_counter()
    from backends.local import LocalSource

    source = LocalSource(ws)
    source.start_scan_early()
    from tui.app import DriftdeckApp
    from tui.panes.runs import RunsPane

    imported = time.perf_counter() - began
    app = DriftdeckApp(source, cursor_blink=False)
    first = done = None
    shown = 0
    async with app.run_test(size=(120, 36)) as pilot:
        seen_scanning = False
        while time.perf_counter() - began < TUI_TIMEOUT_S:
            panes = app.query(RunsPane)
            if panes:
                pane = panes.first()
                table = app.query_one("#runs-table")
                if first is None and table.row_count > 0:  # type: ignore[attr-defined]
                    await pilot.pause(0)  # every widget has handled its messages (the table's refresh): painted
                    first = time.perf_counter() - began
                seen_scanning = seen_scanning or pane.state.scanning
                if seen_scanning and not pane.state.scanning:
                    done = time.perf_counter() - began
                    shown = table.row_count  # type: ignore[attr-defined]
                    loaded = len(pane.state.runs)
                    break
            # Not pilot.pause(0.01): each pause posts a message to every widget on screen and waits for
            # them all, on the loop that merges the scan's batches (benchmarks/objectstore_tui.py measured
            # 6 of a 13-15 s bucket scan spent so).
            await asyncio.sleep(0.01)
        else:
            raise SystemExit(f"benchmark: the TUI scan did not finish within {TUI_TIMEOUT_S:.0f} s")
    return {"first": first, "imported": imported, "done": done, "shown": shown, "loaded": loaded,
            "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
            "child_rss_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}


def tui_probe_main(ws: str) -> None:
    """Entry of ``--tui-probe``: one TUI measurement in this (fresh) process, as JSON on stdout."""
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    result = asyncio.run(_tui_probe(ws))
    sys.stdout.write(json.dumps(result) + "\n")


def measure_tui(ws: Path, repeats: int = REPEATS) -> list[dict[str, Any]]:
    """Run the TUI probe in fresh processes: one warm-up, then ``repeats`` measured runs.

    Each probe builds ``DriftdeckApp`` in-process and drives it with
    ``run_test``; a fresh process per probe keeps imports warm-but-separate and
    gives a clean peak RSS for the TUI holding every run.
    """
    argv = [sys.executable, str(Path(__file__).resolve()), "--tui-probe", str(ws)]
    results = []
    for attempt in range(repeats + 1):
        _, _, out = run_once(argv, REPO, capture=True)
        if attempt:
            results.append(json.loads(out.decode().strip().splitlines()[-1]))
    return results


# --- report -----------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def main(argv: list[str] | None = None) -> int:
    prepare()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=100_000, help="run directories to create (default 100000)")
    parser.add_argument("--quarantined", type=int, default=2_000, help="how many of them are QUARANTINED (default 2000)")
    parser.add_argument("--dir", type=Path, help="build (or reuse) the workspace here instead of a temp dir; kept")
    parser.add_argument("--keep", action="store_true", help="keep the temp workspace (its path is printed)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"timed runs per measurement (default {REPEATS})")
    parser.add_argument("--tui-probe", metavar="WS", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tui_probe:
        tui_probe_main(args.tui_probe)
        return 0
    if not 0 <= args.quarantined <= args.runs or args.runs < 1:
        parser.error("need 1 <= --runs and 0 <= --quarantined <= --runs")
    if shutil.which("grep") is None:
        parser.error("grep is not on PATH; it is the peer this benchmark compares against")

    temp = None
    if args.dir is not None:
        ws = args.dir.resolve()
    else:
        temp = Path(tempfile.mkdtemp(prefix="driftdeck-bench-"))
        ws = temp / "ws"
    try:
        build_workspace(ws, args.runs, args.quarantined)
        return measure(ws, args.quarantined, max(1, args.repeats))
    finally:
        if temp is not None:
            if args.keep:
                print(f"workspace kept: {ws}")
            else:
                shutil.rmtree(temp, ignore_errors=True)


def measure(ws: Path, quarantined: int, repeats: int) -> int:
    ours = [*driftdeck_command(), "quarantine", "list", "--json", "--source", str(ws)]
    peer = ["grep", "-rl", '"QUARANTINED"', "--include=run_status.json", "runs/"]
    print(f"ours: {shlex.join(ours)}")
    print(f"peer: {shlex.join(peer)}   (cwd {ws})")

    # Correctness first: both must find exactly the quarantined runs, the same ones.
    _, _, out = run_once(ours, ws, capture=True)
    our_rows = [orjson.loads(line) for line in out.splitlines()]
    our_lines = [row for row in our_rows if row.get("type", "run") == "run"]  # a header line comes first
    our_keys = {row["key"] for row in our_lines}
    _, _, out = run_once(peer, ws, capture=True)
    grep_keys = {line.decode().removesuffix("/run_status.json") for line in out.splitlines()}
    print(f"check: ours printed {len(our_lines):,} lines, grep found {len(grep_keys):,} files, expected {quarantined:,}")
    if len(our_lines) != quarantined or len(grep_keys) != quarantined:
        raise SystemExit("benchmark: ours or grep did not find exactly the quarantined runs")
    if our_keys != grep_keys:
        raise SystemExit(f"benchmark: ours and grep disagree on {len(our_keys ^ grep_keys)} runs")

    print(f"timing: 1 warm-up + best of {repeats} wall clock each (page cache warm)")
    peer_best, peer_times, _ = best_of(peer, ws, repeats)
    our_best, our_times, our_rss = best_of(ours, ws, repeats)
    print(f"  grep:      {', '.join(f'{t:.3f}' for t in peer_times)} s")
    print(f"  driftdeck: {', '.join(f'{t:.3f}' for t in our_times)} s")

    print(f"tui: DriftdeckApp under run_test(size=(120, 36)), 1 warm-up + {repeats} probes in fresh processes")
    probes = measure_tui(ws, repeats)
    for probe in probes:
        print(f"  first rows {probe['first']:.3f} s ({probe['first'] - probe['imported']:.3f} s after the import), scan done {probe['done']:.3f} s, "
              f"{probe['shown']:,} rows shown of {probe['loaded']:,} loaded, peak RSS {probe['rss_kib'] * 1024 / 1e6:.0f} MB "
              f"(scan child {probe.get('child_rss_kib', 0) * 1024 / 1e6:.0f} MB)")
    first = min(p["first"] for p in probes)
    done = min(p["done"] for p in probes)
    tui_rss_mb = max(p["rss_kib"] for p in probes) * 1024 / 1e6

    ratio = our_best / peer_best if peer_best > 0 else float("inf")
    rss_mb = our_rss * 1024 / 1e6
    rows = [
        ("quarantine list --json", f"{our_best:.2f} s", f"grep {peer_best:.2f} s", f"{ratio:.2f}x",
         f"<= {RATIO_BUDGET:.1f}x", _verdict(ratio <= RATIO_BUDGET)),
        ("peak RSS, quarantine list", f"{rss_mb:.0f} MB", "-", "-", f"<= {RSS_BUDGET_MB:.0f} MB",
         _verdict(rss_mb <= RSS_BUDGET_MB)),
        ("TUI first screen (rows)", f"{first:.2f} s", "-", "-", f"< {FIRST_SCREEN_BUDGET_S:.1f} s",
         _verdict(first < FIRST_SCREEN_BUDGET_S)),
        ("TUI scan complete", f"{done:.2f} s", f"grep {peer_best:.2f} s", f"{done / peer_best:.2f}x", "-", "info"),
        ("TUI scan complete vs CLI", f"{done:.2f} s", f"CLI {our_best:.2f} s", f"{done / our_best:.2f}x",
         f"<= {TUI_VS_CLI_BUDGET:.1f}x", _verdict(done <= TUI_VS_CLI_BUDGET * our_best)),
        ("peak RSS, TUI all runs", f"{tui_rss_mb:.0f} MB", "-", "-", "-", "info"),
    ]
    head = ("operation", "ours", "peer", "ours/peer", "budget", "result")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print()
    print(f"workspace: {ws}  ({sum(1 for _ in os.scandir(ws / 'runs')):,} runs, {quarantined:,} quarantined)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    print()
    print(f"quarantine list --json: {our_best:.2f} s vs grep {peer_best:.2f} s = {ratio:.2f}x "
          f"(budget {RATIO_BUDGET:.1f}x) {_verdict(ratio <= RATIO_BUDGET)}")
    print(f"peak RSS: {rss_mb:.0f} MB (budget {RSS_BUDGET_MB:.0f} MB) {_verdict(rss_mb <= RSS_BUDGET_MB)}")
    print(f"TUI first screen: {first:.2f} s (budget {FIRST_SCREEN_BUDGET_S:.1f} s) "
          f"{_verdict(first < FIRST_SCREEN_BUDGET_S)}; full scan {done:.2f} s = {done / our_best:.2f}x the CLI "
          f"(budget {TUI_VS_CLI_BUDGET:.1f}x) {_verdict(done <= TUI_VS_CLI_BUDGET * our_best)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
