"""The WAL validator: a golden file covering every problem code, and hostile inputs."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from backends.wal.validate import CODES, WalProblem, WalValidation, validate_wal_file
from tests.backends.test_wal_corpus import event, line, write

GOLDEN = [
    (1, "bom", "warning", "the file starts with a UTF-8 byte-order mark"),
    (3, "blank-line", "warning", "blank line"),
    (4, "not-json", "error", "invalid JSON at column 16: unexpected character, expected a string key"),
    (5, "invalid-utf8", "error", "invalid UTF-8 (byte 0xe9 at column 36)"),
    (6, "not-object", "error", "expected a JSON object, found array"),
    (7, "missing-field", "error", "required field 'id' is missing"),
    (8, "mistyped-field", "error", "field 'id' should be an integer, found string '3'"),
    (9, "unsupported-version", "error", "v is 3, expected 2"),
    (10, "duplicate-key", "error", "key 'a' appears more than once in an object (the last one wins)"),
    (11, "id-repeat", "error", "id 4 repeats the id of line 10"),
    (11, "ts-backwards", "warning", "ts_ms 1040 is 20 ms before an earlier event's 1060"),
    (12, "id-backwards", "error", "id 2 comes after id 4 (line 11)"),
    (12, "ts-backwards", "warning", "ts_ms 1020 is 40 ms before an earlier event's 1060"),
    (13, "ts-backwards", "warning", "ts_ms 10 is 1050 ms before an earlier event's 1060"),
    (14, "mixed-run-id", "error", "run_id 'run-2' differs from 'run-1' (line 1)"),
    (15, "id-gap", "warning", "id jumps from 6 to 9 (2 ids missing)"),
    (16, "crlf", "warning", "the line ends with CRLF (further CRLF lines are not reported)"),
    (18, "torn-tail", "warning", "the last line is incomplete (no newline): a torn tail, not corruption"),
]


def golden_file(tmp_path: Path) -> Path:
    return write(
        tmp_path / "all.jsonl",
        b"\xef\xbb\xbf" + line(event(1)),
        event(2),
        b"\n",
        b'{"v":2,"id":3, oops\n',
        b'{"v":2,"id":3,"ts_ms":1,"kind":"caf\xe9"}\n',
        b"[1,2]\n",
        line({"v": 2, "ts_ms": 1050, "kind": "X"}),
        line({"v": 2, "id": "3", "ts_ms": 1050, "kind": "X"}),
        line({"v": 3, "id": 3, "ts_ms": 1050, "kind": "X", "run_id": "run-1"}),
        b'{"v":2,"id":4,"ts_ms":1060,"run_id":"run-1","kind":"X","payload":{"a":1,"a":2}}\n',
        event(4),
        event(2),
        event(5, ts=10),
        event(6, run="run-2"),
        event(9),
        line(event(10))[:-1] + b"\r\n",
        line(event(11))[:-1] + b"\r\n",
        b'{"v":2,"id":12,"ts_m',
    )


def run(path: Path, **kwargs) -> tuple[list[WalProblem], WalValidation]:
    items = list(validate_wal_file(str(path), path.name, **kwargs))
    summary = items[-1]
    assert isinstance(summary, WalValidation)
    return [i for i in items if isinstance(i, WalProblem)], summary


def test_golden_file_reports_every_line_level_code_in_order(tmp_path: Path) -> None:
    problems, summary = run(golden_file(tmp_path))
    assert [(p.line, p.code, p.severity, p.message) for p in problems] == GOLDEN
    assert summary.lines == 18 and summary.events == 11
    assert (summary.errors, summary.warnings, summary.torn_tail) == (10, 8, 18)
    assert (summary.first_id, summary.last_id, summary.run_id) == (1, 11, "run-1")
    assert summary.by_code["ts-backwards"] == 3
    assert str(problems[2]) == "all.jsonl:4: not-json (error): invalid JSON at column 16: unexpected character, expected a string key"


def test_every_code_is_covered_by_the_golden_tests() -> None:
    covered = {code for _, code, _, _ in GOLDEN} | {"empty-file"}
    assert covered == set(CODES)


def test_a_valid_file_has_no_problems(tmp_path: Path) -> None:
    problems, summary = run(write(tmp_path / "ok.jsonl", *(event(i) for i in range(1, 51))))
    assert problems == [] and summary.problems == 0
    assert (summary.lines, summary.events, summary.first_id, summary.last_id) == (50, 50, 1, 50)


def test_empty_file_is_a_warning(tmp_path: Path) -> None:
    problems, summary = run(write(tmp_path / "empty.jsonl"))
    assert [(p.line, p.code) for p in problems] == [(1, "empty-file")]
    assert summary.lines == 0 and summary.warnings == 1


@pytest.mark.parametrize(
    ("tail", "message"),
    [
        (b'{"v":2,"id":3,"ts_ms":1030,"kind":"X"}', "the last line has no newline (the writer stopped before ending it)"),
        (b'{"v":2,"id":3,"ts_ms":10\n', "the last line is incomplete (cut mid-JSON): a torn tail, not corruption"),
        (b'{"v":2,"id":3,"kind":"caf\xc3', "the last line is incomplete (no newline): a torn tail, not corruption"),
    ],
    ids=["complete-json-no-newline", "cut-mid-json-with-newline", "cut-mid-utf8"],
)
def test_torn_tail_variants_are_torn_not_corruption(tmp_path: Path, tail: bytes, message: str) -> None:
    problems, summary = run(write(tmp_path / "torn.jsonl", event(1), event(2), tail))
    assert [(p.line, p.code, p.message) for p in problems] == [(3, "torn-tail", message)]
    assert summary.torn_tail == 3 and summary.errors == 0


def test_corruption_in_the_middle_is_an_error_not_a_torn_tail(tmp_path: Path) -> None:
    problems, _ = run(write(tmp_path / "mid.jsonl", event(1), b'{"v":2,"id":2,"ts\n', event(3)))
    assert [(p.line, p.code, p.severity) for p in problems] == [(2, "not-json", "error"), (3, "id-gap", "warning")]


def test_trailing_blank_line_is_blank_not_torn(tmp_path: Path) -> None:
    problems, summary = run(write(tmp_path / "blank.jsonl", event(1), b"   "))
    assert [(p.line, p.code) for p in problems] == [(2, "blank-line")]
    assert summary.torn_tail is None


def test_problem_cap_counts_everything_but_lists_at_most_the_cap(tmp_path: Path) -> None:
    path = write(tmp_path / "bad.jsonl", *(b"nope\n" for _ in range(30)), event(1))
    problems, summary = run(path, max_problems=5)
    assert len(problems) == 5 and summary.shown == 5
    assert summary.by_code == {"not-json": 30} and summary.errors == 30


def test_huge_line_is_parsed(tmp_path: Path) -> None:
    big = event(2, blob="x" * 3_000_000)
    problems, summary = run(write(tmp_path / "huge.jsonl", event(1), big, event(3)))
    assert problems == [] and summary.events == 3


def test_binary_file_is_reported_not_crashed(tmp_path: Path) -> None:
    path = tmp_path / "blob.jsonl"
    path.write_bytes(bytes(range(256)) * 40)
    problems, summary = run(path)
    assert problems and summary.errors >= 1
    assert {p.code for p in problems} <= {"not-json", "invalid-utf8", "torn-tail", "blank-line"}


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=12))
@example(chunks=[b"\xef\xbb\xbf"])  # only a byte-order mark: was a torn tail at line 0
def test_arbitrary_bytes_never_crash_and_account_for_every_line(tmp_path_factory, chunks: list[bytes]) -> None:
    path = tmp_path_factory.mktemp("fuzz") / "x.jsonl"
    path.write_bytes(b"\n".join(chunks))
    problems, summary = run(path)
    assert summary.complete
    assert all(1 <= p.line <= max(1, summary.lines) for p in problems)
    assert summary.events <= summary.lines


# Two processes: the second half of a large file is validated by another interpreter and merged.

LINE_KINDS = st.sampled_from(["ok", "ok", "ok", "ok", "gap", "repeat", "back", "ts-back", "run", "blank", "junk", "crlf",
                              "dup", "noid"])


def mutated(number: int, what: str) -> bytes:
    """Line ``number`` of a file, well formed or broken in the way ``what`` says."""
    body = event(number)
    if what == "gap":
        body["id"] = number + 3
    elif what == "repeat":
        body["id"] = number - 1
    elif what == "back":
        body["id"] = max(0, number - 5)
    elif what == "ts-back":
        body["ts_ms"] = 5
    elif what == "run":
        body["run_id"] = "run-2"
    elif what == "blank":
        return b"\n"
    elif what == "junk":
        return b'{"v":2,"id":\n'
    elif what == "crlf":
        return line(body)[:-1] + b"\r\n"
    elif what == "dup":
        return line(body)[:-2] + b',"id":1}\n'
    elif what == "noid":
        del body["id"]
    return line(body)


@settings(max_examples=40, deadline=None)
@given(st.lists(LINE_KINDS, min_size=2, max_size=40), st.sampled_from([b"", b"\n", b'{"v":2,"id":9']), st.integers(1, 4))
def test_two_processes_report_exactly_what_one_pass_reports(tmp_path_factory, kinds: list[str], tail: bytes, cap: int) -> None:
    path = tmp_path_factory.mktemp("split") / "w.jsonl"
    write(path, *[mutated(n, k) for n, k in enumerate(kinds, 1)], tail)
    for limit in (cap, 10_000):
        one = run(path, split_bytes=None, max_problems=limit)
        two = run(path, split_bytes=1, max_problems=limit)
        assert [str(p) for p in two[0]] == [str(p) for p in one[0]]
        assert two[1] == one[1]


def test_the_second_half_is_merged_when_the_first_ends_as_assumed(tmp_path: Path) -> None:
    """A clean file: the other process's findings are used (not re-read here), with line numbers shifted."""
    from backends.wal.halves import Half
    from backends.wal.reader import LineReader

    events = [event(n) for n in (*range(1, 151), *range(154, 204))]  # a gap in the second half, at line 151
    path = write(tmp_path / "w.jsonl", *events)
    with LineReader(str(path), "w.jsonl") as reader:
        half = Half.start(str(path), reader, 1, 100)
        assert half is not None
        result = half.result()
        half.close()
    assert result is not None and half.first_lines + half.lines == 200
    assert result["assumed"] == [half.first_lines + 1, 1000 + 10 * half.first_lines, "run-1"]
    assert [(half.first_lines + p[0], p[1]) for p in result["problems"]] == [(151, "id-gap")]
    problems, summary = run(path, split_bytes=1)
    assert [(p.line, p.code, p.message) for p in problems] == [(151, "id-gap", "id jumps from 150 to 154 (3 ids missing)")]
    assert (summary.lines, summary.events, summary.last_id, summary.size) == (200, 200, 203, path.stat().st_size)
