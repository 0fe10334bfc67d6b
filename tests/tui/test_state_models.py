"""The panes' state models on their own: no app, no Pilot."""

from __future__ import annotations

from backends.models import RunSummary, WalPair
from backends.snapshots.models import DiffProgress
from backends.wal.diff import WalDiffSummary, WalDivergence
from backends.wal.index import WalIndexInfo
from backends.wal.progress import WalProgress
from backends.wal.rules import WalRules
from tui.state.snapshots import SnapshotsState
from tui.state.wal import WalState

PAIR = WalPair("run-1", "runs/run-1/wal/record.jsonl", "runs/run-1/wal/replay.jsonl")


def summary(divergences: int, rows: int = 10) -> WalDiffSummary:
    return WalDiffSummary(PAIR.record, PAIR.replay or "", WalRules(), 10, 10, rows, rows - divergences, 0,
                          {"changed": divergences} if divergences else {}, divergences)


def test_wal_state_follows_a_pair_from_open_to_summary() -> None:
    state = WalState(pairs=[PAIR])
    generation = state.open(PAIR)
    assert generation == 1 and state.paths() == [("record", PAIR.record), ("replay", PAIR.replay)]
    assert state.status() == "… ↔ … lines · diffing…"
    state.add_index("record", WalProgress("index", 400, 10, 100))
    state.add_index("replay", WalIndexInfo(PAIR.replay or "", 10, 100, True, 80))
    assert state.status() == "400+ (indexing 10%) ↔ 10 lines · diffing…"
    state.add_diff(WalDivergence(1, "changed", 3, 4, 4))
    state.add_diff(WalProgress("diff", 8, 50, 100))
    assert state.pending and not state.alignment.divergences
    state.add_diff(summary(1))
    assert state.merge() is True  # the row count became final now
    assert state.merge() is False and not state.pending
    state.add_index("record", WalIndexInfo(PAIR.record, 10, 100, True, 80))
    assert state.status() == "10 ↔ 10 lines · 1 divergence: 1 changed"
    state.failure = "⚠ gone"
    assert state.open(PAIR) == 2 and state.failure is None and state.summary is None and not state.alignment.divergences


def test_wal_state_reports_parity_tolerance_and_a_failed_stream() -> None:
    state = WalState(rules=WalRules(float_tolerance=1e-9))
    state.open(PAIR)
    state.add_diff(summary(0))
    assert "parity ✓ 10 matched" in state.status() and "tolerance 1e-09" in state.status()
    state.open(WalPair("(chosen)", "a.jsonl", "missing.jsonl"))
    state.failure = "⚠ missing.jsonl: no such file"
    assert "⚠ not compared" in state.status()
    assert state.problems_title("replay", "missing.jsonl") == "Replay missing.jsonl: not validated"


def test_wal_state_filter_keeps_rows_and_inverts_over_both_sides() -> None:
    state = WalState()
    state.open(PAIR)
    state.alignment.record_lines = state.alignment.replay_lines = 6
    state.start_filter("x")
    assert state.searching and "filter: searching…" in state.status()
    state.filter_lines = {"record": [2, 4], "replay": [4, 5]}
    state.searching = False
    assert list(state.apply_filter()) == [1, 3, 4]
    assert state.in_filter(3) and not state.in_filter(2)
    assert state.index_of_row(4) == 2 and state.index_of_row(2) == 1  # nearest kept row
    state.filter_text = "!x"  # the search then lists lines without x: a two-sided row stays when neither side has x
    assert list(state.apply_filter()) == [3]
    state.clear_filter()
    assert state.filtered is None and state.in_filter(2) and state.index_of_row(2) == 2


def test_snapshots_state_status_and_stream() -> None:
    state = SnapshotsState(baseline="a", candidate="b")
    assert state.pair == ("a", "b")
    state.start()
    assert state.status() == "0 entries · rules on · comparing… (escape cancels)"
    state.add(DiffProgress("compare", 5, 10))
    assert "compare 5/10… (escape cancels)" in state.status()
    assert state.take_pending() is False
    assert state.toggle_rules() is False and "rules OFF" in state.status()
    state.comparing = False
    assert state.status().endswith("cancelled; R re-runs") and state.tree_title() == "Differences"


def test_live_state_queues_counts_overflow_and_reads_markers() -> None:
    from backends.events.model import FsEvent
    from tui.state.live import LiveState

    state = LiveState.sized(100, frozenset({"created", "modified"}))
    events = [FsEvent(seq=i, type="created", path=f"f{i}", wall_ns=i, mono_ns=i) for i in range(150)]
    state.take(events)
    assert state.arrived == 50 and len(state.drain()) == 100 and not state.pending
    kept = state.read_markers([FsEvent(seq=1, type="notice", path="", wall_ns=1, mono_ns=1, detail="polling every 1 s"),
                               FsEvent(seq=2, type="lost", path="", wall_ns=2, mono_ns=2, detail="queue overflow", lost=12)])
    assert [e.type for e in kept] == ["lost"] and state.backend == "polling every 1 s"
    assert state.banner == ("-lost", "⚠ 12 events lost (queue overflow); reconciling with a rescan…")
    state.read_markers([FsEvent(seq=3, type="resynced", path="", wall_ns=3, mono_ns=3, detail="rescanned")])
    assert state.banner == ("-notice", "reconciled after a loss: rescanned")
    assert "polling every 1 s · 7/s · 0 in the ring (max 100) · 50 fell off before display" == state.status(7)
    state.text = "f1"
    assert state.matches(events[1]) and not state.matches(events[2])
    state.error = "permission denied"
    assert state.status(0) == "⚠ cannot watch: permission denied"


def test_checksums_state_filters_queues_and_finds_the_next_drift() -> None:
    from backends.checksums.models import ChecksumEntry
    from tui.state.checksums import ChecksumsState, ManifestRun

    def entry(path: str, category: str, line: int | None) -> ChecksumEntry:
        fields = {name: None for name in ChecksumEntry._fields}
        return ChecksumEntry(**{**fields, "path": path, "category": category, "line": line})

    state = ChecksumsState()
    state.set_manifests(["a/SUMS", "b/SUMS", "c/SUMS"])
    assert state.queue == ["a/SUMS", "b/SUMS", "c/SUMS"]
    state.choose("c/SUMS")
    assert state.current == "c/SUMS" and state.queue[0] == "c/SUMS" and state.busy
    for name, entries in (("a/SUMS", [entry("x", "ok", 1)]), ("b/SUMS", [entry("y", "changed", 2), entry("z", "ok", 1), entry("n", "new", None)])):
        run = state.runs[name] = ManifestRun(name)
        for item in entries:
            run.add(item)
    state.current = "b/SUMS"
    assert [e.path for e in state.visible_entries()] == ["y", "n"]  # ok hidden, manifest line order, new last
    state.show_ok = True
    assert [e.path for e in state.visible_entries()] == ["z", "y", "n"]
    state.text = "!y"
    assert [e.path for e in state.visible_entries()] == ["z", "n"]
    state.current = "a/SUMS"
    assert state.drifting(1) == ["b/SUMS"] and state.drifting(-1) == ["b/SUMS"]
    state.set_manifests(["b/SUMS"])
    assert list(state.runs) == ["b/SUMS"] and state.queue == []


def test_runs_state_merges_filters_counts_and_cycles() -> None:
    from backends.models import Problem
    from tui.state.runs import ALL, RunsState

    def run(name: str, state: str | None, reason: str | None, ts: float) -> RunSummary:
        problem = None if state else Problem(f"runs/{name}/run_status.json", 1, "bad json")
        return RunSummary(name, f"runs/{name}", state, reason, None, ts, problem)

    state = RunsState()
    state.reload()
    assert state.scanning and state.status() == "0 of 0 runs · QUARANTINED · newest first · scanning…"
    state.pending = [run("a", "QUARANTINED", "CLOCK", 1), run("b", "SUCCEEDED", None, 2), run("c", None, None, 3),
                     run("d", "QUARANTINED", "DRIFT", 4)]
    shown, new_codes = state.merge()
    assert [r.run_id for r in shown] == ["a", "c", "d"] and new_codes
    state.scanning = False
    state.sort()
    assert [r.run_id for r in state.view] == ["d", "c", "a"]
    assert state.status() == "2 of 4 runs · QUARANTINED +1 unreadable · newest first"
    assert state.reasons == {"CLOCK": 1, "DRIFT": 1}
    assert state.cycle_reason(1) == "CLOCK" and state.cycle_reason(-1) == "DRIFT"
    state.reason_filter = "DRIFT"
    state.refilter()
    assert [r.run_id for r in state.view] == ["d", "c"] and state.reasons == {"CLOCK": 1, "DRIFT": 1}
    assert state.cycle_state(("RUNNING", "QUARANTINED"), 1) == ALL
    state.state_filter, state.reason_filter = ALL, ALL
    state.refilter()
    assert state.status() == "4 of 4 runs · all states · newest first"
    state.reload()
    state.scanning = False
    assert state.status() == "no runs found"
