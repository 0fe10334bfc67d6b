"""The s3:// source against a real SeaweedFS: layouts, the CLI, serving a bucket, and bad input."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import obstore
import pytest

from backends.errors import AuthError, NotFoundError, UnavailableError
from backends.http.client import HttpSource
from backends.local import LocalSource
from backends.s3.source import S3Source
from backends.source import open_source
from tests.s3.conftest import local_writes
from tests.seaweed import SeaweedFS, free_ports, make_marker


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "driftdeck"
    return subprocess.run([str(script), *args], capture_output=True, text=True, timeout=120, env=env or dict(os.environ))


async def runs_of(source) -> list:
    return [run async for chunk in source.iter_runs(batch=50) for run in chunk]


def test_the_entry_point_opens_a_bucket(s3_demo: str) -> None:
    with local_writes() as written:
        source = open_source(s3_demo)
        assert isinstance(source, S3Source)
        info = asyncio.run(source.describe())
        assert info.kind == "s3" and info.root == s3_demo and {"runs", "wal", "snapshots", "checksums", "watch"} <= info.capabilities
        asyncio.run(source.aclose())
        assert written() == []  # no local copy of anything, not even driftdeck.yaml


def test_quarantine_list_of_a_bucket_equals_its_local_copy(s3_demo: str, s3_twin: Path) -> None:
    remote = cli("quarantine", "list", "--json", "--source", s3_demo)
    local = cli("quarantine", "list", "--json", "--source", str(s3_twin))
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout and len(remote.stdout.splitlines()) >= 10


def test_a_bucket_command_never_aborts_as_it_exits(s3_demo: str) -> None:
    """obstore's client threads may still be returning into Python as the interpreter finalizes: before the
    command ended without the teardown, 8 of 60 runs aborted (SIGABRT, exit -6) after printing everything."""
    for _ in range(20):
        done = cli("quarantine", "list", "--state", "all", "--source", s3_demo)
        assert done.returncode == 0, (done.returncode, done.stderr[-500:])
        assert "run-20261101-1755-4eb721" in done.stdout


def test_wal_diff_on_a_bucket_exits_1_like_the_directory(s3_demo: str, s3_twin: Path) -> None:
    pairs = asyncio.run(LocalSource(str(s3_twin)).list_wal_pairs())
    record, replay = next((p.record, p.replay) for p in pairs if p.replay and "4eb721" in p.record)
    remote = cli("wal", "diff", record, replay, "--json", "--source", s3_demo)
    local = cli("wal", "diff", record, replay, "--json", "--source", str(s3_twin))
    assert (remote.returncode, remote.stdout) == (local.returncode, local.stdout) and remote.returncode == 1


def test_a_layout_in_driftdeck_yaml_maps_runs_in_a_bucket(seaweed: SeaweedFS) -> None:
    store = seaweed.store()
    obstore.put(store, "platform/driftdeck.yaml", b'layout:\n  runs: "fraud-platform/*/sr"\n')
    for run, state in (("p-1", "READY"), ("p-2", "QUARANTINED")):
        body = json.dumps({"run_id": run, "state": state, "updated_at": "2026-11-01T00:00:00Z"}).encode()
        obstore.put(store, f"platform/fraud-platform/{run}/sr/run_status.json", body)
    obstore.put(store, "platform/fraud-platform/p-3/other/run_status.json", b"{}")  # not an sr directory: not a run
    runs = asyncio.run(runs_of(S3Source("s3://driftdeck/platform")))
    assert [(r.run_id, r.key, r.state) for r in runs] == [
        ("p-1", "fraud-platform/p-1/sr", "READY"), ("p-2", "fraud-platform/p-2/sr", "QUARANTINED")
    ]


def test_serve_a_bucket_and_read_it_over_http(s3_demo: str, s3_twin: Path) -> None:
    [port] = free_ports(1)
    script = Path(sys.executable).parent / "driftdeck"
    process = subprocess.Popen([str(script), "serve", s3_demo, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("driftdeck serve s3://… did not come up")
        remote = HttpSource(f"http://127.0.0.1:{port}", retries=1, backoff=0.05)
        assert asyncio.run(runs_of(remote)) == asyncio.run(runs_of(LocalSource(str(s3_twin))))
        detail = asyncio.run(remote.get_run("run-20261104-0905-dd6511"))
        assert detail.summary.reason_code == "ENGINE_RECEIPT_MISMATCH" and detail.artifacts
    finally:
        process.terminate()
        process.wait(timeout=10)


# Bad input ----------------------------------------------------------------------------------


def test_a_missing_bucket_is_one_line_and_exit_2(s3_demo: str) -> None:
    with pytest.raises(NotFoundError, match="^s3://no-such-bucket: no such bucket$"):
        S3Source("s3://no-such-bucket/x")
    done = cli("quarantine", "list", "--source", "s3://no-such-bucket/x")
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no such bucket" in done.stderr


def test_wrong_credentials_are_refused_in_one_line(s3_demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    with pytest.raises(AuthError, match="access refused"):
        S3Source(s3_demo)
    done = cli("quarantine", "list", "--source", s3_demo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "access refused" in done.stderr


def test_an_unreachable_endpoint_fails_fast_in_one_line(s3_demo: str, monkeypatch: pytest.MonkeyPatch) -> None:
    [port] = free_ports(1)
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{port}")
    started = time.monotonic()
    with pytest.raises(UnavailableError, match="unreachable"):
        S3Source(s3_demo)
    assert time.monotonic() - started < 30  # bounded retries, not obstore's default three minutes
    done = cli("quarantine", "list", "--source", s3_demo)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "unreachable" in done.stderr


def test_a_directory_marker_where_a_status_should_be_is_reported_and_the_rest_listed(seaweed: SeaweedFS) -> None:
    store = seaweed.store()
    for run in ("m-1", "m-3"):
        obstore.put(store, f"markers/runs/{run}/run_status.json", json.dumps({"run_id": run, "state": "READY"}).encode())
    make_marker(seaweed, "driftdeck", "markers/runs/m-2/run_status.json")
    runs = asyncio.run(runs_of(S3Source("s3://driftdeck/markers")))
    assert [r.run_id for r in runs] == ["m-1", "m-2", "m-3"]
    assert [r.state for r in runs] == ["READY", None, "READY"]
    assert str(runs[1].problem) == "runs/m-2/run_status.json: a directory marker key, not an object"


def test_oversized_status_and_artifact_read_their_head_only_and_say_so_like_the_directory(
    seaweed: SeaweedFS, tmp_path: Path
) -> None:
    """A status over 1 MiB and an artifact over 8 MiB: each is one entry's problem, worded as for a directory,
    and the run and its neighbours still list."""
    from backends.runs import MAX_ARTIFACT_PARSE_BYTES, MAX_STATUS_BYTES

    big = tmp_path / "runs" / "big"
    (big / "quarantine").mkdir(parents=True)
    (big / "run_status.json").write_bytes(b'{"run_id": "big", "state": "READY", "pad": "' + b"x" * MAX_STATUS_BYTES + b'"}')
    fine = tmp_path / "runs" / "fine"
    (fine / "quarantine").mkdir(parents=True)
    (fine / "run_status.json").write_text(json.dumps({"run_id": "fine", "state": "QUARANTINED", "reason_code": "R"}))
    (fine / "quarantine" / "huge.json").write_bytes(
        b'{"reason_code": "R", "blob": "' + b"y" * MAX_ARTIFACT_PARSE_BYTES + b'"}')
    store = seaweed.store()
    for path in sorted(p for p in tmp_path.rglob("*") if p.is_file()):
        obstore.put(store, f"oversized/{path.relative_to(tmp_path).as_posix()}", path.read_bytes())

    async def both(source) -> tuple:
        try:
            return await runs_of(source), await source.get_run("fine")
        finally:
            await source.aclose()

    (remote_runs, remote_detail) = asyncio.run(both(S3Source("s3://driftdeck/oversized")))
    (local_runs, local_detail) = asyncio.run(both(LocalSource(str(tmp_path))))
    assert [(r.run_id, r.state, str(r.problem)) for r in remote_runs] == [
        (r.run_id, r.state, str(r.problem)) for r in local_runs]
    assert "status file too large" in str(remote_runs[0].problem) and remote_runs[1].state == "QUARANTINED"
    assert remote_detail == local_detail
    assert "too large to parse" in str(remote_detail.artifacts[0].problem)


def test_paths_outside_the_prefix_are_refused(s3_demo: str) -> None:
    from backends.errors import ForbiddenError

    source = S3Source(s3_demo)
    # SeaweedFS reads a backslash as a slash (a GET of "a\\b" returns "a/b"): ".." between backslashes is refused too
    for path in ("../other/x", "/etc/passwd", "runs/../../x", "..\\other\\x", "runs\\..\\..\\x", "\\x"):
        with pytest.raises(ForbiddenError, match="outside the source root"):
            asyncio.run(source.read_range(path, 0, 10))
        with pytest.raises(ForbiddenError, match="outside the source root"):
            asyncio.run(source.artifact_preview(path))


def test_a_backslash_in_a_name_is_a_name() -> None:
    from backends.storage.bucket import checked

    assert checked("fixtures/back\\slash.txt") == "fixtures/back\\slash.txt"
    assert checked("a/./b\\..c") == "a/b\\..c"


async def test_live_events_on_a_bucket_poll_the_listing_and_say_so(seaweed: SeaweedFS) -> None:
    store = seaweed.store()
    await obstore.put_async(store, "live/a.txt", b"1")
    await obstore.put_async(store, "live/b.txt", b"1")
    source = S3Source("s3://driftdeck/live")
    stream = source.watch("")
    try:
        [notice] = await asyncio.wait_for(anext(stream), 30)
        assert notice.type == "notice" and "polling the bucket listing" in (notice.detail or "")
        await obstore.put_async(store, "live/c.txt", b"new")
        await obstore.put_async(store, "live/a.txt", b"changed")
        await obstore.delete_async(store, "live/b.txt")
        seen: set[tuple[str, str]] = set()
        while len(seen) < 3:
            seen |= {(e.type, e.path) for e in await asyncio.wait_for(anext(stream), 30)}
        assert seen == {("created", "c.txt"), ("modified", "a.txt"), ("deleted", "b.txt")}
    finally:
        await stream.aclose()
        await source.aclose()
