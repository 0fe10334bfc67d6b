"""The watcher in a child process (``WatchFilter(isolate=True)``), and the GC-free event ring."""

from __future__ import annotations

import asyncio
import gc
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends.errors import UnavailableError
from backends.events.child import decode_batch, encode_batch, filter_from_json, filter_json, watch_in_child
from backends.events.model import CHANGE_TYPES, FsEvent, WatchFilter
from backends.events.ring import EventRing, to_raw
from backends.local import LocalSource

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)
paths = st.one_of(texts, st.binary(max_size=12).map(os.fsdecode))  # undecodable names become surrogate escapes
events = st.builds(
    FsEvent,
    seq=st.integers(1, 2**62),
    type=st.sampled_from(CHANGE_TYPES + ("lost", "notice")),
    path=paths,
    mono_ns=st.integers(0, 2**62),
    wall_ns=st.integers(0, 2**62),
    dest=st.none() | paths,
    is_dir=st.booleans(),
    reconciled=st.booleans(),
    coalesced=st.integers(1, 1000),
    latency_us=st.none() | st.integers(0, 10**9),
    lost=st.none() | st.integers(0, 10**9),
    detail=st.none() | texts,
)


@given(st.lists(events, max_size=20))
def test_batches_cross_the_pipe_unchanged(batch: list[FsEvent]) -> None:
    line = encode_batch(batch)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_batch(line) == batch


def test_filter_crosses_the_command_line_unchanged() -> None:
    spec = WatchFilter(types=frozenset({"created", "closed"}), include=("*.txt",), exclude=("tmp/*",), gitignore=True,
                       debounce_ms=20, baseline=True, queue_size=99, poll=True, poll_interval=0.5, latency=False, isolate=True)
    assert filter_from_json(filter_json(spec)) == spec


async def collect(source: LocalSource, path: str, spec: WatchFilter, act, until) -> list[FsEvent]:
    got: list[FsEvent] = []
    stream = source.watch(path, spec)
    try:
        async with asyncio.timeout(60):
            async for batch in stream:
                got.extend(batch)
                if any(e.type == "notice" for e in batch) and act is not None:
                    act()
                    act = None
                if until(got):
                    break
    finally:
        await stream.aclose()
    return got


async def test_a_child_watch_streams_real_changes_with_prefixed_paths(tmp_path: Path) -> None:
    (tmp_path / "sub" / "deep").mkdir(parents=True)

    def act() -> None:
        (tmp_path / "sub" / "deep" / "a.txt").write_text("1")
        os.rename(tmp_path / "sub" / "deep" / "a.txt", tmp_path / "sub" / "b.txt")
        (tmp_path / "sub" / "b.txt").unlink()

    got = await collect(
        LocalSource(str(tmp_path)), "sub", WatchFilter(isolate=True), act,
        lambda evs: any(e.type == "deleted" for e in evs),
    )
    changes = [(e.type, e.path, e.dest) for e in got if not e.is_marker]
    assert changes[0] == ("created", "sub/deep/a.txt", None)
    assert ("moved", "sub/deep/a.txt", "sub/b.txt") in changes
    assert changes[-1] == ("deleted", "sub/b.txt", None)
    assert got[0].type == "notice" and got[0].detail.startswith("watching sub with inotify")
    seqs = [e.seq for e in got]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


async def test_stopping_the_consumer_ends_the_child(tmp_path: Path) -> None:
    stream = watch_in_child(str(tmp_path), WatchFilter(), "")
    first = await stream.__anext__()
    assert first[0].type == "notice"
    children = _children()
    assert children, "no watcher process"
    await stream.aclose()
    for pid in children:
        assert not _alive(pid), f"watcher process {pid} still running"


async def test_a_failing_child_is_an_error_not_a_hang(tmp_path: Path) -> None:
    missing = tmp_path / "gone"
    stream = watch_in_child(str(missing), WatchFilter(), "")
    with pytest.raises(UnavailableError, match="the watcher process failed"):
        async with asyncio.timeout(60):
            async for _ in stream:
                pass


def _children() -> list[int]:
    me = os.getpid()
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                with open(f"/proc/{entry}/cmdline", "rb") as handle:
                    cmdline = handle.read()
            except OSError:
                continue
            if int(fields[1]) == me and b"backends.events.child" in cmdline:
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_ring_is_bounded_ordered_and_not_scanned_by_the_collector() -> None:
    ring = EventRing(100)
    batch = [FsEvent(n, "created", f"d/f{n}", n, n, latency_us=n if n % 2 else None) for n in range(1, 251)]
    ring.extend(batch[:200])
    ring.append(batch[200])
    ring.extend(batch[201:])
    assert len(ring) == 100 and ring.maxlen == 100
    assert list(ring) == batch[150:]
    assert ring[0] == batch[150] and ring[-1] == batch[-1] and ring[10:12] == batch[160:162]
    assert list(reversed(ring)) == batch[150:][::-1]
    gc.collect()
    assert not any(gc.is_tracked(raw) for raw in ring.raw)
    odd = ring.select(lambda raw: raw[0] % 2 == 1)
    assert odd.maxlen == 100 and [e.seq for e in odd] == list(range(151, 251, 2))
    assert ring.raw[0] == to_raw(batch[150])
    ring.clear()
    assert not ring and len(ring) == 0


async def test_a_backends_package_in_the_working_directory_is_never_imported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The child runs with ``-P``: the user's working directory is not on its import path."""
    planted = tmp_path / "cwd" / "backends"
    (planted / "events").mkdir(parents=True)
    marker = tmp_path / "imported"
    (planted / "__init__.py").write_text(f"open({str(marker)!r}, 'w').write('planted code ran')\n")
    (planted / "events" / "__init__.py").write_text("")
    (planted / "events" / "child.py").write_text(f"open({str(marker)!r}, 'w').write('planted child ran')\n")
    watched = tmp_path / "watched"
    watched.mkdir()
    monkeypatch.chdir(tmp_path / "cwd")
    stream = watch_in_child(str(watched), WatchFilter(), "")
    try:
        async with asyncio.timeout(60):
            first = await stream.__anext__()
    finally:
        await stream.aclose()
    assert first[0].type == "notice"
    assert not marker.exists(), marker.read_text()
