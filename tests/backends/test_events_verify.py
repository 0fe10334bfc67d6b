"""Verifying recordings: golden cases, each rule, both formats, a hostile corpus, hypothesis."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.errors import NotFoundError, UnreadableError
from backends.events.model import FsEvent, WatchFilter, WatchHeader
from backends.events.recording import RecordingWriter
from backends.events.verify import verify_recording

HEADER = WatchHeader("live", WatchFilter(baseline=True), 1_700_000_000_000_000_000).to_json()


def ev(seq: int, kind: str, path: str, mono: int | None = None, **extra: Any) -> dict[str, Any]:
    body = {"seq": seq, "type": kind, "path": path, "is_dir": extra.pop("is_dir", False), "mono_ns": mono if mono is not None else seq * 1000}
    body.update(extra)
    return body


def write_jsonl(path: Path, records: list[dict[str, Any]], header: dict[str, Any] | None = HEADER) -> Path:
    lines = ([json.dumps(header)] if header is not None else []) + [json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = [
    ev(1, "exists", "a", is_dir=True),
    ev(2, "exists", "a/old.txt"),
    ev(3, "notice", "", detail="watching"),
    ev(4, "created", "a/new.txt"),
    ev(5, "modified", "a/new.txt"),
    ev(6, "closed", "a/new.txt"),
    ev(7, "moved", "a/new.txt", dest="b.txt"),
    ev(8, "deleted", "a/old.txt"),
    ev(9, "moved", "a", dest="c", is_dir=True),
    ev(10, "created", "c/again.txt"),
    ev(11, "deleted", "c", is_dir=True),
    ev(12, "created", "c", is_dir=True),
]


def test_a_clean_recording_passes(tmp_path: Path) -> None:
    report = verify_recording(str(write_jsonl(tmp_path / "ok.jsonl", GOOD)))
    assert report.exit_code == 0
    assert report.strict and report.records == 12 and report.violation_count == 0
    assert report.by_type["created"] == 3


@pytest.mark.parametrize(
    ("records", "rule", "message"),
    [
        ([ev(1, "created", "x"), ev(1, "deleted", "x")], "order", "seq 1 does not increase"),
        ([ev(1, "created", "x", mono=50), ev(2, "deleted", "x", mono=10)], "order", "mono_ns 10 goes backwards"),
        ([ev(1, "modified", "ghost")], "causality", "modified 'ghost', which never existed"),
        ([ev(1, "created", "x"), ev(2, "deleted", "x"), ev(3, "closed", "x")], "causality", "closed 'x', which was deleted or moved away at seq 2"),
        ([ev(1, "created", "x"), ev(2, "created", "x")], "causality", "created 'x', which already exists"),
        ([ev(1, "created", "d", is_dir=True), ev(2, "created", "d/f"), ev(3, "deleted", "d", is_dir=True), ev(4, "modified", "d/f")],
         "causality", "modified 'd/f', which was deleted or moved away at seq 3"),
        ([ev(1, "created", "x"), ev(2, "moved", "x", dest="y"), ev(3, "modified", "x")], "causality", "moved away at seq 2"),
        ([ev(1, "moved", "nowhere", dest="y")], "causality", "moved 'nowhere', which never existed"),
        ([ev(1, "created", "d", is_dir=True), ev(2, "moved", "d", dest="d/inner", is_dir=True)], "causality", "inside itself"),
        ([ev(1, "created", "x"), ev(2, "moved", "x", dest="x")], "causality", "onto itself"),
        ([ev(1, "created", "d", is_dir=True), ev(2, "moved", "d", dest="e")], "causality", "as a file, but it is a directory"),
    ],
)
def test_each_rule_is_reported_with_its_line(tmp_path: Path, records: list[dict[str, Any]], rule: str, message: str) -> None:
    report = verify_recording(str(write_jsonl(tmp_path / "bad.jsonl", records)))
    assert report.exit_code == 1
    assert any(v.rule == rule and message in v.message for v in report.violations), report.violations
    assert all(v.line is not None and v.line >= 2 for v in report.violations)


def test_without_baseline_unknown_paths_are_assumed_to_exist(tmp_path: Path) -> None:
    header = WatchHeader("live", WatchFilter(baseline=False), 0).to_json()
    records = [ev(1, "modified", "pre-existing"), ev(2, "deleted", "pre-existing"), ev(3, "modified", "pre-existing")]
    report = verify_recording(str(write_jsonl(tmp_path / "nb.jsonl", records, header)))
    assert not report.strict
    assert [v.seq for v in report.violations] == [3]  # the stream's own delete is still enforced


def test_headerless_stream_is_verified_leniently(tmp_path: Path) -> None:
    report = verify_recording(str(write_jsonl(tmp_path / "raw.jsonl", [ev(1, "modified", "a"), ev(2, "closed", "a")], None)))
    assert report.exit_code == 0 and report.header is None and not report.strict


def test_loss_window_relaxes_checks_until_resynced(tmp_path: Path) -> None:
    records = [
        ev(1, "exists", "a"),
        ev(2, "lost", "", lost=None, detail="kernel overflow"),
        ev(3, "deleted", "never-seen", reconciled=True),
        ev(4, "created", "a"),
        ev(5, "resynced", "", detail="done"),
        ev(6, "modified", "never-seen"),
    ]
    report = verify_recording(str(write_jsonl(tmp_path / "loss.jsonl", records)))
    assert [v.seq for v in report.violations] == [6]
    assert report.lost_markers == 1 and report.reconciled == 1


def test_malformed_and_missing_fields_have_their_own_exit_codes(tmp_path: Path) -> None:
    missing = write_jsonl(tmp_path / "missing.jsonl", [ev(1, "created", "x"), {"seq": 2, "type": "deleted", "path": "x"}])
    report = verify_recording(str(missing))
    assert report.exit_code == 4
    assert str(report.missing[0]) == f"{missing}:3: missing field: mono_ns"

    moved = write_jsonl(tmp_path / "nodest.jsonl", [ev(1, "created", "x"), {"seq": 2, "type": "moved", "path": "x", "mono_ns": 5}])
    assert verify_recording(str(moved)).missing[0].message == "missing field: dest"

    broken = tmp_path / "broken.jsonl"
    broken.write_text(json.dumps(HEADER) + "\n" + json.dumps(ev(1, "created", "x")) + "\n{not json\n" + json.dumps({"seq": 2, "path": "x"}) + "\n")
    report = verify_recording(str(broken))
    assert report.exit_code == 3  # malformed wins over missing fields
    assert report.malformed[0].line == 3 and "not JSON" in report.malformed[0].message
    assert report.missing_count == 1 and report.records == 1  # the rest is still read


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"[1, 2]\n", "must be a JSON object"),
        (json.dumps({"format": "something-else"}).encode() + b"\n", "not a driftdeck events recording"),
        (json.dumps(ev(1, "teleported", "x")).encode() + b"\n", "unknown event type 'teleported'"),
        (json.dumps({"seq": "1", "type": "created", "path": "x", "mono_ns": 1}).encode() + b"\n", "seq must be an integer"),
        (json.dumps({"seq": 1, "type": "created", "path": 7, "mono_ns": 1}).encode() + b"\n", "path must be a string"),
        (b'{"seq": 1, "type": "created", "path": "\xff\xfe", "mono_ns": 1}\n', "not UTF-8: byte 0xff at column 40"),
        (b"\x00\x01\x02binary\x00garbage", "not JSON"),
        (b'{"seq": 1, "type": "created", "path": "x", "mono_ns": 1}', None),  # no final newline: fine
        (b"\xef\xbb\xbf" + json.dumps(HEADER).encode() + b"\r\n" + json.dumps(ev(1, "created", "x")).encode() + b"\r\n", None),
        (b"\n\n" + json.dumps(ev(1, "created", "x")).encode() + b"\n\n", None),
    ],
)
def test_hostile_corpus_never_crashes(tmp_path: Path, content: bytes, reason: str | None) -> None:
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(content)
    report = verify_recording(str(path))
    if reason is None:
        assert report.exit_code == 0, report
    else:
        assert report.exit_code == 3 and reason in report.malformed[0].message, report.malformed


def test_huge_line_is_reported_and_skipped(tmp_path: Path) -> None:
    path = tmp_path / "huge.jsonl"
    huge = json.dumps(ev(2, "modified", "x", detail="y" * (2 << 20)))
    path.write_text(json.dumps(HEADER) + "\n" + json.dumps(ev(1, "created", "x")) + "\n" + huge + "\n" + json.dumps(ev(3, "deleted", "x")) + "\n")
    report = verify_recording(str(path))
    assert report.exit_code == 3 and "longer than" in report.malformed[0].message and report.malformed[0].line == 3
    assert report.records == 2


def test_unreadable_inputs_raise_typed_errors(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        verify_recording(str(tmp_path / "absent.jsonl"))
    with pytest.raises(UnreadableError, match="is a directory"):
        verify_recording(str(tmp_path))
    os.symlink("loop", tmp_path / "loop")
    with pytest.raises(UnreadableError):
        verify_recording(str(tmp_path / "loop"))
    os.symlink(tmp_path / "nothing", tmp_path / "dangling")
    with pytest.raises(NotFoundError):
        verify_recording(str(tmp_path / "dangling"))


def _events() -> list[FsEvent]:
    return [FsEvent.from_json(r) for r in GOOD]


@pytest.mark.parametrize("fmt", ["jsonl", "yaml"])
def test_writer_output_verifies_and_is_byte_stable(tmp_path: Path, fmt: str) -> None:
    header = WatchHeader("live", WatchFilter(baseline=True), 42)
    outputs = []
    for name in ("one", "two"):
        writer = RecordingWriter(str(tmp_path / f"{name}.{fmt}"), header, fmt)
        writer.write(_events()[:6])
        writer.write(_events()[6:])
        writer.close()
        outputs.append((tmp_path / f"{name}.{fmt}").read_bytes())
    assert outputs[0] == outputs[1]
    assert verify_recording(str(tmp_path / f"one.{fmt}")).exit_code == 0
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_yaml_written_by_hand_is_read_as_a_document(tmp_path: Path) -> None:
    path = tmp_path / "hand.yaml"
    path.write_text(
        "header:\n  format: driftdeck-events\n  version: 1\n  filter: {baseline: false}\n"
        "events:\n"
        "  - seq: 1\n    type: created\n    path: a\n    mono_ns: 10\n"
        "  - seq: 2\n    type: deleted\n    path: a\n    mono_ns: 5\n"
    )
    report = verify_recording(str(path))
    assert report.format == "yaml" and report.exit_code == 1
    assert report.violations[0].line == 10 and report.violations[0].rule == "order"

    broken = tmp_path / "broken.yaml"
    broken.write_text("header: [unclosed\n")
    report = verify_recording(str(broken))
    assert report.exit_code == 3 and "invalid YAML" in report.malformed[0].message


def test_empty_yaml_recording_is_valid(tmp_path: Path) -> None:
    writer = RecordingWriter(str(tmp_path / "empty.yaml"), WatchHeader(".", WatchFilter(), 0), "yaml")
    writer.close()
    assert (tmp_path / "empty.yaml").read_text().endswith("events: []\n")
    assert verify_recording(str(tmp_path / "empty.yaml")).exit_code == 0


# Property: a stream generated from a real sequence of operations on a model tree always verifies.

names = st.sampled_from(["a", "b", "c", "d"])
ops = st.lists(st.tuples(st.sampled_from(["create", "mkdir", "delete", "move", "modify"]), names, names, names), max_size=60)


def _simulate(operations: list[tuple[str, str, str, str]]) -> list[dict[str, Any]]:
    from backends.events.tree import Tree

    tree, out, seq = Tree(), [], 0

    def emit(kind: str, path: str, **extra: Any) -> None:
        nonlocal seq
        seq += 1
        out.append(ev(seq, kind, path, **extra))

    for op, x, y, z in operations:
        dirs = [p for p, d, _ in tree.walk() if d]
        parent = next((p for p in dirs if p.endswith(z)), "")
        path = f"{parent}/{x}" if parent else x
        if op in ("create", "mkdir") and not tree.exists(path):
            tree.add(path, op == "mkdir")
            emit("created", path, is_dir=op == "mkdir")
        elif op == "delete" and tree.exists(path):
            is_dir = tree.is_dir(path)
            tree.remove(path)
            emit("deleted", path, is_dir=is_dir)
        elif op == "modify" and tree.exists(path) and not tree.is_dir(path):
            emit("modified", path)
        elif op == "move" and tree.exists(path):
            dest = f"{parent}/{y}" if parent else y
            if dest != path and not dest.startswith(path + "/"):
                is_dir = tree.is_dir(path)
                tree.move(path, dest)
                emit("moved", path, dest=dest, is_dir=is_dir)
    return out


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(ops)
def test_any_consistent_stream_verifies(tmp_path: Path, operations: list[tuple[str, str, str, str]]) -> None:
    path = write_jsonl(tmp_path / "prop.jsonl", _simulate(operations))
    report = verify_recording(str(path))
    assert report.exit_code == 0, report.violations


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(data)
    report = verify_recording(str(path))
    assert report.exit_code in (0, 1, 3, 4)


def test_at_most_fifty_problems_of_each_kind_are_listed_and_all_are_counted(tmp_path: Path) -> None:
    # 240 records whose seq falls at every step (239 order violations), then 60 malformed lines
    records = [ev(240 - i, "modified", f"f{i}", mono=i) for i in range(240)]
    path = write_jsonl(tmp_path / "many.jsonl", records, header={**HEADER, "filter": {"types": ["modified"]}})
    with open(path, "a") as handle:
        handle.write("not json\n" * 60)
    report = verify_recording(str(path))
    assert report.order_violations == 239
    assert len([v for v in report.violations if v.rule == "order"]) == 50
    assert report.malformed_count == 60 and len(report.malformed) == 50
    assert report.violations[0].line == 3  # the first ones are listed, in order
