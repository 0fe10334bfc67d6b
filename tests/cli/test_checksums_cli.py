"""``driftdeck checksums verify|update`` through a real subprocess."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import tree_fingerprint


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from backends.demo import build_demo

    root = tmp_path_factory.mktemp("checksums-cli") / "workspace"
    build_demo(root, seed=7)
    return root


def test_verify_every_manifest_prints_drift_lines_and_exits_1(run_cli, demo: Path) -> None:
    before = tree_fingerprint(demo)
    result = run_cli("checksums", "verify", "--source", str(demo))
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "changed     fixtures/golden/data/ledger.csv  (line 5; expected " in out
    assert "moved       fixtures/golden/data/old-name.csv  (line 10; now at fixtures/golden/data/archive/2026-11/new-name.csv)" in out
    assert "new         fixtures/golden/data/extra.csv" in out
    assert "malformed   fixtures/golden/SHA256SUMS  (line 15; 40 hex digits (SHA-1?)" in out
    assert "fixtures/bsd/SHA256SUMS: OK (ok 3)" in out
    assert "fixtures/golden/SHA256SUMS: DRIFT (changed 1, missing 1, unreadable 2, moved 1, new 1, duplicate 1, alias 1, malformed 2, ok 8)" in out
    assert "fixtures/empty/SHA256SUMS: the manifest is empty" in result.stderr
    assert "ok          " not in out  # ok entries are counted, not listed
    assert tree_fingerprint(demo) == before


def test_verify_clean_manifest_exits_0(run_cli, demo: Path) -> None:
    result = run_cli("checksums", "verify", "fixtures/bsd/SHA256SUMS", "fixtures/release/artifact.tar.gz.sha256", "-s", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count(": OK (ok ") == 2


def test_verify_json_is_ndjson_with_a_summary(run_cli, demo: Path) -> None:
    result = run_cli("checksums", "verify", "fixtures/golden/SHA256SUMS", "-s", str(demo), "--json")
    assert result.returncode == 1
    header, *objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert header == {"type": "header", "schema": "driftdeck/checksums-verify/v1"}
    entries = [o for o in objects if o["type"] == "entry"]
    summary = objects[-1]
    assert summary["type"] == "summary" and summary["counts"]["ok"] == 8 and summary["drift"] is True
    assert len(entries) == sum(summary["counts"].values())
    assert [e["line"] for e in entries if e["line"] is not None] == sorted(e["line"] for e in entries if e["line"] is not None)
    moved = next(e for e in entries if e["category"] == "moved")
    assert moved["other"] == "fixtures/golden/data/archive/2026-11/new-name.csv"


def test_no_new_skips_unlisted_files(run_cli, demo: Path) -> None:
    result = run_cli("checksums", "verify", "fixtures/empty/SHA256SUMS", "-s", str(demo), "--no-new", "--json")
    summary = json.loads(result.stdout.splitlines()[-1])
    assert summary["counts"] == {} and summary["problem"]["kind"] == "empty"


def test_missing_manifest_exits_2_but_others_still_verify(run_cli, demo: Path) -> None:
    result = run_cli("checksums", "verify", "nope/SHA256SUMS", "fixtures/bsd/SHA256SUMS", "-s", str(demo))
    assert result.returncode == 2
    assert "driftdeck: nope/SHA256SUMS: no such manifest" in result.stderr
    assert "fixtures/bsd/SHA256SUMS: OK" in result.stdout
    assert "Traceback" not in result.stderr


def test_manifest_given_as_a_real_path_outside_the_source(run_cli, tmp_path: Path, demo: Path) -> None:
    (tmp_path / "f").write_bytes(b"data")
    (tmp_path / "f.sha256").write_text(f"{hashlib.sha256(b'data').hexdigest()}  f\n")
    result = run_cli("checksums", "verify", str(tmp_path / "f.sha256"), "-s", str(demo))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "f.sha256: OK (ok 1)" in result.stdout
    inside = run_cli("checksums", "verify", str(demo / "fixtures/bsd/SHA256SUMS"), cwd=demo)
    assert "fixtures/bsd/SHA256SUMS: OK" in inside.stdout


def test_bad_usage_and_bad_source_exit_2(run_cli, tmp_path: Path) -> None:
    assert run_cli("checksums", "verify", "-s", str(tmp_path / "nope")).returncode == 2
    empty = run_cli("checksums", "verify", "-s", str(tmp_path))
    assert empty.returncode == 2 and "holds no checksum manifest" in empty.stderr
    assert run_cli("checksums", "update", str(tmp_path)).returncode == 2  # --output is required
    escape = run_cli("checksums", "verify", "../x/SHA256SUMS", "-s", str(tmp_path))
    assert escape.returncode == 2 and "outside the source root" in escape.stderr


def test_update_writes_a_manifest_sha256sum_accepts(run_cli, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    for name in ("a.txt", "with space", "back\\slash", "new\nline", "sub/b.bin"):
        (tree / name).write_bytes(name.encode() * 5)
    result = run_cli("checksums", "update", str(tree), "--output", str(tree / "SHA256SUMS"))
    assert result.returncode == 0, result.stderr
    assert "wrote 5 entries" in result.stdout
    check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=tree, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    again = run_cli("checksums", "verify", "SHA256SUMS", "-s", str(tree))
    assert again.returncode == 0 and "OK (ok 5)" in again.stdout
    (tree / "a.txt").write_bytes(b"changed")
    assert run_cli("checksums", "verify", "SHA256SUMS", "-s", str(tree)).returncode == 1


def test_update_reports_unreadable_files_and_exits_1(run_cli, tmp_path: Path) -> None:
    (tmp_path / "ok").write_bytes(b"x")
    os.symlink("nowhere", tmp_path / "dangling")
    out = tmp_path / "out.sha256"
    result = run_cli("checksums", "update", str(tmp_path), "-o", str(out), "--json")
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert body["entries"] == 1 and body["skipped"][0]["path"] == "dangling"
    assert "skipped dangling: dangling symlink" in result.stderr
    assert out.read_text().endswith("  ok\n")


def test_verify_a_workspace_that_aliases_its_own_directories(run_cli, tmp_path: Path) -> None:
    # b -> a and self -> . once ended in "internal error: NameError" from the glob walk's alias branch.
    root = tmp_path / "w"
    (root / "a").mkdir(parents=True)
    data = b"payload\n"
    (root / "a" / "f.txt").write_bytes(data)
    (root / "a" / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  f.txt\n")
    (root / "b").symlink_to("a")
    (root / "self").symlink_to(".")
    before = tree_fingerprint(root)
    result = run_cli("checksums", "verify", "--source", str(root))
    assert result.returncode in (0, 1), result.stderr
    assert "internal error" not in result.stderr
    assert "a/SHA256SUMS: OK (ok 1)" in result.stdout
    assert "b/SHA256SUMS" not in result.stdout + result.stderr  # the alias is the same manifest, verified once
    as_json = run_cli("checksums", "verify", "--source", str(root), "--json")
    assert as_json.returncode == result.returncode and "internal error" not in as_json.stderr
    summaries = [json.loads(line) for line in as_json.stdout.splitlines() if '"type":"summary"' in line]
    assert [(s["manifest"], s["counts"]) for s in summaries] == [("a/SHA256SUMS", {"ok": 1})]
    assert tree_fingerprint(root) == before


def test_checksums_verify_does_not_import_textual(demo: Path) -> None:
    code = (
        "import sys; from tui.cli import main\n"
        "try:\n    main(['checksums', 'verify', '-s', sys.argv[1], 'fixtures/bsd/SHA256SUMS'])\n"
        "except SystemExit:\n    pass\n"
        "assert 'textual' not in sys.modules, 'textual imported'\n"
        "assert 'asyncio' not in sys.modules, 'asyncio imported'\n"
        "print('clean')"
    )
    result = subprocess.run([sys.executable, "-c", code, str(demo)], capture_output=True, text=True)
    assert result.stdout.strip().endswith("clean"), result.stderr
