"""WAL through ``LocalSource``: the offset index, random access to lines, hostile files, read-only."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from backends.errors import ForbiddenError, NotFoundError, UnreadableError
from backends.local import LocalSource
from backends.wal.diff import WalDiffSummary, WalDivergence
from backends.wal.index import LineIndex, WalIndexInfo, build_index, file_identity
from backends.wal.progress import WalProgress
from backends.wal.rules import WalRules, redaction
from backends.wal.validate import WalValidation
from tests.backends.test_wal_corpus import event, line, write
from tests.conftest import tree_fingerprint


async def collect(stream) -> list:
    return [item async for item in stream]


def source_with(tmp_path: Path, name: str, *lines) -> tuple[LocalSource, str]:
    write(tmp_path / name, *lines)
    return LocalSource(str(tmp_path)), name


def test_index_offsets_match_the_lines(tmp_path: Path) -> None:
    data = b"".join(line(event(i)) for i in range(1, 2001)) + b'{"tail":1}'
    path = tmp_path / "w.jsonl"
    path.write_bytes(data)
    fd = os.open(path, os.O_RDONLY)
    try:
        index = LineIndex(file_identity(os.fstat(fd)))
        progress = list(build_index(fd, index, threading.Event()))
    finally:
        os.close(fd)
    starts = [0]
    for at, byte in enumerate(data):
        if byte == 10 and at + 1 < len(data):
            starts.append(at + 1)
    assert list(index.offsets) == starts and index.complete and index.terminated_at_end is False
    assert progress[-1].bytes_done == len(data)
    assert index.span(2001) == (starts[-1], len(data))
    assert index.nbytes <= 16 * len(starts)


async def test_wal_index_reports_progress_then_info_and_is_cached(tmp_path: Path) -> None:
    src, name = source_with(tmp_path, "w.jsonl", *(event(i) for i in range(1, 101)))
    items = await collect(src.wal_index(name))
    assert isinstance(items[-1], WalIndexInfo) and all(isinstance(i, WalProgress) for i in items[:-1])
    info = items[-1]
    assert (info.lines, info.terminated, info.index_bytes) == (100, True, 800)
    again = await collect(src.wal_index(name))
    assert again == [info]  # reused: no second pass


async def test_wal_lines_with_and_without_index(tmp_path: Path) -> None:
    src, name = source_with(tmp_path, "w.jsonl", *(event(i) for i in range(1, 301)))
    cold = await src.wal_lines(name, 120, 5)
    await collect(src.wal_index(name))
    warm = await src.wal_lines(name, 120, 5)
    assert cold == warm
    assert [w.line for w in warm] == [w.event_id for w in warm] == [120, 121, 122, 123, 124]
    assert warm[0].kind == "ActivityScheduled" and warm[0].text.startswith('{"id":120,"kind":"ActivityScheduled"')
    assert await src.wal_lines(name, 299, 10) == (await src.wal_lines(name, 299, 2))
    assert await src.wal_lines(name, 400, 10) == []


async def test_wal_lines_redacts_and_cuts(tmp_path: Path) -> None:
    src, name = source_with(
        tmp_path, "w.jsonl", event(1, secret="whsec_X", note="y" * 500), b'{"v":2,"id":2,"payload":{"secret":"whsec_Y","x\n',
    )
    first, second = await src.wal_lines(name, 1, 2, max_chars=80)
    assert "whsec_X" not in first.text and first.cut and len(first.text) == 80
    full = (await src.wal_lines(name, 1, 1, max_chars=10_000))[0]
    assert f'"secret":"{redaction("whsec_X")}"' in full.text
    assert second.problem == "not-json" and "whsec_Y" not in second.text and "sha256:" in second.text
    custom = (await src.wal_lines(name, 1, 1, WalRules.build(redact=["payload.note"]), max_chars=10_000))[0]
    assert "yyyy" not in custom.text


async def test_lines_of_a_file_truncated_under_us_do_not_crash(tmp_path: Path) -> None:
    src, name = source_with(tmp_path, "w.jsonl", *(event(i) for i in range(1, 201)))
    await collect(src.wal_index(name))
    path = tmp_path / name
    with open(path, "r+b") as handle:
        handle.truncate(1000)
    lines = await src.wal_lines(name, 1, 50)  # the file changed: the stale index is not used
    kept = path.read_bytes()
    assert len(lines) == kept.count(b"\n") + 1
    assert lines[-1].problem == "not-json" and not lines[-1].terminated


async def test_validate_and_diff_stream_through_the_source(tmp_path: Path) -> None:
    write(tmp_path / "runs/r1/wal/record.jsonl", *(event(i) for i in range(1, 11)))
    write(tmp_path / "runs/r1/wal/replay.jsonl", *(event(i) for i in range(1, 10)), event(10, kind="X"))
    src = LocalSource(str(tmp_path))
    validation = await collect(src.validate_wal("runs/r1/wal/replay.jsonl"))
    assert isinstance(validation[-1], WalValidation) and validation[-1].events == 10
    items = await collect(src.diff_wal("runs/r1/wal/record.jsonl", "runs/r1/wal/replay.jsonl"))
    divergences = [i for i in items if isinstance(i, WalDivergence)]
    assert [d.record_line for d in divergences] == [10]
    assert isinstance(items[-1], WalDiffSummary)
    found = [n async for batch in src.search_wal("runs/r1/wal/replay.jsonl", '"kind":"x"') if isinstance(batch, list) for n in batch]
    assert found == [10]
    inverted = [n async for batch in src.search_wal("runs/r1/wal/replay.jsonl", "!activity") if isinstance(batch, list) for n in batch]
    assert inverted == [10]
    assert "wal" in (await src.describe()).capabilities


async def test_search_never_matches_a_redacted_secret(tmp_path: Path) -> None:
    src, name = source_with(tmp_path, "w.jsonl", event(1, secret="whsec_FINDME"), event(2, note="whsec_visible"))
    found = [n async for batch in src.search_wal(name, "whsec") if isinstance(batch, list) for n in batch]
    assert found == [2]


@pytest.mark.parametrize(
    ("make", "error"),
    [
        (lambda root: (root / "dir.jsonl").mkdir(), UnreadableError),
        (lambda root: (root / "dir.jsonl").symlink_to(root / "nowhere"), NotFoundError),
        (lambda root: (root / "dir.jsonl").symlink_to(root / "dir.jsonl"), UnreadableError),
    ],
    ids=["directory", "dangling-symlink", "symlink-loop"],
)
async def test_unreadable_files_raise_typed_errors(tmp_path: Path, make, error) -> None:
    make(tmp_path)
    src = LocalSource(str(tmp_path))
    with pytest.raises(error, match="dir.jsonl"):
        await collect(src.validate_wal("dir.jsonl"))
    with pytest.raises(error):
        await collect(src.diff_wal("dir.jsonl", "dir.jsonl"))
    with pytest.raises(error):
        await src.wal_lines("dir.jsonl", 1, 1)


async def test_paths_outside_the_root_are_refused(tmp_path: Path) -> None:
    src = LocalSource(str(tmp_path))
    with pytest.raises(ForbiddenError):
        await collect(src.validate_wal("../etc/passwd"))
    with pytest.raises(ForbiddenError):
        await src.wal_lines("/etc/passwd", 1, 1)


@pytest.mark.parametrize("name", ["with space.jsonl", "new\nline.jsonl", "back\\slash.jsonl"])
async def test_odd_names_work(tmp_path: Path, name: str) -> None:
    src, rel = source_with(tmp_path, name, event(1), event(2))
    summary = (await collect(src.validate_wal(rel)))[-1]
    assert summary.path == name and summary.events == 2
    assert [line.event_id for line in await src.wal_lines(rel, 1, 5)] == [1, 2]


async def test_cancelling_a_diff_stops_it(tmp_path: Path) -> None:
    write(tmp_path / "a.jsonl", *(event(i) for i in range(1, 200_001)))
    write(tmp_path / "b.jsonl", *(event(i, kind="Other") for i in range(1, 200_001)))
    src = LocalSource(str(tmp_path))
    seen = 0
    async for _item in src.diff_wal("a.jsonl", "b.jsonl"):
        seen += 1
        if seen == 3:
            break
    assert seen == 3


async def test_every_wal_operation_is_read_only(tmp_path: Path) -> None:
    write(tmp_path / "runs/r/wal/record.jsonl", *(event(i) for i in range(1, 50)), b"broken\n", b'{"torn')
    write(tmp_path / "runs/r/wal/replay.jsonl", *(event(i) for i in range(1, 52)))
    before = tree_fingerprint(tmp_path)
    src = LocalSource(str(tmp_path))
    await collect(src.wal_index("runs/r/wal/record.jsonl"))
    await src.wal_lines("runs/r/wal/record.jsonl", 1, 100)
    await collect(src.validate_wal("runs/r/wal/record.jsonl"))
    await collect(src.diff_wal("runs/r/wal/record.jsonl", "runs/r/wal/replay.jsonl"))
    await collect(src.search_wal("runs/r/wal/record.jsonl", "x"))
    assert tree_fingerprint(tmp_path) == before
