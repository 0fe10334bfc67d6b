"""The DataSource contract, run unchanged against the local and the HTTP source."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.errors import ForbiddenError, MalformedError, NotFoundError
from backends.local import LocalSource
from backends.models import RunQuery


async def collect(source, query: RunQuery = RunQuery(), batch: int = 7) -> list:
    runs = []
    async for chunk in source.iter_runs(query, batch=batch):
        assert len(chunk) <= batch
        runs.extend(chunk)
    return runs


async def test_describe(source, contract_root: Path) -> None:
    info = await source.describe()
    # a server names its root by its last component only: the absolute path is the server's secret
    # (a bucket source names its root by its URL, s3://bucket/.../<name>)
    assert info.read_only and (info.root in (str(contract_root), contract_root.name) or info.root.endswith(f"/{contract_root.name}"))
    assert {"runs", "files", "inventory"} <= info.capabilities


async def test_runs_are_the_same_everywhere(source, contract_root: Path) -> None:
    local = await collect(LocalSource(str(contract_root)))
    assert await collect(source) == local
    assert len(local) == 58
    quarantined = await collect(source, RunQuery(states=frozenset({"QUARANTINED"})))
    assert sum(r.state == "QUARANTINED" for r in quarantined) == 12
    assert {r.run_id for r in quarantined if r.state is None} == {"run-broken-status", "run-orphan-no-status"}


async def test_pages_of_runs_join_up(source) -> None:
    seen, cursor = [], None
    while True:
        page = await source.list_runs(RunQuery(text="run-2026110"), cursor, 4)
        seen += [r.run_id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == sorted(seen) and len(seen) == len(set(seen)) > 4


async def test_run_detail_artifacts_and_problems(source, contract_root: Path) -> None:
    detail = await source.get_run("run-20261104-0905-dd6511")
    assert detail == await LocalSource(str(contract_root)).get_run("run-20261104-0905-dd6511")
    assert detail.summary.reason_code == "ENGINE_RECEIPT_MISMATCH"
    assert {a.name for a in detail.artifacts} >= {"engine-mismatch.json"}
    broken = await source.get_run("run-broken-status")
    assert broken.summary.problem is not None and broken.summary.problem.line == 4


async def test_record_events_page_through_2500(source) -> None:
    total, cursor, lines = 0, None, []
    while True:
        page = await source.run_events("run-20261104-1545-7ad25b", cursor, 1000)
        total += len(page.items)
        lines += [e.line for e in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert total == 2500 and lines == list(range(1, 2501))


async def test_malformed_record_line_is_an_event_with_a_problem(source) -> None:
    page = await source.run_events("run-20261106-0310-95ec55", None, 50)
    bad = [e for e in page.items if e.problem is not None]
    assert [e.line for e in bad] == [7]


async def test_artifact_preview_bounded(source) -> None:
    preview = await source.artifact_preview("runs/run-20261104-0905-dd6511/quarantine/engine-mismatch.json", 4096)
    assert preview.truncated and preview.language == "json" and len(preview.text.encode()) <= 4096


async def test_files(source, contract_root: Path) -> None:
    entries = await source.list_dir("fixtures")
    assert [e.name for e in entries] == sorted(p.name for p in (contract_root / "fixtures").iterdir())
    entry = await source.stat("README.txt")
    assert entry.kind == "file" and entry.size == (contract_root / "README.txt").stat().st_size
    data = await source.read_range("README.txt", 10, 20)
    assert data == (contract_root / "README.txt").read_bytes()[10:30]


async def test_inventory(source) -> None:
    assert len(await source.list_manifests()) == 4
    assert [s.name for s in await source.list_snapshots()] == [
        "baseline-2026-11-01", "candidate-2026-11-08", "candidate-2026-11-15"
    ]
    assert len([p for p in await source.list_wal_pairs() if p.replay]) == 4


async def test_typed_errors_cross_the_wire(source, contract_root: Path) -> None:
    with pytest.raises(NotFoundError, match="no-such-run"):
        await source.get_run("no-such-run")
    links = ("escape-link",) if (contract_root / "escape-link").is_symlink() else ()  # a bucket holds no symlinks
    for path in ("../outside.txt", *links, "/etc/passwd", "runs/../../outside.txt"):
        with pytest.raises(ForbiddenError):
            await source.read_range(path, 0, 10)
    with pytest.raises(NotFoundError):
        await source.stat("no/such/file")
    with pytest.raises(MalformedError, match="cursor"):
        await source.run_events("run-20261104-1545-7ad25b", "garbage", 10)
