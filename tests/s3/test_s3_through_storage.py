"""What a bucket source reads through the storage interface, and what it no longer downloads."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from backends.errors import NotFoundError
from backends.local import LocalSource
from backends.s3.source import S3Source
from tests.s3.conftest import local_writes
from tests.seaweed import SeaweedFS, upload_tree


async def drain(stream) -> list:
    return [item async for item in stream]


def test_wal_engines_read_the_bucket_without_a_mirror_copy(s3_demo: str, s3_twin: Path) -> None:
    async def run() -> None:
        local = LocalSource(str(s3_twin))
        pair = next(p for p in await local.list_wal_pairs() if p.replay)
        assert pair.replay is not None
        source = S3Source(s3_demo)
        try:
            index = await drain(source.wal_index(pair.record))
            assert index[-1] == (await drain(local.wal_index(pair.record)))[-1]
            assert await source.wal_lines(pair.record, 2, 7) == await local.wal_lines(pair.record, 2, 7)
            got = await drain(source.diff_wal(pair.record, pair.replay))
            assert got[-1] == (await drain(local.diff_wal(pair.record, pair.replay)))[-1]
            assert (await drain(source.validate_wal(pair.replay)))[-1] == (await drain(local.validate_wal(pair.replay)))[-1]
            assert written() == []  # nothing was downloaded to disk
        finally:
            await source.aclose()

    with local_writes() as written:
        asyncio.run(run())


def test_snapshot_pairs_with_one_etag_and_size_are_not_downloaded(seaweed: SeaweedFS) -> None:
    import obstore

    store = seaweed.store()
    prefix = "snapshot-etags"
    same = b'{"a": 1, "b": [1, 2, 3]}\n' * 50
    objects = {
        "history/snapshots/a/same.json": same, "history/snapshots/b/same.json": same,
        "history/snapshots/a/changed.json": b'{"x": 1}\n', "history/snapshots/b/changed.json": b'{"x": 2}\n',
        "history/snapshots/b/added.txt": b"new\n",
    }
    for key, data in objects.items():
        obstore.put(store, f"{prefix}/{key}", data)

    async def run() -> None:
        source = S3Source(f"s3://driftdeck/{prefix}")
        try:
            entries = {e.path: e.category for e in await drain(source.diff_snapshots("a", "b")) if type(e).__name__ == "EntryDiff"}
            assert entries == {"same.json": "unchanged", "changed.json": "changed", "added.txt": "added"}
            same_entry = await source.diff_entry("a", "b", "same.json", mode="unified")
            assert same_entry.notes == ("identical",) and same_entry.size_a == same_entry.size_b == len(same)
            assert written() == []  # read through the storage into memory
            changed = await source.diff_entry("a", "b", "changed.json", mode="unified")
            assert any(line.text == '{"x": 2}' for line in changed.lines)
        finally:
            await source.aclose()

    with local_writes() as written:
        asyncio.run(run())


def test_a_wal_object_that_vanishes_is_one_line(seaweed: SeaweedFS) -> None:
    import obstore

    store = seaweed.store()
    key = "vanishing-wal/runs/r/wal/record.jsonl"
    obstore.put(store, key, b'{"v": 2, "id": 1}\n')

    async def run() -> None:
        source = S3Source("s3://driftdeck/vanishing-wal")
        try:
            obstore.delete(store, key)
            with pytest.raises(NotFoundError, match=r"^runs/r/wal/record.jsonl: no such file$"):
                await drain(source.wal_index("runs/r/wal/record.jsonl"))
        finally:
            await source.aclose()

    asyncio.run(run())


def test_a_run_detail_writes_nothing_and_pages_the_record_by_range(s3_demo: str, s3_twin: Path) -> None:
    async def run() -> None:
        local = LocalSource(str(s3_twin))
        pair = next(p for p in await local.list_wal_pairs() if p.replay)
        source = S3Source(s3_demo)
        try:
            detail = await source.get_run(pair.run_id)
            assert detail == await local.get_run(pair.run_id)
            assert detail.record_path is not None and detail.record_size > 0 and detail.wal_files
            assert written() == []  # read through the storage: nothing written, not even a stand-in
            cursor, pages, want = None, [], []
            while True:  # small pages: the cursor's byte offset becomes a ranged GET
                page = await source.run_events(pair.run_id, cursor, limit=7)
                pages += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
            cursor = None
            while True:
                page = await local.run_events(pair.run_id, cursor, limit=7)
                want += page.items
                cursor = page.next_cursor
                if cursor is None:
                    break
            assert pages == want and len(pages) > 7
        finally:
            await source.aclose()

    with local_writes() as written:
        asyncio.run(run())


def test_an_artifact_preview_of_a_large_object_transfers_only_its_first_bytes(
    seaweed: SeaweedFS, monkeypatch: pytest.MonkeyPatch
) -> None:
    import obstore

    from backends.runs import MAX_ARTIFACT_PARSE_BYTES
    from tests.contract.relay import Relay

    store = seaweed.store()
    big = b'{"reason_code": "TOO_BIG", "blob": "' + b"x" * (MAX_ARTIFACT_PARSE_BYTES * 2) + b'"}\n'
    obstore.put(store, "big-artifact/runs/r/quarantine/huge.json", big)
    obstore.put(store, "big-artifact/runs/r/quarantine/small.json", b'{"reason_code": "SMALL", "detail": "d"}')

    with Relay(seaweed.s3_port) as relay:  # every byte the store sends passes here and is counted
        monkeypatch.setenv("AWS_ENDPOINT_URL", relay.url)

        async def run() -> tuple:
            source = S3Source("s3://driftdeck/big-artifact")
            try:
                before = relay.downstream
                preview = await source.artifact_preview("runs/r/quarantine/huge.json", max_bytes=4096)
                sent = relay.downstream - before
                small = await source.artifact_preview("runs/r/quarantine/small.json")
                return preview, sent, small
            finally:
                await source.aclose()

        preview, sent, small = asyncio.run(run())
    assert preview.size == len(big) and preview.truncated and preview.text.startswith('{"reason_code": "TOO_BIG"')
    assert "too large to pretty-print" in str(preview.problem)
    assert 4096 <= sent < 4096 + 16384, sent  # the head and the response headers, not 16 MiB
    assert small.language == "json" and '"reason_code": "SMALL"' in small.text


def test_hostile_evidence_refs_leave_the_run_detail_readable(seaweed: SeaweedFS, tmp_path: Path) -> None:
    """Evidence naming paths out of the prefix (slashes or backslashes) is never looked up; the run still opens,
    as it does from a directory holding the same files."""
    run = tmp_path / "runs" / "run-1"
    (run / "quarantine").mkdir(parents=True)
    (run / "run_status.json").write_text(json.dumps({"run_id": "run-1", "state": "QUARANTINED", "reason_code": "X"}))
    (run / "run_record.jsonl").write_text('{"event": "start"}\n')
    refs = ["runs/run-1/run_record.jsonl#L1", "..\\..\\etc\\passwd", "../other/x", "/etc/passwd", "runs/nothing.txt"]
    evidence = [{"kind": "file", "ref": ref} for ref in refs]
    (run / "quarantine" / "why.json").write_text(json.dumps({"reason_code": "X", "evidence": evidence}))
    upload_tree(seaweed, "driftdeck", tmp_path, "hostile-evidence")

    async def both() -> tuple[Any, Any]:
        source = S3Source("s3://driftdeck/hostile-evidence")
        try:
            return await source.get_run("run-1"), await LocalSource(str(tmp_path)).get_run("run-1")
        finally:
            await source.aclose()

    remote, local = asyncio.run(both())
    found = {e.ref: e.exists for a in remote.artifacts for e in a.evidence}
    assert found["runs/run-1/run_record.jsonl#L1"] is True and found["runs/nothing.txt"] is False
    assert found["../other/x"] is None and found["/etc/passwd"] is None  # never looked up, as from a directory
    # a directory reads a backslash as part of a name (no such file); a bucket may read it as a slash (SeaweedFS
    # does), so a ".." between backslashes is not looked up there either: unknown, not an error for the whole run
    assert found.pop("..\\..\\etc\\passwd") is None
    assert found == {e.ref: e.exists for a in local.artifacts for e in a.evidence if e.ref != "..\\..\\etc\\passwd"}
