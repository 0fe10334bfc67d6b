"""Benchmark: the same operations on the local source and over HTTP on loopback.

Starts a real ``driftdeck serve`` process on 127.0.0.1 and runs each operation
as a whole ``driftdeck`` command twice, once with ``--source DIR`` and once
with ``--source http://...``, best of 3 after a warm-up, and prints the ratio
(budget: HTTP within 1.5x of local).

Operations, each a whole command, local vs HTTP:

* listing every run of a 100,000-run workspace (``quarantine list --state all --json``);
* verifying a 1 GiB manifest (64 files, ``checksums verify``);
* diffing two 1,000,000-event WALs (``wal diff``, a wall-clock replay);
* live events over Server-Sent Events: write-to-receipt latency p95 at 1,000
  files/s through ``HttpSource.watch`` (budget 150 ms).

Usage::

    python benchmarks/http.py [--runs 100000] [--events 1000000] [--dir PATH] [--only NAME ...]
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named like the standard library's ``http`` package: keep its
# folder off the import path so that ``import httpx`` finds the real one.
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import threading  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

sys.path.insert(0, str(HERE.parent))


def _sibling(name: str):  # type: ignore[no-untyped-def]
    """Load another benchmark script as a module (its data builder is reused)."""
    spec = importlib.util.spec_from_file_location(f"bench_{name}", HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


checksum_bench = _sibling("checksums")  # the 1 GiB tree builder
workspace = _sibling("quarantine")  # the 100k-run builder
wal_bench = _sibling("wal")  # the 1M-event WAL builder

BUDGET = 1.5
TOKEN = "bench-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """``driftdeck serve ROOT`` in its own process; returns it and its URL once healthy."""
    port = free_port()
    env = {**os.environ, "BENCH_TOKEN": TOKEN}
    process = subprocess.Popen(
        [*workspace.driftdeck_command(), "serve", str(root), "--port", str(port), "--token-env", "BENCH_TOKEN"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                return process, url
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise SystemExit("driftdeck serve did not come up")


def timed(argv: list[str], repeats: int = 3, ok: tuple[int, ...] = (0,)) -> tuple[float, int]:
    """Best wall-clock seconds of ``argv`` (after one warm-up) and its output size."""
    env = {**os.environ, "DRIFTDECK_TOKEN": TOKEN}
    warm = subprocess.run(argv, capture_output=True, env=env)
    if warm.returncode not in ok:
        raise SystemExit(f"{' '.join(argv)}: exit {warm.returncode}: {warm.stderr.decode(errors='replace')[-500:]}")
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, env=env)
        best = min(best, time.perf_counter() - start)
    return best, len(warm.stdout)


def compare(name: str, args: list[str], ws: Path, url: str, ok: tuple[int, ...] = (0,)) -> tuple[str, float, float]:
    """Time one subcommand with ``--source DIR`` and with ``--source URL``; outputs must agree."""
    command = [*workspace.driftdeck_command(), *args, "--source"]
    local, local_size = timed([*command, str(ws)], ok=ok)
    remote, remote_size = timed([*command, url], ok=ok)
    if local_size != remote_size:
        raise SystemExit(f"{name}: outputs differ: local {local_size} bytes, http {remote_size} bytes")
    return name, local, remote


async def sse_latency(url: str, ws: Path, rate: int = 1000, seconds: float = 5.0) -> tuple[float, float, int, int]:
    """Write ``rate`` files/s under ``ws/live-bench`` and time each until it arrives over SSE."""
    from backends.events.model import WatchFilter
    from backends.http.client import HttpSource

    folder = ws / "live-bench"
    folder.mkdir(exist_ok=True)
    written: dict[str, float] = {}
    latencies: list[float] = []
    total = int(rate * seconds)
    source = HttpSource(url, token=TOKEN)
    stream = source.watch("live-bench", WatchFilter(types=frozenset({"created"})))

    def writer() -> None:
        time.sleep(1.0)
        start = time.perf_counter()
        for n in range(total):
            name = f"live-bench/e{n:06d}"
            written[name] = time.perf_counter()
            with open(ws / name, "wb"):
                pass
            delay = start + (n + 1) / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    try:
        async with asyncio.timeout(seconds + 30):
            async for batch in stream:
                now = time.perf_counter()
                for event in batch:
                    if event.type == "created" and event.path in written:
                        latencies.append(now - written[event.path])
                if len(latencies) >= total:
                    break
    except TimeoutError:
        pass
    finally:
        await stream.aclose()
        thread.join()
    latencies.sort()
    p95 = latencies[int(len(latencies) * 0.95) - 1] if latencies else float("inf")
    return p95 * 1000, statistics.median(latencies) * 1000 if latencies else float("inf"), len(latencies), total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None, help="Workspace directory (built if empty).")
    parser.add_argument("--only", nargs="*", default=["runs", "checksums", "wal", "sse"])
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="driftdeck-http-"))
    ws = base / "ws"
    if "runs" in args.only and not (ws / "runs").is_dir():
        print(f"building {args.runs:,} runs in {ws} ...", flush=True)
        workspace.build_workspace(ws, args.runs, max(1, args.runs // 50))
    ws.mkdir(parents=True, exist_ok=True)
    if "checksums" in args.only and not (ws / "big" / "SHA256SUMS").exists():
        print("building 1 GiB in 64 files ...", flush=True)
        checksum_bench.build(ws / "big", "big")
    if "wal" in args.only and not (ws / wal_bench.WAL_DIR / "record.jsonl").exists():
        wal_bench.build(ws, args.events)
    server, url = start_server(ws)
    rows = []
    latency = None
    try:
        if "runs" in args.only:
            rows.append(compare(f"list {args.runs:,} runs", ["quarantine", "list", "--state", "all", "--json"], ws, url))
        if "checksums" in args.only:
            rows.append(compare("verify a 1 GiB manifest", ["checksums", "verify", "big/SHA256SUMS", "--json"], ws, url))
        if "wal" in args.only:
            folder = wal_bench.WAL_DIR
            rows.append(compare(
                f"diff two {args.events:,}-event WALs",
                ["wal", "diff", f"{folder}/record.jsonl", f"{folder}/replay-wallclock.jsonl", "--json"], ws, url, ok=(0, 1),
            ))
        if "sse" in args.only:
            latency = asyncio.run(sse_latency(url, ws))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"{'operation (whole command, best of 3)':<40} {'local':>8} {'http':>8} {'ratio':>7}  budget")
    for name, local, remote in rows:
        ratio = remote / local
        verdict = "PASS" if ratio <= BUDGET else "FAIL"
        print(f"{name:<40} {local:>7.2f}s {remote:>7.2f}s {ratio:>6.2f}x  <= {BUDGET}x {verdict}")
    if latency is not None:
        p95, p50, got, total = latency
        verdict = "PASS" if p95 < 150 and got == total else "FAIL"
        print(f"{'SSE live events at 1,000/s':<40} p95 {p95:.1f} ms, p50 {p50:.1f} ms, {got:,}/{total:,} received  < 150 ms {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
