"""Measure how ``driftdeck serve`` holds up against hostile or careless clients.

A measurement, not a test: it prints one line per figure and exits 0 unless
the script itself breaks. It builds its own workspace in a temporary
directory, starts ``driftdeck serve WS --port P --token-env VAR`` (127.0.0.1,
a free port, a 24-character token) as a subprocess, and measures, each on a
freshly started server:

1. ``regex``: ``/api/v1/snapshots/entry`` with the rule ``ignore_lines:
   ["(.+)+Z"]`` on a file whose second line is 28 ``a`` (catastrophic
   backtracking for a backtracking engine), while a second client asks
   ``/api/v1/describe`` every 0.5 s: the entry's time (capped at 30 s) and
   the longest describe wait. A server still stuck afterwards is SIGKILLed.
2. ``fifo``: 12 concurrent ``/api/v1/files/range`` reads of a FIFO (5 s client
   timeout): how many answered and in how long; then the latency of
   ``describe`` and of a range read of a normal file (capped at 10 s).
3. ``bytes``: ``/api/v1/wal/lines`` over 48 lines of ~1 MiB each with
   ``max_chars=1048576``: body bytes, time, and the server's peak RSS
   (``VmHWM``) before and after.
4. ``watch``: 100 SSE subscribers to ``/api/v1/events/watch``, each with its
   own ``WatchFilter`` (differing only in ``include``): how many got 200, the
   server's threads and RSS once connected, then one file per subscriber's
   glob and the creation-to-receipt latency p50/p95 (overall cap 60 s).
   Twice: ``watch`` opens all 100 at once (a burst), ``watch-paced`` opens
   each once the previous one has its answer (uvicorn's concurrency limit
   counts open connections, so a burst can be refused whole).

Usage::

    python benchmarks/serve_attacks.py [--driftdeck PATH] [--only regex fifo bytes watch watch-paced] [--keep]

``--driftdeck`` picks the console script to measure (default: the one next
to this interpreter), so one copy of the script measures any installed tree.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Keep this folder off the import path (``benchmarks/http.py`` shadows the
# standard library's ``http`` package, which httpx imports).
HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]

import argparse  # noqa: E402
import asyncio  # noqa: E402
import concurrent.futures  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import secrets  # noqa: E402
import signal  # noqa: E402
import socket  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402

import httpx  # noqa: E402

TOKEN_VAR = "DRIFTDECK_BENCH_TOKEN"
TOKEN = secrets.token_hex(12)  # 24 characters
AUTH = {"Authorization": f"Bearer {TOKEN}"}
REGEX_CAP = 30.0
FIFO_CLIENTS = 12
FIFO_TIMEOUT = 5.0
LATENCY_CAP = 10.0
WAL_LINES = 48
MIB = 1 << 20
SUBSCRIBERS = 100
WATCH_CAP = 60.0


def say(label: str, value: str) -> None:
    print(f"{label}: {value}", flush=True)


def proc_status(pid: int) -> dict[str, str]:
    """``/proc/PID/status`` as a dict (empty once the process is gone)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    return {k: v.strip() for k, _, v in (line.partition(":") for line in text.splitlines())}


def kib_as_mb(value: str | None) -> str:
    if not value:
        return "n/a"
    return f"{int(value.split()[0]) / 1024:.0f} MB"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """One ``driftdeck serve`` subprocess."""

    def __init__(self, driftdeck: str, root: Path, log: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(log, "ab")
        env = {**os.environ, TOKEN_VAR: TOKEN}
        self.process = subprocess.Popen(
            [driftdeck, "serve", str(root), "--port", str(self.port), "--token-env", TOKEN_VAR],
            stdout=self.log, stderr=self.log, env=env, cwd=root.parent,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"driftdeck serve exited with {self.process.returncode}; see {log}")
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise SystemExit(f"driftdeck serve did not come up; see {log}")

    @property
    def pid(self) -> int:
        return self.process.pid

    def healthy(self, timeout: float = 2.0) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, grace: float = 5.0) -> str:
        """SIGTERM, then SIGKILL after ``grace`` s; says which it took."""
        how = "exited"
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(grace)
                how = "stopped by SIGTERM"
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
                how = "SIGKILLed (did not stop on SIGTERM)"
        self.log.close()
        return how

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.log.close()


def build_workspace(ws: Path) -> None:
    """Everything the four measurements read."""
    for name, first in (("a", "alpha"), ("b", "beta")):
        folder = ws / "history" / "snapshots" / name
        folder.mkdir(parents=True)
        (folder / "x.txt").write_text(f"{first}\n{'a' * 28}\nend\n")
    os.mkfifo(ws / "pipe")
    (ws / "data.txt").write_bytes(b"0123456789" * 100)
    wal = ws / "runs" / "r1" / "wal"
    wal.mkdir(parents=True)
    with open(wal / "record.jsonl", "wb") as out:
        for n in range(WAL_LINES):
            out.write(json.dumps({"seq": n + 1, "type": "event", "payload": "x" * MIB}).encode() + b"\n")
    (ws / "watch").mkdir()


def describe_wait(client: httpx.Client, url: str, timeout: float) -> tuple[float, str]:
    start = time.perf_counter()
    try:
        status = str(client.get(f"{url}/api/v1/describe", headers=AUTH, timeout=timeout).status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    return time.perf_counter() - start, status


def measure_regex(server: Server) -> None:
    rules = {"t": "backends.snapshots.models:SnapshotRules", "d": {"ignore_lines": ["(.+)+Z"]}}
    params = {"a": "a", "b": "b", "path": "x.txt", "rules": json.dumps(rules)}
    stop = threading.Event()
    waits: list[float] = []
    inflight: list[float | None] = [None]

    def poller() -> None:
        with httpx.Client() as client:
            while not stop.is_set():
                inflight[0] = time.perf_counter()
                wait, _ = describe_wait(client, server.url, REGEX_CAP + 10)
                inflight[0] = None
                waits.append(wait)
                stop.wait(0.5)

    thread = threading.Thread(target=poller, daemon=True)
    thread.start()
    time.sleep(0.2)
    start = time.perf_counter()
    try:
        response = httpx.get(f"{server.url}/api/v1/snapshots/entry", params=params, headers=AUTH,
                             timeout=httpx.Timeout(REGEX_CAP, connect=5))
        elapsed = time.perf_counter() - start
        outcome = f"{elapsed:.2f} s (HTTP {response.status_code}: {response.text[:120]!r})"
    except httpx.TimeoutException:
        outcome = f">{REGEX_CAP:.0f} s (client timeout)"
    except httpx.HTTPError as exc:
        outcome = f"failed after {time.perf_counter() - start:.2f} s: {type(exc).__name__}"
    stop.set()
    started = inflight[0]
    longest = max(waits, default=0.0)
    still = ""
    if started is not None and time.perf_counter() - started > longest:
        longest = time.perf_counter() - started
        still = " (still waiting)"
    say("regex: snapshots/entry with (.+)+Z", outcome)
    say("regex: longest describe wait meanwhile", f"{longest:.2f} s{still} over {len(waits)} answered requests")
    if not server.healthy():
        server.kill()
        say("regex: server afterwards", "stuck: SIGKILLed")
    else:
        say("regex: server afterwards", "healthy")
    thread.join(5)


def measure_fifo(server: Server) -> None:
    url = f"{server.url}/api/v1/files/range"

    def one(_: int) -> tuple[str, float]:
        start = time.perf_counter()
        try:
            r = httpx.get(url, params={"path": "pipe", "offset": 0, "length": 10}, headers=AUTH, timeout=FIFO_TIMEOUT)
            return str(r.status_code), time.perf_counter() - start
        except httpx.HTTPError as exc:
            return type(exc).__name__, time.perf_counter() - start

    start = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(FIFO_CLIENTS) as pool:
        results = list(pool.map(one, range(FIFO_CLIENTS)))
    total = time.perf_counter() - start
    answered = [t for status, t in results if status.isdigit()]
    statuses = sorted({status for status, _ in results})
    say("fifo: range reads of a FIFO answered",
        f"{len(answered)}/{FIFO_CLIENTS} in {total:.2f} s (slowest answer {f'{max(answered):.2f} s' if answered else 'n/a'}; "
        f"outcomes {', '.join(statuses)})")
    with httpx.Client() as client:
        wait, status = describe_wait(client, server.url, LATENCY_CAP)
        say("fifo: describe afterwards", f"{wait * 1000:.0f} ms (HTTP {status})" if status.isdigit() else f">{LATENCY_CAP:.0f} s ({status})")
        start = time.perf_counter()
        try:
            r = client.get(url, params={"path": "data.txt", "offset": 0, "length": 10}, headers=AUTH, timeout=LATENCY_CAP)
            say("fifo: range of a normal file afterwards", f"{(time.perf_counter() - start) * 1000:.0f} ms (HTTP {r.status_code})")
        except httpx.HTTPError as exc:
            say("fifo: range of a normal file afterwards", f">{LATENCY_CAP:.0f} s ({type(exc).__name__})")


def measure_bytes(server: Server) -> None:
    with httpx.Client() as client:
        client.get(f"{server.url}/api/v1/describe", headers=AUTH, timeout=10)
        before = proc_status(server.pid).get("VmHWM")
        params = {"path": "runs/r1/wal/record.jsonl", "start": 1, "count": WAL_LINES, "max_chars": MIB}
        start = time.perf_counter()
        try:
            r = client.get(f"{server.url}/api/v1/wal/lines", params=params, headers=AUTH, timeout=httpx.Timeout(120, connect=5))
            outcome = f"{len(r.content):,} bytes in {time.perf_counter() - start:.2f} s (HTTP {r.status_code})"
            if r.status_code != 200:
                outcome += f": {r.text[:160]!r}"
        except httpx.HTTPError as exc:
            outcome = f"failed after {time.perf_counter() - start:.2f} s: {type(exc).__name__}"
    after = proc_status(server.pid).get("VmHWM")
    say("bytes: wal/lines 48 x 1 MiB, max_chars=1 MiB", outcome)
    say("bytes: server peak RSS (VmHWM) before -> after", f"{kib_as_mb(before)} -> {kib_as_mb(after)}")


async def watch_phase(server: Server, ws: Path, paced: bool) -> None:
    mode = "watch (paced)" if paced else "watch (burst)"
    stamp = "p" if paced else "b"
    names = [f"f{i:03d}_{stamp}.txt" for i in range(SUBSCRIBERS)]
    status: list[str | None] = [None] * SUBSCRIBERS
    received: list[float | None] = [None] * SUBSCRIBERS
    created: dict[int, float] = {}
    connected = asyncio.Semaphore(0)
    limits = httpx.Limits(max_connections=SUBSCRIBERS + 10, max_keepalive_connections=0)
    phase_start = time.perf_counter()

    async def subscriber(client: httpx.AsyncClient, i: int) -> None:
        filters = {"t": "backends.events.model:WatchFilter", "d": {"include": [f"f{i:03d}_*"]}}
        params = {"path": "watch", "filters": json.dumps(filters)}
        reported = False
        try:
            async with client.stream("GET", f"{server.url}/api/v1/events/watch", params=params, headers=AUTH,
                                     timeout=httpx.Timeout(20, read=WATCH_CAP + 5)) as r:
                status[i] = str(r.status_code)
                connected.release()
                reported = True
                if r.status_code != 200:
                    await r.aread()
                    return
                async for line in r.aiter_lines():
                    if line.startswith("data:") and names[i] in line:
                        received[i] = time.perf_counter()
                        return
        except (httpx.HTTPError, OSError) as exc:
            if status[i] is None:
                status[i] = type(exc).__name__
        finally:
            if not reported:
                connected.release()

    def create_files() -> None:
        for i, name in enumerate(names):
            created[i] = time.perf_counter()
            with open(ws / "watch" / name, "wb") as out:
                out.write(b"x")

    async with httpx.AsyncClient(limits=limits) as client:
        tasks: list[asyncio.Task[None]] = []
        try:
            async def all_connected() -> None:
                for i in range(SUBSCRIBERS):
                    tasks.append(asyncio.create_task(subscriber(client, i)))
                    if paced:  # the next one connects once this one has its answer
                        await connected.acquire()
                if not paced:
                    for _ in range(SUBSCRIBERS):
                        await connected.acquire()

            try:
                await asyncio.wait_for(all_connected(), timeout=30)
            except asyncio.TimeoutError:
                pass
            connect_time = time.perf_counter() - phase_start
            ok = [i for i in range(SUBSCRIBERS) if status[i] == "200"]
            outcomes: dict[str, int] = {}
            for s in status:
                outcomes[s or "no answer in 30 s"] = outcomes.get(s or "no answer in 30 s", 0) + 1
            say(f"{mode}: subscribers with HTTP 200",
                f"{len(ok)}/{SUBSCRIBERS} after {connect_time:.2f} s ({', '.join(f'{k} x{v}' for k, v in sorted(outcomes.items()))})")
            await asyncio.sleep(1.0)  # let the watches settle
            st = proc_status(server.pid)
            say(f"{mode}: server threads, RSS with all connected", f"{st.get('Threads', 'n/a')} threads, {kib_as_mb(st.get('VmRSS'))}")
            if not ok:
                say(f"{mode}: delivery latency", "no subscriber connected")
                return
            await asyncio.to_thread(create_files)
            waiting = [tasks[i] for i in ok]
            remaining = WATCH_CAP - (time.perf_counter() - phase_start)
            if remaining > 0:
                await asyncio.wait(waiting, timeout=remaining)
            latencies = sorted(received[i] - created[i] for i in ok if received[i] is not None and i in created)  # type: ignore[operator]
            missing = len(ok) - len(latencies)
            if latencies:
                p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies)))]
                say(f"{mode}: delivery latency p50 / p95",
                    f"{statistics.median(latencies) * 1000:.0f} ms / {p95 * 1000:.0f} ms "
                    f"({len(latencies)} delivered, {missing} not within the {WATCH_CAP:.0f} s cap)")
            else:
                say(f"{mode}: delivery latency", f"nothing delivered within the {WATCH_CAP:.0f} s cap")
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)


def measure_watch(server: Server, ws: Path, paced: bool) -> None:
    asyncio.run(watch_phase(server, ws, paced))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--driftdeck", default=str(Path(sys.executable).with_name("driftdeck")),
                        help="console script to measure (default: the one next to this interpreter)")
    parser.add_argument("--only", nargs="+", choices=("regex", "fifo", "bytes", "watch", "watch-paced"),
                        default=["regex", "fifo", "bytes", "watch", "watch-paced"])
    parser.add_argument("--keep", action="store_true", help="keep the temporary workspace and server log")
    args = parser.parse_args()
    driftdeck = str(Path(args.driftdeck).absolute())
    if not os.access(driftdeck, os.X_OK):
        raise SystemExit(f"{driftdeck}: not an executable")
    tmp = Path(tempfile.mkdtemp(prefix="driftdeck-serve-attacks-"))
    ws = tmp / "ws"
    ws.mkdir()
    log = tmp / "serve.log"
    say("measuring", driftdeck)
    start = time.perf_counter()
    build_workspace(ws)
    say("workspace", f"built in {time.perf_counter() - start:.1f} s")
    steps = {
        "regex": lambda s: measure_regex(s),
        "fifo": lambda s: measure_fifo(s),
        "bytes": lambda s: measure_bytes(s),
        "watch": lambda s: measure_watch(s, ws, paced=False),
        "watch-paced": lambda s: measure_watch(s, ws, paced=True),
    }
    try:
        for name in args.only:
            server = Server(driftdeck, ws, log)
            try:
                steps[name](server)
            finally:
                how = server.stop()
                if how.startswith("SIGKILL"):
                    say(f"{name}: server shutdown", how)
    finally:
        if args.keep:
            say("kept", str(tmp))
        else:
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
