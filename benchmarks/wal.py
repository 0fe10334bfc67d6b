"""Benchmark: ``driftdeck wal diff|validate`` and the WAL pane on million-event WALs.

Builds, in a temporary directory, a workspace with one run whose ``wal/``
folder holds a recorded WAL of ``--events`` events (~250 bytes per line) and
two replays of it:

* ``replay-wallclock.jsonl``: a wall-clock replay, ``ts_ms`` differs on every line;
* ``replay-virtual.jsonl``: a virtual-clock replay, byte-identical except three
  divergences (two changed fields, one event missing).

Then measures, warm cache, best of 3 wall clock, whole processes (our
``driftdeck`` console script next to this interpreter; the peer is a bare
Python loop that ``orjson.loads`` every line, in its own process):

* wall-clock diff vs the bare loop over both files (budget <= 0.5x);
* virtual-clock diff vs the bare loop over both files (budget <= 0.3x);
* ``wal validate`` of the record vs the bare loop over that file (budget <= 1.0x);
* peak RSS of the full wall-clock diff (budget < 300 MB);
* the offset index: bytes per line (budget <= 16);
* the TUI: time from opening the pair in the WAL pane (app already running) until
  its first lines are drawn, while both files are still being indexed and diffed
  (budget < 0.5 s).

A measurement, not a test: it exits 0 whatever the numbers, and non-zero only
when something breaks (a command fails, or a diff does not find what it must).

Usage::

    python benchmarks/wal.py [--events 1000000] [--repeats 3] [--keep] [--dir DIR] [--only diff,validate]

``--dir DIR`` builds the workspace in ``DIR`` once and reuses it on later runs
(rebuilt only when ``--events`` differs); ``--only`` skips the index and TUI
measurements (``--only diff,validate``).
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Sequence

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from command import driftdeck_command, prepare

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SEED = 20261121
RUN_ID = "run-bench-wal"
WAL_DIR = f"runs/{RUN_ID}/wal"
REPEATS = 3
WALLCLOCK_BUDGET = 0.5
VIRTUAL_BUDGET = 0.3
VALIDATE_BUDGET = 1.0
RSS_BUDGET_MB = 300.0
INDEX_BUDGET = 16.0
FIRST_SCREEN_BUDGET_S = 0.5
TUI_TIMEOUT_S = 120.0
STAMP = ".events"
"""File beside the WALs naming the event count they were built with (``--dir`` reuses them)."""

BARE_LOOP = (
    "import sys, orjson\n"
    "loads = orjson.loads\n"
    "for path in sys.argv[1:]:\n"
    "    with open(path, 'rb') as handle:\n"
    "        for line in handle:\n"
    "            loads(line)\n"
)
"""The peer: parse every line of the given files, nothing else."""

KINDS = ("ActivityScheduled", "ExternalIOStarted", "ExternalIOFinished", "DecisionMade", "TimerStarted")


# --- building the workspace -------------------------------------------------------------------


def _event(rng: random.Random, number: int, ts: int) -> dict[str, Any]:
    kind = KINDS[number % len(KINDS)]
    payload: dict[str, Any] = {
        "io_id": f"io-{number:08d}",
        "status": 200,
        "latency_ms": round(rng.uniform(1, 480), 3),
        "bytes": rng.randint(2_000, 900_000),
        "digest": f"{rng.getrandbits(128):032x}",
        "attempt": 1,
        "route": {"region": rng.choice(("eu-west-1", "us-east-1")), "shard": rng.randint(0, 63)},
    }
    return {"v": 2, "id": number, "ts_ms": ts, "run_id": RUN_ID, "kind": kind, "payload": payload}


def build(root: Path, events: int) -> dict[str, Path]:
    """Write the record and its two replays; return their paths by role."""
    folder = root / WAL_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "record": folder / "record.jsonl",
        "wallclock": folder / "replay-wallclock.jsonl",
        "virtual": folder / "replay-virtual.jsonl",
    }
    rng = random.Random(SEED)
    changed = {events // 4, (3 * events) // 4}
    missing = events // 2
    began = time.perf_counter()
    with open(paths["record"], "wb") as record, open(paths["wallclock"], "wb") as wall, \
            open(paths["virtual"], "wb") as virtual:
        ts = 1_793_000_000_000
        replay_ts = ts + 5_000
        for number in range(1, events + 1):
            ts += rng.randint(1, 40)
            replay_ts += rng.randint(1, 40)
            event = _event(rng, number, ts)
            line = orjson.dumps(event) + b"\n"
            record.write(line)
            wall.write(orjson.dumps(dict(event, ts_ms=replay_ts)) + b"\n")
            if number in changed:
                mutated = copy.deepcopy(event)
                mutated["payload"]["status"] = 503
                virtual.write(orjson.dumps(mutated) + b"\n")
            elif number != missing:
                virtual.write(line)
    (folder / STAMP).write_text(f"{events}\n")
    size = paths["record"].stat().st_size
    print(f"build: 3 x {events:,} events, record {size / 1e6:.0f} MB ({size / events:.0f} bytes/line) "
          f"in {time.perf_counter() - began:.1f} s -> {folder}")
    return paths


def reuse_or_build(root: Path, events: int) -> dict[str, Path]:
    """The workspace in ``root``: reused when it was built for ``events`` events, else built."""
    folder = root / WAL_DIR
    stamp = folder / STAMP
    paths = {role: folder / name for role, name in (("record", "record.jsonl"), ("wallclock", "replay-wallclock.jsonl"),
                                                     ("virtual", "replay-virtual.jsonl"))}
    if stamp.is_file() and stamp.read_text().strip() == str(events) and all(p.is_file() for p in paths.values()):
        print(f"reusing {folder} ({events:,} events)")
        return paths
    return build(root, events)


# --- measuring --------------------------------------------------------------------------------




def run_once(argv: Sequence[str], cwd: Path, *, ok: tuple[int, ...] = (0,),
             env: dict[str, str] | None = None) -> tuple[float, int, bytes]:
    """Run ``argv``; return (wall seconds, peak RSS of that child in KiB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as errors:
        began = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=out, stderr=errors, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - began
        code = os.waitstatus_to_exitcode(status)
        out.seek(0)
        data = out.read()
        if code not in ok:
            errors.seek(0)
            raise SystemExit(f"benchmark: {shlex.join(argv)} exited {code}: {errors.read().decode(errors='replace')[-500:]}")
    return elapsed, usage.ru_maxrss, data


def best_of(argv: Sequence[str], cwd: Path, repeats: int, ok: tuple[int, ...] = (0,),
            env: dict[str, str] | None = None) -> tuple[float, list[float], int]:
    """One warm-up run, then ``repeats`` timed runs: (best, all times, max peak RSS KiB)."""
    run_once(argv, cwd, ok=ok, env=env)
    times, rss = [], 0
    for _ in range(repeats):
        elapsed, peak, _ = run_once(argv, cwd, ok=ok, env=env)
        times.append(elapsed)
        rss = max(rss, peak)
    return min(times), times, rss


def index_cost(root: Path) -> tuple[int, int]:
    """(lines, index bytes) of the record's offset index, built through the source."""
    from backends.local import LocalSource
    from backends.wal.index import WalIndexInfo

    async def build_index() -> WalIndexInfo:
        info = None
        async for item in LocalSource(str(root)).wal_index(f"{WAL_DIR}/record.jsonl"):
            info = item
        assert isinstance(info, WalIndexInfo)
        return info

    info = asyncio.run(build_index())
    return info.lines, info.index_bytes


async def _tui_probe(root: str) -> dict[str, Any]:
    from backends.local import LocalSource
    from backends.models import WalPair
    from tui.app import DriftdeckApp
    from tui.panes.wal import WalPane
    from tui.widgets.wal_pair_list import WalPairList

    app = DriftdeckApp(LocalSource(root), cursor_blink=False)
    first = None
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("3")
        pane = app.query_one(WalPane)
        for _ in range(int(TUI_TIMEOUT_S / 0.01)):
            if pane._pairs:
                break
            await pilot.pause(0.01)
        began = time.perf_counter()  # from opening the pair to its first lines on screen
        pane.open_pair(WalPair(RUN_ID, f"{WAL_DIR}/record.jsonl", f"{WAL_DIR}/replay-virtual.jsonl"))
        rows = app.query_one(WalPairList)
        while time.perf_counter() - began < TUI_TIMEOUT_S:
            if len(rows.record_cache) and len(rows.replay_cache):
                first = time.perf_counter() - began
                break
            await pilot.pause(0.005)
        else:
            raise SystemExit("benchmark: the WAL pane never showed its first lines")
    return {"first": first}


def measure_tui(root: Path, repeats: int) -> list[float]:
    """Time to the WAL pane's first lines, in fresh processes (one warm-up)."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--tui-probe", str(root)]
    results = []
    for attempt in range(repeats + 1):
        _, _, out = run_once(argv, REPO)
        if attempt:
            results.append(json.loads(out.decode().strip().splitlines()[-1])["first"])
    return results


# --- report -----------------------------------------------------------------------------------


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def measure(root: Path, paths: dict[str, Path], events: int, repeats: int, only: set[str] = frozenset(),
            baseline: Path | None = None) -> None:
    """Check the diffs find what they must, time ours (and a baseline checkout's) against the peer, print the table."""
    ours = driftdeck_command()
    rel = {role: str(path.relative_to(root)) for role, path in paths.items()}
    commands = {
        "wal diff, wall clock": (["wal", "diff", rel["record"], rel["wallclock"], "--source", str(root)], (0,), "both"),
        "wal diff, virtual clock": (["wal", "diff", rel["record"], rel["virtual"], "--source", str(root)], (1,), "both"),
        "wal validate": (["wal", "validate", rel["record"], "--source", str(root)], (0,), "one"),
    }
    if only:
        commands = {k: v for k, v in commands.items() if k.split(",")[0].split()[1] in only}
    bare = {"both": [sys.executable, "-c", BARE_LOOP, rel["record"], rel["wallclock"]],
            "one": [sys.executable, "-c", BARE_LOOP, rel["record"]]}
    base_env = None
    if baseline is not None:
        base_env = dict(os.environ, PYTHONPATH=str(baseline))
    for name, (args, _, _) in commands.items():
        print(f"{name}: {shlex.join([*ours, *args])}")
    print(f"peer: {shlex.join(bare['both'])}")

    # Correctness first.
    if "wal diff, wall clock" in commands:
        _, _, out = run_once([*ours, *commands["wal diff, wall clock"][0], "--json"], root)
        wall_summary = json.loads(out)["summary"]
        _, _, out = run_once([*ours, *commands["wal diff, virtual clock"][0], "--json"], root, ok=(1,))
        virtual_body = json.loads(out)
        found = [(d["kind"], d["record_line"]) for d in virtual_body["divergences"]]
        expected = [("changed", events // 4), ("missing", events // 2), ("changed", (3 * events) // 4)]
        print(f"check: wall-clock parity={wall_summary['parity']} matched={wall_summary['matched']:,}; "
              f"virtual divergences {found}; identical={virtual_body['summary']['identical']:,}")
        if not wall_summary["parity"] or found != expected:
            raise SystemExit("benchmark: a diff did not find what it must")

    print(f"timing: 1 warm-up + best of {repeats} wall clock each (page cache warm)")
    timings: dict[str, tuple[float, int]] = {}
    runs: list[tuple[str, list[str], tuple[int, ...], dict[str, str] | None]] = [
        ("bare loop, both files", bare["both"], (0,), None), ("bare loop, record", bare["one"], (0,), None)]
    for name, (args, ok, _) in commands.items():
        runs.append((name, [*ours, *args], ok, None))
        if baseline is not None:
            runs.append((f"{name} (before)", [sys.executable, "-m", "tui.cli", *args], ok, base_env))
    for name, argv, ok, env in runs:
        best, times, rss = best_of(argv, root, repeats, ok, env)
        timings[name] = (best, rss)
        print(f"  {name:<34} {', '.join(f'{t:.3f}' for t in times)} s   peak RSS {rss * 1024 / 1e6:.0f} MB")

    budgets = {"wal diff, wall clock": WALLCLOCK_BUDGET, "wal diff, virtual clock": VIRTUAL_BUDGET,
               "wal validate": VALIDATE_BUDGET}
    rows = []
    for name, (_, _, files) in commands.items():
        peer = timings["bare loop, both files" if files == "both" else "bare loop, record"][0]
        ratio = timings[name][0] / peer
        before = f"{timings[f'{name} (before)'][0] / peer:.2f}x" if baseline is not None else "-"
        rows.append((name, f"{timings[name][0]:.2f} s", f"loop {peer:.2f} s", before, f"{ratio:.2f}x",
                     f"<= {budgets[name]}x", _verdict(ratio <= budgets[name])))
    if "wal diff, wall clock" in timings:
        rss_mb = timings["wal diff, wall clock"][1] * 1024 / 1e6
        rows.append(("peak RSS, wall-clock diff", f"{rss_mb:.0f} MB", "-", "-", "-", f"< {RSS_BUDGET_MB:.0f} MB",
                     _verdict(rss_mb < RSS_BUDGET_MB)))
    if not only:
        lines, index_bytes = index_cost(root)
        per_line = index_bytes / max(1, lines)
        print(f"index: {lines:,} lines, {index_bytes / 1e6:.1f} MB = {per_line:.1f} bytes/line")
        probes = measure_tui(root, repeats)
        print(f"tui: first lines of the pair on screen: {', '.join(f'{t:.3f}' for t in probes)} s")
        first = min(probes)
        rows.append(("offset index", f"{per_line:.1f} B/line", "-", "-", "-", f"<= {INDEX_BUDGET:.0f} B/line",
                     _verdict(per_line <= INDEX_BUDGET)))
        rows.append(("TUI first screen", f"{first:.2f} s", "-", "-", "-", f"< {FIRST_SCREEN_BUDGET_S} s",
                     _verdict(first < FIRST_SCREEN_BUDGET_S)))
    head = ("operation", "ours", "peer", "before/peer", "ours/peer", "budget", "result")
    widths = [max(len(str(r[i])) for r in [head, *rows]) for i in range(len(head))]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def main(argv: list[str] | None = None) -> int:
    prepare()
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events per WAL (default 1000000)")
    parser.add_argument("--repeats", type=int, default=REPEATS, help=f"timed runs per measurement (default {REPEATS})")
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace (its path is printed)")
    parser.add_argument("--dir", type=Path, help="build the workspace here once and reuse it on later runs")
    parser.add_argument("--baseline", type=Path,
                        help="a checkout of earlier code (e.g. `git archive main`), timed as 'before' in the same run")
    parser.add_argument("--only", default="", help="comma-separated subset: diff,validate (default: everything)")
    parser.add_argument("--tui-probe", metavar="ROOT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.tui_probe:
        os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
        sys.stdout.write(json.dumps(asyncio.run(_tui_probe(args.tui_probe))) + "\n")
        return 0
    if args.events < 8:
        parser.error("need --events >= 8")
    only = {part for part in args.only.split(",") if part}
    if args.dir is not None:
        paths = reuse_or_build(args.dir.resolve(), args.events)
        measure(args.dir.resolve(), paths, args.events, max(1, args.repeats), only, args.baseline)
        return 0
    temp = Path(tempfile.mkdtemp(prefix="driftdeck-wal-bench-"))
    try:
        paths = build(temp, args.events)
        measure(temp, paths, args.events, max(1, args.repeats), only, args.baseline)
    finally:
        if args.keep:
            print(f"workspace kept: {temp}")
        else:
            shutil.rmtree(temp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
