"""``driftdeck wal validate|diff`` through a real subprocess, on the demo workspace's WAL pairs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from backends.demo import build_demo
from tests.backends.test_wal_corpus import event, write
from tests.conftest import tree_fingerprint

DIVERGES = "runs/run-20261101-1755-4eb721/wal"
PARITY = "runs/run-20261119-0925-9cb029/wal"
TORN = "runs/run-20261101-1445-06826e/wal"
BACKWARDS = "runs/run-20261110-0655-23f61c/wal"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("wal-cli") / "demo"
    build_demo(root, seed=7)
    return root


def test_diff_prints_the_first_divergence_first(run_cli, demo: Path) -> None:
    result = run_cli("wal", "diff", f"{DIVERGES}/record.jsonl", f"{DIVERGES}/replay.jsonl", "--source", str(demo))
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "first divergence at line 37 (id 37, kind ExternalIOFinished): payload.status expected 200, found 503"
    assert "  the 5 events before it (matched):" in lines
    assert '  #2    changed   line 233 (id 233, kind DecisionMade): payload.decision expected "approve", found "review"' in lines
    assert "  #3    extra     replay line 401 (id 401, kind ActivityScheduled): extra in replay" in lines
    assert "summary: 400 record lines, 401 replay lines: 398 matched (0 byte-identical), 2 changed, 1 extra" in lines
    assert "Bearer" not in result.stdout and "whsec_" not in result.stdout


def test_diff_of_the_parity_pair_exits_zero(run_cli, demo: Path) -> None:
    result = run_cli("wal", "diff", f"{PARITY}/record.jsonl", f"{PARITY}/replay.jsonl", "-s", str(demo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("parity: 300 events match")


def test_diff_rules_ignore_and_float_tolerance(run_cli, demo: Path) -> None:
    ignored = run_cli("wal", "diff", f"{DIVERGES}/record.jsonl", f"{DIVERGES}/replay.jsonl", "-s", str(demo),
                      "--ignore", "payload.status")
    assert ignored.stdout.splitlines()[0].startswith("first divergence at line 233 (id 233, kind DecisionMade)")
    strict = run_cli("wal", "diff", f"{TORN}/record.jsonl", f"{TORN}/replay.jsonl", "-s", str(demo))
    assert "payload.amount expected" in strict.stdout.splitlines()[0]
    tolerant = run_cli("wal", "diff", f"{TORN}/record.jsonl", f"{TORN}/replay.jsonl", "-s", str(demo),
                       "--float-tolerance", "1e-9")
    assert tolerant.returncode == 1
    assert tolerant.stdout.splitlines()[0] == (
        "first divergence at line 200 (id 200, kind ActivityScheduled): "
        "replay line 200 is a torn tail (cut short, the writer stopped mid-event)"
    )
    assert "note: replay line 200 is a torn tail (the writer stopped mid-event)" in tolerant.stdout


def test_diff_json_is_one_document_with_redacted_values(run_cli, demo: Path) -> None:
    result = run_cli("wal", "diff", f"{DIVERGES}/record.jsonl", f"{DIVERGES}/replay.jsonl", "-s", str(demo),
                     "--json", "--redact", "payload.body_sha256")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["rules"]["redact"] == ["payload.authorization", "payload.secret", "payload.body_sha256"]
    first = body["divergences"][0]
    assert (first["kind"], first["event_id"], first["changes"]) == (
        "changed", 37, [{"path": "payload.status", "expected": "200", "found": "503"}]
    )
    assert len(first["context"]) == 5
    assert body["summary"]["counts"] == {"changed": 2, "missing": 0, "extra": 1, "malformed": 0, "torn": 0}
    assert '"body_sha256":"sha256:' in first["record"]
    assert "Bearer" not in result.stdout and "whsec_" not in result.stdout


def test_max_divergences(run_cli, demo: Path) -> None:
    result = run_cli("wal", "diff", f"{DIVERGES}/record.jsonl", f"{DIVERGES}/replay.jsonl", "-s", str(demo),
                     "--max-divergences", "1")
    assert result.returncode == 1
    assert "#2" not in result.stdout
    assert "stopped after 1 divergences (--max-divergences); the rest was not compared" in result.stdout


def test_validate_exit_codes_and_output(run_cli, demo: Path) -> None:
    ok = run_cli("wal", "validate", f"{PARITY}/record.jsonl", "-s", str(demo))
    assert ok.returncode == 0 and ok.stdout.strip().endswith("300 lines, 300 events: valid")
    bad = run_cli("wal", "validate", f"{BACKWARDS}/replay.jsonl", "-s", str(demo))
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[0] == (
        f"{BACKWARDS}/replay.jsonl:122: id-backwards (error): id 119 comes after id 121 (line 121)"
    )
    torn = run_cli("wal", "validate", f"{TORN}/replay.jsonl", "-s", str(demo), "--json")
    body = json.loads(torn.stdout)
    assert [(p["line"], p["code"]) for p in body["problems"]] == [(200, "torn-tail")]
    assert body["summary"]["torn_tail"] == 200 and torn.returncode == 1


def test_paths_may_be_real_paths_outside_the_source(run_cli, demo: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "elsewhere" / "copy.jsonl", event(1), event(2))
    result = run_cli("wal", "validate", str(outside), "-s", str(demo))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "copy.jsonl: 2 lines, 2 events: valid"
    relative = run_cli("wal", "diff", "elsewhere/copy.jsonl", str(outside), cwd=tmp_path)
    assert relative.returncode == 0, relative.stderr


def test_input_errors_exit_two_with_one_line(run_cli, demo: Path, tmp_path: Path) -> None:
    missing = run_cli("wal", "validate", "nope.jsonl", "-s", str(demo))
    assert missing.returncode == 2 and missing.stderr.strip() == "driftdeck: nope.jsonl: no such file"
    (tmp_path / "folder.jsonl").mkdir()
    folder = run_cli("wal", "diff", "folder.jsonl", "folder.jsonl", "-s", str(tmp_path))
    assert folder.returncode == 2 and folder.stderr.strip() == "driftdeck: folder.jsonl: unreadable: is a directory"
    bad_rule = run_cli("wal", "diff", "a", "b", "--ignore", "x..y", "-s", str(demo))
    assert bad_rule.returncode == 2 and "invalid field path 'x..y'" in bad_rule.stderr
    negative = run_cli("wal", "diff", "a", "b", "--float-tolerance", "-1", "-s", str(demo))
    assert negative.returncode == 2
    for result in (missing, folder, bad_rule, negative):
        assert "Traceback" not in result.stderr


def test_wal_commands_are_read_only(run_cli, demo: Path) -> None:
    before = tree_fingerprint(demo)
    run_cli("wal", "validate", f"{TORN}/replay.jsonl", "-s", str(demo))
    run_cli("wal", "diff", f"{DIVERGES}/record.jsonl", f"{DIVERGES}/replay.jsonl", "-s", str(demo), "--json")
    assert tree_fingerprint(demo) == before


def test_wal_diff_does_not_import_textual(demo: Path) -> None:
    code = (
        "import sys; from tui.cli import main\n"
        "try:\n    main(['wal', 'diff', sys.argv[2] + '/record.jsonl', sys.argv[2] + '/replay.jsonl', '-s', sys.argv[1]])\n"
        "except SystemExit:\n    pass\n"
        "try:\n    main(['wal', 'validate', sys.argv[2] + '/record.jsonl', '-s', sys.argv[1]])\n"
        "except SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
        "print('clean')"
    )
    result = subprocess.run([sys.executable, "-c", code, str(demo), DIVERGES], capture_output=True, text=True)
    assert result.stdout.strip().endswith("clean"), result.stderr
