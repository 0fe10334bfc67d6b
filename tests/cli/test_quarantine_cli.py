"""``driftdeck quarantine list|show`` through a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import tree_fingerprint, write_run


def test_list_defaults_to_quarantined_newest_first(run_cli, small_workspace: Path) -> None:
    result = run_cli("quarantine", "list", "--source", str(small_workspace))
    assert result.returncode == 0, result.stderr
    rows = [line.split()[0] for line in result.stdout.splitlines()[1:3]]
    assert rows == ["run-b", "run-a"]
    assert "2 runs: QUARANTINED 2" in result.stdout
    assert "ENGINE_RECEIPT_MISMATCH 1" in result.stdout


def test_list_json_is_ndjson_and_honours_state_and_reason(run_cli, small_workspace: Path) -> None:
    result = run_cli("quarantine", "list", "-s", str(small_workspace), "--state", "all", "--json")
    assert result.returncode == 0
    header, *runs = [json.loads(line) for line in result.stdout.splitlines()]
    assert header == {"type": "header", "schema": "driftdeck/quarantine-list/v1"}  # the stream names its schema first
    assert [r["run_id"] for r in runs] == ["run-e", "run-d", "run-b", "run-a", "run-c"]
    assert set(runs[0]) >= {"type", "run_id", "key", "state", "reason_code", "updated_at", "problem"}
    failed = run_cli("quarantine", "list", "-s", str(small_workspace), "--state", "failed", "--json")
    assert [json.loads(line)["run_id"] for line in failed.stdout.splitlines()[1:]] == ["run-d"]
    by_reason = run_cli("quarantine", "list", "-s", str(small_workspace), "--reason", "INSTANCE_RECEIPT_DRIFT", "--json")
    assert [json.loads(line)["run_id"] for line in by_reason.stdout.splitlines()[1:]] == ["run-a"]


def test_broken_runs_are_listed_with_a_warning_naming_file_and_line(run_cli, tmp_path: Path) -> None:
    write_run(tmp_path, "fine")
    write_run(tmp_path, "broken", status_bytes=b'{\n  "state": "QUARANTINED",\n  oops\n}')
    result = run_cli("quarantine", "list", "-s", str(tmp_path))
    assert result.returncode == 0
    assert "fine" in result.stdout and "broken" in result.stdout
    assert "warning: runs/broken/run_status.json:3: invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_show_prints_artifacts_evidence_and_newest_events(run_cli, small_workspace: Path) -> None:
    result = run_cli("quarantine", "show", "run-a", "--source", str(small_workspace))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "state      QUARANTINED" in out
    assert "runs/run-a/quarantine/receipt-drift.json" in out
    assert "evidence [file] missing/evidence.json  MISSING" in out
    assert "record: 3 events" in out and "CheckFailed" in out


def test_show_json_has_detail_and_events(run_cli, small_workspace: Path) -> None:
    result = run_cli("quarantine", "show", "run-a", "-s", str(small_workspace), "--json", "--events", "2")
    body = json.loads(result.stdout)
    assert body["run_id"] == "run-a" and body["events_total"] == 3
    assert [e["event_id"] for e in body["events"]] == ["e2", "e3"]
    assert body["artifacts"][0]["evidence"][1]["exists"] is False


def test_errors_are_one_line_with_exit_2(run_cli, small_workspace: Path, tmp_path: Path) -> None:
    missing = run_cli("quarantine", "show", "nope", "-s", str(small_workspace))
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"driftdeck: nope: no such run in {small_workspace}"
    no_source = run_cli("quarantine", "list", "-s", "/no/such/path")
    assert (no_source.returncode, no_source.stderr.strip()) == (2, "driftdeck: /no/such/path: no such directory")
    bad_state = run_cli("quarantine", "list", "-s", str(small_workspace), "--state", "BOGUS")
    assert bad_state.returncode == 2 and "unknown state 'BOGUS'" in bad_state.stderr
    (tmp_path / "driftdeck.yaml").write_text("layout:\n  runs: 3\n")
    bad_config = run_cli("quarantine", "list", "-s", str(tmp_path))
    assert bad_config.returncode == 2
    assert bad_config.stderr.strip() == "driftdeck: driftdeck.yaml:2: layout.runs must be a non-empty glob string"


def test_opening_a_missing_path_fails_cleanly(run_cli) -> None:
    result = run_cli("/no/such/path")
    assert result.returncode == 2
    assert result.stderr.strip() == "driftdeck: /no/such/path: no such directory"


def test_cli_commands_write_nothing(run_cli, small_workspace: Path) -> None:
    before = tree_fingerprint(small_workspace)
    run_cli("quarantine", "list", "-s", str(small_workspace), "--json")
    run_cli("quarantine", "show", "run-a", "-s", str(small_workspace))
    assert tree_fingerprint(small_workspace) == before


def test_quarantine_list_does_not_import_textual() -> None:
    code = (
        "import sys; from tui.cli import main\n"
        "try:\n    main(['quarantine', 'list', '-s', sys.argv[1]])\n"
        "except SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
        "print('clean')"
    )
    result = subprocess.run([sys.executable, "-c", code, str(Path(__file__).parent)], capture_output=True, text=True)
    assert result.stdout.strip().endswith("clean"), result.stderr


def test_show_names_a_record_that_is_not_a_file_and_shows_the_rest(run_cli, small_workspace: Path) -> None:
    run = small_workspace / "runs" / "run-a"
    (run / "run_record.jsonl").unlink()
    os.mkfifo(run / "run_record.jsonl")  # opened without O_NONBLOCK, this would wait for a writer forever
    before = tree_fingerprint(small_workspace)
    for extra in ((), ("--json",)):
        result = run_cli("quarantine", "show", "run-a", "-s", str(small_workspace), *extra)
        assert result.returncode == 0, result.stderr
        assert "warning: runs/run-a/run_record.jsonl: unreadable: a FIFO, not a regular file" in result.stderr
        assert result.stderr.count("run_record.jsonl") == 1
        assert "receipt-drift.json" in result.stdout
    assert json.loads(result.stdout)["record_path"] is None
    assert tree_fingerprint(small_workspace) == before
