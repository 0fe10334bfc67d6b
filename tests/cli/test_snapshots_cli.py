"""``driftdeck snapshots diff`` through a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from backends.demo import build_demo
from tests.conftest import tree_fingerprint

A, B, C = "baseline-2026-11-01", "candidate-2026-11-08", "candidate-2026-11-15"


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("snapcli") / "ws"
    build_demo(root, seed=7)
    return root


def test_human_output_lists_changes_with_diffs_then_a_summary(run_cli, ws: Path) -> None:
    before = tree_fingerprint(ws)
    result = run_cli("snapshots", "diff", B, C, "--source", str(ws))
    assert result.returncode == 1, result.stderr
    out = result.stdout
    lines = out.splitlines()
    assert lines[:3] == [
        "added    blobs/model-shard-04.bin",
        "added    notes/postmortem-2026-11-13.md",
        "removed  rules/card-testing.yaml",
    ]
    assert "+- KI-008: scorer 4.12.1 shipped without pin; see ENGINE_RECEIPT_MISMATCH" in out
    assert "  ~ rule.thresholds.max_amount_eur: 2500.0 -> 1800.0" in out
    assert "  + span_id=" in out and "attrs.retries: 2  @ line 78" in out
    assert out.rstrip().endswith("groups: other 3, rule drift 2, telemetry 1, validator 1")
    assert "2 added, 1 removed, 4 changed; 31 unchanged" in out
    assert tree_fingerprint(ws) == before


def test_every_category_and_binary_marker(run_cli, ws: Path) -> None:
    result = run_cli("snapshots", "diff", A, B, "-s", str(ws))
    assert result.returncode == 1
    out = result.stdout
    assert "renamed         notes/runbook.md -> notes/ops/runbook.md (100%)" in out
    assert "binary changed  blobs/feature-index.bin" in out
    assert "Binary files differ: 16.0 KiB -> 16.0 KiB, sha256 f33183e95dcc -> a3ba26427f2e" in out
    assert "changed         notes/hosts.txt  [line-endings-only]" in out
    assert "changed         notes/oncall.txt  [whitespace-only]" in out
    assert "labels: line-endings-only 1, whitespace-only 1" in out


def test_rules_from_flags_make_entries_same_and_exit_zero_when_nothing_remains(run_cli, ws: Path) -> None:
    result = run_cli("snapshots", "diff", B, C, "-s", str(ws), "--exclude-field", "attrs.retries",
                     "--ignore-path", "notes/**", "--ignore-path", "blobs/**", "--ignore-path", "rules/**",
                     "--ignore-path", "validator/**", "--brief")
    assert result.returncode == 0, result.stdout
    assert "same after rules  telemetry/spans-score.jsonl  [changed; exclude attrs.retries]" in result.stdout
    assert "0 differences after rules, 7 same after rules" in result.stdout
    lines = run_cli("snapshots", "diff", A, B, "-s", str(ws), "--ignore-line", r"^\S+Z ", "-q").stdout
    assert "same after rules  notes/timeline.log  [changed; ignore lines /^\\S+Z /]" in lines
    same = run_cli("snapshots", "diff", A, A, "-s", str(ws))
    assert same.returncode == 0 and "no differences; 36 unchanged" in same.stdout


def test_json_output(run_cli, ws: Path) -> None:
    result = run_cli("snapshots", "diff", A, B, "-s", str(ws), "--json", "--ignore-whitespace")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["summary"]["categories"]["renamed"] == 1
    assert body["summary"]["same_after_rules"] == 2
    entries = {e["path"]: e for e in body["entries"]}
    assert entries["notes/ops/runbook.md"]["old_path"] == "notes/runbook.md"
    assert entries["notes/oncall.txt"]["same_after_rules"] and entries["notes/oncall.txt"]["rule"] == "ignore whitespace"
    assert "notes/glossary.md" not in entries
    every = json.loads(run_cli("snapshots", "diff", A, B, "-s", str(ws), "--json", "--all").stdout)
    assert len(every["entries"]) == 15 + 24


def test_directories_anywhere_on_disk(run_cli, ws: Path, tmp_path: Path) -> None:
    left, right = tmp_path / "left", tmp_path / "right"
    shutil.copytree(ws / "history" / "snapshots" / B, left)
    shutil.copytree(ws / "history" / "snapshots" / C, right)
    result = run_cli("snapshots", "diff", str(left), str(right), "-q", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "left -> right: 2 added, 1 removed, 4 changed" in result.stdout
    relative = run_cli("snapshots", "diff", "left", "right", "-q", "--source", str(ws), cwd=tmp_path)
    assert relative.returncode == 1 and "left -> right" in relative.stdout
    inside = run_cli("snapshots", "diff", f"history/snapshots/{B}", C, "-q", "-s", str(ws))
    assert inside.returncode == 1


def test_undecodable_and_control_character_names(run_cli, tmp_path: Path) -> None:
    import os

    left, right = tmp_path / "l", tmp_path / "r"
    left.mkdir()
    right.mkdir()
    with open(os.fsencode(str(right)) + b"/bad-\xff.txt", "wb") as handle:
        handle.write(b"x")
    (right / "new\nline.txt").write_text("y")
    result = run_cli("snapshots", "diff", str(left), str(right), "--json")
    assert result.returncode == 1, result.stderr
    paths = sorted(e["path"] for e in json.loads(result.stdout)["entries"])
    assert paths == ["bad-\\xff.txt", "new\nline.txt"]
    human = run_cli("snapshots", "diff", str(left), str(right), "-q")
    assert "added  bad-\\xff.txt" in human.stdout and "added  new\\nline.txt" in human.stdout


def test_markdown_report_is_written_atomically(run_cli, ws: Path, tmp_path: Path) -> None:
    report = tmp_path / "out" / "report.md"
    report.parent.mkdir()
    result = run_cli("snapshots", "diff", A, B, "-s", str(ws), "--output", str(report), "--ignore-line", r"^\S+Z ")
    assert result.returncode == 1
    text = report.read_text()
    assert text.startswith(f"# Snapshot diff: `history/snapshots/{A}` → `history/snapshots/{B}`")
    assert "| **differences after rules** | **14** |" in text
    assert "### binary changed: `blobs/feature-index.bin` (other)" in text
    assert "| `rule.thresholds.max_transactions` | `12` | `9` |  |" in text
    assert "```diff\n--- a/notes/known-issues.md" in text
    assert "## Same after rules (1)" in text and "`notes/timeline.log`" in text
    assert [p.name for p in report.parent.iterdir()] == ["report.md"]
    assert f"report written to {report}" in result.stderr


@pytest.mark.parametrize(("args", "message"), [
    (("nope", B), "driftdeck: nope: no such snapshot or directory"),
    ((A, B, "--ignore-line", "("), "driftdeck: command line: invalid regex '('"),
    ((A, B, "--tolerance", "-1"), "Invalid value for --tolerance: must be >= 0"),
])
def test_input_errors_exit_2_with_one_line(run_cli, ws: Path, args: tuple[str, ...], message: str) -> None:
    result = run_cli("snapshots", "diff", *args, "-s", str(ws))
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_bad_config_names_file_and_line(run_cli, ws: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(ws / "history", root / "history")
    (root / "driftdeck.yaml").write_text("snapshots:\n  ignore_lines: ['ok']\n  tolerance: lots\n")
    result = run_cli("snapshots", "diff", A, B, "-s", str(root))
    assert result.returncode == 2
    assert result.stderr.strip() == "driftdeck: driftdeck.yaml:3: snapshots.tolerance must be a number >= 0"
    assert run_cli("snapshots", "diff", A, B, "-s", str(root), "--no-rules", "-q").returncode == 1


def test_snapshots_diff_does_not_import_textual(ws: Path) -> None:
    code = (
        "import sys\nfrom tui.cli import cli\n"
        f"try:\n    cli.main(args=['snapshots', 'diff', {A!r}, {B!r}, '-s', {str(ws)!r}, '-q'], standalone_mode=False)\n"
        "finally:\n    print(sorted(m for m in sys.modules if m.split('.')[0] == 'textual'), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "[]"
