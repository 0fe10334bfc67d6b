"""The go-to target parser shared by ``--goto`` and the ``:`` line, and its completion."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui.goto import KINDS, GotoError, GotoTarget, complete, parse_goto


@pytest.mark.parametrize(
    ("text", "target"),
    [
        ("run:run-20261101-1325-d5a51a", GotoTarget("run", "run-20261101-1325-d5a51a")),
        (":run run-1", GotoTarget("run", "run-1")),
        ("  RUN   run-1  ", GotoTarget("run", "run-1")),
        ("wal:run-7", GotoTarget("wal", "run-7")),
        ("line:042", GotoTarget("line", "42")),
        ("line 7", GotoTarget("line", "7")),
        ("path:live/capture 1.log", GotoTarget("path", "live/capture 1.log")),
        ("path dir/a:b.txt", GotoTarget("path", "dir/a:b.txt")),
        ("manifest:fixtures/golden/SHA256SUMS", GotoTarget("manifest", "fixtures/golden/SHA256SUMS")),
        ("snap:baseline-2026-11-01..candidate-2026-11-08", GotoTarget("snap", "baseline-2026-11-01", "candidate-2026-11-08")),
        ("snap baseline candidate", GotoTarget("snap", "baseline", "candidate")),
        ("snap a.b..c", GotoTarget("snap", "a.b", "c")),
    ],
)
def test_both_forms_parse(text: str, target: GotoTarget) -> None:
    assert parse_goto(text) == target


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "nothing to go to"),
        (":", "nothing to go to"),
        ("job:1", "unknown target 'job'; give one of run:ID"),
        ("run:", "run: needs a value (run:ID)"),
        ("run:   ", "run: needs a value"),
        ("line:0", "not a line number"),
        ("line:-3", "not a line number"),
        ("line:12a", "not a line number"),
        ("line:٣", "not a line number"),  # a digit, but not an ASCII one
        ("snap:only-one", "names one snapshot; give two"),
        ("snap:a..", "needs a baseline and a candidate"),
    ],
)
def test_bad_targets_say_what_is_accepted(text: str, message: str) -> None:
    with pytest.raises(GotoError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_goto(text)


name = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=30)
snapshot_name = name.filter(lambda n: ".." not in n and not n.startswith(".") and not n.endswith("."))


@given(st.sampled_from([k for k in KINDS if k not in ("line", "snap")]), name)
def test_the_command_line_form_reads_back(kind: str, value: str) -> None:
    target = GotoTarget(kind, value)
    assert parse_goto(str(target)) == target
    assert parse_goto(f":{kind} {value}") == target


@given(st.integers(min_value=1, max_value=10**12))
def test_line_numbers_read_back(number: int) -> None:
    assert parse_goto(str(GotoTarget("line", str(number)))).line == number


@given(snapshot_name, snapshot_name)
def test_snapshot_pairs_read_back(baseline: str, candidate: str) -> None:
    target = GotoTarget("snap", baseline, candidate)
    assert parse_goto(str(target)) == target


@given(st.text(max_size=60))
def test_any_text_parses_or_says_why(text: str) -> None:
    try:
        target = parse_goto(text)
    except GotoError as exc:
        assert str(exc)
    else:
        assert target.kind in KINDS and target.value.strip()


CANDIDATES = {
    "run": ["run-20261101-1325-d5a51a", "run-20261101-1445-06826e"],
    "snap": ["baseline-2026-11-01", "candidate-2026-11-08"],
    "manifest": ["fixtures/golden/SHA256SUMS"],
}


@pytest.mark.parametrize(
    ("typed", "completion"),
    [
        ("ma", "manifest "),
        ("r", "run "),
        ("run run-20261101-14", "run run-20261101-1445-06826e"),
        ("manifest fix", "manifest fixtures/golden/SHA256SUMS"),
        ("snap base", "snap baseline-2026-11-01"),
        ("snap baseline-2026-11-01 cand", "snap baseline-2026-11-01 candidate-2026-11-08"),
        ("run zzz", None),
        ("run run-20261101-1325-d5a51a", None),  # complete already
        ("", None),
        ("x", None),
    ],
)
def test_completion_offers_kinds_then_known_values(typed: str, completion: str | None) -> None:
    assert complete(typed, CANDIDATES) == completion
