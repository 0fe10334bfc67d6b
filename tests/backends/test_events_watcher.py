"""The live watcher on real directories: order, moves, filters, losses, polling, cleanup."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from backends.errors import ForbiddenError, NotFoundError
from backends.events.local import EventsService
from backends.events.model import CHANGE_TYPES, FsEvent, WatchFilter
from backends.local import LocalSource
from tests.backends.test_events_harness import Collector, implied_tree, real_tree
from tests.conftest import tree_fingerprint

STRUCTURE = frozenset({"created", "deleted", "moved"})


def changes(events: list[FsEvent]) -> list[tuple[str, str, str | None]]:
    return [(e.type, e.path, e.dest) for e in events if not e.is_marker]


def assert_ordered(events: list[FsEvent]) -> None:
    seqs = [e.seq for e in events]
    assert seqs == list(range(1, len(seqs) + 1))
    monos = [e.mono_ns for e in events]
    assert monos == sorted(monos)


def test_create_write_rename_move_delete_in_order(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with Collector(tmp_path, WatchFilter(types=STRUCTURE | {"closed"}, baseline=True)) as watch:
        (tmp_path / "a" / "one.txt").write_text("1")
        watch.wait_for(lambda ev: ("closed", "a/one.txt", None) in changes(ev))
        os.rename(tmp_path / "a" / "one.txt", tmp_path / "a" / "two.txt")
        os.rename(tmp_path / "a" / "two.txt", tmp_path / "b" / "two.txt")
        os.mkdir(tmp_path / "a" / "deep")
        watch.wait_for(lambda ev: ("created", "a/deep", None) in changes(ev))
        (tmp_path / "a" / "deep" / "x.json").write_text("{}")
        os.unlink(tmp_path / "b" / "two.txt")
        watch.wait_for(lambda ev: ("deleted", "b/two.txt", None) in changes(ev))
        events = watch.settle()
    assert [(e.type, e.path) for e in events if e.type == "exists"] == [("exists", "a"), ("exists", "b")]
    assert changes(events) == [
        ("created", "a/one.txt", None),
        ("closed", "a/one.txt", None),
        ("moved", "a/one.txt", "a/two.txt"),
        ("moved", "a/two.txt", "b/two.txt"),
        ("created", "a/deep", None),
        ("created", "a/deep/x.json", None),
        ("closed", "a/deep/x.json", None),
        ("deleted", "b/two.txt", None),
    ]
    assert_ordered(events)
    assert implied_tree(events) == real_tree(tmp_path)


def test_directory_move_and_tree_delete_keep_the_picture_right(tmp_path: Path) -> None:
    (tmp_path / "src" / "inner").mkdir(parents=True)
    for i in range(5):
        (tmp_path / "src" / "inner" / f"f{i}").write_text(str(i))
    (tmp_path / "dst").mkdir()
    with Collector(tmp_path, WatchFilter(types=STRUCTURE, baseline=True)) as watch:
        os.rename(tmp_path / "src", tmp_path / "dst" / "moved")
        watch.wait_for(lambda ev: any(e.type == "moved" for e in ev))
        (tmp_path / "dst" / "moved" / "inner" / "new").write_text("n")
        shutil.rmtree(tmp_path / "dst" / "moved" / "inner")
        watch.wait_for(lambda ev: ("deleted", "dst/moved/inner", None) in changes(ev))
        events = watch.settle()
    moves = [e for e in events if e.type == "moved"]
    assert [(e.path, e.dest, e.is_dir) for e in moves] == [("src", "dst/moved", True)]  # one move, not one per entry
    assert ("created", "dst/moved/inner/new", None) in changes(events)
    assert implied_tree(events) == real_tree(tmp_path) == {("dst", True), ("dst/moved", True)}
    assert_ordered(events)


def test_only_the_asked_types_are_shown_and_subscribed(tmp_path: Path) -> None:
    with Collector(tmp_path, WatchFilter(types=frozenset({"created"}))) as watch:
        assert watch.watcher.subscribed == STRUCTURE  # kernel mask: no open/modify/close
        (tmp_path / "f.txt").write_text("x")
        (tmp_path / "f.txt").read_text()
        os.unlink(tmp_path / "f.txt")
        (tmp_path / "g.txt").write_text("y")
        watch.wait_for(lambda ev: ("created", "g.txt", None) in changes(ev))
        events = watch.settle()
    assert changes(events) == [("created", "f.txt", None), ("created", "g.txt", None)]


def test_every_type_including_opened_and_closed_no_write(tmp_path: Path) -> None:
    (tmp_path / "r.txt").write_text("read me")
    with Collector(tmp_path, WatchFilter(types=frozenset(CHANGE_TYPES))) as watch:
        (tmp_path / "r.txt").read_text()
        watch.wait_for(lambda ev: ("closed_no_write", "r.txt", None) in changes(ev))
        events = watch.snapshot()
    assert ("opened", "r.txt", None) in changes(events)


def test_include_exclude_and_gitignore(tmp_path: Path) -> None:
    (tmp_path / ".gitignore").write_text("build/\n*.log\n!important.log\n/rooted.txt\n")
    for name in ("build", "keep", "keep/sub", ".git"):
        (tmp_path / name).mkdir()
    spec = WatchFilter(types=STRUCTURE, exclude=("*.tmp",), gitignore=True)
    with Collector(tmp_path, spec) as watch:
        for name in ("build/out.o", "keep/a.log", "keep/important.log", "keep/sub/x.tmp", "keep/sub/ok.txt",
                     "rooted.txt", "keep/rooted.txt", ".git/HEAD", "last.txt"):
            (tmp_path / name).write_text("x")
        watch.wait_for(lambda ev: ("created", "last.txt", None) in changes(ev))
        events = watch.settle()
    assert sorted(p for t, p, _ in changes(events)) == [
        "keep/important.log",
        "keep/rooted.txt",
        "keep/sub/ok.txt",
        "last.txt",
    ]

    (tmp_path / "inc").mkdir()
    with Collector(tmp_path, WatchFilter(types=STRUCTURE, include=("inc/**",))) as watch:
        (tmp_path / "outside.txt").write_text("x")
        (tmp_path / "inc" / "inside.txt").write_text("x")
        os.rename(tmp_path / "outside.txt", tmp_path / "inc" / "moved-in.txt")
        os.rename(tmp_path / "inc" / "inside.txt", tmp_path / "moved-out.txt")
        watch.wait_for(lambda ev: ("deleted", "inc/inside.txt", None) in changes(ev))
        events = watch.settle()
    # Crossing the include boundary reads as a create (in) or a delete (out).
    assert changes(events) == [
        ("created", "inc/inside.txt", None),
        ("created", "inc/moved-in.txt", None),
        ("deleted", "inc/inside.txt", None),
    ]


def _alternate_appends(a: Path, b: Path, rounds: int) -> None:
    """Append to two files in turn (the kernel merges identical *consecutive* events only)."""
    with open(a, "a") as fa, open(b, "a") as fb:
        for i in range(rounds):
            for handle in (fa, fb):
                handle.write(f"{i}\n")
                handle.flush()


def test_debounce_coalesces_repeated_writes_and_counts_them(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("")
    b.write_text("")
    with Collector(tmp_path, WatchFilter(types=frozenset({"modified"}) | STRUCTURE, debounce_ms=5000)) as watch:
        _alternate_appends(a, b, 25)
        os.unlink(a)  # a structural event releases what is held for its path first
        os.unlink(b)
        watch.wait_for(lambda ev: ("deleted", "b.log", None) in changes(ev))
        events = watch.snapshot()
    assert [(t, p) for t, p, _ in changes(events)] == [
        ("modified", "a.log"),
        ("deleted", "a.log"),
        ("modified", "b.log"),
        ("deleted", "b.log"),
    ]
    assert [e.coalesced for e in events if e.type == "modified"] == [25, 25]
    assert_ordered(events)


def test_without_debounce_events_are_raw(tmp_path: Path) -> None:
    a, b = tmp_path / "a.log", tmp_path / "b.log"
    a.write_text("")
    b.write_text("")
    with Collector(tmp_path, WatchFilter(types=frozenset({"modified"}))) as watch:
        _alternate_appends(a, b, 20)
        watch.wait_for(lambda ev: len([e for e in ev if e.type == "modified"]) >= 40)
        events = watch.settle(quiet=0.3)
    modified = [e for e in events if e.type == "modified"]
    assert [e.path for e in modified] == ["a.log", "b.log"] * 20
    assert all(e.coalesced == 1 for e in modified)


def test_overflowing_queue_says_lost_and_reconciles_to_the_real_tree(tmp_path: Path) -> None:
    spec = WatchFilter(types=STRUCTURE | {"closed"}, baseline=True, queue_size=40)
    with Collector(tmp_path, spec, delay=0.05) as watch:
        for d in range(6):
            (tmp_path / f"d{d}").mkdir()
        for i in range(1500):
            target = tmp_path / f"d{i % 6}" / f"f{i}.bin"
            target.write_bytes(b"x")
            if i % 4 == 0:
                os.rename(target, tmp_path / f"d{(i + 1) % 6}" / f"m{i}.bin")
            elif i % 9 == 0:
                target.unlink()
        events = watch.settle(quiet=1.0)
    lost = [e for e in events if e.type == "lost"]
    assert lost, "a 40-event queue behind a slow consumer must overflow"
    assert all(e.lost and e.lost > 0 and "queue was full" in (e.detail or "") for e in lost)
    assert any(e.reconciled for e in events)
    assert events[-1].type == "resynced" or any(e.type == "resynced" for e in events)
    assert implied_tree(events) == real_tree(tmp_path)
    assert_ordered(events)


def test_polling_backend_shows_a_notice_and_still_reports(tmp_path: Path) -> None:
    spec = WatchFilter(types=STRUCTURE, poll=True, poll_interval=0.2, baseline=True)
    with Collector(tmp_path, spec) as watch:
        notice = next(e for e in watch.snapshot() if e.type == "notice")
        assert notice.detail.startswith("polling . every 0.2 s: polling was asked for")
        (tmp_path / "p.txt").write_text("x")
        watch.wait_for(lambda ev: ("created", "p.txt", None) in changes(ev))
        os.rename(tmp_path / "p.txt", tmp_path / "q.txt")
        watch.wait_for(lambda ev: ("moved", "p.txt", "q.txt") in changes(ev))
        events = watch.settle()
    assert watch.watcher.backend == "polling"
    assert implied_tree(events) == real_tree(tmp_path)


LIMITED = textwrap.dedent(
    """
    import json, os, sys, threading, time
    limit, top, fresh = sys.argv[1], sys.argv[2], sys.argv[3] == "fresh"
    with open("/proc/sys/user/max_inotify_watches", "w") as f:
        f.write(limit)
    from backends.events.watcher import Watcher
    from backends.events.model import WatchFilter
    stop = threading.Event()
    out = []
    def writer():
        time.sleep(1.0)
        for i in range(12):
            if fresh:
                os.mkdir(os.path.join(top, f"d{i}"))
            open(os.path.join(top, f"d{i}", "late.txt"), "w").close()
        time.sleep(2.5)
        stop.set()
    threading.Thread(target=writer, daemon=True).start()
    for batch in Watcher(top, WatchFilter(baseline=True, poll_interval=0.2)).batches(stop):
        out.extend(e.to_json() for e in batch)
    print(json.dumps(out))
    """
)


def _run_with_watch_limit(limit: int, top: Path, *, fresh: bool = False) -> list[dict]:
    """Watch ``top`` in a private user namespace whose inotify watch limit is ``limit``.

    A writer creates ``d0``..``d11/late.txt`` after a second (and the
    directories themselves first when ``fresh``).
    """
    if shutil.which("unshare") is None:
        pytest.skip("unshare(1) is not installed: cannot lower the inotify watch limit in a private user namespace")
    probe = subprocess.run(["unshare", "-U", "-r", "sh", "-c", "echo 1 > /proc/sys/user/max_inotify_watches"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip(f"user namespaces with a private inotify limit are not available here: {probe.stderr.strip()}")
    result = subprocess.run(
        ["unshare", "-U", "-r", sys.executable, "-c", LIMITED, str(limit), str(top), "fresh" if fresh else "existing"],
        capture_output=True, text=True, timeout=120, cwd=Path(__file__).resolve().parents[2],
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


LATE = {f"d{i}/late.txt" for i in range(12)}


def _created(events: list[dict]) -> set[str]:
    return {e["path"] for e in events if e["type"] == "created" and not e["is_dir"]}


def test_watch_limit_after_the_start_falls_back_to_polling_with_a_lost_marker(tmp_path: Path) -> None:
    # root + 2 directories + the start-up probe fit in 5 watches; the 12 directories made later do not
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
    events = _run_with_watch_limit(5, tmp_path, fresh=True)
    notices = [e["detail"] for e in events if e["type"] == "notice"]
    assert notices[0].startswith("watching . with inotify")
    lost = [e for e in events if e["type"] == "lost"]
    assert lost and "inotify watch limit" in lost[0]["detail"]
    assert any(n.startswith("polling . every 0.2 s: the inotify watch limit is reached") for n in notices)
    assert _created(events) == LATE  # nothing missed across the fallback


def test_watch_limit_during_the_start_walk_polls_from_the_start(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"d{i}").mkdir()
    events = _run_with_watch_limit(5, tmp_path)
    notices = [e["detail"] for e in events if e["type"] == "notice"]
    assert notices[0].startswith("polling . every 0.2 s: the inotify watch limit is reached")
    assert not [e for e in events if e["type"] == "lost"]
    assert _created(events) == LATE


def test_watch_limit_at_the_root_starts_polling_at_once(tmp_path: Path) -> None:
    for i in range(12):
        (tmp_path / f"d{i}").mkdir()
    events = _run_with_watch_limit(0, tmp_path)
    notices = [e["detail"] for e in events if e["type"] == "notice"]
    assert notices[0].startswith("polling . every 0.2 s: the inotify watch limit is reached")
    assert not [e for e in events if e["type"] == "lost"]
    assert _created(events) == LATE


HOSTILE_NAMES = ["with space.txt", "new\nline.txt", "back\\slash.txt", "ünïcödé.txt", "tab\there"]


def test_hostile_names_come_through_and_serialise(tmp_path: Path) -> None:
    with Collector(tmp_path, WatchFilter(types=STRUCTURE)) as watch:
        for name in HOSTILE_NAMES:
            (tmp_path / name).write_text("x")
        raw = os.path.join(os.fsencode(tmp_path), b"bad-\xff-utf8")
        with open(raw, "wb") as handle:
            handle.write(b"x")
        watch.wait_for(lambda ev: len(changes(ev)) >= len(HOSTILE_NAMES) + 1)
        events = watch.settle()
    paths = [e.path for e in events if e.type == "created"]
    assert set(HOSTILE_NAMES) <= set(paths)
    bad = next(e for e in events if e.path.startswith("bad-"))
    assert bad.to_json()["path"] == "bad-\\xff-utf8"
    for event in events:
        json.dumps(event.to_json())  # every event serialises


def test_watched_directory_deleted_ends_the_stream(tmp_path: Path) -> None:
    top = tmp_path / "gone"
    top.mkdir()
    collector = Collector(top, WatchFilter(types=STRUCTURE))
    with collector:
        shutil.rmtree(top)
        events = collector.wait_for(lambda ev: any("was deleted" in (e.detail or "") for e in ev))
        collector._thread.join(10)
        assert not collector._thread.is_alive()
    assert events[-1].type == "notice"


def test_watching_writes_nothing_and_stops_its_threads(tmp_path: Path) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "f").write_text("data")
    before = tree_fingerprint(tmp_path)
    threads_before = set(threading.enumerate())
    with Collector(tmp_path, WatchFilter(types=frozenset(CHANGE_TYPES), baseline=True)) as watch:
        watch.settle(quiet=0.3)
    assert tree_fingerprint(tmp_path) == before
    for _ in range(100):
        extra = [t for t in threading.enumerate() if t not in threads_before and t.is_alive()]
        if not extra:
            break
        threading.Event().wait(0.05)
    assert not extra, extra



def test_local_source_watch_prefixes_paths_and_refuses_escapes(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    (tmp_path / "file.txt").write_text("x")
    source = LocalSource(str(tmp_path))

    async def scenario() -> list[FsEvent]:
        got: list[FsEvent] = []
        stream = source.watch("live/", WatchFilter(types=STRUCTURE))
        async for batch in stream:
            got.extend(batch)
            if any(e.type == "notice" for e in got) and not (tmp_path / "live" / "new.txt").exists():
                await asyncio.to_thread((tmp_path / "live" / "new.txt").write_text, "x")
            if any(e.type == "created" for e in got):
                break
        await stream.aclose()
        return got

    events = asyncio.run(asyncio.wait_for(scenario(), 30))
    assert [(e.type, e.path) for e in events if not e.is_marker] == [("created", "live/new.txt")]
    with pytest.raises(ForbiddenError):
        source.watch("../", WatchFilter())
    with pytest.raises(ForbiddenError):
        source.watch("/etc", WatchFilter())
    with pytest.raises(NotFoundError):
        source.watch("file.txt", WatchFilter())
    with pytest.raises(NotFoundError):
        source.watch("missing", WatchFilter())
    assert EventsService.CAPABILITIES == frozenset({"watch"})


def test_filter_rejects_unknown_types() -> None:
    with pytest.raises(ValueError, match="unknown event type 'renamed'"):
        WatchFilter(types=frozenset({"renamed"}))
