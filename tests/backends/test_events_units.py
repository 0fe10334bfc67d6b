"""Units of the events engine: globs, .gitignore, the tree picture, the inbox, stats, debounce."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends.events.debounce import Coalescer
from backends.events.filters import EventFilter, GitIgnore, glob_matches
from backends.events.inbox import Inbox, Loss
from backends.events.model import FsEvent, WatchFilter
from backends.events.stats import EventStats
from backends.events.tree import Tree, diff_trees


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.tmp", "a/b/c.tmp", True),
        ("*.tmp", "a/b/c.tmpx", False),
        ("node_modules", "web/node_modules/x/y.js", True),
        ("live/**", "live/capture-1/frame.json", True),
        ("live/**", "other/live/x", False),
        ("live/capture-*", "live/capture-00001/frame-1.json", True),
        ("**/frame-?.json", "live/c/frame-1.json", True),
        ("**/frame-?.json", "frame-1.json", True),
        ("runs/*/wal", "runs/r1/wal/record.jsonl", True),
        ("runs/*/wal", "runs/r1/x/wal", False),
        ("[ab].txt", "b.txt", True),
        ("[!ab].txt", "b.txt", False),
        ("", "x", False),
    ],
)
def test_glob_rules(pattern: str, path: str, expected: bool) -> None:
    assert glob_matches(pattern, path) is expected


@given(st.text(alphabet="ab/*?.[]!", max_size=12), st.text(alphabet="ab/.", max_size=12))
def test_glob_never_raises(pattern: str, path: str) -> None:
    glob_matches(pattern, path)


def test_gitignore_rules(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / ".gitignore").write_text("# comment\n\n*.log\n!keep.log\nbuild/\n/top-only.txt\ndocs/**/*.pdf\n")
    (tmp_path / "sub" / ".gitignore").write_text("local.txt\n")
    ignore = GitIgnore(str(tmp_path))
    ignore.load_all()
    assert ignore.ignored("x.log", False) and ignore.ignored("a/b/x.log", False)
    assert not ignore.ignored("keep.log", False)
    assert ignore.ignored("build", True) and ignore.ignored("build/out.o", False)
    assert not ignore.ignored("build", False)  # "build/" is for directories only
    assert ignore.ignored("top-only.txt", False) and not ignore.ignored("sub/top-only.txt", False)
    assert ignore.ignored("docs/a/b/x.pdf", False) and not ignore.ignored("docs/x.txt", False)
    assert ignore.ignored("sub/local.txt", False) and not ignore.ignored("local.txt", False)
    assert ignore.ignored(".git/HEAD", False)
    (tmp_path / ".gitignore").write_text("*.txt\n")
    ignore.reload(".gitignore")
    assert ignore.ignored("a.txt", False) and not ignore.ignored("x.log", False)


def test_event_filter_is_relative_to_the_watched_directory(tmp_path: Path) -> None:
    spec = WatchFilter(include=("capture-*/**",), exclude=("*.done.json",))
    flt = EventFilter(spec, str(tmp_path), prefix="live")
    assert flt.path_shown("live/capture-1/frame-1.json", False)
    assert not flt.path_shown("live/capture-1/frame-1.done.json", False)
    assert not flt.path_shown("live/capture.log", False)
    assert flt.path_shown("live", True)


def test_tree_moves_and_deletes_subtrees_and_counts() -> None:
    tree = Tree()
    tree.add("a/b/c.txt", False, (3, 1))
    assert tree.is_dir("a/b") and len(tree) == 3
    assert tree.move("a", "x/y")
    assert tree.exists("x/y/b/c.txt") and not tree.exists("a") and len(tree) == 4
    assert tree.remove("x/y") and len(tree) == 1
    assert not tree.remove("x/y") and not tree.move("nope", "z")
    assert [p for p, _, _ in tree.walk()] == ["x"]


def test_diff_trees_is_deterministic_and_complete(tmp_path: Path) -> None:
    old, new = Tree(), Tree()
    old.add("same.txt", False, (1, 10))
    new.add("same.txt", False, (1, 10))
    old.add("grown.txt", False, (1, 10))
    new.add("grown.txt", False, (2, 10))
    old.add("touched.txt", False, (-1, 10))
    new.add("touched.txt", False, (5, 11))
    old.add("gone/deep.txt", False)
    new.add("fresh/deep/file.txt", False, (1, 1))
    old.add("kind", False, (1, 1))
    new.add("kind", True)
    assert list(diff_trees(old, new)) == [
        ("created", "fresh", True),
        ("created", "fresh/deep", True),
        ("created", "fresh/deep/file.txt", False),
        ("deleted", "gone", True),
        ("modified", "grown.txt", False),
        ("deleted", "kind", False),
        ("created", "kind", True),
        ("modified", "touched.txt", False),
    ]


def test_tree_scan_skips_symlink_targets(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "f").write_text("abc")
    (tmp_path / "link").symlink_to(tmp_path / "d")
    (tmp_path / "loop").symlink_to("loop")
    tree = Tree.scan(str(tmp_path))
    assert {p: d for p, d, _ in tree.walk()} == {"d": True, "d/f": False, "link": False, "loop": False}
    assert tree.sig("d/f")[0] == 3


def test_inbox_drops_newest_counts_and_marks_the_place() -> None:
    inbox = Inbox(3, "/top")
    for item in range(6):
        inbox.put(item)
    assert inbox.take(10, 0.01) == [0, 1, 2, Loss(3, "our event queue was full (3 events)", "/top")]
    inbox.put("a")
    for item in range(5):
        inbox.put(item)
    inbox.put_marker("sentinel")
    taken = inbox.take(10, 0.01)
    assert taken[:3] == ["a", 0, 1] and taken[3].count == 3 and taken[4] == "sentinel"
    assert inbox.dropped_total == 6 and inbox.take(10, 0.0) == []


def _ev(seq: int, kind: str, path: str, wall_s: float, latency_us: int | None = None, **kw) -> FsEvent:
    return FsEvent(seq, kind, path, seq, int(wall_s * 1e9), latency_us=latency_us, **kw)


def test_stats_rates_types_paths_latency() -> None:
    stats = EventStats()
    batch = [_ev(i, "modified", f"f{i % 3}", 100 + i // 10, latency_us=i * 1000) for i in range(1, 31)]
    batch += [_ev(31, "lost", "", 103, lost=7), _ev(32, "notice", "", 103, detail="polling"), _ev(33, "created", "n", 103, coalesced=4)]
    stats.add(batch)
    snap = stats.snapshot(now_s=104, width=5)
    assert snap.total == 34 and snap.by_type == {"modified": 30, "created": 4}
    assert snap.series == (0, 9, 10, 10, 5) and snap.rate == 5 and snap.peak_rate == 10
    # f0, f1 and f2 tie at 10: Counter.most_common keeps ties in first-seen order (f1 at seq 1, f2, then f0).
    assert snap.top_paths == (("f1", 10), ("f2", 10), ("f0", 10), ("n", 4))
    assert snap.latency_buckets == (0, 4, 5, 21, 0, 0, 0, 0)
    assert snap.latency_p50_ms == 15.0 and snap.latency_p95_ms == 29.0
    assert snap.lost_markers == 1 and snap.lost_known == 7 and snap.notices == "polling"
    assert snap.to_json()["latency_ms"]["buckets"]["<50 ms"] == 21


def test_stats_memory_stays_bounded() -> None:
    stats = EventStats(max_paths=100, reservoir=50)
    stats.add(_ev(i, "created", f"p{i}", 1, latency_us=i) for i in range(1, 5001))
    assert len(stats.paths) <= 100 and len(stats._samples) == 50


def test_coalescer_windows_and_releases() -> None:
    c = Coalescer(1000)
    assert not c.offer("created", "a", False, 0, 0, None)
    assert c.offer("modified", "a", False, 10, 0, None) and c.offer("modified", "a", False, 20, 0, 5)
    assert c.offer("closed", "d/x", False, 30, 0, None)
    assert c.due(500) == []
    released = c.release_paths(("d",), True)
    assert [(h.type, h.path) for h in released] == [("closed", "d/x")]
    (held,) = c.due(1010)
    assert held.count == 2 and held.latency_us == 5 and len(c) == 0
