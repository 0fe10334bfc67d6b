"""``Alignment`` agrees with the diff on every row, and inverts line -> row."""

from __future__ import annotations

import copy
from pathlib import Path

from backends.wal.alignment import Alignment
from backends.wal.diff import WalDiffSummary, WalDivergence, diff_wal_files
from tests.backends.test_wal_corpus import event, write


def test_alignment_of_changed_missing_extra_rows(tmp_path: Path) -> None:
    record = [event(i) for i in range(1, 13)]
    replay = copy.deepcopy(record)
    replay[2]["kind"] = "Other"      # row 2 changed
    del replay[5]                     # id 6 missing: row 5
    replay.insert(8, event(100))      # an id out of order: extra
    replay.append(event(13))          # extra at the end
    write(tmp_path / "a.jsonl", *record)
    write(tmp_path / "b.jsonl", *replay)
    items = list(diff_wal_files(str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), "a", "b"))
    summary = items[-1]
    assert isinstance(summary, WalDiffSummary)
    alignment = Alignment()
    alignment.record_lines, alignment.replay_lines = summary.record_lines, summary.replay_lines
    for item in items:
        if isinstance(item, WalDivergence):
            alignment.add(item)
    alignment.final_rows = summary.rows
    rows = [alignment.at(r) for r in range(len(alignment))]
    kinds = [row.divergence.kind if row.divergence else "" for row in rows]
    pairs = [(row.record_line, row.replay_line) for row in rows]
    # every record and replay line appears exactly once, in order
    assert [p[0] for p in pairs if p[0] is not None] == list(range(1, 13))
    assert [p[1] for p in pairs if p[1] is not None] == list(range(1, len(replay) + 1))
    assert kinds.count("changed") == 1 and kinds.count("missing") >= 1 and kinds.count("extra") >= 1
    for row, (record_line, replay_line) in enumerate(pairs):
        if record_line is not None:
            assert alignment.row_of(record_line) == row
        if replay_line is not None:
            assert alignment.row_of(replay_line, replay=True) == row
    first = alignment.next_divergence(-1, 1)
    assert first == 2 and alignment.next_divergence(first, -1) is None
    assert alignment.next_divergence(first, 1) == alignment.divergence_rows()[1]


def test_lockstep_estimate_before_the_diff_finishes() -> None:
    alignment = Alignment()
    alignment.record_lines, alignment.replay_lines = 1000, 998
    assert len(alignment) == 1000
    assert alignment.at(999) == (1000, None, None)
    assert alignment.row_of(500) == 499 and alignment.row_of(500, replay=True) == 499
