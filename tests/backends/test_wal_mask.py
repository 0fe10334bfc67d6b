"""Masked byte comparison of WAL lines: agrees with parsing both lines, and takes the fast path where it should."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.wal.compare import field_changes
from backends.wal.diff import WalDiffSummary, WalDivergence, diff_wal_files
from backends.wal.mask import key_token, masked_equal
from backends.wal.rules import CompiledRules, WalRules

TS = (key_token("ts_ms"),)
BOTH = (key_token("ts_ms"), key_token("seen"))

# Text that tries to fool a byte search: the key's spelling inside strings, quotes, escapes, braces.
TRICKY = st.sampled_from(['"ts_ms":', 'a"b', "back\\slash", "{", "}", "[", ",", "é", "\u2028", '\\"ts_ms\\":1', "seen"])
KEYS = st.sampled_from(["ts_ms", "seen", "id", "kind", "payload", "a", "ts_m", "ts_ms ", "é"])
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8), TRICKY,
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(KEYS, inner, max_size=4)), max_leaves=8)
TIMES = st.one_of(st.integers(0, 2**63 - 1), st.integers(-(2**63), -1), st.floats(allow_nan=False, allow_infinity=False),
                  st.sampled_from([0, 1, 10**18, 1e300, -0.0]), SCALARS)
EVENTS = st.dictionaries(KEYS, VALUES, max_size=6)


def render(value: dict[str, Any], style: int) -> bytes:
    """One line of JSON in one of several layouts writers use (all valid JSON)."""
    if style == 0:
        return orjson.dumps(value)
    if style == 1:
        return json.dumps(value).encode()  # spaces after ':' and ',', \\u escapes for non-ASCII
    if style == 2:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()
    if style == 3:
        return json.dumps(dict(reversed(list(value.items()))), separators=(",", ":")).encode()
    text = orjson.dumps(value).decode()
    return text.replace("e+", "E").replace(".0,", ".0e0,").encode()  # exponent forms (may not parse: checked)


def equal_by_parsing(a: bytes, b: bytes, rules: WalRules) -> bool | None:
    """What the parse-everything path decides: equal under the rules (None: a line is not an event)."""
    try:
        ea, eb = orjson.loads(a), orjson.loads(b)
    except orjson.JSONDecodeError:
        return None
    if type(ea) is not dict or type(eb) is not dict:
        return None
    compiled = CompiledRules(rules)
    compiled.drop_ignored(ea)
    compiled.drop_ignored(eb)
    return ea == eb or not field_changes(ea, eb, rules.float_tolerance)


@settings(max_examples=800, deadline=None)
@given(EVENTS, TIMES, TIMES, st.integers(0, 4), st.integers(0, 4), st.sampled_from([None, "first", "last"]),
       st.booleans(), st.booleans())
def test_masked_equal_never_says_equal_when_parsing_says_different(
    body: dict[str, Any], ts_a: Any, ts_b: Any, style_a: int, style_b: int, nest: str | None, top_same: bool, seen: bool,
) -> None:
    nested = {"payload": {"ts_ms": ts_a, "note": '"ts_ms":1'}}, {"payload": {"ts_ms": ts_b, "note": '"ts_ms":1'}}
    if nest is None:
        nested = {}, {}
    top = (ts_a, ts_a) if top_same else (ts_a, ts_b)  # with nesting and the same top value, only the nested key differs
    a = {"v": 2, **(nested[0] if nest == "first" else {}), **body, "ts_ms": top[0], **(nested[0] if nest == "last" else {})}
    b = {"v": 2, **(nested[1] if nest == "first" else {}), **body, "ts_ms": top[1], **(nested[1] if nest == "last" else {})}
    if seen:
        a["seen"], b["seen"] = ts_b, ts_a
    la, lb = render(a, style_a), render(b, style_b)
    truth = equal_by_parsing(la, lb, WalRules.build(ignore=["seen"]))
    if masked_equal(la, lb, BOTH):
        assert truth is True, (la, lb)
    truth = equal_by_parsing(la, lb, WalRules())
    if masked_equal(la, lb, TS):
        assert truth is True, (la, lb)


@settings(max_examples=300, deadline=None)
@given(EVENTS, VALUES, st.integers(0, 2))
def test_any_other_difference_is_never_masked(body: dict[str, Any], other: Any, style: int) -> None:
    a = {"v": 2, "ts_ms": 1, **body, "x": other}
    b = {"v": 2, "ts_ms": 2, **body, "x": [other]}
    assert not masked_equal(render(a, style), render(b, style), TS)


def test_the_common_layouts_take_the_fast_path() -> None:
    """Compact lines that differ only in the timestamp are shown equal without parsing, whatever the number's form."""
    record = {"v": 2, "id": 7, "ts_ms": 1_793_000_000_034, "run_id": "r", "kind": "K", "payload": {"ts_ms": 5, "s": '"ts_ms":3'}}
    for replay_ts in (1_793_000_005_012, 0, -3, 1.5, 2.5e-3, 1e20, 2**64 - 1):
        assert masked_equal(orjson.dumps(record), orjson.dumps(dict(record, ts_ms=replay_ts)), TS)
    assert masked_equal(b'{"v":2, "ts_ms": 1e3, "k":"x"}\n', b'{"v":2, "ts_ms": -12.5E-7 , "k":"x"}\n', TS)
    assert masked_equal(b'{"a":1,"ts_ms":1}\n', b'{"a":1,"ts_ms":22}\n', TS)  # the last key, ended by '}'
    assert masked_equal(b'{"ts_ms":1,"seen":3,"k":1}', b'{"ts_ms":2,"seen":4,"k":1}', BOTH)


def test_ambiguous_lines_are_left_to_the_parser() -> None:
    """Each of these is equal or not only by parsing; the mask must not decide."""
    cases = [
        (b'{"payload":{"ts_ms":1},"ts_ms":1}', b'{"payload":{"ts_ms":2},"ts_ms":1}'),  # nested key found first
        (b'{"s":"\\"","ts_ms":1}', b'{"s":"\\"","ts_ms":2}'),  # an escape before the key
        (b'{"s":"x\\"ts_ms\\":1"}', b'{"s":"x\\"ts_ms\\":2"}'),  # the key spelled inside a string
        (b'{"ts_ms":"1"}', b'{"ts_ms":"2"}'),  # a string value
        (b'{"ts_ms" :1}', b'{"ts_ms" :2}'),  # whitespace before the colon
        (b'{"ts_ms":01}', b'{"ts_ms":1}'),  # not a JSON number
        (b'{"ts_ms":1e400}', b'{"ts_ms":1}'),  # infinite: orjson refuses the line
        (b'{"ts_\\u006ds":1}', b'{"ts_\\u006ds":2}'),  # the key spelled with an escape
        (b'[{"ts_ms":1}]', b'[{"ts_ms":2}]'),  # not an object
    ]
    for a, b in cases:
        assert not masked_equal(a, b, TS), (a, b)


def run_diff(tmp_path: Path, record: list[bytes], replay: list[bytes], rules: WalRules) -> tuple[list[WalDivergence], WalDiffSummary]:
    (tmp_path / "a.jsonl").write_bytes(b"".join(line + b"\n" for line in record))
    (tmp_path / "b.jsonl").write_bytes(b"".join(line + b"\n" for line in replay))
    items = list(diff_wal_files(str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "a", "b", rules))
    summary = items[-1]
    assert isinstance(summary, WalDiffSummary)
    return [i for i in items if isinstance(i, WalDivergence)], summary


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(EVENTS, TIMES, TIMES, st.integers(0, 3), st.booleans()), min_size=1, max_size=12))
def test_diff_reports_exactly_the_rows_parsing_finds_different(tmp_path: Path, rows: list[Any]) -> None:
    """The whole diff against the parse-everything reference: same changed rows, same matched and identical counts."""
    record, replay, expected = [], [], []
    for number, (body, ts_a, ts_b, style, nested) in enumerate(rows, 1):
        a = {"v": 2, "id": number, "ts_ms": ts_a, **{k: v for k, v in body.items() if k != "id"}}
        b = dict(a, ts_ms=ts_b)
        if nested:
            a["payload"], b["payload"] = {"ts_ms": ts_a}, {"ts_ms": ts_b}
        la, lb = render(a, style), render(b, 0)
        if equal_by_parsing(la, lb, WalRules()) is None:
            la, lb = orjson.dumps(a), orjson.dumps(b)  # the exponent layout can make a line unreadable: keep events
        record.append(la)
        replay.append(lb)
        if not equal_by_parsing(la, lb, WalRules()):
            expected.append(number)
    found, summary = run_diff(tmp_path, record, replay, WalRules())
    assert [(d.kind, d.record_line) for d in found] == [("changed", n) for n in expected]
    assert summary.matched == len(rows) - len(expected)
    assert summary.identical == sum(1 for a, b in zip(record, replay, strict=True) if a == b)


def test_wall_clock_replay_of_a_thousand_events_is_parity(tmp_path: Path) -> None:
    """Every line differs in ts_ms only: all matched, none byte-identical, the one real change found."""
    record = [orjson.dumps({"v": 2, "id": i, "ts_ms": 1000 + i, "kind": "K", "payload": {"n": i}}) for i in range(1, 1001)]
    replay = [orjson.dumps({"v": 2, "id": i, "ts_ms": 9000 + 3 * i, "kind": "K", "payload": {"n": i if i != 500 else -1}})
              for i in range(1, 1001)]
    found, summary = run_diff(tmp_path, record, replay, WalRules())
    assert [(d.record_line, d.changes[0].path) for d in found] == [(500, "payload.n")]
    assert (summary.matched, summary.identical) == (999, 0)


def test_a_rule_index_that_is_a_digit_but_not_ascii_names_no_item() -> None:
    """``items.²``: "²" is a digit to ``str.isdigit`` and ``int()`` raised on it; it is a key no list has."""
    event = {"items": [1, 2], "payload": {"²": 3}}
    CompiledRules(WalRules.build(ignore=["items.²", "payload.²"])).drop_ignored(event)
    assert event == {"items": [1, 2], "payload": {}}
