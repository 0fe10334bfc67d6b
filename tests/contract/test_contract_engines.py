"""Engines through the contract: the HTTP source runs them server side and gives the same answers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from backends.local import LocalSource

DIVERGING = "runs/run-20261101-1755-4eb721/wal"


async def drain(stream) -> list:
    return [item async for item in stream]


def by_type(items: list) -> dict[str, list]:
    out: dict[str, list] = {}
    for item in items:
        out.setdefault(type(item).__name__, []).append(item)
    return out


async def test_checksum_verdicts(source, contract_root: Path) -> None:
    items = by_type(await drain(source.verify_checksums("fixtures/golden/SHA256SUMS")))
    local = by_type(await drain(LocalSource(str(contract_root)).verify_checksums("fixtures/golden/SHA256SUMS")))
    key = lambda e: (e.line or 0, e.path, e.category)  # noqa: E731
    assert sorted(items["ChecksumEntry"], key=key) == sorted(local["ChecksumEntry"], key=key)
    categories = Counter(e.category for e in items["ChecksumEntry"])
    assert {"ok", "changed", "missing", "unreadable", "moved", "new", "duplicate", "alias", "malformed"} <= set(categories)
    [summary] = items["ChecksumSummary"]
    assert summary.counts == local["ChecksumSummary"][0].counts


async def test_wal_validate_and_diff(source, contract_root: Path) -> None:
    local = LocalSource(str(contract_root))
    problems = by_type(await drain(source.validate_wal(f"{DIVERGING}/replay.jsonl")))
    assert problems == by_type(await drain(local.validate_wal(f"{DIVERGING}/replay.jsonl")))
    diff = by_type(await drain(source.diff_wal(f"{DIVERGING}/record.jsonl", f"{DIVERGING}/replay.jsonl")))
    expected = by_type(await drain(local.diff_wal(f"{DIVERGING}/record.jsonl", f"{DIVERGING}/replay.jsonl")))
    assert diff["WalDivergence"] == expected["WalDivergence"]
    first = diff["WalDivergence"][0]
    assert (first.kind, first.event_id, first.event_kind) == ("changed", 37, "ExternalIOFinished")
    assert [(c.path, c.expected, c.found) for c in first.changes][:1] == [("payload.status", "200", "503")]


async def test_wal_index_and_lines(source, contract_root: Path) -> None:
    path = f"{DIVERGING}/replay.jsonl"
    index = await drain(source.wal_index(path))
    assert type(index[-1]).__name__ == "WalIndexInfo" and index[-1].lines >= 400
    lines = await source.wal_lines(path, 35, 5)
    assert lines == await LocalSource(str(contract_root)).wal_lines(path, 35, 5)
    assert [line.line for line in lines] == [35, 36, 37, 38, 39]


async def test_snapshot_diff_and_entry(source, contract_root: Path) -> None:
    local = LocalSource(str(contract_root))
    a, b = "baseline-2026-11-01", "candidate-2026-11-08"
    assert await source.snapshot_rules() == await local.snapshot_rules()
    assert await source.snapshot_path(a) == await local.snapshot_path(a) == f"history/snapshots/{a}"
    got = by_type(await drain(source.diff_snapshots(a, b)))
    want = by_type(await drain(local.diff_snapshots(a, b)))
    key = lambda e: e.path  # noqa: E731
    assert sorted(got["EntryDiff"], key=key) == sorted(want["EntryDiff"], key=key)
    changed = next(e for e in got["EntryDiff"] if e.category == "changed" and e.path.endswith(".json"))
    assert await source.diff_entry(a, b, changed.path) == await local.diff_entry(a, b, changed.path)
    assert await source.snapshot_path(a) == await local.snapshot_path(a)
