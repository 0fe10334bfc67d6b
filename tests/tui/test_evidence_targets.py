"""Evidence and reason codes to places in the deck: plain functions, no app."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from backends.models import ArtifactInfo, EvidenceRef, RunDetail, RunSummary, SnapshotInfo
from tui.evidence_targets import evidence_place, reason_place, split_ref

SNAPSHOTS = [SnapshotInfo(name, f"history/snapshots/{name}", 1, 1, 0.0) for name in ("base-01", "cand-08", "cand-15")]
MANIFESTS = ["fixtures/golden/SHA256SUMS", "fixtures/bsd/SHA256SUMS"]


def detail(reason: str, *refs: EvidenceRef, wal: bool = True) -> RunDetail:
    summary = RunSummary("run-1", "runs/run-1", "QUARANTINED", reason, None, 0.0)
    files = ("runs/run-1/wal/record.jsonl", "runs/run-1/wal/replay.jsonl") if wal else ()
    artifact = ArtifactInfo("a.json", "runs/run-1/quarantine/a.json", 1, reason, evidence=refs)
    return RunDetail(summary, {}, "runs/run-1/run_status.json", "runs/run-1/run_record.jsonl", 1, (artifact,), files)


def place(ref: str, d: RunDetail | None = None, others: tuple[EvidenceRef, ...] = ()):  # type: ignore[no-untyped-def]
    return evidence_place(EvidenceRef(ref), d or detail("X"), SNAPSHOTS, MANIFESTS, others)


def test_a_record_line_opens_the_pair_at_that_line_and_a_replay_ref_the_pair() -> None:
    assert place("runs/run-1/wal/record.jsonl#L37").targets == ("wal:run-1", "line:37")
    assert place("runs/run-1/wal/replay.jsonl#L37").targets == ("wal:run-1",)


def test_manifests_and_the_files_they_list() -> None:
    assert place("fixtures/golden/SHA256SUMS#L5").targets == ("manifest:fixtures/golden/SHA256SUMS",)
    assert place("fixtures/golden/data/ledger.csv").targets == ("manifest:fixtures/golden/SHA256SUMS", "path:fixtures/golden/data/ledger.csv")


def test_a_snapshot_file_compares_against_the_snapshot_before_it_or_the_other_one_cited() -> None:
    assert place("history/snapshots/cand-08/rules/v.yaml").targets == ("snap:base-01..cand-08", "path:rules/v.yaml")
    assert place("history/snapshots/base-01/x.bin").targets == ("snap:base-01..cand-08", "path:x.bin")
    other = (EvidenceRef("history/snapshots/cand-15/x.bin"),)
    assert place("history/snapshots/base-01/x.bin", others=other).targets == ("snap:base-01..cand-15", "path:x.bin")


def test_urls_the_own_record_and_unknown_paths_have_no_place() -> None:
    assert place("https://ci.example/logs") is None
    assert place("runs/run-1/run_record.jsonl#L4") is None  # shown in the run detail's own timeline
    assert place("elsewhere/file.txt") is None


def test_the_reason_picks_the_place_that_answers_it() -> None:
    wal = detail("REPLAY_DIVERGENCE", EvidenceRef("runs/run-1/wal/record.jsonl#L37"))
    assert reason_place(wal, SNAPSHOTS, MANIFESTS).targets == ("wal:run-1",)  # the pair opens on its first divergence
    no_wal = detail("REPLAY_DIVERGENCE", EvidenceRef("runs/run-1/run_record.jsonl#L3"), wal=False)
    assert reason_place(no_wal, SNAPSHOTS, MANIFESTS) is None
    sealed = detail("SEALED_OUTPUT_MUTATED", EvidenceRef("fixtures/golden/SHA256SUMS#L5"),
                    EvidenceRef("history/snapshots/base-01/b.bin"), EvidenceRef("history/snapshots/cand-08/b.bin"))
    assert reason_place(sealed, SNAPSHOTS, MANIFESTS).targets == ("snap:base-01..cand-08", "path:b.bin")
    drift = detail("CHECKSUM_DRIFT", EvidenceRef("history/snapshots/cand-08/b.bin"), EvidenceRef("fixtures/golden/SHA256SUMS#L5"))
    assert reason_place(drift, SNAPSHOTS, MANIFESTS).targets == ("manifest:fixtures/golden/SHA256SUMS",)
    missing = detail("EVIDENCE_MISSING", EvidenceRef("history/snapshots/cand-08/gone.jsonl", exists=False))
    assert reason_place(missing, SNAPSHOTS, MANIFESTS) is None


@given(st.text().filter(lambda s: "#L" not in s), st.integers(min_value=0, max_value=10**9))
def test_split_ref_reads_back_the_line_anchor(path: str, line: int) -> None:
    assert split_ref(f"{path}#L{line}") == (path, line)
    assert split_ref(path) == (path, None)


@given(st.text())
@example("runs/r/run_record.jsonl#L\u00b2")  # "²" is a digit to str.isdigit, and int() raised on it
def test_split_ref_never_raises_and_reads_only_ascii_line_numbers(ref: str) -> None:
    path, line = split_ref(ref)
    before, _, anchor = ref.partition("#L")
    if line is None:
        assert path == ref
    else:
        assert path == before and anchor.isascii() and anchor.isdigit() and int(anchor) == line
