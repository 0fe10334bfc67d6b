"""``walk_glob`` over directory aliases and symlink loops: each directory is entered once, the rest reported."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

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
