"""The tree diff split between two processes gives exactly what one process gives, in the same order."""

from __future__ import annotations

import concurrent.futures.thread  # noqa: F401 - diff_trees imports its pool lazily; nobody, in run_unprivileged, cannot
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backends.forkpool import cores
from backends.snapshots.models import DiffProgress, DiffSummary, EntryDiff, SnapshotRules
from backends.snapshots.tree import SPLIT_UNITS, _split, diff_trees
from tests.conftest import run_unprivileged

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "memfd_create"), reason="needs fork and memfd"),
    pytest.mark.usefixtures("single_threaded"),
]

Item = list[EntryDiff] | DiffProgress | DiffSummary


def both(a: Path, b: Path, rules: SnapshotRules = SnapshotRules(), unchanged: bool = True) -> tuple[list[Item], list[Item]]:
    """Every item of the diff, on threads in one process and split between processes."""
    one = list(diff_trees(str(a), str(b), rules, unchanged=unchanged, allow_fork=False))
    split = list(diff_trees(str(a), str(b), rules, unchanged=unchanged, allow_fork=True))
    return one, split


def assert_split_used(a: Path, b: Path) -> None:
    if cores() < 2:
        pytest.skip("one core: the diff never splits")
    assert _split(str(a), str(b), SPLIT_UNITS * cores()) is not None, "the trees should have been split"


# Names that sort around "/" (" ", "-", ".": below it), a newline, a backslash, non-ASCII.
NAMES = st.text(alphabet=st.sampled_from("ab -.\\\né"), min_size=1, max_size=4).filter(lambda n: n not in (".", ".."))
PATHS = st.lists(NAMES, min_size=1, max_size=4).map("/".join)
CONTENTS = st.sampled_from([b"", b"one\n", b"two\n", b"one\r\n", b"\x00\x01binary", b'{"a": 1}', b'{"a": 2}'])
ENTRY = st.one_of(
    st.tuples(st.just("file"), CONTENTS),
    st.tuples(st.just("dir"), st.just(b"")),
    st.tuples(st.just("link"), st.sampled_from([b"target", b"other", b"..", b"missing/x"])),
)
TREE = st.dictionaries(PATHS, ENTRY, max_size=25)


def _ancestors(rel: str) -> list[str]:
    """``a/b/c`` -> ``["a", "a/b"]``."""
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: n + 1]) for n in range(len(parts))]


def build(root: Path, tree: dict[str, tuple[str, bytes]]) -> None:
    """Write what fits of ``tree`` (a path used both as a file and a directory keeps its first use).

    A path under a symbolic link written before it is skipped: writing through ``- -> ..`` would land
    outside ``root`` (a hypothesis example wrote ``../b`` and the second tree could not be made).
    """
    root.mkdir()
    for rel, (kind, data) in tree.items():
        path = root / rel
        if any((root / part).is_symlink() for part in _ancestors(rel)):
            continue
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if kind == "file":
                path.write_bytes(data)
            elif kind == "dir":
                path.mkdir(exist_ok=True)
            else:
                os.symlink(os.fsdecode(data), path)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue
    for unit in ("u1", "u2"):  # at least two directories to share out
        (root / unit).mkdir(exist_ok=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree_a=TREE, tree_b=TREE, common=TREE, unchanged=st.booleans())
@example(  # CI found it: "-/b" written through the link "- -> .." made the second tree's root a file
    tree_a={"\\": ("file", b""), "-/b": ("file", b"")},
    tree_b={},
    common={"\\": ("file", b""), "-": ("link", b"..")},
    unchanged=False,
)
def test_split_diff_equals_the_one_process_diff_item_for_item(
    tmp_path_factory: pytest.TempPathFactory, tree_a: dict, tree_b: dict, common: dict, unchanged: bool
) -> None:
    root = tmp_path_factory.mktemp("split")
    build(root / "a", common | tree_a)
    build(root / "b", common | tree_b)
    assert_split_used(root / "a", root / "b")
    one, split = both(root / "a", root / "b", unchanged=unchanged)
    assert split == one


def test_split_keeps_order_rules_renames_and_big_files(tmp_path: Path) -> None:
    """Many directories at several depths; rules, renames, big and equal files: item for item the same."""
    a, b = tmp_path / "a", tmp_path / "b"
    for n in range(400):
        rel = f"top{n % 5}/mid{n % 7}{' x' if n % 3 else '-y'}/f{n}.txt"
        for root in (a, b):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
        data = f"line {n}\nts=17{n}\n".encode() * (1 + n % 4)
        (a / rel).write_bytes(data)
        (b / rel).write_bytes(data if n % 9 else data.replace(b"ts=17", b"ts=18"))
    (a / "root.txt").write_bytes(b"at the root\n")
    (b / "root.txt").write_bytes(b"at the root, changed\n")
    (a / "top0" / "big.bin").write_bytes(b"\x00" * (3 << 20))
    (b / "top0" / "big.bin").write_bytes(b"\x00" * (3 << 20))
    (a / "top1" / "moved.txt").write_bytes(b"this file moves\n" * 20)
    (b / "top4" / "moved-here.txt").write_bytes(b"this file moves\n" * 20)
    (b / "top2" / "only-new").mkdir()
    (a / "gone" / "s1").mkdir(parents=True)  # a directory above the units, only in the baseline:
    (a / "gone" / "s1" / "f.txt").write_bytes(b"x\n")  # its contents are listed, not itself
    (a / "gone" / "s2").mkdir()
    rules = SnapshotRules(ignore_lines=(r"ts=\d+",), ignore_paths=("top3/**",))
    assert_split_used(a, b)
    one, split = both(a, b, rules)
    assert split == one
    summary = one[-1]
    assert isinstance(summary, DiffSummary)
    assert summary.categories["renamed"] == 1 and summary.same_after_rules > 0 and summary.files_a == 404
    removed = {e.path for batch in one if isinstance(batch, list) for e in batch if e.category == "removed"}
    assert {"gone/s1/f.txt", "gone/s2"} <= removed and "gone" not in removed


def _both_unprivileged(a: Path, b: Path) -> tuple[list[Item], list[Item]]:
    return both(a, b)


def test_split_reports_unreadable_directories_and_files_like_one_process(unprivileged_tmp: Path) -> None:
    a, b = unprivileged_tmp / "a", unprivileged_tmp / "b"
    for root in (a, b):
        for rel in ("u1/locked/inner.txt", "u1/open.txt", "u2/deep/locked/x.txt", "u3/secret.txt", "u4/f.txt"):
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / rel).write_bytes(b"same\n")
    locked = [b / "u1" / "locked", b / "u2" / "deep" / "locked", b / "u3" / "secret.txt", a / "u4"]
    for path in locked:
        path.chmod(0)
    try:
        assert_split_used(a, b)
        one, split = run_unprivileged(_both_unprivileged, a, b)  # as nobody when root: root reads any mode
    finally:
        for path in locked:
            path.chmod(0o755)
    assert split == one
    unreadable = [e.path for batch in one if isinstance(batch, list) for e in batch if e.category == "unreadable"]
    assert sorted(unreadable) == ["u1/locked", "u2/deep/locked", "u3/secret.txt", "u4"]
