"""The tree diff engine: golden categories, rules, peers (diff -rq, git -M), hostile trees."""

from __future__ import annotations

import concurrent.futures.thread  # noqa: F401 - diff_trees imports its pool lazily; nobody, in run_unprivileged, cannot
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backends.snapshots.models import DiffProgress, DiffSummary, EntryDiff, SnapshotRules
from backends.snapshots.tree import diff_trees
from tests.conftest import run_unprivileged, tree_fingerprint


def run(a: Path, b: Path, rules: SnapshotRules = SnapshotRules(), unchanged: bool = True, allow_fork: bool = False):
    entries: dict[str, EntryDiff] = {}
    summary = None
    progress = []
    for item in diff_trees(str(a), str(b), rules, unchanged=unchanged, allow_fork=allow_fork):
        if isinstance(item, list):
            for entry in item:
                assert entry.path not in entries, entry.path
                entries[entry.path] = entry
        elif isinstance(item, DiffSummary):
            summary = item
        else:
            assert isinstance(item, DiffProgress)
            progress.append(item)
    assert summary is not None
    return entries, summary


def write(root: Path, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


RUNBOOK = b"".join(b"step %d: check the dashboard then replay the pair\n" % i for i in range(40))


@pytest.fixture
def trees(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a", tmp_path / "b"
    common = {
        "same.txt": b"unchanged\n",
        "rules/velocity.yaml": b"rule:\n  max: 12\n  severity: high\n",
        "validator/report.json": b'{"passed": 7, "failed": 0}\n',
        "telemetry/spans.jsonl": b'{"span_id": "a", "ms": 1.0}\n{"span_id": "b", "ms": 2.0}\n',
    }
    write(a, {
        **common,
        "old.txt": b"gone\n",
        "notes/runbook.md": RUNBOOK,
        "notes/guide.md": RUNBOOK.replace(b"step", b"stage"),
        "notes/oncall.txt": b"w44: ann  (backup: bo)\n",
        "notes/hosts.txt": b"10.0.0.1 a\n10.0.0.2 b\n",
        "notes/timeline.log": b"2026-11-01T02:00:00Z started\n2026-11-01T02:05:00Z done\n",
        "notes/changed.txt": b"alpha beta gamma\n",
        "blob.bin": b"\x00\x01\x02" * 100,
        "kind/file-then-dir": b"x",
        "kind/file-then-link": b"x",
        "format.json": b'{"a": 1, "b": [1, 2]}',
    })
    write(b, {
        **common,
        "new.txt": b"fresh\n",
        "notes/ops/runbook.md": RUNBOOK,
        "notes/handbook.md": RUNBOOK.replace(b"step", b"stage").replace(b"stage 7:", b"stage seven:"),
        "notes/oncall.txt": b"w44:\tann  (backup:\tbo)   \n",
        "notes/hosts.txt": b"10.0.0.1 a\r\n10.0.0.2 b\r\n",
        "notes/timeline.log": b"2026-11-08T03:00:00Z started\n2026-11-08T03:07:00Z done\n",
        "notes/changed.txt": b"alpha delta gamma\n",
        "blob.bin": b"\x00\x01\x03" * 100,
        "kind/file-then-dir/inside.txt": b"x",
        "format.json": b'{\n  "b": [1, 2],\n  "a": 1\n}\n',
        "rules/velocity.yaml": b"rule:\n  max: 9\n  severity: high\n",
        "validator/report.json": b'{"passed": 6, "failed": 1}\n',
    })
    os.symlink("target-one", a / "link")
    os.symlink("target-two", b / "link")
    os.symlink("same-target", a / "link-same")
    os.symlink("same-target", b / "link-same")
    os.symlink("somewhere", b / "kind" / "file-then-link")
    (a / "empty-gone").mkdir()
    (b / "empty-new").mkdir()
    return a, b


def test_every_category_golden(trees: tuple[Path, Path]) -> None:
    entries, summary = run(*trees)
    got = {path: e.category for path, e in entries.items() if e.category != "unchanged"}
    assert got == {
        "new.txt": "added",
        "empty-new": "added",
        "old.txt": "removed",
        "empty-gone": "removed",
        "notes/ops/runbook.md": "renamed",
        "notes/handbook.md": "renamed",
        "notes/oncall.txt": "changed",
        "notes/hosts.txt": "changed",
        "notes/timeline.log": "changed",
        "notes/changed.txt": "changed",
        "format.json": "changed",
        "rules/velocity.yaml": "changed",
        "validator/report.json": "changed",
        "blob.bin": "binary_changed",
        "kind/file-then-dir": "type_changed",
        "kind/file-then-dir/inside.txt": "added",
        "kind/file-then-link": "type_changed",
        "link": "symlink_changed",
    }
    assert entries["same.txt"].category == "unchanged" and entries["link-same"].category == "unchanged"
    exact, similar = entries["notes/ops/runbook.md"], entries["notes/handbook.md"]
    assert (exact.old_path, exact.similarity, exact.content_changed) == ("notes/runbook.md", 100, False)
    assert similar.old_path == "notes/guide.md" and 50 <= similar.similarity < 100 and similar.content_changed
    assert entries["notes/oncall.txt"].label == "whitespace-only"
    assert entries["notes/hosts.txt"].label == "line-endings-only"
    assert entries["format.json"].label == "formatting-only"
    assert entries["notes/changed.txt"].label is None
    assert (entries["link"].target_a, entries["link"].target_b) == ("target-one", "target-two")
    assert (entries["kind/file-then-link"].kind_a, entries["kind/file-then-link"].kind_b) == ("file", "symlink")
    assert entries["empty-new"].kind_b == "dir"
    assert entries["rules/velocity.yaml"].group == "rule drift"
    assert entries["validator/report.json"].group == "validator"
    assert entries["telemetry/spans.jsonl"].group == "telemetry"
    assert entries["new.txt"].group == "other"
    assert summary.categories["renamed"] == 2 and summary.categories["type_changed"] == 2
    assert summary.differences == 18 and summary.same_after_rules == 0
    assert summary.groups == {"other": 16, "rule drift": 1, "validator": 1}
    assert summary.labels == {"formatting-only": 1, "line-endings-only": 1, "whitespace-only": 1}


def test_rules_make_entries_same_and_say_which_rule(trees: tuple[Path, Path]) -> None:
    rules = SnapshotRules(
        ignore_paths=("*.bin", "validator/**"),
        ignore_lines=(r"^\S+Z ",),
        exclude_fields=("rule.max",),
        ignore_whitespace=True,
    )
    entries, summary = run(*trees, rules=rules)
    same = {p: e.rule for p, e in entries.items() if e.same_after_rules}
    assert same == {
        "blob.bin": "ignore path *.bin",
        "validator/report.json": "ignore path validator/**",
        "notes/timeline.log": r"ignore lines /^\S+Z /; ignore whitespace",
        "rules/velocity.yaml": "exclude rule.max",
        "notes/oncall.txt": "ignore whitespace",
        "notes/hosts.txt": "ignore whitespace",
        "format.json": "ignore whitespace",
    }
    assert entries["blob.bin"].category == "binary_changed"  # still shown as what it is
    assert summary.same_after_rules == 7 and summary.differences == 11
    off, _ = run(*trees, rules=SnapshotRules(ignore_paths=("*.bin",), apply=False))
    assert not any(e.same_after_rules for e in off.values())


def test_structured_tolerance_and_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, {"m.json": b'{"score": 0.5000001, "tags": ["x", "y"]}', "s.jsonl": b'{"id": 1, "v": [1, 2]}\n'})
    write(b, {"m.json": b'{"score": 0.5000002, "tags": ["y", "x"]}', "s.jsonl": b'{"id": 1, "v": [2, 1]}\n'})
    entries, _ = run(a, b, SnapshotRules(tolerance=1e-6))
    assert not entries["m.json"].same_after_rules
    entries, _ = run(a, b, SnapshotRules(tolerance=1e-6, ignore_order=True))
    assert entries["m.json"].same_after_rules and entries["m.json"].rule == "tolerance 1e-06; ignore order"
    assert entries["s.jsonl"].same_after_rules


def test_custom_groups_first_match_wins(trees: tuple[Path, Path]) -> None:
    rules = SnapshotRules(groups=(("notes/ops/**", "ops"), ("notes/**", "notes")))
    entries, summary = run(*trees, rules=rules)
    assert entries["notes/ops/runbook.md"].group == "ops"
    assert entries["notes/changed.txt"].group == "notes"
    assert entries["rules/velocity.yaml"].group == "other"
    assert summary.groups["notes"] == 5


def test_unchanged_are_counted_but_not_streamed_when_asked(trees: tuple[Path, Path]) -> None:
    entries, summary = run(*trees, unchanged=False)
    assert all(e.category != "unchanged" for e in entries.values())
    assert summary.categories["unchanged"] == 3  # same.txt, telemetry/spans.jsonl, link-same


def test_a_tree_diffed_with_its_copy_is_empty_and_nothing_is_written(trees: tuple[Path, Path], tmp_path: Path) -> None:
    a, _ = trees
    copy = tmp_path / "copy"
    shutil.copytree(a, copy, symlinks=True)
    before = tree_fingerprint(tmp_path)
    entries, summary = run(a, copy)
    assert summary.differences == 0 and summary.categories["unchanged"] == len(entries)
    assert tree_fingerprint(tmp_path) == before


NAMES = st.text(alphabet=st.sampled_from("ab c\\-_.é\n"), min_size=1, max_size=6).filter(
    lambda n: n not in (".", "..") and "/" not in n)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.dictionaries(st.lists(NAMES, min_size=1, max_size=3).map("/".join), st.binary(max_size=300),
                             max_size=12))
def test_any_tree_diffed_with_itself_is_empty(tmp_path_factory: pytest.TempPathFactory, files: dict[str, bytes]) -> None:
    root = tmp_path_factory.mktemp("self")
    for rel, data in files.items():
        path = root / rel
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        except (FileExistsError, NotADirectoryError, IsADirectoryError):
            continue  # a name used both as a file and a directory
    entries, summary = run(root, root)
    assert summary.differences == 0
    assert {e.category for e in entries.values()} <= {"unchanged"}


def test_hostile_names_and_contents(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    names = ["with space.txt", "new\nline.txt", "back\\slash.txt", "bom.json", "crlf.txt", "huge.txt", "empty.txt"]
    write(a, {n: b"one\n" for n in names[:3]} | {"bom.json": b'\xef\xbb\xbf{"a": 1}', "crlf.txt": b"a\r\nb\r\n",
                                                "huge.txt": b"x" * 3_000_000 + b"\n", "empty.txt": b"",
                                                "bad.json": b'{"a": 1,', "latin.txt": b"caf\xe9\n"})
    write(b, {n: b"two\n" for n in names[:3]} | {"bom.json": b'{"a": 1}', "crlf.txt": b"a\r\nB\r\n",
                                                "huge.txt": b"x" * 3_000_000 + b"y\n", "empty.txt": b"\n",
                                                "bad.json": b'{"a": 2,', "latin.txt": b"caf\xe8\n"})
    raw = os.fsencode(str(a)) + b"/undecodable-\xff.txt"
    with open(raw, "wb") as handle:
        handle.write(b"x")
    entries, summary = run(a, b)
    for name in names[:3] + ["crlf.txt", "huge.txt", "empty.txt", "bad.json", "latin.txt"]:
        assert entries[name].category == "changed", name
    assert entries["bom.json"].label == "formatting-only"
    assert entries["empty.txt"].label == "whitespace-only"
    assert entries["undecodable-\udcff.txt"].category == "removed"
    assert summary.differences == len(entries)


def test_symlink_loops_and_dangling_links_are_compared_not_followed(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    os.symlink("loop", a / "loop")
    os.symlink("loop", b / "loop")
    os.symlink("missing", a / "dangling")
    os.symlink("elsewhere", b / "dangling")
    os.symlink(".", a / "self")
    entries, _ = run(a, b)
    assert entries["loop"].category == "unchanged"
    assert entries["dangling"].category == "symlink_changed"
    assert entries["self"].category == "removed" and entries["self"].kind_a == "symlink"


def test_unreadable_file_and_directory_are_listed(unprivileged_tmp: Path) -> None:
    a, b = unprivileged_tmp / "a", unprivileged_tmp / "b"
    write(a, {"secret.txt": b"x", "locked/inner.txt": b"x"})
    write(b, {"secret.txt": b"y", "locked/inner.txt": b"x"})
    (b / "secret.txt").chmod(0)
    (b / "locked").chmod(0)
    try:
        entries, summary = run_unprivileged(run, a, b)  # as nobody when root: root reads any mode
    finally:
        (b / "secret.txt").chmod(0o644)
        (b / "locked").chmod(0o755)
    assert entries["secret.txt"].category == "unreadable" and "Permission denied" in entries["secret.txt"].error
    assert entries["locked"].category == "unreadable"
    assert summary.categories["unreadable"] == 2


def test_stop_ends_the_stream_early(trees: tuple[Path, Path]) -> None:
    stop = threading.Event()
    stop.set()
    items = list(diff_trees(str(trees[0]), str(trees[1]), SnapshotRules(), stop))
    assert not any(isinstance(i, DiffSummary) for i in items)


def test_exact_renames_prefer_the_same_name(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    write(a, {"x/config.yaml": b"same\n", "x/other.yaml": b"same\n"})
    write(b, {"y/other.yaml": b"same\n", "y/config.yaml": b"same\n"})
    entries, _ = run(a, b)
    assert entries["y/config.yaml"].old_path == "x/config.yaml"
    assert entries["y/other.yaml"].old_path == "x/other.yaml"


# --- peers -------------------------------------------------------------------------------------


def _pip_versions() -> list[Path]:
    """Installed copies of pip on this machine with distinct versions, oldest first."""
    seen: dict[str, Path] = {}
    roots = {Path(sys.base_prefix).parent, Path(sys.prefix)}
    for root in roots:
        for init in sorted(root.glob("*/lib/python3*/site-packages/pip/__init__.py")) + sorted(
            root.glob("lib/python3*/site-packages/pip/__init__.py")
        ):
            for line in init.read_text().splitlines():
                if line.startswith("__version__"):
                    seen.setdefault(line.split("=")[1].strip().strip("\"'"), init.parent)
    return [seen[v] for v in sorted(seen, key=lambda v: [int(p) if p.isdigit() else 0 for p in v.split(".")])]


PIPS = _pip_versions()
PAIRS = [(PIPS[i], PIPS[i + 1]) for i in range(len(PIPS) - 1)][-2:] + ([(PIPS[0], PIPS[-1])] if len(PIPS) > 2 else [])


def _copy_pair(tmp_path: Path, old: Path, new: Path) -> tuple[Path, Path]:
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(old, tmp_path / "A", ignore=ignore)
    shutil.copytree(new, tmp_path / "B", ignore=ignore)
    return tmp_path / "A", tmp_path / "B"


@pytest.mark.skipif(shutil.which("diff") is None or not PAIRS, reason="needs diff and two pip versions")
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{o.parent.parent.name}-{n.parent.parent.name}" for o, n in PAIRS])
def test_added_removed_changed_agree_with_diff_rq(tmp_path: Path, old: Path, new: Path) -> None:
    a, b = _copy_pair(tmp_path, old, new)
    result = subprocess.run(["diff", "-rq", "A", "B"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    peer: dict[str, set[str]] = {"added": set(), "removed": set(), "changed": set()}
    for line in result.stdout.splitlines():
        if line.startswith("Only in "):
            where, name = line[8:].split(": ", 1)
            side, base = ("removed", a) if where.split("/")[0] == "A" else ("added", b)
            full = tmp_path / where / name
            files = [full] if full.is_file() else [p for p in full.rglob("*") if p.is_file()]
            peer[side].update(str(p.relative_to(base)) for p in files)
        else:
            left = line[len("Files "):].split(" and ")[0]
            peer["changed"].add(str(Path(left).relative_to("A")))
    entries, _ = run(a, b, unchanged=False)
    ours: dict[str, set[str]] = {"added": set(), "removed": set(), "changed": set()}
    for e in entries.values():
        if e.category == "renamed":
            ours["removed"].add(e.old_path or "")
            ours["added"].add(e.path)
        elif e.category in ("changed", "binary_changed"):
            ours["changed"].add(e.path)
        elif e.category in ours:
            ours[e.category].add(e.path)
    assert ours == peer
    assert sum(len(v) for v in ours.values()) > 0


@pytest.mark.skipif(shutil.which("git") is None or not PAIRS, reason="needs git and two pip versions")
@pytest.mark.parametrize(("old", "new"), PAIRS, ids=[f"{o.parent.parent.name}-{n.parent.parent.name}" for o, n in PAIRS])
def test_renames_agree_with_git_diff_no_index_M(tmp_path: Path, old: Path, new: Path) -> None:
    a, b = _copy_pair(tmp_path, old, new)
    result = subprocess.run(["git", "diff", "--no-index", "-M", "--name-status", "A", "B"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode in (0, 1), result.stderr
    git: dict[str, set] = {"R": set(), "A": set(), "D": set(), "M": set()}
    for line in result.stdout.splitlines():
        status, *paths = line.split("\t")
        if status.startswith("R"):
            git["R"].add((paths[0][2:], paths[1][2:]))
        else:
            git[status[0]].add(paths[0][2:])
    entries, _ = run(a, b, unchanged=False)
    renames = {(e.old_path, e.path) for e in entries.values() if e.category == "renamed"}
    assert renames == git["R"]
    assert {p for p, e in entries.items() if e.category == "added"} == git["A"]
    assert {p for p, e in entries.items() if e.category == "removed"} == git["D"]
    assert {p for p, e in entries.items() if e.category in ("changed", "binary_changed")} == git["M"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("unchanged", [False, True], ids=["changes", "everything"])
@pytest.mark.usefixtures("single_threaded")
def test_worker_processes_and_threads_give_the_same_diff(tmp_path: Path, unchanged: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the command line computes in worker processes equals what the pane gets from threads."""
    forks: list[int] = []
    real_fork = os.fork

    def recording_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    base: dict[str, bytes] = {}
    for n in range(1500):
        group = ("rules", "validator", "telemetry", "misc")[n % 4]
        kind = n % 3
        if kind == 0:
            base[f"{group}/d{n % 7}/f{n}.txt"] = f"line {n}\nts=1700000{n}\n".encode() * 3
        elif kind == 1:
            base[f"{group}/d{n % 7}/f{n}.json"] = f'{{"id": {n}, "value": {n / 3}, "tags": ["a", "b"]}}'.encode()
        else:
            base[f"{group}/d{n % 7}/f{n}.bin"] = bytes([n % 256, 0, 255]) * 50
    new = dict(base)
    for n in range(0, 1500, 40):
        rel = next(r for r in base if f"/f{n}." in r)
        if rel.endswith(".txt"):
            new[rel] = base[rel].replace(b"\n", b"\r\n") if n % 80 else base[rel].replace(b"ts=1700000", b"ts=1800000")
        elif rel.endswith(".json"):
            new[rel] = base[rel].replace(b'"value"', b'"value" ') if n % 80 else base[rel].replace(b'"b"', b'"c"')
        else:
            new[rel] = base[rel][::-1]
    new["misc/added.txt"] = b"new\n"
    new["misc/moved.bin"] = new.pop("misc/d3/f3.txt")
    del new["rules/d0/f0.txt"]
    write(tmp_path / "A", base)
    write(tmp_path / "B", new)
    rules = SnapshotRules(ignore_lines=(r"ts=\d+",), ignore_paths=("telemetry/d1/**",))
    threaded, s1 = run(tmp_path / "A", tmp_path / "B", rules, unchanged=unchanged, allow_fork=False)
    assert not forks
    forked, s2 = run(tmp_path / "A", tmp_path / "B", rules, unchanged=unchanged, allow_fork=True)
    assert forks, "the diff should have used worker processes"
    assert forked == threaded
    assert s1 == s2
    assert s1.same_after_rules > 0 and s1.differences > 10 and s1.categories["renamed"] == 1
    assert threading.active_count() == 1
