"""The hostile corpus: every kind of bad run input is reported, and the rest still listed."""

from __future__ import annotations

import asyncio
import concurrent.futures.thread  # noqa: F401 - asyncio.to_thread imports it lazily, where nobody cannot
import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.errors import ForbiddenError, MalformedError
from backends.jsonread import loads_located
from backends.local import LocalSource
from backends.models import RunQuery, RunSummary
from backends.runs import parse_event
from tests.conftest import run_unprivileged, tree_fingerprint, write_run

GOOD = b'{"run_id": "good", "state": "QUARANTINED", "reason_code": "X", "updated_at": "2026-11-02T00:00:00Z"}'

HOSTILE_STATUS: dict[str, tuple[bytes, str]] = {
    "syntax": (b'{\n  "run_id": "syntax",\n  "state": QUARANTINED\n}\n', "run_status.json:3: invalid JSON"),
    "not-utf8": (b'{\n"run_id": "caf\xe9",\n"state": "READY"}', "run_status.json:2: invalid UTF-8"),
    "empty": (b"", "run_status.json:1: empty document"),
    "list": (b"[1, 2, 3]\n", "expected a JSON object, found list"),
    "no-state": (b'{"run_id": "no-state", "reason_code": "X"}', "missing or non-string field 'state'"),
    "state-number": (b'{"run_id": "state-number", "state": 7}', "missing or non-string field 'state'"),
    "truncated": (b'{"run_id": "truncated", "state": "REA', "run_status.json:1: invalid JSON"),
    "binary": (os.urandom(64) + b"\x00\xff", "run_status.json"),
    "bomb": (b"[" * 5000 + b"]" * 5000, "nested deeper than 1024 levels"),
    "trailing": (GOOD + b"\n{}", "run_status.json:2: invalid JSON"),
}


@pytest.fixture
def hostile(tmp_path: Path) -> Path:
    write_run(tmp_path, "good", status_bytes=GOOD)
    for name, (data, _) in HOSTILE_STATUS.items():
        write_run(tmp_path, name, status_bytes=data)
    (tmp_path / "runs" / "no-status").mkdir()
    dir_status = tmp_path / "runs" / "dir-status"
    (dir_status / "run_status.json").mkdir(parents=True)
    loop = tmp_path / "runs" / "symlink-loop"
    loop.mkdir()
    (loop / "run_status.json").symlink_to(loop / "run_status.json")
    write_run(tmp_path, "bom", status_bytes=b"\xef\xbb\xbf" + GOOD.replace(b'"good"', b'"bom"'))
    write_run(tmp_path, "crlf", status_bytes=GOOD.replace(b'"good"', b'"crlf"').replace(b", ", b",\r\n"))
    for odd in ("with space", "new\nline", "back\\slash"):
        write_run(tmp_path, odd, status_bytes=GOOD.replace(b'"good"', json.dumps(odd).encode()))
    return tmp_path


async def test_every_hostile_run_is_listed_with_a_located_problem(hostile: Path) -> None:
    before = tree_fingerprint(hostile)
    runs = {}
    async for batch in LocalSource(str(hostile)).iter_runs(RunQuery(states=frozenset({"QUARANTINED"}))):
        runs.update((r.key.split("/", 1)[1], r) for r in batch)
    for name, (_, expected) in HOSTILE_STATUS.items():
        assert runs[name].problem is not None, name
        assert expected in str(runs[name].problem), (name, str(runs[name].problem))
    assert "no status file" in str(runs["no-status"].problem)
    assert "is a directory" in str(runs["dir-status"].problem)
    assert "symlink loop" in str(runs["symlink-loop"].problem)
    for fine in ("good", "bom", "crlf", "with space", "new\nline", "back\\slash"):
        assert runs[fine].problem is None and runs[fine].state == "QUARANTINED", fine
    assert runs["new\nline"].run_id == "new\nline"
    assert tree_fingerprint(hostile) == before


def test_unreadable_status_is_reported(unprivileged_tmp: Path) -> None:
    run = write_run(unprivileged_tmp, "locked")
    (run / "run_status.json").chmod(0)

    async def listed() -> list[list[RunSummary]]:
        return [b async for b in LocalSource(str(unprivileged_tmp)).iter_runs()]

    try:
        [[summary]] = run_unprivileged(lambda: asyncio.run(listed()))  # as nobody when root: root reads any mode
        assert "unreadable: Permission denied" in str(summary.problem)
    finally:
        (run / "run_status.json").chmod(0o644)


@given(st.binary(max_size=300))
@settings(max_examples=300, deadline=None)
def test_loads_located_either_parses_or_names_a_line(data: bytes) -> None:
    try:
        loads_located(data, "f.json")
    except MalformedError as exc:
        assert exc.path == "f.json"
        assert exc.line is None or 1 <= exc.line <= data.count(b"\n") + 1
        assert str(exc).startswith("f.json")


# Integers in the range orjson reads exactly (int64 and uint64): beyond it a JSON number comes
# back as a float, which no round trip can keep.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**63), max_value=2**64 - 1) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_loads_located_round_trips_valid_json(value: object) -> None:
    assert loads_located(json.dumps(value).encode(), "f.json") == value


@given(st.binary(max_size=200), st.integers(min_value=1, max_value=10_000))
@settings(max_examples=300, deadline=None)
def test_parse_event_never_raises_and_keeps_its_line(data: bytes, line: int) -> None:
    event = parse_event(data, "r.jsonl", line)
    assert event.line == line
    if event.problem is not None:
        assert event.problem.line == line and event.fields == {}


async def test_symlinks_never_lead_reads_outside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.jsonl").write_text('{"event_id": "s", "kind": "SECRET"}\n')
    (outside / "status.json").write_text('{"run_id": "stolen", "state": "QUARANTINED"}')
    (outside / "artifact.json").write_text('{"reason_code": "SECRET", "detail": "top secret"}')
    (outside / "run").mkdir()
    (outside / "run" / "run_status.json").write_text('{"run_id": "elsewhere", "state": "QUARANTINED"}')
    root = tmp_path / "root"
    run = write_run(root, "r1", artifacts={"ok.json": {"reason_code": "FINE"}})
    (run / "run_record.jsonl").symlink_to(outside / "secret.jsonl")
    (run / "quarantine" / "leak.json").symlink_to(outside / "artifact.json")
    linked = root / "runs" / "r2"
    linked.mkdir()
    (linked / "run_status.json").symlink_to(outside / "status.json")
    (root / "runs" / "r3").symlink_to(outside / "run")
    inside = write_run(root, "r4")
    (root / "runs" / "r5").mkdir()
    (root / "runs" / "r5" / "run_status.json").symlink_to(inside / "run_status.json")  # inside: fine
    source = LocalSource(str(root))
    runs = {r.key: r async for batch in source.iter_runs() for r in batch}
    assert "symlink leads outside the source root" in str(runs["runs/r3"].problem)  # listed, never entered
    assert "outside the source root" in str(runs["runs/r2"].problem) and runs["runs/r2"].state is None
    assert runs["runs/r5"].state == "QUARANTINED"
    detail = await source.get_run("r1")
    assert [a.name for a in detail.artifacts] == ["ok.json"]
    assert detail.record_path is None and any("outside the source root" in str(p) for p in detail.problems)
    with pytest.raises(ForbiddenError):
        await source.run_events("r1")


def test_a_record_that_cannot_be_read_is_a_problem_of_the_run_not_a_page_to_fetch(unprivileged_tmp: Path) -> None:
    fifo = write_run(unprivileged_tmp, "fifo")
    os.mkfifo(fifo / "run_record.jsonl")
    locked = write_run(unprivileged_tmp, "locked", record=[{"event_id": "e1", "kind": "K"}])
    locked.chmod(0)  # nothing in it can even be looked at

    async def details() -> list[tuple[str | None, list[str]]]:
        source = LocalSource(str(unprivileged_tmp))
        found = [await source.get_run("fifo"), await source.get_run("locked")]
        return [(d.record_path, [str(p) for p in d.problems]) for d in found]

    try:
        [(fifo_record, fifo_problems), (locked_record, locked_problems)] = run_unprivileged(lambda: asyncio.run(details()))
    finally:
        locked.chmod(0o755)
    assert fifo_record is None and "runs/fifo/run_record.jsonl: unreadable: a FIFO, not a regular file" in fifo_problems
    assert locked_record is None and "runs/locked/run_record.jsonl: unreadable: Permission denied" in locked_problems


async def test_evidence_behind_a_symlink_out_of_the_root_is_never_looked_at(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("exists outside\n")
    root = tmp_path / "root"
    refs = ["self/up/outside/secret.txt", "out/secret.txt", "link-out", "here.txt", "self/here.txt", "gone.txt", "dangling"]
    write_run(root, "r", artifacts={"a.json": {"reason_code": "X", "evidence": refs}})
    (root / "self").symlink_to(".")
    (root / "up").symlink_to("..")
    (root / "out").symlink_to(outside)
    (root / "link-out").symlink_to(outside / "secret.txt")
    (root / "here.txt").write_text("inside\n")
    (root / "dangling").symlink_to("nowhere")
    detail = await LocalSource(str(root)).get_run("r")
    exists = {e.ref: e.exists for e in detail.artifacts[0].evidence}
    assert exists == {
        "self/up/outside/secret.txt": None,  # the kernel would climb out: not probed (was True)
        "out/secret.txt": None,
        "link-out": None,
        "here.txt": True,
        "self/here.txt": True,
        "gone.txt": False,
        "dangling": False,
    }
