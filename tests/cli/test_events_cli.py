"""``driftdeck events record|verify`` as a user runs them: real processes, real files."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from tests.conftest import tree_fingerprint


def _record_while_writing(run_cli, watched: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run ``events record`` while files keep appearing under ``watched`` until it exits."""
    result: dict[str, subprocess.CompletedProcess[str]] = {}
    thread = threading.Thread(target=lambda: result.setdefault("r", run_cli("events", "record", *args)))
    thread.start()
    i = 0
    while thread.is_alive():
        (watched / f"w{i:04d}.txt").write_text(str(i))
        i += 1
        time.sleep(0.02)
    thread.join()
    return result["r"]


def test_record_max_events_then_verify_clean(run_cli, tmp_path: Path) -> None:
    watched = tmp_path / "capture"
    watched.mkdir()
    (watched / "before.txt").write_text("x")
    out = tmp_path / "rec.jsonl"
    done = _record_while_writing(run_cli, watched, str(watched), "--output", str(out), "--max-events", "6", "--type", "created", "--type", "deleted", "--type", "moved")
    assert done.returncode == 0, done.stderr
    assert "recorded 6 events" in done.stdout and "max events reached" in done.stdout
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert lines[0]["format"] == "driftdeck-events" and lines[0]["path"] == str(watched)
    assert lines[0]["filter"]["types"] == ["created", "deleted", "moved"] and lines[0]["filter"]["baseline"] is True
    assert {"seq": 1, "type": "exists", "path": "before.txt", "is_dir": False} == {k: lines[1][k] for k in ("seq", "type", "path", "is_dir")}
    assert [r["type"] for r in lines[1:]].count("created") == 6
    assert all(not r["path"].startswith("/") for r in lines[1:])  # relative paths

    verdict = run_cli("events", "verify", str(out))
    assert verdict.returncode == 0, verdict.stdout
    assert "OK: ordered and causal" in verdict.stdout and "strict: baseline present" in verdict.stdout


def test_record_duration_yaml_by_extension_and_json_summary(run_cli, tmp_path: Path) -> None:
    watched = tmp_path / "quiet"
    watched.mkdir()
    out = tmp_path / "rec.yaml"
    done = run_cli("events", "record", str(watched), "-o", str(out), "--duration", "0.5", "--json")
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["format"] == "yaml" and summary["stopped"] == "duration reached" and summary["events"] == 0
    text = out.read_text()
    assert text.startswith("# driftdeck events recording\nheader: {")
    assert '"type":"notice"' in text
    assert run_cli("events", "verify", str(out)).returncode == 0


def test_recording_inside_the_watched_tree_does_not_record_itself(run_cli, tmp_path: Path) -> None:
    out = tmp_path / "self.jsonl"
    done = run_cli("events", "record", str(tmp_path), "-o", str(out), "--duration", "1", "--type", "all")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in out.read_text().splitlines()[1:]]
    assert not [r for r in records if "self.jsonl" in r["path"] or ".driftdeck-rec-" in r["path"]]


def test_record_writes_nothing_in_the_watched_tree(run_cli, tmp_path: Path) -> None:
    watched = tmp_path / "ro"
    (watched / "d").mkdir(parents=True)
    (watched / "d" / "f").write_text("data")
    before = tree_fingerprint(watched)
    done = run_cli("events", "record", str(watched), "-o", str(tmp_path / "r.jsonl"), "--duration", "0.3")
    assert done.returncode == 0, done.stderr
    assert tree_fingerprint(watched) == before


def test_record_relative_to_source(run_cli, tmp_path: Path) -> None:
    (tmp_path / "ws" / "live").mkdir(parents=True)
    done = run_cli("events", "record", "live", "--source", str(tmp_path / "ws"), "-o", str(tmp_path / "r.jsonl"), "--duration", "0.2")
    assert done.returncode == 0, done.stderr


def test_record_usage_and_input_errors_exit_2(run_cli, tmp_path: Path) -> None:
    missing = run_cli("events", "record", str(tmp_path / "nope"), "-o", str(tmp_path / "r.jsonl"), "--duration", "0.1")
    assert missing.returncode == 2 and "nope: no such directory to watch" in missing.stderr
    assert "Traceback" not in missing.stderr
    bad_out = run_cli("events", "record", str(tmp_path), "-o", str(tmp_path / "no" / "r.jsonl"), "--duration", "0.1")
    assert bad_out.returncode == 2 and "its directory does not exist" in bad_out.stderr
    no_output = run_cli("events", "record", str(tmp_path))
    assert no_output.returncode == 2 and "--output" in no_output.stderr
    bad_type = run_cli("events", "record", str(tmp_path), "-o", str(tmp_path / "r.jsonl"), "--type", "renamed")
    assert bad_type.returncode == 2


HEADER = {"format": "driftdeck-events", "version": 1, "path": "live", "started_wall_ns": 0,
          "filter": {"types": ["created", "modified", "deleted", "moved", "closed"], "baseline": True}}


def _write(path: Path, *records: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in (HEADER, *records)))
    return path


def test_verify_exit_codes_tell_failures_apart(run_cli, tmp_path: Path) -> None:
    ok = _write(tmp_path / "ok.jsonl", {"seq": 1, "type": "created", "path": "a", "mono_ns": 1})
    causal = _write(
        tmp_path / "causal.jsonl",
        {"seq": 1, "type": "created", "path": "a", "mono_ns": 1},
        {"seq": 2, "type": "deleted", "path": "a", "mono_ns": 2},
        {"seq": 3, "type": "modified", "path": "a", "mono_ns": 3},
        {"seq": 3, "type": "created", "path": "b", "mono_ns": 2},
    )
    malformed = tmp_path / "malformed.jsonl"
    malformed.write_text(json.dumps(HEADER) + "\n{broken\n")
    missing = _write(tmp_path / "missing.jsonl", {"seq": 1, "type": "created", "path": "a"})
    assert run_cli("events", "verify", str(ok)).returncode == 0
    result = run_cli("events", "verify", str(causal))
    assert result.returncode == 1
    assert result.stdout.splitlines()[:4] == [
        "--- the rules: seq increasing, time non-decreasing, causal per path",
        f"+++ {causal}",
        "@@ line 4, seq 3: causality @@",
        "-modified 'a', which was deleted or moved away at seq 2 and not created again",
    ]
    assert "@@ line 5, seq 3: order @@" in result.stdout and "-seq 3 does not increase (previous seq 3)" in result.stdout
    assert "VIOLATIONS" in result.stdout and "(order 2, causality 1)" in result.stdout
    bad = run_cli("events", "verify", str(malformed))
    assert bad.returncode == 3 and f"{malformed}:2: not JSON" in bad.stdout
    lacking = run_cli("events", "verify", str(missing))
    assert lacking.returncode == 4 and f"{missing}:2: missing field: mono_ns" in lacking.stdout
    absent = run_cli("events", "verify", str(tmp_path / "absent.jsonl"))
    assert absent.returncode == 2 and "absent.jsonl: no such file" in absent.stderr
    assert run_cli("events", "verify").returncode == 2


def test_verify_json_and_source_relative_paths(run_cli, tmp_path: Path) -> None:
    (tmp_path / "recs").mkdir()
    _write(tmp_path / "recs" / "x.jsonl", {"seq": 1, "type": "created", "path": "a", "mono_ns": 1})
    result = run_cli("events", "verify", "recs/x.jsonl", "--source", str(tmp_path), "--json")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["exit_code"] == 0 and body["records"] == 1 and body["strict"] is True


def test_events_cli_does_not_import_textual() -> None:
    code = "import sys, tui.cli.events; print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
