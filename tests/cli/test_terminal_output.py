"""Human output never passes a workspace's control characters to the terminal."""

from __future__ import annotations

import json
import os
from pathlib import Path

from tests.conftest import write_run
from tui.cli.terminal import printable

ESC = "\x1b]0;owned\x07\x1b[2J"
"""Set the window title, ring the bell, clear the screen."""


def test_printable_escapes_controls_and_undecodable_bytes_only() -> None:
    assert printable("plain text, été ✓") == "plain text, été ✓"
    assert printable("a\nb\tc" + ESC) == "a\\nb\\tc\\x1b]0;owned\\x07\\x1b[2J"
    assert printable(os.fsdecode(b"caf\xe9")) == "caf\\xe9"


def test_run_ids_and_wal_lines_are_printed_escaped_on_one_line(run_cli, tmp_path: Path) -> None:
    write_run(tmp_path, "r1", status_bytes=json.dumps({"run_id": "evil\n" + ESC, "state": "QUARANTINED", "reason_code": "X\rY"}).encode())
    write_run(tmp_path, "r2")
    listed = run_cli("quarantine", "list", "-s", str(tmp_path))
    assert listed.returncode == 0
    assert "\x1b" not in listed.stdout and "\r" not in listed.stdout
    rows = listed.stdout.splitlines()
    assert rows[0].index("STATE") == rows[1].index("QUARANTINED") == rows[2].index("QUARANTINED")  # columns still line up
    assert any(row.startswith("evil\\n\\x1b]0;owned") for row in rows)
    shown = run_cli("quarantine", "show", "runs/r1", "-s", str(tmp_path))
    assert shown.returncode == 0 and "\x1b" not in shown.stdout and "evil\\n" in shown.stdout

    wal = tmp_path / "runs" / "r1" / "wal"
    wal.mkdir()
    event = {"v": 2, "id": 1, "ts_ms": 1, "run_id": "r1", "kind": "k" + ESC, "payload": {"text": ESC}}
    (wal / "record.jsonl").write_text(json.dumps(event) + "\n")
    (wal / "replay.jsonl").write_bytes(bytes(range(32)) + b"\n")
    diffed = run_cli("wal", "diff", "runs/r1/wal/record.jsonl", "runs/r1/wal/replay.jsonl", "-s", str(tmp_path))
    validated = run_cli("wal", "validate", "runs/r1/wal/replay.jsonl", "-s", str(tmp_path))
    for result in (diffed, validated):
        assert result.returncode == 1, result.stderr
        assert not any(c in result.stdout for c in "\x1b\x07\x00\r"), result.stdout
    assert "\\x1b]0;owned" in diffed.stdout and "\\x00\\x01\\x02" in diffed.stdout
