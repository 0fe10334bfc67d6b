"""Measurement: the HTTP client against hostile servers (memory and time to the error).

Each case starts a hostile server on 127.0.0.1 (``tests/contract/hostile.py``)
and runs a fresh client process (``HttpSource`` with its default limits)
against it; the client's peak RSS comes from ``os.wait4`` and the time is
from the call to its error. The client process runs under an address-space
limit (``--max-memory``, default 6 GiB) so that an unbounded client fails
with MemoryError instead of taking the machine down; the hostile servers stop
by themselves after ``--line-bytes`` (the endless line) so that an unbounded
client eventually returns too.

Cases:

* ``endless-line``: ``iter_runs`` on an NDJSON stream whose first line never ends;
* ``gzip-bomb``: ``describe`` on a ``Content-Encoding: gzip`` body of ``--bomb-bytes`` zeros;
* ``gzip-bomb-stream``: ``iter_runs`` on the same bomb sent as NDJSON;
* ``item-then-eof``: ``iter_runs`` on a stream that sends one item and ends, on every connection;
* ``drip``: ``describe`` on a body sent one byte every 0.5 s;
* ``silent-sse``: ``watch`` on an event stream that never sends a byte: how long
  the client's state says ``connected`` during ``--watch-seconds``.

Usage::

    python benchmarks/hostile.py [--only CASE ...] [--bomb-bytes N] [--line-bytes N] [--give-up SECONDS]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backends.http import wire  # noqa: E402
from tests.contract import hostile  # noqa: E402

CLIENT = r"""
import asyncio, sys, time
from backends.http.client import HttpSource

async def main(url, case, watch_seconds):
    source = HttpSource(url)
    start = time.monotonic()
    try:
        if case in ("gzip-bomb", "drip"):
            await source.describe()
        elif case == "silent-sse":
            connected = 0.0
            async def pull():
                async for _ in source.watch(""):
                    pass
            task = asyncio.ensure_future(pull())
            while time.monotonic() - start < watch_seconds:
                await asyncio.sleep(0.1)
                connected += 0.1 if source.state == "connected" else 0.0
            task.cancel()
            print(f"state 'connected' for {connected:.1f} s of {watch_seconds:.0f} s; last state: {source.state}")
            return
        else:
            async for _ in source.iter_runs():
                pass
        print("no error")
    except BaseException as exc:
        print(f"{type(exc).__name__}: {str(exc)[:160]}")
    finally:
        print(f"after {time.monotonic() - start:.2f} s")

asyncio.run(main(sys.argv[1], sys.argv[2], float(sys.argv[3])))
"""


def scripts(args: argparse.Namespace) -> dict[str, hostile.Script]:
    return {
        "endless-line": hostile.endless_line(limit=args.line_bytes),
        "gzip-bomb": hostile.gzip_bomb(args.bomb_bytes),
        "gzip-bomb-stream": hostile.gzip_bomb(args.bomb_bytes, "application/x-ndjson"),
        "item-then-eof": hostile.item_then_eof(wire.dumps([])),
        "drip": hostile.drip(0.5),
        "silent-sse": hostile.silent_sse(),
    }


def measure(case: str, script: hostile.Script, args: argparse.Namespace) -> None:
    limit = args.max_memory

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with hostile.HostileServer(script) as server:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-c", CLIENT, server.url, case, str(args.watch_seconds)],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, preexec_fn=cap,
        )
        deadline = started + args.give_up
        while time.monotonic() < deadline:
            pid, _, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
        else:
            process.kill()
            _, _, usage = os.wait4(process.pid, 0)
        wall = time.monotonic() - started
        output = process.stdout.read().decode(errors="replace").strip().splitlines() if process.stdout else []
        gave_up = wall >= args.give_up
        verdict = f"still running after {args.give_up:.0f} s (killed)" if gave_up else " / ".join(output[-3:])
        print(f"{case:17} peak RSS {usage.ru_maxrss / 1024:8.0f} MiB · {server.connections:3} connections · "
              f"{server.sent / (1 << 20):8.1f} MiB sent · {wall:6.1f} s · {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--bomb-bytes", type=int, default=1 << 30, help="zeros in the gzip bomb (1 GiB ~ 1 MiB compressed)")
    parser.add_argument("--line-bytes", type=int, default=1 << 30, help="bytes of the endless line before the server stops")
    parser.add_argument("--max-memory", type=int, default=6 << 30, help="address-space limit of the client process")
    parser.add_argument("--give-up", type=float, default=60.0, help="kill a client still running after this many seconds")
    parser.add_argument("--watch-seconds", type=float, default=45.0)
    args = parser.parse_args()
    for case, script in scripts(args).items():
        if args.only is None or case in args.only:
            measure(case, script, args)


if __name__ == "__main__":
    main()
