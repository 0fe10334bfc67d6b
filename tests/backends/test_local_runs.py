"""LocalSource over runs and quarantine: discovery, parsing, paging, previews."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from backends.errors import ForbiddenError, MalformedError, NotFoundError
from backends.local import LocalSource
from backends.models import RunQuery
from backends.source import open_source
from tests.conftest import tree_fingerprint, write_run


async def all_runs(source: LocalSource, query: RunQuery = RunQuery()) -> list:
    runs = []
    async for batch in source.iter_runs(query, batch=2):
        runs.extend(batch)
    return runs


async def test_lists_every_run_with_state_reason_and_time(small_workspace: Path) -> None:
    runs = await all_runs(LocalSource(str(small_workspace)))
    assert [(r.run_id, r.state, r.reason_code) for r in runs] == [
        ("run-a", "QUARANTINED", "INSTANCE_RECEIPT_DRIFT"),
        ("run-b", "QUARANTINED", "ENGINE_RECEIPT_MISMATCH"),
        ("run-c", "READY", None),
        ("run-d", "FAILED", "ATTEMPT_LIMIT_EXCEEDED"),
        ("run-e", "RUNNING", None),
    ]
    assert runs[0].key == "runs/run-a"
    assert runs[1].sort_ts > runs[0].sort_ts


async def test_query_filters_state_reason_and_inverted_text(small_workspace: Path) -> None:
    source = LocalSource(str(small_workspace))
    quarantined = await all_runs(source, RunQuery(states=frozenset({"QUARANTINED"})))
    assert [r.run_id for r in quarantined] == ["run-a", "run-b"]
    by_reason = await all_runs(source, RunQuery(reason_codes=frozenset({"ENGINE_RECEIPT_MISMATCH"})))
    assert [r.run_id for r in by_reason] == ["run-b"]
    inverted = await all_runs(source, RunQuery(text="!receipt"))
    assert [r.run_id for r in inverted] == ["run-c", "run-d", "run-e"]


async def test_list_runs_pages_with_cursor_until_none(small_workspace: Path) -> None:
    source = LocalSource(str(small_workspace))
    seen, cursor = [], None
    while True:
        page = await source.list_runs(cursor=cursor, limit=2)
        seen.extend(r.run_id for r in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == ["run-a", "run-b", "run-c", "run-d", "run-e"]


async def test_get_run_parses_artifacts_and_checks_evidence(small_workspace: Path) -> None:
    detail = await LocalSource(str(small_workspace)).get_run("run-a")
    assert detail.summary.state == "QUARANTINED"
    assert detail.record_path == "runs/run-a/run_record.jsonl"
    [artifact] = detail.artifacts
    assert artifact.reason_code == "INSTANCE_RECEIPT_DRIFT"
    assert [(e.ref, e.exists) for e in artifact.evidence] == [
        ("runs/run-a/run_record.jsonl", True),
        ("missing/evidence.json", False),
        ("https://ci.example/run-a", None),
    ]


async def test_get_run_by_key_and_unknown_run(small_workspace: Path) -> None:
    source = LocalSource(str(small_workspace))
    assert (await source.get_run("runs/run-b")).summary.run_id == "run-b"
    with pytest.raises(NotFoundError, match="no-such-run"):
        await source.get_run("no-such-run")


async def test_run_events_page_oldest_first(tmp_path: Path) -> None:
    events = [{"event_id": f"e{i}", "ts": f"2026-11-01T00:00:{i:02d}Z", "kind": "Step"} for i in range(1, 8)]
    write_run(tmp_path, "r", record=events)
    source = LocalSource(str(tmp_path))
    page1 = await source.run_events("r", limit=3)
    page2 = await source.run_events("r", page1.next_cursor, limit=3)
    page3 = await source.run_events("r", page2.next_cursor, limit=3)
    assert [e.event_id for e in page1.items + page2.items + page3.items] == [f"e{i}" for i in range(1, 8)]
    assert [e.line for e in page3.items] == [7]
    assert page3.next_cursor is None


async def test_bad_record_lines_are_reported_and_the_rest_shown(tmp_path: Path) -> None:
    record = (
        b'{"event_id": "e1", "kind": "A"}\r\n'
        b'{"event_id": "e2", "kind": \n'
        b'\xff\xfe not utf-8\n'
        b'\n'
        b'[1, 2]\n'
        b'{"event_id": "e6", "kind": "F"}\n'
        b'{"event_id": "e7", "ki'
    )
    write_run(tmp_path, "r", record=record)
    page = await LocalSource(str(tmp_path)).run_events("r", limit=100)
    lines = {e.line: e for e in page.items}
    assert lines[1].kind == "A"
    assert lines[2].problem is not None and lines[2].problem.line == 2
    assert "UTF-8" in lines[3].problem.message
    assert 4 not in lines  # a blank line is not an event
    assert "object" in lines[5].problem.message
    assert lines[6].kind == "F"
    assert "torn tail" in lines[7].problem.message
    assert str(lines[7].problem).startswith("runs/r/run_record.jsonl:7:")


async def test_huge_record_line_is_skipped_not_loaded(tmp_path: Path) -> None:
    huge = b'{"event_id": "big", "blob": "' + b"x" * (2 << 20) + b'"}\n'
    write_run(tmp_path, "r", record=huge + b'{"event_id": "after", "kind": "B"}\n')
    page = await LocalSource(str(tmp_path)).run_events("r", limit=10)
    assert "longer than" in page.items[0].problem.message
    assert page.items[1].event_id == "after" and page.items[1].line == 2


async def test_artifact_preview_is_pretty_json_and_bounded(tmp_path: Path) -> None:
    body = {"reason_code": "X", "samples": [{"i": i, "v": "y" * 50} for i in range(5000)]}
    write_run(tmp_path, "r", artifacts={"big.json": body})
    preview = await LocalSource(str(tmp_path)).artifact_preview("runs/r/quarantine/big.json", 4096)
    assert preview.language == "json"
    assert preview.truncated
    assert len(preview.text.encode()) <= 4096
    assert preview.text.startswith('{\n  "reason_code": "X"')


async def test_artifact_of_50_mb_is_listed_and_previewed_from_its_head(tmp_path: Path) -> None:
    run_dir = write_run(tmp_path, "r", artifacts={"ok.json": {"reason_code": "X"}})
    with open(run_dir / "quarantine" / "huge.json", "wb") as handle:
        handle.write(b'{"reason_code": "HUGE", "pad": "')
        handle.truncate(50 * 1024 * 1024)
    source = LocalSource(str(tmp_path))
    detail = await source.get_run("r")
    huge = next(a for a in detail.artifacts if a.name == "huge.json")
    assert huge.size == 50 * 1024 * 1024
    assert "too large to parse" in huge.problem.message
    assert [a.reason_code for a in detail.artifacts if a.name == "ok.json"] == ["X"]
    preview = await source.artifact_preview(huge.path, 1024)
    assert preview.truncated and preview.language == "text"
    assert preview.text.startswith('{"reason_code": "HUGE"')


async def test_nesting_bomb_artifact_is_reported(tmp_path: Path) -> None:
    write_run(tmp_path, "r", artifacts={"bomb.json": b"[" * 100_000 + b"]" * 100_000})
    source = LocalSource(str(tmp_path))
    [artifact] = (await source.get_run("r")).artifacts
    assert "nested deeper" in artifact.problem.message
    preview = await source.artifact_preview(artifact.path, 512)
    assert preview.problem is not None and preview.text.startswith("[[[")


async def test_paths_outside_the_root_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "root"
    write_run(root, "r")
    (tmp_path / "secret.txt").write_text("secret")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    source = LocalSource(str(root))
    for path in ("../secret.txt", "/etc/passwd", "escape", "runs/../../secret.txt"):
        with pytest.raises(ForbiddenError):
            await source.read_range(path, 0, 10)
    assert await source.read_range("runs/r/run_status.json", 0, 1) == b"{"


async def test_open_source_by_path_and_by_entry_point(small_workspace: Path) -> None:
    assert isinstance(open_source(str(small_workspace)), LocalSource)
    by_plugin = open_source(f"file://{small_workspace}")
    assert isinstance(by_plugin, LocalSource) and by_plugin.root == str(small_workspace)
    with pytest.raises(NotFoundError, match="/no/such/path"):
        open_source("/no/such/path")


async def test_describe_names_every_capability(small_workspace: Path) -> None:
    info = await LocalSource(str(small_workspace)).describe()
    assert info.capabilities == {"runs", "files", "inventory", "checksums", "wal", "snapshots", "watch"}
    assert info.read_only and info.layout["runs"] == "runs/*"


async def test_reading_everything_writes_nothing(small_workspace: Path) -> None:
    before = tree_fingerprint(small_workspace)
    source = LocalSource(str(small_workspace))
    await all_runs(source)
    for run in ("run-a", "run-b", "run-c"):
        await source.get_run(run)
        await source.run_events(run)
    await source.artifact_preview("runs/run-a/quarantine/receipt-drift.json")
    await source.list_dir("runs")
    await source.list_manifests()
    await source.list_snapshots()
    await source.list_wal_pairs()
    assert tree_fingerprint(small_workspace) == before


async def test_inventory_finds_manifests_snapshots_and_wal_pairs(tmp_path: Path) -> None:
    run = write_run(tmp_path, "r")
    (run / "wal").mkdir()
    (run / "wal" / "record.jsonl").write_text("{}\n")
    (run / "wal" / "replay.jsonl").write_text("{}\n")
    (tmp_path / "fixtures" / "a").mkdir(parents=True)
    (tmp_path / "fixtures" / "a" / "SHA256SUMS").write_text("")
    (tmp_path / "fixtures" / "b.tar.sha256").write_text("")
    for name in ("base", "cand"):
        (tmp_path / "history" / "snapshots" / name).mkdir(parents=True)
        (tmp_path / "history" / "snapshots" / name / "f.txt").write_text(name)
    source = LocalSource(str(tmp_path))
    assert await source.list_manifests() == ["fixtures/a/SHA256SUMS", "fixtures/b.tar.sha256"]
    assert [s.name for s in await source.list_snapshots()] == ["base", "cand"]
    [pair] = await source.list_wal_pairs()
    assert (pair.run_id, pair.record, pair.replay) == ("r", "runs/r/wal/record.jsonl", "runs/r/wal/replay.jsonl")


def test_broken_config_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "driftdeck.yaml").write_text("layout:\n  runs: 'x/*'\n  bogus: 1\n")
    with pytest.raises(MalformedError, match=r"driftdeck.yaml:3: unknown layout key 'bogus'"):
        LocalSource(str(tmp_path))
    (tmp_path / "driftdeck.yaml").write_text("layout:\n  runs: [unclosed\n")
    with pytest.raises(MalformedError, match=r"driftdeck.yaml:\d+: invalid YAML"):
        LocalSource(str(tmp_path))
    (tmp_path / "driftdeck.yaml").write_text("layout:\n  runs: 'x/*'\nsnapshots:\n  since: 2026-13-01\n")
    with pytest.raises(MalformedError, match=r"driftdeck.yaml:4: invalid YAML: '2026-13-01' is not a valid timestamp"):
        LocalSource(str(tmp_path))  # PyYAML raised a bare ValueError for month 13
    (tmp_path / "driftdeck.yaml").write_text("layout:\n  runs: '../outside/*'\n")
    with pytest.raises(MalformedError, match="inside the root"):
        LocalSource(str(tmp_path))


async def test_fraud_platform_layout_through_driftdeck_yaml(tmp_path: Path) -> None:
    (tmp_path / "driftdeck.yaml").write_text(
        "layout:\n  runs: 'fraud-platform/*/sr'\n  quarantine: 'quarantine/*.json'\n"
    )
    for platform_run in ("fp-001", "fp-002"):
        sr = tmp_path / "fraud-platform" / platform_run / "sr"
        sr.mkdir(parents=True)
        status = {"state": "QUARANTINED", "reason_code": "INSTANCE_RECEIPT_DRIFT", "updated_at": "2026-11-02T00:00:00Z"}
        (sr / "run_status.json").write_text(json.dumps(status))
    (tmp_path / "fraud-platform" / "fp-002" / "sr" / "quarantine").mkdir()
    (tmp_path / "fraud-platform" / "fp-002" / "sr" / "quarantine" / "q.json").write_text('{"reason_code": "INSTANCE_RECEIPT_DRIFT"}')
    source = LocalSource(str(tmp_path))
    runs = await all_runs(source)
    assert [(r.run_id, r.key) for r in runs] == [
        ("fp-001", "fraud-platform/fp-001/sr"),
        ("fp-002", "fraud-platform/fp-002/sr"),
    ]
    detail = await source.get_run("fp-002")
    assert [a.reason_code for a in detail.artifacts] == ["INSTANCE_RECEIPT_DRIFT"]
