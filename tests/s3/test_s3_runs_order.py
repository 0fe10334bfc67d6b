"""Runs of a bucket: path order, runs without a status object, ``after=`` paging, and status GETs streamed
in a window (the first batch arrives while later runs' GETs have not started), against a real SeaweedFS."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from backends.local import LocalSource
from backends.models import RunQuery, RunSummary
from backends.s3.source import STATUS_AHEAD, S3Source
from tests.seaweed import SeaweedFS, upload_tree


def status(run: str, state: str = "READY") -> bytes:
    return json.dumps({"run_id": run, "state": state, "updated_at": "2026-11-01T10:00:00Z"}).encode()


def odd_workspace(root: Path) -> Path:
    """Runs whose names sort differently by bytes and by path (``a-1/`` < ``a/`` as keys), a run with no
    status object (only a note), a run directory that is only a marker (an empty directory), a broken status."""
    for run in ("a", "a-1", "a.b", "b", "run 2", "run"):
        (root / "runs" / run).mkdir(parents=True)
        (root / "runs" / run / "run_status.json").write_bytes(status(run, "QUARANTINED" if run == "a.b" else "READY"))
    (root / "runs" / "c").mkdir()
    (root / "runs" / "c" / "notes.txt").write_text("no status here\n")
    (root / "runs" / "d").mkdir()  # uploaded as a marker: the run directory holds no object at all
    (root / "runs" / "e").mkdir()
    (root / "runs" / "e" / "run_status.json").write_text("{broken\n")
    return root


async def all_runs(source: object, batch: int = 500) -> list[RunSummary]:
    return [run async for chunk in source.iter_runs(RunQuery(), batch=batch) for run in chunk]  # type: ignore[attr-defined]


def test_runs_of_a_bucket_come_in_path_order_with_problems_as_a_directory_lists_them(seaweed: SeaweedFS, tmp_path: Path) -> None:
    local = odd_workspace(tmp_path / "ws")
    upload_tree(seaweed, "driftdeck", local, "order")
    bucket = S3Source("s3://driftdeck/order")
    remote, expected = asyncio.run(all_runs(bucket, batch=2)), asyncio.run(all_runs(LocalSource(str(local))))
    assert [r.key for r in remote] == [r.key for r in expected] == [
        "runs/a", "runs/a-1", "runs/a.b", "runs/b", "runs/c", "runs/d", "runs/e", "runs/run", "runs/run 2"]
    assert [(r.run_id, r.state, str(r.problem)) for r in remote] == [(r.run_id, r.state, str(r.problem)) for r in expected]
    by_key = {r.key: r for r in remote}
    assert str(by_key["runs/c"].problem) == "runs/c/run_status.json: no status file in this run directory"
    assert str(by_key["runs/d"].problem) == "runs/d/run_status.json: no status file in this run directory"
    assert by_key["runs/e"].problem is not None and by_key["runs/e"].state is None


def test_after_paging_of_a_bucket_is_exact(seaweed: SeaweedFS, tmp_path: Path) -> None:
    local = odd_workspace(tmp_path / "ws")
    upload_tree(seaweed, "driftdeck", local, "paging")
    source = S3Source("s3://driftdeck/paging")

    async def pages(limit: int) -> list[list[str]]:
        seen, cursor = [], None
        while True:
            page = await source.list_runs(RunQuery(), cursor=cursor, limit=limit)
            seen.append([r.key for r in page.items])
            if page.next_cursor is None:
                return seen
            cursor = page.next_cursor

    every = [r.key for r in asyncio.run(all_runs(source))]
    for limit in (1, 2, 4, 9, 50):
        got = asyncio.run(pages(limit))
        assert [key for page in got for key in page] == every, limit
        assert all(len(page) == limit for page in got[:-1])
    after_c = asyncio.run(source.list_runs(RunQuery(), cursor="runs/c", limit=3))
    assert [r.key for r in after_c.items] == ["runs/d", "runs/e", "runs/run"] and after_c.next_cursor == "runs/run"


def test_the_first_batch_arrives_before_later_runs_status_gets_start(seaweed: SeaweedFS) -> None:
    """The scan is a stream: when the first batch (64 runs) is handed over, the status GETs of the runs far
    behind it have not been asked for yet; a consumer that stops early leaves no GET running."""
    import obstore

    total = 64 + STATUS_AHEAD + 200
    store = seaweed.store()

    async def upload() -> None:
        await asyncio.gather(*(obstore.put_async(store, f"window/runs/r{i:04d}/run_status.json", status(f"r{i:04d}"))
                               for i in range(total)))

    asyncio.run(upload())
    source = S3Source("s3://driftdeck/window")
    asked: list[str] = []
    read = source._summary

    async def recorded(key: str, fallback: str) -> RunSummary:
        asked.append(key)
        return await read(key, fallback)

    source._summary = recorded  # type: ignore[method-assign]

    async def scan() -> tuple[list[str], int, list[str]]:
        batches = source.iter_runs(RunQuery(), batch=500)
        first = [r.key for r in await anext(batches)]
        asked_then = len(asked)
        rest = [r.key async for chunk in batches for r in chunk]
        return first, asked_then, first + rest

    first, asked_then, every = asyncio.run(scan())
    assert first == [f"runs/r{i:04d}" for i in range(64)]
    assert asked_then < total and f"runs/r{total - 1:04d}" not in asked[:asked_then]
    assert every == [f"runs/r{i:04d}" for i in range(total)] and sorted(asked) == every

    asked.clear()

    async def one_page() -> tuple[list[str], int]:
        page = await source.list_runs(RunQuery(), limit=10)
        running = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return [r.key for r in page.items], len(running)

    keys, running = asyncio.run(one_page())
    assert keys == [f"runs/r{i:04d}" for i in range(10)]
    assert running == 0  # the GETs started ahead were cancelled when the page was full
    assert len(asked) < total

