"""Record/replay parity diffs: golden cases, rules, redaction, and properties."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.wal.diff import WalDiffSummary, WalDivergence, diff_wal_files
from backends.wal.rules import WalRules, redaction
from tests.backends.test_wal_corpus import event, line, write


def diff(record: Path, replay: Path, rules: WalRules = WalRules(), **kwargs) -> tuple[list[WalDivergence], WalDiffSummary]:
    items = list(diff_wal_files(str(record), str(replay), record.name, replay.name, rules, **kwargs))
    summary = items[-1]
    assert isinstance(summary, WalDiffSummary)
    return [i for i in items if isinstance(i, WalDivergence)], summary


def pair(tmp_path: Path, record: list[Any], replay: list[Any]) -> tuple[Path, Path]:
    return write(tmp_path / "record.jsonl", *record), write(tmp_path / "replay.jsonl", *replay)


def events(count: int, **kwargs) -> list[dict[str, Any]]:
    return [event(i, **kwargs) for i in range(1, count + 1)]


def test_identical_files_are_parity_without_parsing(tmp_path: Path) -> None:
    record = events(20)
    found, summary = diff(*pair(tmp_path, record, record))
    assert found == [] and summary.parity
    assert (summary.rows, summary.matched, summary.identical) == (20, 20, 20)


def test_timestamps_are_ignored_by_default(tmp_path: Path) -> None:
    replay = [dict(e, ts_ms=e["ts_ms"] + 7) for e in events(20)]
    found, summary = diff(*pair(tmp_path, events(20), replay))
    assert found == [] and summary.parity and summary.identical == 0
    found, summary = diff(*pair(tmp_path, events(20), replay), WalRules.build(defaults=False))
    assert len(found) == 20 and found[0].changes[0].path == "ts_ms"


def test_changed_missing_extra_golden(tmp_path: Path) -> None:
    record = events(10)
    replay = copy.deepcopy(record)
    replay[3]["payload"] = {"n": 4, "status": 503}
    del replay[6]  # id 7 missing in replay
    replay.append(event(11, kind="Compensate"))
    found, summary = diff(*pair(tmp_path, record, replay))
    assert [(d.index, d.kind, d.row, d.record_line, d.replay_line, d.event_id) for d in found] == [
        (1, "changed", 3, 4, 4, 4),
        (2, "missing", 6, 7, None, 7),
        (3, "extra", 10, None, 10, 11),
    ]
    first = found[0]
    assert first.headline() == "line 4 (id 4, kind ActivityScheduled): payload.status expected absent, found 503"
    assert [c.record_line for c in first.context] == [1, 2, 3]
    assert found[2].headline() == "replay line 10 (id 11, kind Compensate): extra in replay"
    assert summary.counts == {"changed": 1, "missing": 1, "extra": 1}
    assert (summary.rows, summary.matched, summary.record_lines, summary.replay_lines) == (11, 8, 10, 10)
    assert not summary.parity


def test_first_divergence_message_names_line_id_kind_and_values(tmp_path: Path) -> None:
    record = events(40, kind="ExternalIOFinished")
    for e in record:
        e["payload"] = {"status": 200}
    replay = copy.deepcopy(record)
    replay[36]["payload"]["status"] = 503
    found, _ = diff(*pair(tmp_path, record, replay))
    assert found[0].headline() == "line 37 (id 37, kind ExternalIOFinished): payload.status expected 200, found 503"
    assert [c.record_line for c in found[0].context] == [32, 33, 34, 35, 36]
    assert [c.event_id for c in found[0].context] == [32, 33, 34, 35, 36]


def test_context_length_is_configurable(tmp_path: Path) -> None:
    record = events(10)
    replay = copy.deepcopy(record)
    replay[8]["kind"] = "Other"
    found, _ = diff(*pair(tmp_path, record, replay), context=2)
    assert [c.record_line for c in found[0].context] == [7, 8]
    found, _ = diff(*pair(tmp_path, record, replay), context=0)
    assert found[0].context == ()


def test_backwards_id_in_replay_is_one_extra_event(tmp_path: Path) -> None:
    record = events(10)
    replay = record[:6] + [event(4)] + record[6:]
    found, summary = diff(*pair(tmp_path, record, replay))
    assert [(d.kind, d.replay_line, d.event_id) for d in found] == [("extra", 7, 4)]
    assert summary.matched == 10


def test_positional_alignment_without_ids(tmp_path: Path) -> None:
    record = [{"kind": "A", "n": 1}, {"kind": "B", "n": 2}, {"kind": "C", "n": 3}]
    replay = [{"kind": "A", "n": 1}, {"kind": "B", "n": 9}, {"kind": "C", "n": 3}]
    found, summary = diff(*pair(tmp_path, record, replay))
    assert [(d.kind, d.record_line, d.replay_line, d.changes[0].path) for d in found] == [("changed", 2, 2, "n")]
    assert summary.matched == 2


def test_malformed_line_is_aligned_by_position(tmp_path: Path) -> None:
    record, replay = events(5), events(5)
    found, summary = diff(*pair(tmp_path, record, record[:2] + [b"garbage\n"] + replay[3:]))
    assert [(d.kind, d.record_line, d.replay_line) for d in found] == [("malformed", 3, 3)]
    assert found[0].note == "replay line 3 is not an event (not-json)"
    assert summary.matched == 4


def test_torn_tail_of_replay(tmp_path: Path) -> None:
    record = events(5)
    torn = line(record[4])[:20]
    found, summary = diff(*pair(tmp_path, record, record[:4] + [torn]))
    assert [(d.kind, d.record_line, d.replay_line) for d in found] == [("torn", 5, 5)]
    assert summary.replay_torn == 5 and summary.record_torn is None
    assert "torn tail" in found[0].headline()


def test_record_longer_than_replay_reports_missing_tail(tmp_path: Path) -> None:
    found, summary = diff(*pair(tmp_path, events(6), events(4)))
    assert [(d.kind, d.record_line, d.row) for d in found] == [("missing", 5, 4), ("missing", 6, 5)]
    found, summary = diff(*pair(tmp_path, events(4), events(6)))
    assert [(d.kind, d.replay_line, d.row) for d in found] == [("extra", 5, 4), ("extra", 6, 5)]
    found, summary = diff(*pair(tmp_path, [], events(2)))
    assert [d.kind for d in found] == ["extra", "extra"] and summary.rows == 2


def test_empty_files_are_parity(tmp_path: Path) -> None:
    found, summary = diff(*pair(tmp_path, [], []))
    assert found == [] and summary.parity and summary.rows == 0


def test_nested_ignore_paths_and_wildcards(tmp_path: Path) -> None:
    record = [event(1, headers={"x-request-id": "a", "accept": "json"}), event(2, items=[{"p": 1, "at": 5}])]
    replay = [event(1, headers={"x-request-id": "b", "accept": "json"}), event(2, items=[{"p": 1, "at": 6}])]
    found, _ = diff(*pair(tmp_path, record, replay))
    assert [c.path for d in found for c in d.changes] == ["payload.headers.x-request-id", "payload.items.0.at"]
    rules = WalRules.build(ignore=["payload.headers.x-request-id", "payload.items.*.at"])
    found, summary = diff(*pair(tmp_path, record, replay), rules)
    assert found == [] and summary.parity


def test_float_tolerance(tmp_path: Path) -> None:
    record = [event(1, score=0.412731, amount=10)]
    replay = [event(1, score=0.412731 + 4e-10, amount=10.0)]
    found, _ = diff(*pair(tmp_path, record, replay))
    assert [c.path for c in found[0].changes] == ["payload.score"]
    found, summary = diff(*pair(tmp_path, record, replay), WalRules.build(float_tolerance=1e-9))
    assert found == [] and summary.parity and summary.matched == 1


def test_redacted_fields_are_hashed_everywhere(tmp_path: Path) -> None:
    record = [event(1, secret="whsec_AAAA", authorization="Bearer one", token="t1")]
    replay = [event(1, secret="whsec_BBBB", authorization="Bearer one", token="t2")]
    found, _ = diff(*pair(tmp_path, record, replay), WalRules.build(redact=["payload.token"]))
    body = orjson.dumps([d.to_json() for d in found]).decode()
    for secret in ("whsec_AAAA", "whsec_BBBB", "Bearer one", '"t1"', '"t2"'):
        assert secret not in body
    changes = {c.path: (c.expected, c.found) for c in found[0].changes}
    assert changes == {
        "payload.secret": (f'"{redaction("whsec_AAAA")}"', f'"{redaction("whsec_BBBB")}"'),
        "payload.token": (f'"{redaction("t1")}"', f'"{redaction("t2")}"'),
    }
    assert redaction("whsec_AAAA").startswith("sha256:") and len(redaction("whsec_AAAA")) == len("sha256:") + 12


def test_max_divergences_stops_early(tmp_path: Path) -> None:
    record = events(50)
    replay = [dict(e, kind="Other") for e in record]
    found, summary = diff(*pair(tmp_path, record, replay), max_divergences=3)
    assert [d.index for d in found] == [1, 2, 3]
    assert summary.truncated and not summary.complete and not summary.parity


def test_crlf_and_bom_replay_matches_lf_record(tmp_path: Path) -> None:
    record = events(3)
    replay_bytes = b"\xef\xbb\xbf" + b"".join(line(e)[:-1] + b"\r\n" for e in record)
    found, summary = diff(*pair(tmp_path, record, [replay_bytes]))
    assert found == [] and summary.parity


def test_large_diff_spans_many_steps(tmp_path: Path) -> None:
    record = events(150_000)
    replay = copy.deepcopy(record)
    replay[120_000]["payload"] = {"n": -1}
    found, summary = diff(*pair(tmp_path, record, replay))
    assert [(d.kind, d.record_line) for d in found] == [("changed", 120_001)]
    assert summary.identical == 149_999
    assert [c.record_line for c in found[0].context] == list(range(119_996, 120_001))


json_scalars = st.one_of(st.integers(-10**6, 10**6), st.text(max_size=8), st.booleans(), st.none(),
                         st.floats(allow_nan=False, allow_infinity=False, width=32))
payloads = st.dictionaries(st.text("abcdefgh", min_size=1, max_size=4), json_scalars, min_size=1, max_size=5)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(payloads, min_size=1, max_size=25), st.data())
def test_property_self_parity_and_single_mutation(tmp_path: Path, bodies: list[dict[str, Any]], data) -> None:
    record = [event(i, **{"p": body}) for i, body in enumerate(bodies, 1)]
    folder = tmp_path / f"h{abs(hash(orjson.dumps(record))) % 10**9}"
    found, summary = diff(*pair(folder, record, record))
    assert found == [] and summary.parity and summary.identical == len(record)

    index = data.draw(st.integers(0, len(record) - 1))
    key = data.draw(st.sampled_from(sorted(record[index]["payload"]["p"])))
    replay = copy.deepcopy(record)
    old = replay[index]["payload"]["p"][key]
    replay[index]["payload"]["p"][key] = {"mutated": [old]}
    found, summary = diff(*pair(folder, record, replay))
    assert [(d.kind, d.event_id, [c.path for c in d.changes]) for d in found] == [
        ("changed", index + 1, [f"payload.p.{key}"])
    ]
    assert summary.matched == len(record) - 1
