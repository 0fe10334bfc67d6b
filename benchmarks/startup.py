"""Benchmark: what the click-free fast path (``tui.cli.fast``) buys on small trees.

``checksums verify`` and ``snapshots diff --brief`` on a plain command line are
parsed without loading click; ``DRIFTDECK_NO_FAST_PATH=1`` makes the same
command go through click. This script times both ways on the trees where
start-up weighs most, the small-tree budgets of ``checksums.py`` and
``snapshots.py``, and runs the peer of each in the same run:

* ``checksums verify`` of ``--files`` files of 4 KiB in 20 directories (default
  20,000, the ``small`` tree of ``checksums.py``) against ``sha256sum -c --quiet``
  (budget: at least 2x faster);
* ``snapshots diff A B --brief`` of two snapshots of ``--files`` // 2 small
  text files, 1 % of them changed, against ``diff -rq`` (budget: at most 1.5x).

Each command runs once to warm up, then ``--repeats`` rounds (default 10) in
which fast, click and peer alternate; the best wall-clock time of each is
printed in ms, with the difference click - fast (what the fast path buys) and
each path's ratio to the peer against its budget; then the medians, and the
best CPU time (user + system, hashing workers included), which a loaded
machine sways less than wall-clock time. The two paths must print the same thing (exit code,
stdout, stderr, timings aside), else the script stops with exit 1.

A measurement, not a test: it exits 0 whatever the numbers.

Usage::

    python benchmarks/startup.py [--files 20000] [--repeats 10] [--dir PATH] [--keep]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from checksums import write_sha256sums
from command import driftdeck_command, prepare

SEED = 17
FILE_SIZE = 4096
DIRS = 20
SNAPSHOTS = "history/snapshots"
CHECKSUMS_BUDGET = 2.0  # at least this many times faster than sha256sum -c (checksums.py, small tree)
SNAPSHOTS_BUDGET = 1.5  # at most this many times diff -rq (snapshots.py)
NO_FAST = {"DRIFTDECK_NO_FAST_PATH": "1"}


def build(root: Path, files: int) -> None:
    """The checksummed tree under ``root/sums`` and two snapshots under ``root/SNAPSHOTS``."""
    rng = random.Random(SEED)
    sums = root / "sums"
    names = []
    for d in range(DIRS):
        (sums / f"d{d:02d}").mkdir(parents=True)
    for n in range(files):
        name = f"d{n % DIRS:02d}/f{n:05d}.bin"
        (sums / name).write_bytes(rng.randbytes(FILE_SIZE))
        names.append(name)
    write_sha256sums(sums, names)
    pair = files // 2
    for side in ("a", "b"):
        for d in range(DIRS):
            (root / SNAPSHOTS / side / f"d{d:02d}").mkdir(parents=True)
    for n in range(pair):
        name = f"d{n % DIRS:02d}/t{n:05d}.txt"
        text = "".join(f"2026-12-04T16:{n % 60:02d}:00Z step {k} rows={rng.randint(0, 9999)}\n" for k in range(12))
        (root / SNAPSHOTS / "a" / name).write_text(text)
        if n % 100 == 7:  # 1 % changed
            text = text.replace("step 3", "step three")
        (root / SNAPSHOTS / "b" / name).write_text(text)


def run_once(command: list[str], cwd: Path, env: dict[str, str], codes: tuple[int, ...]) -> tuple[float, float, str, str]:
    """Wall-clock and CPU seconds (user + system, worker processes included), stdout and stderr of one run.

    Its exit code must be one of ``codes``.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode not in codes:
        sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr[:500]}")
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return elapsed, cpu, result.stdout, result.stderr


def untimed(text: str) -> str:
    """Output without the time a run took (``hashed in 0.12 s``)."""
    return re.sub(r"in \d+\.\d+ s", "in _ s", text)


def measure(name: str, ours: list[str], peer: list[str], cwd: Path, repeats: int, codes: tuple[int, ...],
            budget: str) -> None:
    """Time the fast path, the click path and the peer; print the bests and what the fast path buys."""
    fast_env = {k: v for k, v in os.environ.items() if k != "DRIFTDECK_NO_FAST_PATH"}
    click_env = {**fast_env, **NO_FAST}
    runs = {"fast": (ours, fast_env), "click": (ours, click_env), "peer": (peer, fast_env)}
    walls: dict[str, list[float]] = {key: [] for key in runs}
    cpus: dict[str, list[float]] = {key: [] for key in runs}
    outputs: dict[str, tuple[str, str]] = {}
    for attempt in range(repeats + 1):
        for key, (command, env) in runs.items():
            elapsed, cpu, out, err = run_once(command, cwd, env, codes if key != "peer" else (0, 1))
            if key != "peer":
                outputs.setdefault(key, (untimed(out), untimed(err)))
            if attempt:
                walls[key].append(elapsed * 1000)
                cpus[key].append(cpu * 1000)
    if outputs["fast"] != outputs["click"]:
        sys.exit(f"{name}: the fast path and click printed different things:\n{outputs}")
    fast, slow, other = (min(walls[k]) for k in ("fast", "click", "peer"))
    print(f"{name}: fast path {fast:.1f} ms, click {slow:.1f} ms: the fast path buys {slow - fast:.1f} ms "
          f"({(slow - fast) / slow:.0%} of the click run); peer {other:.1f} ms")
    median = {k: statistics.median(walls[k]) for k in runs}
    cpu = {k: min(cpus[k]) for k in runs}
    print(f"  medians: fast {median['fast']:.1f} ms, click {median['click']:.1f} ms (buys {median['click'] - median['fast']:.1f} ms); "
          f"CPU time, best: fast {cpu['fast']:.1f} ms, click {cpu['click']:.1f} ms (buys {cpu['click'] - cpu['fast']:.1f} ms)")
    if budget == "faster":
        print(f"  vs the peer: fast {other / fast:.2f}x faster, click {other / slow:.2f}x faster "
              f"(budget >= {CHECKSUMS_BUDGET:.1f}x)")
    else:
        print(f"  vs the peer: fast {fast / other:.2f}x, click {slow / other:.2f}x its time (budget <= {SNAPSHOTS_BUDGET:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=20_000, help="checksummed files (snapshots get half; default 20000)")
    parser.add_argument("--repeats", type=int, default=10, help="rounds after the warm-up (default 10)")
    parser.add_argument("--dir", type=Path, help="build here once and reuse it on the next run (kept)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary tree (its path is printed)")
    args = parser.parse_args()
    prepare()
    if args.dir is not None:
        root = args.dir / f"startup-{args.files}"
        if not root.is_dir():
            build(root, args.files)
    else:
        root = Path(tempfile.mkdtemp(prefix="driftdeck-startup-")) / "ws"
        started = time.perf_counter()
        build(root, args.files)
        print(f"built {args.files:,} files of 4 KiB and 2 x {args.files // 2:,} snapshot files in "
              f"{time.perf_counter() - started:.1f} s: {root}")
    driftdeck = driftdeck_command()
    try:
        measure(f"checksums verify, {args.files:,} x 4 KiB", [*driftdeck, "checksums", "verify", "SHA256SUMS", "-s", "."],
                ["sha256sum", "-c", "--quiet", "SHA256SUMS"], root / "sums", args.repeats, (0,), "faster")
        snaps = root / SNAPSHOTS
        measure(f"snapshots diff --brief, 2 x {args.files // 2:,} files, 1% changed",
                [*driftdeck, "snapshots", "diff", "a", "b", "--brief", "-s", "."],
                ["diff", "-rq", str(snaps / "a"), str(snaps / "b")], root, args.repeats, (1,), "within")
    finally:
        if args.dir is None and not args.keep:
            shutil.rmtree(root.parent)


if __name__ == "__main__":
    main()
