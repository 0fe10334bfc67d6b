"""``walk_glob`` over directory aliases and symlink loops: each directory is entered once, the rest reported."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from backends.checksums.verify import verify_manifest
from backends.errors import ForbiddenError
from backends.globwalk import walk_glob
from backends.local import LocalSource
from backends.models import Problem

ALREADY_VISITED = "directory already visited (symlink cycle or alias); not followed"


@pytest.fixture
def aliased(tmp_path: Path) -> Path:
    """``a/`` holds the files; ``b -> a`` aliases it, ``self -> .`` and ``a/up -> ..`` loop back to the root."""
    root = tmp_path / "w"
    (root / "a" / "sub").mkdir(parents=True)
    (root / "a" / "SHA256SUMS").write_text("")
    (root / "a" / "sub" / "SHA256SUMS").write_text("")
    (root / "b").symlink_to("a")
    (root / "self").symlink_to(".")
    (root / "a" / "up").symlink_to("..")
    return root


@pytest.mark.parametrize("confine", [True, False])
def test_recursive_glob_enters_each_directory_once_and_reports_aliases(aliased: Path, confine: bool) -> None:
    problems: list[Problem] = []
    found = list(
        walk_glob(
            str(aliased),
            "**/SHA256SUMS",
            want_dirs=False,
            on_problem=problems.append,
            confine=os.path.realpath(aliased) if confine else None,
        )
    )
    assert found == [("a/SHA256SUMS", ()), ("a/sub/SHA256SUMS", ())]
    assert sorted((p.path, p.message) for p in problems) == [
        ("a/up", ALREADY_VISITED),
        ("b", ALREADY_VISITED),
        ("self", ALREADY_VISITED),
    ]
    assert all(isinstance(p, Problem) and p.line is None for p in problems)


def test_recursive_directory_glob_terminates_on_a_loop(aliased: Path) -> None:
    problems: list[Problem] = []
    found = [rel for rel, _ in walk_glob(str(aliased), "**", want_dirs=True, on_problem=problems.append)]
    assert found == ["a", "a/sub"]
    assert {p.path for p in problems} == {"a/up", "b", "self"}


def test_bounded_wildcards_follow_aliases_without_looping(aliased: Path) -> None:
    # No ``**``: the depth is bounded by the pattern, so an alias is just another name.
    found = [rel for rel, _ in walk_glob(str(aliased), "*/SHA256SUMS", want_dirs=False)]
    assert found == ["a/SHA256SUMS", "b/SHA256SUMS"]


def test_the_default_problem_handler_ignores_aliases(aliased: Path) -> None:
    assert [rel for rel, _ in walk_glob(str(aliased), "**/SHA256SUMS", want_dirs=False)] == ["a/SHA256SUMS", "a/sub/SHA256SUMS"]


async def test_local_source_lists_an_aliased_manifest_once_and_verifies_it(aliased: Path) -> None:
    data = b"payload\n"
    (aliased / "a" / "f.txt").write_bytes(data)
    (aliased / "a" / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  f.txt\n")
    source = LocalSource(str(aliased))
    try:
        manifests = await source.list_manifests()
        assert manifests == ["a/SHA256SUMS", "a/sub/SHA256SUMS"]
        items = [item async for item in source.verify_checksums("a/SHA256SUMS")]
    finally:
        await source.aclose()
    summary = items[-1]
    assert summary.problem is None and summary.counts["ok"] == 1  # unlisted neighbours may add "new"


def test_keep_refused_lists_a_match_that_links_out_of_the_root_after_reporting_it(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.sha256").write_text("")
    root = tmp_path / "w"
    (root / "d").mkdir(parents=True)
    (root / "d" / "ok.sha256").write_text("")
    (root / "d" / "out.sha256").symlink_to(outside / "x.sha256")
    (root / "d" / "dir-out").symlink_to(outside)  # a directory out of the root is never entered, either way
    (root / "SHA256SUMS").symlink_to("/etc/passwd")
    real = os.path.realpath(root)
    for keep in (False, True):
        problems: list[Problem] = []
        found = [rel for glob in ("**/*.sha256", "SHA256SUMS")
                 for rel, _ in walk_glob(str(root), glob, want_dirs=False, on_problem=problems.append, confine=real, keep_refused=keep)]
        assert found == (["d/ok.sha256", "d/out.sha256", "SHA256SUMS"] if keep else ["d/ok.sha256"])
        assert {p.path for p in problems} == {"d/out.sha256", "d/dir-out", "SHA256SUMS"}


async def test_a_manifest_and_a_wal_file_linking_out_are_listed_and_refused_when_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "SHA256SUMS").write_text(f"{hashlib.sha256(b'').hexdigest()}  empty\n")
    (outside / "record.jsonl").write_text('{"v": 2, "id": 1, "ts_ms": 0, "run_id": "r", "kind": "k", "payload": {}}\n')
    root = tmp_path / "w"
    (root / "m").mkdir(parents=True)
    (root / "m" / "SHA256SUMS").symlink_to(outside / "SHA256SUMS")
    wal = root / "runs" / "r" / "wal"
    wal.mkdir(parents=True)
    (root / "runs" / "r" / "run_status.json").write_text('{"run_id": "r", "state": "READY"}')
    (wal / "record.jsonl").symlink_to(outside / "record.jsonl")
    (wal / "replay.jsonl").write_text('{"v": 2, "id": 1, "ts_ms": 0, "run_id": "r", "kind": "k", "payload": {}}\n')
    source = LocalSource(str(root))
    assert await source.list_manifests() == ["m/SHA256SUMS"]
    with pytest.raises(ForbiddenError, match="m/SHA256SUMS: resolves outside the source root"):
        [item async for item in source.verify_checksums("m/SHA256SUMS")]
    [summary] = list(verify_manifest(str(root), "m/SHA256SUMS"))  # the engine of `checksums verify`: a summary saying so
    assert summary.problem is not None and "m/SHA256SUMS: resolves outside the source root" in summary.problem.message
    [pair] = await source.list_wal_pairs()
    assert (pair.record, pair.replay) == ("runs/r/wal/record.jsonl", "runs/r/wal/replay.jsonl")
    assert (await source.get_run("r")).wal_files == ("runs/r/wal/record.jsonl", "runs/r/wal/replay.jsonl")


async def test_a_symlink_loop_where_a_directory_is_wanted_is_reported_not_dropped(tmp_path: Path) -> None:
    root = tmp_path / "w"
    (root / "runs" / "real").mkdir(parents=True)
    (root / "runs" / "real" / "run_status.json").write_text('{"run_id": "real", "state": "QUARANTINED"}')
    (root / "runs" / "loop-a").symlink_to("loop-b")
    (root / "runs" / "loop-b").symlink_to("loop-a")
    (root / "runs" / "dangling").symlink_to("gone")  # not a loop: nothing to say, as before
    problems: list[Problem] = []
    found = [rel for rel, _ in walk_glob(str(root), "runs/*", want_dirs=True, on_problem=problems.append)]
    assert found == ["runs/real"]
    assert [(p.path, p.message) for p in problems] == [("runs/loop-a", "symlink loop; not followed"), ("runs/loop-b", "symlink loop; not followed")]
    files = [rel for rel, _ in walk_glob(str(root), "runs/*", want_dirs=False, on_problem=problems.append)]
    assert files == ["runs/dangling", "runs/loop-a", "runs/loop-b"]  # files wanted: listed, and the open says why not
    runs = {r.key: r async for batch in LocalSource(str(root)).iter_runs() for r in batch}
    assert set(runs) == {"runs/real", "runs/loop-a", "runs/loop-b"}
    assert "symlink loop" in str(runs["runs/loop-a"].problem)
