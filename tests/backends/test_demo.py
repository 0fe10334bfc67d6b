"""Tests of the deterministic demo workspace builder and the live activity writer."""

from __future__ import annotations

import collections
import hashlib
import json
import os
import sys
import time
from pathlib import Path

import pytest
import yaml

from backends.demo import MARKER, ActivityWriter, DemoSummary, build_demo
from backends.errors import DriftdeckError

STATES = {"PENDING", "RUNNING", "WAITING", "READY", "FAILED", "QUARANTINED"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoSummary:
    return build_demo(tmp_path_factory.mktemp("demo") / "ws")


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _statuses(root: Path) -> dict[str, dict]:
    out = {}
    for path in sorted((root / "runs").glob("*/run_status.json")):
        if path.parent.name != "run-broken-status":
            out[path.parent.name] = json.loads(path.read_bytes())
    return out


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def _pair(root: Path, run_id: str) -> tuple[list[dict], list[dict]]:
    folder = root / "runs" / run_id / "wal"
    return _jsonl(folder / "record.jsonl"), _jsonl(folder / "replay.jsonl")


def _wal_run(demo: DemoSummary, description_start: str) -> str:
    return next(run_id for run_id, text in demo.wal_pairs if text.startswith(description_start))


# --- runs ----------------------------------------------------------------------------------


def test_counts_states_and_reason_codes(demo: DemoSummary) -> None:
    statuses = _statuses(demo.root)
    assert len(statuses) == demo.runs >= 48
    assert {s["state"] for s in statuses.values()} == STATES
    quarantined = [s for s in statuses.values() if s["state"] == "QUARANTINED"]
    assert len(quarantined) == demo.quarantined == 12
    assert len({s["reason_code"] for s in quarantined}) >= 8
    for status in statuses.values():
        assert status["run_id"] == (demo.root / "runs" / status["run_id"]).name
        if status["state"] in ("FAILED", "QUARANTINED"):
            assert status["reason_code"]
        else:
            assert status["reason_code"] is None
        assert "2026-11-01" <= status["updated_at"][:10] <= "2026-11-20"
        assert status["updated_at"].endswith("Z") and status["created_at"] <= status["updated_at"]


def test_status_files_are_pretty_json_with_trailing_newline(demo: DemoSummary) -> None:
    path = next((demo.root / "runs").glob("run-2026*/run_status.json"))
    text = path.read_text()
    assert text.endswith("}\n") and text.splitlines()[1].startswith('  "run_id": ')


def test_broken_status_fails_on_line_4_and_orphan_has_no_status(demo: DemoSummary) -> None:
    broken = demo.root / "runs" / "run-broken-status" / "run_status.json"
    with pytest.raises(json.JSONDecodeError) as caught:
        json.loads(broken.read_text())
    assert caught.value.lineno == 4
    orphan = demo.root / "runs" / "run-orphan-no-status"
    assert sorted(p.name for p in orphan.iterdir()) == ["run_record.jsonl"]
    assert demo.notable["broken_status"] == "run-broken-status"


def test_records_tell_a_story_consistent_with_the_state(demo: DemoSummary) -> None:
    for run_id, status in _statuses(demo.root).items():
        path = demo.root / "runs" / run_id / "run_record.jsonl"
        lines = path.read_bytes().splitlines()
        if run_id == demo.notable["long_record"]:
            assert len(lines) == 2500
        else:
            assert 5 <= len(lines) <= 40, run_id
        events = [json.loads(line) for n, line in enumerate(lines, 1)
                  if not (run_id == demo.notable["malformed_record"] and n == 7)]
        assert events[0]["kind"] == "RunCreated"
        assert [e["ts"] for e in events] == sorted(e["ts"] for e in events)
        assert all(e["ts"].endswith("Z") and len(e["ts"]) == 24 for e in events)
        last = events[-1]
        if status["state"] == "QUARANTINED":
            assert last["kind"] == "Quarantined" and last["reason_code"] == status["reason_code"]
        elif status["state"] == "FAILED":
            assert last["kind"] == "Failed" and last["reason_code"] == status["reason_code"]
        elif status["state"] == "READY":
            assert last["kind"] == "Completed"


def test_malformed_record_line_7_only(demo: DemoSummary) -> None:
    path = demo.root / "runs" / demo.notable["malformed_record"] / "run_record.jsonl"
    lines = path.read_bytes().splitlines()
    bad = []
    for number, line in enumerate(lines, 1):
        try:
            json.loads(line)
        except json.JSONDecodeError:
            bad.append(number)
    assert bad == [7]
    assert _statuses(demo.root)[demo.notable["malformed_record"]]["state"] == "QUARANTINED"


def test_quarantine_artifacts_and_missing_evidence(demo: DemoSummary) -> None:
    statuses = _statuses(demo.root)
    missing, kinds = [], set()
    for run_id, status in statuses.items():
        folder = demo.root / "runs" / run_id / "quarantine"
        if status["state"] != "QUARANTINED":
            assert not folder.exists()
            continue
        artifacts = sorted(folder.glob("*.json"))
        assert 1 <= len(artifacts) <= 3
        for path in artifacts:
            body = json.loads(path.read_bytes())
            assert body["reason_code"] == status["reason_code"]
            assert body["quarantined_at"].endswith("Z")
            assert body["detail"].count(". ") >= 1 and isinstance(body["context"], dict)
            for evidence in body["evidence"]:
                kinds.add(evidence["kind"])
                assert set(evidence) == {"kind", "ref", "note"}
                if evidence["kind"] != "url" and not os.path.lexists(demo.root / evidence["ref"].split("#")[0]):
                    missing.append(evidence["ref"])
    assert len(missing) == 3
    assert kinds == {"file", "wal_event", "receipt", "manifest_entry", "url"}
    large = demo.root / "runs" / demo.notable["large_artifact"] / "quarantine" / "engine-mismatch.json"
    assert 250_000 <= large.stat().st_size <= 350_000
    assert len(json.loads(large.read_bytes())["context"]["samples"]) > 1000


# --- WAL pairs -----------------------------------------------------------------------------


def _strip_ts(events: list[dict]) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "ts_ms"} for e in events]


def test_wal_pairs_are_listed(demo: DemoSummary) -> None:
    assert [text for _, text in demo.wal_pairs] == ["parity", "diverges at id 37", "torn tail", "id goes backwards"]
    for run_id, _ in demo.wal_pairs:
        record = _jsonl(demo.root / "runs" / run_id / "wal" / "record.jsonl")
        assert all(e["v"] == 2 and e["run_id"] == run_id for e in record)
        assert [e["id"] for e in record] == list(range(1, len(record) + 1))


def test_wal_parity_pair(demo: DemoSummary) -> None:
    record, replay = _pair(demo.root, _wal_run(demo, "parity"))
    assert len(record) == 300
    assert _strip_ts(record) == _strip_ts(replay)
    assert [e["ts_ms"] for e in record] != [e["ts_ms"] for e in replay]
    text = (demo.root / "runs" / _wal_run(demo, "parity") / "wal" / "record.jsonl").read_text()
    assert '"authorization":"Bearer ' in text and '"secret":' in text and ", " not in text.splitlines()[0]


def test_wal_divergent_pair(demo: DemoSummary) -> None:
    record, replay = _pair(demo.root, _wal_run(demo, "diverges"))
    assert len(record) == 400 and len(replay) == 401
    different = [a["id"] for a, b in zip(_strip_ts(record), _strip_ts(replay), strict=False) if a != b]
    assert different[0] == 37
    assert record[36]["kind"] == "ExternalIOFinished"
    assert (record[36]["payload"]["status"], replay[36]["payload"]["status"]) == (200, 503)
    assert len(different) == 2
    assert replay[-1]["id"] == 401


def test_wal_torn_tail_pair_and_float_jitter(demo: DemoSummary) -> None:
    folder = demo.root / "runs" / _wal_run(demo, "torn") / "wal"
    data = (folder / "replay.jsonl").read_bytes()
    assert not data.endswith(b"\n")
    lines = data.split(b"\n")
    with pytest.raises(json.JSONDecodeError):
        json.loads(lines[-1])
    record = _jsonl(folder / "record.jsonl")
    replay = [json.loads(line) for line in lines[:-1]]
    assert len(record) == 200 and len(replay) == 199
    jitter = []
    for a, b in zip(record, replay, strict=False):
        if a["payload"] != b["payload"]:
            jitter.append(abs(a["payload"]["score"] - b["payload"]["score"]))
            assert a["payload"]["score"] != b["payload"]["score"]
    assert jitter and max(jitter) < 1e-9


def test_wal_id_goes_backwards(demo: DemoSummary) -> None:
    record, replay = _pair(demo.root, _wal_run(demo, "id goes backwards"))
    assert len(record) == 250
    ids = [e["id"] for e in replay]
    drops = [n for n in range(1, len(ids)) if ids[n] <= ids[n - 1]]
    assert drops == [121]
    assert ids[119:123] == [120, 121, 119, 122]


# --- snapshots -----------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_snapshot_differences(demo: DemoSummary) -> None:
    assert demo.snapshots == ["baseline-2026-11-01", "candidate-2026-11-08", "candidate-2026-11-15"]
    base, cand, later = (_tree(demo.root / "history" / "snapshots" / n) for n in demo.snapshots)
    assert {p.split("/")[0] for p in base} == {"rules", "validator", "telemetry", "notes", "blobs"}
    assert {"notes/old-todo.txt", "validator/checks/legacy-schema.json", "rules/deprecated-bin-range.yaml"} \
        <= set(base) - set(cand)
    assert {"notes/postmortem-2026-11-06.md", "validator/checks/drift-guard.json", "rules/merchant-risk.yaml"} \
        <= set(cand) - set(base)
    assert base["notes/runbook.md"] == cand["notes/ops/runbook.md"] and "notes/runbook.md" not in cand
    assert b"\r\n" not in base["notes/hosts.txt"]
    assert cand["notes/hosts.txt"] == base["notes/hosts.txt"].replace(b"\n", b"\r\n")
    assert base["notes/oncall.txt"] != cand["notes/oncall.txt"]
    assert base["notes/oncall.txt"].split() == cand["notes/oncall.txt"].split()
    old_log, new_log = base["notes/timeline.log"].splitlines(), cand["notes/timeline.log"].splitlines()
    assert len(old_log) == len(new_log)
    assert all(a != b and a.split(b" ", 1)[1] == b.split(b" ", 1)[1] for a, b in zip(old_log, new_log, strict=True))
    old_text, new_text = base["notes/known-issues.md"].splitlines(), cand["notes/known-issues.md"].splitlines()
    assert 1 <= len(set(old_text) ^ set(new_text)) <= 6
    assert base["blobs/feature-index.bin"] != cand["blobs/feature-index.bin"]
    assert len(base["blobs/feature-index.bin"]) == len(cand["blobs/feature-index.bin"])
    old_json, new_json = json.loads(base["validator/report.json"]), json.loads(cand["validator/report.json"])
    assert old_json["summary"]["failed"] == 0 and new_json["summary"]["failed"] == 1
    old_yaml, new_yaml = yaml.safe_load(base["rules/velocity.yaml"]), yaml.safe_load(cand["rules/velocity.yaml"])
    assert old_yaml["rule"]["thresholds"]["max_transactions"] != new_yaml["rule"]["thresholds"]["max_transactions"]
    old_spans = base["telemetry/spans-ingest.jsonl"].splitlines()
    new_spans = cand["telemetry/spans-ingest.jsonl"].splitlines()
    assert len(old_spans) == len(new_spans) == 200
    assert sum(a != b for a, b in zip(old_spans, new_spans, strict=True)) == 2
    assert all("span_id" in json.loads(line) for line in old_spans)
    unchanged = {p for p in base if p in cand and base[p] == cand[p]}
    assert "blobs/model-shard-00.bin" in unchanged and "notes/glossary.md" in unchanged
    assert later != cand and "blobs/model-shard-04.bin" in set(later) - set(cand)
    assert len(base) + len(cand) + len(later) < 300


# --- manifests -----------------------------------------------------------------------------


def _gnu_entries(manifest: Path) -> tuple[list[tuple[str, str]], list[str]]:
    entries, malformed = [], []
    for line in manifest.read_text().splitlines():
        escaped = line.startswith("\\")
        body = line[1:] if escaped else line
        digest, sep, name = body.partition(" ")
        if not sep or len(digest) != 64 or name[:1] not in (" ", "*"):
            malformed.append(line)
            continue
        name = name[1:]
        if escaped:
            name = name.replace("\\\\", "\x00").replace("\\n", "\n").replace("\x00", "\\")
        entries.append((digest, name))
    return entries, malformed


def test_golden_manifest_categories(demo: DemoSummary) -> None:
    folder = demo.root / "fixtures" / "golden"
    raw = (folder / "SHA256SUMS").read_bytes()
    assert b"\r" not in raw
    entries, malformed = _gnu_entries(folder / "SHA256SUMS")
    assert len(malformed) == 2 and any(len(line.split()[0]) == 40 for line in malformed)
    assert any(line.startswith("\\") for line in raw.decode().splitlines())
    assert any(" *" in line for line in raw.decode().splitlines())
    assert any(d != d.lower() for d, _ in entries)
    listed = collections.defaultdict(set)
    for digest, name in entries:
        listed[os.path.normpath(name)].add(digest.lower())
    names = [name for _, name in entries]
    assert "./data/a.csv" in names and "data/a.csv" in names
    assert len(listed["data/dup.csv"]) == 2
    on_disk = {p.relative_to(folder).as_posix(): _sha(p) for p in folder.rglob("*")
               if p.is_file() and not p.is_symlink() and p.name != "SHA256SUMS"}

    def situation(name: str) -> str:
        path = folder / name
        if path.is_symlink() and not path.exists():
            return "unreadable"
        if path.is_dir():
            return "unreadable"
        if not path.exists():
            digests = listed[name]
            return "moved" if digests & set(on_disk.values()) else "missing"
        return "ok" if _sha(path) in listed[name] else "changed"

    got = {name: situation(name) for name in listed}
    assert got["data/ledger.csv"] == "changed"
    assert got["data/missing.csv"] == "missing"
    assert got["data/old-name.csv"] == "moved"
    assert got["data/partitions"] == got["data/latest.csv"] == "unreadable"
    assert (folder / "data" / "latest.csv").is_symlink()
    for name in ("data/a.csv", "data/b.csv", "data/c.json", "data/blob.bin", "data/with space.csv",
                 "data/back\\slash.csv", "README.md", "data/dup.csv"):
        assert got[name] == "ok", name
    assert set(on_disk) - set(listed) == {"data/extra.csv", "data/archive/2026-11/new-name.csv"}


def test_other_manifests(demo: DemoSummary) -> None:
    assert demo.manifests == ["fixtures/golden/SHA256SUMS", "fixtures/bsd/SHA256SUMS",
                              "fixtures/release/artifact.tar.gz.sha256", "fixtures/empty/SHA256SUMS"]
    bsd = demo.root / "fixtures" / "bsd"
    raw = (bsd / "SHA256SUMS").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n") == 3
    for line in raw.decode().splitlines():
        name, digest = line.removeprefix("SHA256 (").split(") = ")
        assert _sha(bsd / name) == digest
    release = demo.root / "fixtures" / "release"
    digest, name = (release / "artifact.tar.gz.sha256").read_text().split()
    assert _sha(release / name) == digest
    empty = demo.root / "fixtures" / "empty"
    assert (empty / "SHA256SUMS").stat().st_size == 0 and len(list(empty.iterdir())) == 2


# --- determinism, refusal, rebuild ---------------------------------------------------------


def _fingerprint(root: Path) -> dict[str, tuple[str | None, int]]:
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            rel = path.relative_to(root).as_posix()
            if rel == MARKER:
                continue
            st = path.lstat()
            digest = None if path.is_symlink() or path.is_dir() else _sha(path)
            out[rel] = (digest, st.st_mtime_ns)
    return out


def test_same_seed_same_bytes_and_mtimes(tmp_path: Path) -> None:
    build_demo(tmp_path / "a", seed=7)
    build_demo(tmp_path / "b", seed=7)
    first, second = _fingerprint(tmp_path / "a"), _fingerprint(tmp_path / "b")
    assert first == second and len(first) > 200
    assert (tmp_path / "a" / MARKER).is_file()
    build_demo(tmp_path / "c", seed=8)
    assert _fingerprint(tmp_path / "c") != first


def test_mtimes_derive_from_base_not_clock(demo: DemoSummary) -> None:
    low, high = 1793491200, 1793491200 + 20 * 86_400  # 2026-11-01 .. 2026-11-21
    for path in [demo.root, *demo.root.rglob("*")]:
        assert low <= path.lstat().st_mtime < high, path


def test_refuses_non_empty_non_demo_folder(tmp_path: Path) -> None:
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(DriftdeckError) as caught:
        build_demo(tmp_path)
    assert str(tmp_path) in str(caught.value) and "\n" not in str(caught.value)
    assert (tmp_path / "precious.txt").read_text() == "keep me"
    afile = tmp_path / "afile"
    afile.write_text("x")
    with pytest.raises(DriftdeckError):
        build_demo(afile)


def test_rebuilds_a_previous_demo(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    build_demo(root)
    before = _fingerprint(root)
    (root / "runs" / "stray.txt").write_text("left over")
    (root / "live" / "capture-00000").mkdir(parents=True)
    build_demo(root)
    assert not (root / "runs" / "stray.txt").exists() and not (root / "live").exists()
    assert _fingerprint(root) == before


def test_empty_existing_folder_is_accepted(tmp_path: Path) -> None:
    summary = build_demo(tmp_path)
    assert summary.root == tmp_path and (tmp_path / "README.txt").is_file()


def test_backends_demo_never_imports_textual_or_tui() -> None:
    import subprocess

    code = ("import sys, backends.demo; from pathlib import Path; import tempfile;"
            "backends.demo.build_demo(Path(tempfile.mkdtemp()) / 'w');"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('textual', 'tui')]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).resolve().parents[2])


# --- live activity -------------------------------------------------------------------------


def _outside_live(root: Path) -> dict[str, tuple[int, int]]:
    out = {}
    for folder, dirs, files in os.walk(root):
        if Path(folder) == root:
            dirs[:] = [d for d in dirs if d != "live"]
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            out[path.relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return out


def test_activity_writer_stays_in_live_and_stops_promptly(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    build_demo(root)
    before = _outside_live(root)
    writer = ActivityWriter(root, interval=0.02)
    writer.start()
    writer.start()  # idempotent
    try:
        deadline = time.monotonic() + 2.0
        live = root / "live"
        while time.monotonic() < deadline:
            frames = list(live.glob("capture-*/frame-*.json"))
            if len(frames) >= 10 and list(live.glob("capture-*/*.done.json")) and (live / "capture.log").exists():
                break
            time.sleep(0.02)
        else:
            pytest.fail("no activity under live/ within 2 s")
        size = (live / "capture.log").stat().st_size
        time.sleep(0.1)
        assert (live / "capture.log").stat().st_size > size
    finally:
        writer.stop()
        writer.stop()  # idempotent
    assert not writer.running
    assert _outside_live(root) == before
    count = sum(1 for p in (root / "live").rglob("*") if p.is_file())
    time.sleep(0.1)
    assert sum(1 for p in (root / "live").rglob("*") if p.is_file()) == count


def test_activity_writer_caps_files_and_rotates_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backends.demo import activity

    monkeypatch.setattr(activity, "LOG_LIMIT", 4096)
    monkeypatch.setattr(activity, "MAX_FRAMES", 30)
    writer = ActivityWriter(tmp_path, interval=0.0)
    with writer:
        deadline = time.monotonic() + 3.0
        while writer.ticks < 120 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert writer.ticks >= 120 and writer.errors == 0
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert len(files) <= 30 + 2
    assert (tmp_path / "live" / "capture.log.1").exists()
    assert all(p.is_relative_to(tmp_path / "live") for p in tmp_path.rglob("*") if p != tmp_path / "live")
    # A new writer adopts the frames left behind and keeps the cap.
    with ActivityWriter(tmp_path, interval=0.0) as again:
        deadline = time.monotonic() + 10.0
        while again.ticks < 40 and time.monotonic() < deadline:
            time.sleep(0.01)
    assert again.ticks >= 40
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) <= 30 + 2


def test_activity_writer_default_interval_ticks_at_once(tmp_path: Path) -> None:
    with ActivityWriter(tmp_path) as writer:
        deadline = time.monotonic() + 2.0
        while not list((tmp_path / "live").glob("capture-*/frame-*.json")) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert writer.running and writer.interval == 0.25
    assert list((tmp_path / "live").glob("capture-*/frame-*.json"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live"]
