"""Benchmark: the same operations on the local source and over HTTP on loopback.

Starts a real ``driftdeck serve`` process on 127.0.0.1 and runs each operation
as a whole ``driftdeck`` command twice, once with ``--source DIR`` and once
with ``--source http://...``, best of 3 after a warm-up, and prints the ratio
(budget: HTTP within 1.5x of local).

Operations: listing every run of a 100,000-run workspace (``quarantine list
--state all --json``); more rows are added as engines gain HTTP routes.

Usage::

    python benchmarks/http.py [--runs 100000] [--dir PATH]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import quarantine as workspace  # noqa: E402  (the 100k-run builder lives there)

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


def timed(argv: list[str], repeats: int = 3) -> tuple[float, int]:
    """Best wall-clock seconds of ``argv`` (after one warm-up) and its output size."""
    env = {**os.environ, "DRIFTDECK_TOKEN": TOKEN}
    size = len(subprocess.run(argv, capture_output=True, check=True, env=env).stdout)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, check=True, env=env)
        best = min(best, time.perf_counter() - start)
    return best, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=None, help="Workspace directory (built if empty).")
    args = parser.parse_args()
    base = args.dir or Path(tempfile.mkdtemp(prefix="driftdeck-http-"))
    ws = base / "ws"
    if not (ws / "runs").is_dir():
        print(f"building {args.runs:,} runs in {ws} ...", flush=True)
        workspace.build_workspace(ws, args.runs, max(1, args.runs // 50))
    server, url = start_server(ws)
    rows = []
    try:
        command = [*workspace.driftdeck_command(), "quarantine", "list", "--state", "all", "--json", "--source"]
        local, local_size = timed([*command, str(ws)])
        remote, remote_size = timed([*command, url])
        if local_size != remote_size:
            raise SystemExit(f"outputs differ: local {local_size} bytes, http {remote_size} bytes")
        rows.append((f"list {args.runs:,} runs (quarantine list --state all --json)", local, remote))
    finally:
        server.terminate()
        server.wait(timeout=10)
    print(f"{'operation':<58} {'local':>8} {'http':>8} {'ratio':>7}  budget")
    for name, local, remote in rows:
        ratio = remote / local
        verdict = "PASS" if ratio <= BUDGET else "FAIL"
        print(f"{name:<58} {local:>7.2f}s {remote:>7.2f}s {ratio:>6.2f}x  <= {BUDGET}x {verdict}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
