"""Human output never passes a workspace's control characters to the terminal."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.cli.conftest import driftdeck_command
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


def test_undecodable_names_print_where_stdout_is_strict_utf8(tmp_path: Path) -> None:
    """Under a UTF-8 locale stdout refuses surrogate escapes: printed raw, a Latin-1 name ended checksums verify."""
    data = tmp_path / "data"
    data.mkdir()
    (data / "SHA256SUMS").write_text("")
    with open(os.fsencode(data) + b"/caf\xe9\x1b.txt", "wb") as handle:
        handle.write(b"x\n")
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict", "NO_COLOR": "1"}
    result = subprocess.run([*driftdeck_command(), "checksums", "verify", "--source", str(tmp_path)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert "internal error" not in result.stderr, result.stderr
    assert "new         data/caf\\xe9\\x1b.txt  (not listed in the manifest)" in result.stdout, result.stdout
