"""Benchmark: ``driftdeck checksums verify`` against ``sha256sum -c`` (whole commands).

Builds two trees in a temporary directory (or once in ``--dir``, reused by
later runs: a marker file in each tree holds its parameters), each with a GNU
manifest written by the real ``sha256sum``:

* ``big``: 1 GiB in 64 files of 16 MiB (budget: at least 8x faster than the peer);
* ``small``: ``--small-files`` (default 200,000) files of 4 KiB in 20 directories
  (budget: at least 3.3x faster; a plain two-process hashlib loop is the floor).

For each, both commands run on the same tree in the same run, warm cache (one
warm-up round), alternating, best of ``--repeats`` wall clock each (default: 3 rounds
for ``big``, 15 for ``small``, whose runs last a tenth of a second and so
are swayed by the machine's slow spells more than a second-long run is),
process start included: our
command is the ``driftdeck`` console script next to this interpreter. The page
cache is warm for both (the warm-up round reads every file; nothing is dropped).
Each run's user+sys CPU time is printed beside its wall clock (both cores busy:
CPU about 2x wall clock), and the load average before each tree. Both must
report every entry OK (exit 0), else the script stops with exit 1. It prints
each ratio (peer time / our time) with its budget, and for ``small`` the time
of ``plain_hash_loop.py``, the least a Python program can do there. A measurement, not a test:
it exits 0 whatever the numbers.

Usage::

    python benchmarks/checksums.py [--repeats N] [--only big|small] [--keep] [--dir PATH] [--small-files N]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from command import driftdeck_command, prepare

BIG_FILES, BIG_SIZE = 64, 16 << 20
SMALL_FILES, SMALL_SIZE, SMALL_DIRS = 200_000, 4096, 20
BUDGETS = {"big": 8.0, "small": 3.3}
REPEATS = {"big": 3, "small": 3}
MARKER = ".built"
"""Suffix of the file beside a finished tree holding its parameters (a tree without one is rebuilt);
beside, not in it: verify would report it as new."""
PLAIN_LOOP = Path(__file__).resolve().parent / "plain_hash_loop.py"




def build(root: Path, kind: str, small_files: int) -> None:
    """Write the tree and its manifest (by ``sha256sum``) under ``root``."""
    root.mkdir(parents=True)
    names: list[str] = []
    if kind == "big":
        block = os.urandom(1 << 20)
        for n in range(BIG_FILES):
            name = f"part-{n:03d}.bin"
            with open(root / name, "wb") as out:
                for k in range(BIG_SIZE >> 20):
                    out.write(block[k:] + block[:k])  # distinct content per MiB without 1 GiB of urandom
                out.write(n.to_bytes(8, "little"))
            names.append(name)
    else:
        for d in range(SMALL_DIRS):
            (root / f"d{d:02d}").mkdir()
        for n in range(small_files):
            name = f"d{n % SMALL_DIRS:02d}/f{n:05d}.bin"
            (root / name).write_bytes(os.urandom(SMALL_SIZE))
            names.append(name)
    write_sha256sums(root, names)


def write_sha256sums(root: Path, names: list[str]) -> None:
    """``root/SHA256SUMS`` for ``names`` (relative to ``root``), written by ``sha256sum`` itself, 2,000 at a time."""
    with open(root / "SHA256SUMS", "wb") as manifest:
        for start in range(0, len(names), 2000):
            manifest.write(subprocess.run(["sha256sum", "--", *names[start:start + 2000]], cwd=root,
                                          capture_output=True, check=True).stdout)


def parameters(kind: str, small_files: int) -> str:
    """What a tree of ``kind`` is built from, as its marker records it."""
    if kind == "big":
        return f"big {BIG_FILES} x {BIG_SIZE}\n"
    return f"small {small_files} x {SMALL_SIZE} in {SMALL_DIRS}\n"


def ensure(root: Path, kind: str, small_files: int, reuse: bool) -> str:
    """Build the tree under ``root`` unless ``reuse`` and its marker shows it already built alike."""
    wanted = parameters(kind, small_files)
    marker = root.with_name(root.name + MARKER)
    if reuse and marker.is_file() and marker.read_text() == wanted:
        return "reused"
    marker.unlink(missing_ok=True)
    if root.exists():
        shutil.rmtree(root)
    build(root, kind, small_files)
    os.sync()  # measure reads from a warm cache, not against the write-back of the tree just built
    if reuse:
        marker.write_text(wanted)
    return "built"


def run_once(command: list[str], cwd: Path) -> tuple[float, float]:
    """Wall-clock and user+sys CPU seconds of one run; the command must exit 0."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} exited {result.returncode}: {result.stderr.decode(errors='replace')[:500]}")
    return elapsed, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def timings(commands: list[list[str]], cwd: Path, repeats: int) -> list[list[tuple[float, float]]]:
    """(wall, CPU) seconds of each command in each of ``repeats`` rounds after a warm-up round.

    The commands alternate within each round, so a slow spell of the
    machine weighs on all alike rather than on whichever ran during it.
    """
    times: list[list[tuple[float, float]]] = [[] for _ in commands]
    for attempt in range(repeats + 1):
        for command, spent in zip(commands, times, strict=True):
            measured = run_once(command, cwd)
            if attempt:
                spent.append(measured)
    return times


def show(name: str, runs: list[tuple[float, float]]) -> None:
    """One line: every run's wall clock, and its CPU time as a multiple of it."""
    print(f"  {name:<28} " + ", ".join(f"{wall:.3f} s ({cpu / wall:.2f}x cpu)" for wall, cpu in runs))


def main() -> None:
    prepare()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, help="rounds per tree (default: 3)")
    parser.add_argument("--only", choices=("big", "small"))
    parser.add_argument("--keep", action="store_true", help="keep the temporary trees")
    parser.add_argument("--dir", type=Path, help="build the trees here once and reuse them on later runs")
    parser.add_argument("--small-files", type=int, default=SMALL_FILES, help=f"files of the small tree (default {SMALL_FILES:,})")
    args = parser.parse_args()
    if args.dir is not None:
        args.dir.mkdir(parents=True, exist_ok=True)
    tmp = args.dir.resolve() if args.dir is not None else Path(tempfile.mkdtemp(prefix="driftdeck-bench-checksums-"))
    try:
        print(f"cores: {len(os.sched_getaffinity(0))}, {subprocess.run(['sha256sum', '--version'], capture_output=True, text=True).stdout.splitlines()[0]}")
        for kind in ("big", "small"):
            if args.only and kind != args.only:
                continue
            root = tmp / kind
            started = time.perf_counter()
            how = ensure(root, kind, args.small_files, reuse=args.dir is not None)
            label = "1 GiB in 64 files" if kind == "big" else f"{args.small_files:,} files of 4 KiB"
            print(f"{kind}: {label}, {how} in {time.perf_counter() - started:.1f} s; "
                  f"load {os.getloadavg()[0]:.2f} (1 min average)")
            commands = [["sha256sum", "-c", "--quiet", "SHA256SUMS"],
                        [*driftdeck_command(), "checksums", "verify", "SHA256SUMS", "--source", str(root)]]
            if kind == "small":  # where start-up and per-file costs decide: how close to the floor
                commands.append([sys.executable, str(PLAIN_LOOP)])
            peer_runs, our_runs, *plain_runs = timings(commands, root, args.repeats or REPEATS[kind])
            show("sha256sum -c:", peer_runs)
            show("driftdeck checksums verify:", our_runs)
            for runs in plain_runs:
                show("plain_hash_loop.py:", runs)
            peer_times, our_times = [w for w, _ in peer_runs], [w for w, _ in our_runs]
            plain_times = [[w for w, _ in runs] for runs in plain_runs]
            peer, ours = min(peer_times), min(our_times)
            ratio = peer / ours
            budget = BUDGETS[kind]
            verdict = "within budget" if ratio >= budget else "OVER BUDGET"
            print(f"{kind}: sha256sum -c {peer:.3f} s, driftdeck checksums verify {ours:.3f} s: "
                  f"{ratio:.2f}x faster (budget >= {budget:.1f}x) {verdict}")
            peer_median, our_median = statistics.median(peer_times), statistics.median(our_times)
            print(f"{kind}: medians of the {len(our_times)} rounds: {peer_median:.3f} s and {our_median:.3f} s, "
                  f"{peer_median / our_median:.2f}x")
            if plain_times:
                plain = min(plain_times[0])
                print(f"{kind}: floor, a plain {len(os.sched_getaffinity(0))}-process hashlib loop (plain_hash_loop.py: "
                      f"no parsing, categories or scope scan) {plain:.3f} s, {peer / plain:.2f}x sha256sum; "
                      f"driftdeck takes {ours / plain:.2f}x its time")
            if not args.keep and args.dir is None:
                shutil.rmtree(root)  # the next tree gets the page cache to itself
    finally:
        if args.keep or args.dir is not None:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
