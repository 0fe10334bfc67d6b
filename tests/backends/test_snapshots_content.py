"""Content diffs of one entry: unified, side-by-side, structured, binary; fallbacks say why."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import orjson
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backends.snapshots.content import entry_content
from backends.snapshots.models import EntryContent, SnapshotRules
from backends.snapshots.structured import parse
from backends.snapshots.textdiff import intra_spans, opcodes, render_unified, unified


def pair(tmp_path: Path, name: str, a: bytes | None, b: bytes | None) -> tuple[str | None, str | None]:
    paths = []
    for side, data in (("a", a), ("b", b)):
        if data is None:
            paths.append(None)
            continue
        path = tmp_path / side / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append(str(path))
    return paths[0], paths[1]


def test_unified_golden_with_intra_line_spans(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "n.md", b"one\ntwo\nthree apples\nfour\n", b"one\ntwo\nthree pears\nfour\nfive\n")
    content = entry_content(a, b, "n.md", context=1)
    assert content.mode == "unified"
    assert [(ln.tag, ln.old, ln.new, ln.text) for ln in content.lines] == [
        ("@", None, None, "@@ -2,3 +2,4 @@"),
        (" ", 2, 2, "two"),
        ("-", 3, None, "three apples"),
        ("+", None, 3, "three pears"),
        (" ", 4, 4, "four"),
        ("+", None, 5, "five"),
    ]
    assert content.lines[2].spans == ((6, 12),) and content.lines[3].spans == ((6, 11),)
    text = render_unified(content.lines, "a/n.md", "b/n.md")
    assert text.startswith("--- a/n.md\n+++ b/n.md\n@@ -2,3 +2,4 @@\n two\n-three apples\n+three pears\n")


def test_unified_matches_difflib_line_for_line(tmp_path: Path) -> None:
    import difflib

    old = [f"line {i}\n" for i in range(60)]
    new = list(old)
    new[5] = "changed 5\n"
    del new[30:33]
    new.insert(50, "inserted\n")
    a, b = pair(tmp_path, "x.txt", "".join(old).encode(), "".join(new).encode())
    ours = render_unified(entry_content(a, b, "x.txt").lines, "a", "b")
    theirs = "".join(difflib.unified_diff(old, new, "a", "b"))
    assert ours == theirs


def test_side_by_side_pairs_changed_lines(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "s.txt", b"a\nb\nc\n", b"a\nB\nc\nd\n")
    content = entry_content(a, b, "s.txt", mode="side")
    assert content.mode == "side"
    assert [(r.tag, r.old, r.left, r.new, r.right) for r in content.rows] == [
        ("@", None, "@@ -1,3 +1,4 @@", None, ""),
        (" ", 1, "a", 1, "a"),
        ("!", 2, "b", 2, "B"),
        (" ", 3, "c", 3, "c"),
        ("+", None, "", 4, "d"),
    ]


def test_ignored_lines_are_tagged_not_hidden(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "t.log", b"2026-11-01T00:00:00Z start\nbody\n", b"2026-11-08T00:00:00Z start\nbody\n")
    rules = SnapshotRules(ignore_lines=(r"^\S+Z ",))
    content = entry_content(a, b, "t.log", rules)
    assert [ln.tag for ln in content.lines] == ["@", "~", " "]
    off = entry_content(a, b, "t.log", SnapshotRules(ignore_lines=(r"^\S+Z ",), apply=False))
    assert [ln.tag for ln in off.lines] == ["@", "-", "+", " "]


def test_line_endings_and_missing_final_newline_are_visible(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "h.txt", b"x\ny\n", b"x\r\ny\r\n")
    content = entry_content(a, b, "h.txt")
    assert "only line endings differ (␍ marks a carriage return)" in content.notes
    assert [ln.text for ln in content.lines if ln.tag == "+"] == ["x␍", "y␍"]
    a, b = pair(tmp_path / "eol", "e.txt", b"x\ny\n", b"x\ny")
    content = entry_content(a, b, "e.txt")
    assert "no newline at end of file in the candidate" in content.notes
    assert [ln.tag for ln in content.lines] == ["@", " ", "-", "+"]


def test_added_and_removed_files_diff_against_nothing(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "new.txt", None, b"hello\n")
    content = entry_content(a, b, "new.txt")
    assert [(ln.tag, ln.text) for ln in content.lines] == [("@", "@@ -0,0 +1 @@"), ("+", "hello")]


def test_structured_json_yaml_jsonl(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "r.json", b'{"summary": {"failed": 0, "passed": 7}, "ts": 1}',
                b'{"summary": {"failed": 1, "passed": 6}, "ts": 2, "new": true}')
    content = entry_content(a, b, "r.json", SnapshotRules(exclude_fields=("ts",)))
    assert content.mode == "structured"
    rows = {(f.kind, f.path, f.old, f.new, f.ignored) for f in content.fields}
    assert rows == {
        ("changed", "summary.failed", "0", "1", False),
        ("changed", "summary.passed", "7", "6", False),
        ("changed", "ts", "1", "2", True),
        ("added", "new", None, "true", False),
    }
    failed = next(f for f in content.fields if f.path == "summary.failed")
    assert failed.parent == '{"failed":1,"passed":6}'

    a, b = pair(tmp_path, "v.yaml", b"rule:\n  max: 12\n  sev: high\n", b"rule:\n  max: 9.5\n  sev: high\n")
    content = entry_content(a, b, "v.yaml")
    assert [(f.kind, f.path, f.old, f.new) for f in content.fields] == [("type_changed", "rule.max", "12", "9.5")]

    spans_a = b"".join(orjson.dumps({"span_id": f"s{i}", "ms": i}) + b"\n" for i in range(50))
    spans_b = b"".join(orjson.dumps({"span_id": f"s{i}", "ms": i * (2 if i == 7 else 1)}) + b"\n"
                       for i in reversed(range(50)))
    a, b = pair(tmp_path, "s.jsonl", spans_a, spans_b)
    content = entry_content(a, b, "s.jsonl")
    assert content.records == (50, 50, 1)
    assert [(f.path, f.old, f.new, f.context) for f in content.fields] == [("span_id=s7 › ms", "7", "14", "line 8 → line 43")]


def test_structured_records_added_removed_and_malformed_lines(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "e.jsonl", b'{"id": 1}\n{"id": 2}\n{"id": 3, broken\n',
                b'\xef\xbb\xbf{"id": 1}\n{"id": 4}\n{"id": 3, broken\n')
    content = entry_content(a, b, "e.jsonl")
    assert content.mode == "structured"
    assert {(f.kind, f.path) for f in content.fields} == {("removed", "id=2"), ("added", "id=4")}
    assert any("invalid JSON" in note for note in content.notes)


def test_broken_json_falls_back_to_a_line_diff_and_says_where(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "bad.json", b'{\n  "a": 1\n}\n', b'{\n  "a": 1,\n}\n')
    content = entry_content(a, b, "bad.json")
    assert content.mode == "unified"
    assert any("candidate bad.json:2: invalid JSON" in note and "line diff" in note for note in content.notes)


def test_structured_size_threshold_falls_back(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "big.json", b'{"a": 1}', b'{"a": 2}')
    content = entry_content(a, b, "big.json", SnapshotRules(structured_max_bytes=4))
    assert content.mode == "unified"
    assert any("structured diff skipped" in note for note in content.notes)


def test_binary_shows_sizes_hashes_and_first_difference(tmp_path: Path) -> None:
    data_a, data_b = b"\x00" * 100 + b"a", b"\x00" * 100 + b"b" + b"tail"
    a, b = pair(tmp_path, "x.bin", data_a, data_b)
    content = entry_content(a, b, "x.bin")
    assert content.mode == "binary"
    assert (content.size_a, content.size_b) == (101, 105)
    assert content.sha256_a == hashlib.sha256(data_a).hexdigest()
    assert content.sha256_b == hashlib.sha256(data_b).hexdigest()
    assert "first difference at byte 100" in content.notes
    forced = entry_content(*pair(tmp_path / "t", "t.txt", b"x\n", b"y\n"), "t.txt", mode="binary")
    assert forced.mode == "binary" and forced.sha256_a == hashlib.sha256(b"x\n").hexdigest()


def test_invalid_utf8_is_replaced_and_noted(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "l.txt", b"caf\xe9\n", b"cafe\n")
    content = entry_content(a, b, "l.txt")
    assert any("not valid UTF-8" in note for note in content.notes)
    assert content.lines[1].text == "caf\ufffd"


def test_symlinks_and_directories_have_no_content_diff(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    os.symlink("loop", tmp_path / "a" / "loop")
    (tmp_path / "b" / "loop").mkdir()
    content = entry_content(str(tmp_path / "a" / "loop"), str(tmp_path / "b" / "loop"), "loop")
    assert content.mode == "none"
    assert content.notes == ("baseline: symlink -> loop", "candidate: directory")


def test_content_round_trips_through_json(tmp_path: Path) -> None:
    a, b = pair(tmp_path, "r.json", b'{"a": [1, 2]}', b'{"a": [1, 3]}')
    for mode in ("auto", "unified", "side", "binary"):
        content = entry_content(a, b, "r.json", mode=mode)
        assert EntryContent.from_json(orjson.loads(orjson.dumps(content.to_json()))) == content


def test_intra_spans_merge_a_changed_phrase() -> None:
    left, right = intra_spans("check flaky on partition 9", "check fixed in validator 2.8.2")
    assert left == ((6, 26),) and right == ((6, 30),)


@settings(max_examples=60, deadline=None)
@given(a=st.lists(st.sampled_from(["x", "y", "z", "", "x y"]), max_size=15),
       b=st.lists(st.sampled_from(["x", "y", "z", "", "x y"]), max_size=15))
def test_unified_lines_rebuild_both_sides(a: list[str], b: list[str]) -> None:
    lines, _ = unified(a, b, opcodes(a, b), context=10_000)
    old = [ln.text for ln in lines if ln.tag in (" ", "-")]
    new = [ln.text for ln in lines if ln.tag in (" ", "+")]
    if a != b:
        assert old == a and new == b
    else:
        assert lines == []


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=400), fmt=st.sampled_from(["json", "yaml", "jsonl"]))
@example(data=b"when: 2026-13-01\n", fmt="yaml")  # PyYAML's timestamp constructor raised ValueError (month 13)
@example(data=b"a: [1, !!bool maybe]\n", fmt="yaml")  # and its bool constructor KeyError
def test_parsers_never_crash_on_garbage(data: bytes, fmt: str) -> None:
    from backends.errors import MalformedError

    try:
        parse(data, fmt, "x", ("id",))
    except MalformedError as exc:
        assert str(exc).startswith("x")
