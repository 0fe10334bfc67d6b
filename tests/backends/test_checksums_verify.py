"""The verification engine: drift categories, parity with ``sha256sum -c``, strategies, cancel."""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import threading
from pathlib import Path

import pytest

from backends.checksums.hashing import FORK_MIN_FILES, HashPool
from backends.checksums.models import ChecksumEntry, ChecksumProgress, ChecksumSummary
from backends.checksums.scope import Scope
from backends.checksums.update import update_manifest
from backends.checksums.verify import verify_manifest
from backends.local import LocalSource
from tests.conftest import run_unprivileged, tree_fingerprint

@pytest.fixture(scope="module")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from backends.demo import build_demo

    root = tmp_path_factory.mktemp("checksums-demo") / "workspace"
    build_demo(root, seed=7)
    return root


def run(root: Path, manifest: str, **kwargs) -> tuple[list[ChecksumEntry], ChecksumSummary, list[ChecksumProgress]]:
    entries, progress, summary = [], [], None
    for item in verify_manifest(str(root), manifest, **kwargs):
        if isinstance(item, ChecksumEntry):
            entries.append(item)
        elif isinstance(item, ChecksumProgress):
            progress.append(item)
        else:
            summary = item
    assert summary is not None
    entries.sort(key=lambda e: (e.line is None, e.line or 0, e.path))
    return entries, summary, progress


def many_files(root: Path, count: int) -> list[str]:
    """``count`` small files ``f0``, ``f1``, ... (content ``file N``) under ``root``, and their manifest lines."""
    lines = []
    for n in range(count):
        data = f"file {n}\n".encode()
        (root / f"f{n}").write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  f{n}\n")
    return lines


def by_line(entries: list[ChecksumEntry]) -> dict[int, ChecksumEntry]:
    return {e.line: e for e in entries if e.line is not None and e.category != "malformed"}


def test_demo_golden_manifest_shows_every_category(demo_root: Path) -> None:
    before = tree_fingerprint(demo_root / "fixtures")
    entries, summary, _ = run(demo_root, "fixtures/golden/SHA256SUMS")
    lines = by_line(entries)
    assert lines[1].category == "ok" and lines[2].category == "alias" and lines[2].other_line == 1
    assert not lines[2].is_drift
    assert lines[5].category == "changed" and lines[5].expected != lines[5].actual
    assert lines[7].category == "missing"
    assert lines[8].category == "unreadable" and lines[8].reason == "is a directory"
    assert lines[9].category == "unreadable" and "dangling symlink" in lines[9].reason
    assert lines[10].category == "moved" and lines[10].other == "fixtures/golden/data/archive/2026-11/new-name.csv"
    assert lines[11].category == "ok"
    assert lines[12].category == "duplicate" and lines[12].conflict and lines[12].is_drift
    assert lines[13].category == "ok" and lines[13].name == "data/with space.csv"
    assert lines[14].category == "ok" and lines[14].name == "data/back\\slash.csv"
    malformed = [e for e in entries if e.category == "malformed"]
    assert [e.line for e in malformed] == [15, 16] and "SHA-1" in malformed[0].reason
    new = [e.path for e in entries if e.category == "new"]
    assert new == ["fixtures/golden/data/extra.csv"]  # the move target is not also "new"
    assert summary.drift and summary.problem is None
    assert summary.counts == {
        "ok": 8, "changed": 1, "missing": 1, "unreadable": 2, "moved": 1, "new": 1,
        "duplicate": 1, "alias": 1, "malformed": 2,
    }
    assert tree_fingerprint(demo_root / "fixtures") == before


def test_demo_bsd_single_file_and_empty_manifests(demo_root: Path) -> None:
    _, bsd, _ = run(demo_root, "fixtures/bsd/SHA256SUMS")
    assert bsd.counts == {"ok": 3} and not bsd.drift and bsd.format == "bsd"
    _, single, _ = run(demo_root, "fixtures/release/artifact.tar.gz.sha256")
    assert single.counts == {"ok": 1} and not single.drift
    entries, empty, _ = run(demo_root, "fixtures/empty/SHA256SUMS")
    assert empty.problem is not None and empty.problem.kind == "empty"
    assert [e.path for e in entries] == ["fixtures/empty/orphan.txt"]


def test_manifest_level_problems(tmp_path: Path) -> None:
    (tmp_path / "garbage").write_bytes(b"\x00\xff\x13 not a manifest\nnor this\n")
    (tmp_path / "dir.sha256").mkdir()
    _, missing, _ = run(tmp_path, "nope.sha256")
    _, unparseable, _ = run(tmp_path, "garbage")
    _, directory, _ = run(tmp_path, "dir.sha256")
    assert (missing.problem.kind, unparseable.problem.kind, directory.problem.kind) == ("missing", "unparseable", "unreadable")
    assert missing.problem.is_input_error and not unparseable.problem.is_input_error
    assert "nope.sha256" in missing.problem.message


def _peer_tree(root: Path) -> dict[str, bytes]:
    files = {
        "keep.txt": b"unchanged\n",
        "change.txt": b"before\n",
        "delete.txt": b"to be deleted\n",
        "locked.txt": b"secret\n",
        "becomes-dir": b"a file for now\n",
        "rename-me.txt": b"moving content\n",
        "with space.txt": b"spaces\n",
        "back\\slash.txt": b"backslash\n",
        "new\nline.txt": b"newline\n",
        "sub/deep/file.bin": os.urandom(3000),
        "empty.txt": b"",
    }
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _sha256sum_verdicts(root: Path, manifest: str) -> dict[str, str]:
    """Per listed name: OK / FAILED / FAILED open or read, read from ``sha256sum -c``."""
    out = subprocess.run(["sha256sum", "-c", manifest], cwd=root, capture_output=True).stdout
    verdicts = {}
    for raw in out.split(b"\n"):
        if not raw:
            continue
        escaped = raw.startswith(b"\\")
        body = raw[1:] if escaped else raw
        name, _, verdict = body.rpartition(b": ")
        if escaped:
            name = name.replace(b"\\n", b"\n").replace(b"\\r", b"\r").replace(b"\\\\", b"\\")
        verdicts[os.fsdecode(name)] = verdict.decode()
    return verdicts


@pytest.mark.parametrize("fork", [False, True], ids=["threads", "fork-allowed"])
def test_verdicts_match_sha256sum_c(unprivileged_tmp: Path, fork: bool) -> None:
    tmp_path = unprivileged_tmp
    files = _peer_tree(tmp_path)
    names = sorted(files)
    listing = subprocess.run(["sha256sum", "--", *names], cwd=tmp_path, capture_output=True, check=True).stdout
    (tmp_path / "SHA256SUMS").write_bytes(listing)
    # Mutate.
    (tmp_path / "change.txt").write_bytes(b"after\n")
    (tmp_path / "delete.txt").unlink()
    os.rename(tmp_path / "rename-me.txt", tmp_path / "renamed.txt")
    (tmp_path / "becomes-dir").unlink()
    (tmp_path / "becomes-dir").mkdir()
    (tmp_path / "added.txt").write_bytes(b"new file\n")
    os.chmod(tmp_path / "locked.txt", 0)
    try:  # both peers as nobody when root: root reads any mode
        peer, (entries, summary, _) = run_unprivileged(
            lambda: (_sha256sum_verdicts(tmp_path, "SHA256SUMS"), run(tmp_path, "SHA256SUMS", allow_fork=fork))
        )
    finally:
        os.chmod(tmp_path / "locked.txt", 0o600)
    assert set(peer) == set(names)
    ours = {}
    for entry in entries:
        if entry.name is None:
            continue
        ours[entry.name] = {
            "ok": "OK",
            "changed": "FAILED",
            "missing": "FAILED open or read",
            "unreadable": "FAILED open or read",
            "moved": "FAILED open or read",
        }[entry.category]
    assert ours == peer
    cats = {e.name: e.category for e in entries if e.name}
    assert cats["rename-me.txt"] == "moved"
    assert cats["becomes-dir"] == "unreadable" and cats["locked.txt"] == "unreadable"
    assert {e.path for e in entries if e.category == "new"} == {"added.txt"}
    assert summary.drift


def test_our_manifest_verifies_clean_with_sha256sum(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _peer_tree(tree)
    (tree / "ünï\\cødé\r.txt").write_bytes(b"x")
    result = update_manifest(str(tree), str(tree / "SHA256SUMS"))
    assert result.entries == 12 and not result.skipped
    check = subprocess.run(["sha256sum", "-c", "--strict", "SHA256SUMS"], cwd=tree, capture_output=True)
    assert check.returncode == 0, check.stdout + check.stderr
    lines = (tree / "SHA256SUMS").read_bytes().splitlines()
    names = [os.fsencode(line.decode("utf-8", "surrogateescape").split("  ", 1)[1]) for line in lines]
    assert names == sorted(names)
    _, summary, _ = run(tree, "SHA256SUMS")
    assert summary.counts == {"ok": 12} and not summary.drift
    # Written elsewhere: names are relative to the manifest's own directory.
    update_manifest(str(tree / "sub"), str(tmp_path / "sub.sha256"))
    assert (tmp_path / "sub.sha256").read_text().endswith("  tree/sub/deep/file.bin\n")
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


@pytest.mark.usefixtures("single_threaded")
def test_fork_and_thread_strategies_agree_on_many_files(tmp_path: Path) -> None:
    count = FORK_MIN_FILES + 300
    lines = []
    for n in range(count):
        data = f"file {n}\n".encode() * (n % 7)
        name = f"d{n % 10}/f{n}.txt"
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(data)
        digest = hashlib.sha256(data).hexdigest() if n % 100 else "0" * 64  # every 100th is "changed"
        lines.append(f"{digest}  {name}\n")
    (tmp_path / "big.bin").write_bytes(os.urandom(3 << 20))  # big: hashed on threads either way
    lines.append(f"{hashlib.sha256((tmp_path / 'big.bin').read_bytes()).hexdigest()}  big.bin\n")
    (tmp_path / "SHA256SUMS").write_text("".join(lines))
    forked, s1, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=True)
    threaded, s2, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=False)
    assert forked == threaded
    assert s1.counts == s2.counts == {"ok": count + 1 - (count + 99) // 100, "changed": (count + 99) // 100}
    assert threading.active_count() == 1
    # Without ok entries, matching files are only counted: same verdicts, same totals.
    for allow_fork in (True, False):
        drift, summary, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=allow_fork, emit_ok=False)
        assert drift == [e for e in forked if e.category != "ok"]
        assert (summary.counts, summary.files_hashed, summary.bytes_hashed) == (s1.counts, s1.files_hashed, s1.bytes_hashed)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.usefixtures("single_threaded")
def test_files_around_the_first_read_and_the_big_file_sizes_get_the_same_verdicts(tmp_path: Path) -> None:
    """Workers read small files in one go and look closer at the rest: every size boundary agrees."""
    from backends.checksums.hashing import BIG_FILE, HEAD

    lines = many_files(tmp_path, FORK_MIN_FILES + 10)
    sizes = [HEAD - 1, HEAD, HEAD + 1, 3 * HEAD, BIG_FILE - 1, BIG_FILE, BIG_FILE + 1]
    for n, size in enumerate(sizes):
        data = os.urandom(size)
        (tmp_path / f"sized{n}").write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  sized{n}\n")
        (tmp_path / f"changed{n}").write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
        lines.append(f"{hashlib.sha256(data).hexdigest()}  changed{n}\n")
    (tmp_path / "SHA256SUMS").write_text("".join(lines))
    careful, s1, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=False)
    for emit_ok in (True, False):
        fast, s2, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=True, emit_ok=emit_ok)
        assert fast == [e for e in careful if emit_ok or e.category != "ok"]
        assert (s2.counts, s2.files_hashed, s2.bytes_hashed) == (s1.counts, s1.files_hashed, s1.bytes_hashed)
    verdicts = {e.path: (e.category, e.size) for e in careful if e.path.startswith(("sized", "changed"))}
    assert verdicts == {
        **{f"sized{n}": ("ok", size) for n, size in enumerate(sizes)},
        **{f"changed{n}": ("changed", size) for n, size in enumerate(sizes)},
    }


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.usefixtures("single_threaded")
def test_counted_matches_still_report_every_kind_of_drift(tmp_path: Path) -> None:
    """The forked fast path (ok files counted, not yielded) decides the odd cases like the careful path."""
    lines = many_files(tmp_path, FORK_MIN_FILES + 50)
    (tmp_path / "f1").write_bytes(b"changed")  # changed
    (tmp_path / "f2").unlink()  # missing
    (tmp_path / "f3").unlink()
    (tmp_path / "f3").mkdir()  # a directory where a file was listed ...
    (tmp_path / "f3" / "inner").write_bytes(b"unlisted")  # ... holding a file no line lists
    (tmp_path / "f4").write_bytes(b"")  # empty now
    os.symlink("f5", tmp_path / "link")
    lines.append(f"{hashlib.sha256(b'5').hexdigest()}  link\n")  # a symlink: the careful path follows it
    big = os.urandom(3 << 20)
    (tmp_path / "big").write_bytes(big)
    lines.append(f"{hashlib.sha256(big).hexdigest()}  big\n")
    (tmp_path / "SHA256SUMS").write_text("".join(lines))
    careful, s1, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=False)
    fast, s2, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=True, emit_ok=False)
    assert fast == [e for e in careful if e.category != "ok"]
    assert s1.counts == s2.counts
    assert {e.path: e.category for e in fast} == {
        "f1": "changed", "f2": "missing", "f3": "unreadable", "f4": "changed", "link": "changed", "f3/inner": "new",
    }
    assert s2.counts["ok"] == FORK_MIN_FILES + 50 - 4 + 1  # + big


@pytest.mark.usefixtures("single_threaded")
def test_hash_pool_forks_only_when_single_threaded(tmp_path: Path) -> None:
    paths = [str(tmp_path / "x")] * FORK_MIN_FILES
    blocker = threading.Event()
    helper = threading.Thread(target=blocker.wait)
    helper.start()
    try:
        assert not HashPool(paths, str(tmp_path), workers=2).forked
    finally:
        blocker.set()
        helper.join()
    assert HashPool(paths, str(tmp_path), workers=2).forked == hasattr(os, "fork")


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("first", ["refused", "hashed"], ids=["before-results", "during-results"])
@pytest.mark.usefixtures("single_threaded")
def test_closing_early_reaps_forked_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, first: str) -> None:
    root = tmp_path / "root"
    root.mkdir()
    (tmp_path / "outside.txt").write_bytes(b"secret")
    lines = ["0" * 64 + "  ../outside.txt\n"] if first == "refused" else []  # yielded before any hashing
    lines += many_files(root, FORK_MIN_FILES + 100)
    (root / "SHA256SUMS").write_text("".join(lines))
    children: list[int] = []
    real_fork = os.fork

    def recording_fork() -> int:
        pid = real_fork()
        if pid:
            children.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", recording_fork)
    stream = verify_manifest(str(root), "SHA256SUMS", workers=3, allow_fork=True)
    try:
        item = next(stream)
        assert isinstance(item, ChecksumEntry)
        assert item.category == ("unreadable" if first == "refused" else "ok")
        # Forked: workers - 1 processes, started on the raw lines; with a refused line the
        # plan needs care, so that pool is dropped (and reaped) and another one forked.
        assert len(children) == (4 if first == "refused" else 2)
    finally:
        stream.close()
    leftover = []
    for pid in children:
        try:
            os.waitpid(pid, os.WNOHANG)  # raises once the pool has reaped it
        except ChildProcessError:
            continue
        leftover.append(pid)
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    assert leftover == [], "worker processes were not reaped"
    assert threading.active_count() == 1


def test_progress_counts_files_and_bytes(tmp_path: Path) -> None:
    lines = []
    for n in range(5):
        data = os.urandom(1 << 20)
        (tmp_path / f"f{n}").write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  f{n}\n")
    (tmp_path / "SHA256SUMS").write_text("".join(lines))
    _, summary, progress = run(tmp_path, "SHA256SUMS")
    assert progress[-1].files_done == progress[-1].files_total == 5
    assert progress[-1].bytes_done == progress[-1].bytes_total == 5 << 20
    assert summary.bytes_hashed == 5 << 20 and summary.files_hashed == 5


def test_stop_cancels_and_summary_says_so(tmp_path: Path) -> None:
    lines = []
    for n in range(50):
        (tmp_path / f"f{n}").write_bytes(b"x" * 1000)
        lines.append(f"{hashlib.sha256(b'x' * 1000).hexdigest()}  f{n}\n")
    (tmp_path / "SHA256SUMS").write_text("".join(lines))
    stop = threading.Event()
    stop.set()
    _, summary, _ = run(tmp_path, "SHA256SUMS", stop=stop)
    assert summary.cancelled


@pytest.mark.parametrize("allow_fork", [False, True], ids=["threads", "fork"])
@pytest.mark.parametrize("depth", [0, 1], ids=["manifest-at-root", "manifest-in-subdir"])
def test_a_line_naming_the_parent_directory_never_reads_outside_the_root(
    tmp_path: Path, allow_fork: bool, depth: int
) -> None:
    """``..`` (and ``../..``) name directories: refused when outside the root, never scanned or hashed for moves."""
    root = tmp_path / "root"
    base = root / "sub" if depth else root
    base.mkdir(parents=True)
    secret = b"outside the source root"
    (tmp_path / "secret.txt").write_bytes(secret)
    (root / "inside.txt").write_bytes(b"inside")  # in the root; beside the manifest only at depth 0
    lines = many_files(base, FORK_MIN_FILES + 10) if allow_fork else []
    lines += [f"{'0' * 64}  ..\n", f"{'0' * 64}  ../..\n", f"{hashlib.sha256(secret).hexdigest()}  gone\n"]
    (base / "SHA256SUMS").write_text("".join(lines))
    manifest = "sub/SHA256SUMS" if depth else "SHA256SUMS"
    entries, summary, _ = run(root, manifest, workers=2, allow_fork=allow_fork, emit_ok=False)
    shown = {e.name: (e.category, e.reason) for e in entries if e.line is not None}
    assert shown["gone"] == ("missing", "no such file")  # the secret's hash is never found outside
    assert shown["../.."] == ("unreadable", "outside the source root (refused)")
    if depth:
        assert shown[".."] == ("unreadable", "is a directory")  # the root itself: listed, not rescanned
    else:
        assert shown[".."] == ("unreadable", "outside the source root (refused)")
    assert not [e for e in entries if "secret" in e.path]
    assert [e.category for e in entries if e.path == "inside.txt"] == ([] if depth else ["new"])  # beside the manifest only
    assert summary.files_hashed == len(lines) - 3 + (0 if depth else 1)  # + inside.txt, searched for the move


def test_paths_outside_the_root_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"secret")
    root = tmp_path / "root"
    root.mkdir()
    os.symlink(outside, root / "link.txt")
    digest = hashlib.sha256(b"secret").hexdigest()
    (root / "SHA256SUMS").write_text(f"{digest}  ../outside.txt\n{digest}  {outside}\n{digest}  link.txt\n")
    entries, _, _ = run(root, "SHA256SUMS", include_new=False)
    assert [(e.category, e.reason) for e in entries] == [
        ("unreadable", "outside the source root (refused)"),
        ("unreadable", "outside the source root (refused)"),
        ("unreadable", "symlink points outside the source root"),
    ]


def test_hostile_tree_entries(tmp_path: Path) -> None:
    os.symlink("loop-b", tmp_path / "loop-a")
    os.symlink("loop-a", tmp_path / "loop-b")
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "notdir").write_bytes(b"file")
    zero = "0" * 64
    (tmp_path / "SHA256SUMS").write_text(f"{zero}  loop-a\n{zero}  fifo\n{zero}  notdir/child\n")
    entries, summary, _ = run(tmp_path, "SHA256SUMS", include_new=False)
    got = {e.name: (e.category, e.reason) for e in entries}
    assert got["loop-a"][0] == "unreadable" and "loop" in got["loop-a"][1]
    assert got["fifo"] == ("unreadable", "not a regular file (FIFO)")
    assert got["notdir/child"][0] == "missing"
    assert summary.drift


def test_permission_denied_gives_the_os_reason(unprivileged_tmp: Path) -> None:
    tmp_path = unprivileged_tmp
    (tmp_path / "locked").write_bytes(b"x")
    os.chmod(tmp_path / "locked", 0)
    try:
        (tmp_path / "SHA256SUMS").write_text(f"{'0' * 64}  locked\n")
        entries, _, _ = run_unprivileged(run, tmp_path, "SHA256SUMS", include_new=False)  # as nobody when root
    finally:
        os.chmod(tmp_path / "locked", 0o600)
    assert [(e.category, e.reason) for e in entries] == [("unreadable", "Permission denied")]


def test_scope_rules_for_new_files(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "cache").mkdir()
    (tmp_path / "cache" / "x").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "y.tmp").write_bytes(b"y")
    (tmp_path / "SHA256SUMS").write_text(f"{hashlib.sha256(b'a').hexdigest()}  a\n")
    new = lambda **kw: sorted(e.path for e in run(tmp_path, "SHA256SUMS", **kw)[0] if e.category == "new")  # noqa: E731
    assert new() == ["cache/x", "sub/y.tmp"]
    assert new(scope=Scope(exclude=("cache", "*.tmp"))) == []
    assert new(scope=Scope(recursive=False)) == []
    assert new(include_new=False) == []


def test_local_source_streams_entries_progress_and_summary(demo_root: Path) -> None:
    async def collect() -> list[object]:
        source = LocalSource(str(demo_root))
        assert "checksums" in (await source.describe()).capabilities
        return [item async for item in source.verify_checksums("fixtures/golden/SHA256SUMS")]

    items = asyncio.run(collect())
    assert isinstance(items[-1], ChecksumSummary) and items[-1].counts["ok"] == 8
    assert any(isinstance(i, ChecksumProgress) for i in items)
    assert sum(isinstance(i, ChecksumEntry) for i in items) == items[-1].entries


def test_local_source_refuses_manifests_outside_the_root(demo_root: Path) -> None:
    from backends.errors import ForbiddenError

    async def collect() -> None:
        async for _ in LocalSource(str(demo_root)).verify_checksums("../x/SHA256SUMS"):
            pass

    with pytest.raises(ForbiddenError):
        asyncio.run(collect())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.usefixtures("single_threaded")
@pytest.mark.parametrize("odd", ["outside", "alias", "duplicate", "escaped", "single-space"])
def test_lines_that_need_care_are_never_decided_by_the_early_workers(tmp_path: Path, odd: str) -> None:
    """Workers start hashing raw lines before the parse; lines that need care get the careful plan."""
    root = tmp_path / "root"
    root.mkdir()
    secret = b"outside the root"
    (tmp_path / "secret").write_bytes(secret)
    lines = many_files(root, FORK_MIN_FILES + 20)
    odd_line = {
        "outside": f"{hashlib.sha256(secret).hexdigest()}  ../secret\n",
        "alias": f"{hashlib.sha256(b'file 1' + bytes([10])).hexdigest()}  ./f1\n",
        "duplicate": f"{hashlib.sha256(b'file 2' + bytes([10])).hexdigest()}  f2\n",
        "escaped": "\\" + f"{hashlib.sha256(b'x').hexdigest()}  a\\\\b\n",
        "single-space": f"{hashlib.sha256(b'x').hexdigest()} f0\n",
    }[odd]
    (root / "SHA256SUMS").write_text("".join(lines) + odd_line)
    careful, s1, _ = run(root, "SHA256SUMS", workers=2, allow_fork=False, emit_ok=False)
    fast, s2, _ = run(root, "SHA256SUMS", workers=2, allow_fork=True, emit_ok=False)
    assert fast == careful and s1.counts == s2.counts
    odd_entries = [e for e in fast if e.line == len(lines) + 1]
    expected = {"outside": "unreadable", "alias": "alias", "duplicate": "duplicate", "escaped": "missing",
                "single-space": "malformed"}[odd]
    assert [e.category for e in odd_entries] == [expected]
    if odd == "outside":
        assert odd_entries[0].actual is None and "refused" in (odd_entries[0].reason or "")


@pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "mkfifo"), reason="needs fork and FIFOs")
@pytest.mark.usefixtures("single_threaded")
def test_symlinked_directories_and_fifos_listed_as_files_are_never_entered_or_drained(tmp_path: Path) -> None:
    """A listed symlink to a directory is not scanned for new files; a listed FIFO is not read."""
    lines = many_files(tmp_path, FORK_MIN_FILES + 10)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "a").write_bytes(b"a")
    lines.append(f"{hashlib.sha256(b'a').hexdigest()}  real/a\n")
    os.symlink("real", tmp_path / "linkdir")
    os.symlink(".", tmp_path / "self")
    lines.append(f"{'0' * 64}  linkdir\n{'0' * 64}  self\n")
    os.mkfifo(tmp_path / "pipe")
    lines.append(f"{hashlib.sha256(b'sent by a writer').hexdigest()}  pipe\n")
    (tmp_path / "SHA256SUMS").write_text("".join(lines))
    writer = os.open(tmp_path / "pipe", os.O_RDWR | os.O_NONBLOCK)  # holds data in the FIFO meanwhile
    try:
        os.write(writer, b"sent by a writer")
        for allow_fork, emit_ok in ((True, False), (True, True), (False, False)):
            entries, summary, _ = run(tmp_path, "SHA256SUMS", workers=2, allow_fork=allow_fork, emit_ok=emit_ok)
            assert not [e for e in entries if e.category == "new"], (allow_fork, emit_ok)
            assert {e.path: e.category for e in entries if e.category != "ok"} == {
                "linkdir": "unreadable", "self": "unreadable", "pipe": "unreadable",
            }
        assert os.read(writer, 100) == b"sent by a writer", "the FIFO was drained"
    finally:
        os.close(writer)
