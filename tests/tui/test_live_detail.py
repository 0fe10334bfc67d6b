"""The Live pane's event detail screen, opened with enter on events of a real watch."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.events.model import FsEvent
from backends.events.ring import EventRing
from tests.tui.conftest import live_app as make, screen_text, wait_for_runs, wait_until
from tui.panes.live import LivePane
from tui.screens.live_event import LiveEventScreen, related_events
from tui.widgets.live_event_list import LiveEventList

SIZE = (120, 36)


@pytest.fixture
def workspace(demo_root: Path, tmp_path: Path) -> Path:
    """A private copy of the demo workspace (the shared one is never written to)."""
    root = tmp_path / "ws"
    shutil.copytree(demo_root, root, symlinks=True)
    (root / "scratch").mkdir()
    return root




def field(text: str, label: str) -> str:
    """The value shown next to ``label`` in the screen's field grid."""
    for line in text.splitlines():
        match = re.match(rf"\s*█ {re.escape(label)}\s{{2,}}(.*?)\s*█$", line)
        if match:
            return match.group(1)
    raise AssertionError(f"no field {label!r} on screen:\n{text}")


async def open_live(pilot: Pilot) -> LivePane:
    await wait_for_runs(pilot)
    pane = pilot.app.query_one(LivePane)
    await pilot.press("2")
    await wait_until(pilot, lambda: pane.state.backend.startswith("watching"), "the watcher to start")
    return pane


async def test_enter_shows_a_move_with_its_history_and_escape_closes(workspace: Path) -> None:
    app = make(workspace)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        (workspace / "scratch" / "draft.txt").write_text("first\n")
        with open(workspace / "scratch" / "draft.txt", "a") as handle:
            handle.write("second\n")
        os.rename(workspace / "scratch" / "draft.txt", workspace / "scratch" / "final.txt")
        await wait_until(pilot, lambda: any(e.type == "moved" for e in pane.state.ring), "the rename")
        await pilot.press("slash", *"scratch/", "enter")  # the filter keeps this test's files; enter goes back to the list
        table = app.query_one(LiveEventList)
        await wait_until(pilot, lambda: table.current is not None and table.current.type == "moved", "the cursor on the rename")
        moved = table.current
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveEventScreen), "the detail screen")
        await pilot.pause()
        text = screen_text(pilot)
        assert f"Event {moved.seq:,}: moved" in text
        assert field(text, "destination") == "scratch/final.txt"
        assert field(text, "path") == "scratch/draft.txt"
        assert field(text, "type") == "moved"
        assert "live: reported by the kernel" in text
        assert "no: a file" in text
        assert f"{moved.mono_ns:,} ns" in text
        assert "Events on the move's source and destination in the ring · 6" in text
        history = [line for line in text.splitlines() if "scratch/draft.txt" in line and ("created" in line or "modified" in line or "closed" in line)]
        assert history, text  # the writes that came before the move
        assert any("▶" in line and "moved" in line for line in text.splitlines())
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LiveEventScreen), "the detail screen to close")
        assert "Events on the move's source" not in screen_text(pilot)
        assert app.query_one(LiveEventList).has_focus


async def test_a_created_file_shows_every_field_and_its_later_events(workspace: Path) -> None:
    app = make(workspace)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        target = workspace / "scratch" / "one.bin"
        target.write_bytes(b"x" * 10)
        target.unlink()
        await wait_until(pilot, lambda: any(e.type == "deleted" and e.path == "scratch/one.bin" for e in pane.state.ring), "the delete")
        await pilot.press("slash", *"one.bin", "enter")
        table = app.query_one(LiveEventList)
        await wait_until(pilot, lambda: table.rows and table.rows[0].type == "created", "the filtered rows")
        await pilot.press("g", "enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveEventScreen), "the detail screen")
        await pilot.pause()
        text = screen_text(pilot)
        created = table.rows[0]
        assert f"Event {created.seq:,}: created" in text
        for label in ("sequence", "type", "path", "is_dir", "wall time", "monotonic", "origin", "write → receipt"):
            assert label in text, label
        assert "destination" not in text  # not a move
        assert " UTC" in text
        assert "Events on this path in the ring" in text
        assert any("deleted" in line and "scratch/one.bin" in line for line in text.splitlines())
        await pilot.press("j", "k", "G", "g")  # scrolling keys are bound (and harmless when it all fits)
        assert isinstance(app.screen, LiveEventScreen)
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LiveEventScreen), "the detail screen to close")


async def test_a_loss_marker_shows_its_reconciliation(workspace: Path) -> None:
    app = make(workspace)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        base = 1_795_000_000 * 10**9
        pane.ingest([
            FsEvent(9001, "lost", "", base, base, lost=None, detail="the kernel's inotify queue overflowed (IN_Q_OVERFLOW)"),
            FsEvent(9002, "created", "scratch/late.txt", base + 1, base + 1, reconciled=True),
            FsEvent(9003, "resynced", "", base + 2, base + 2, detail="picture reconciled with the disk: 1 reconciled, 0 stale events superseded"),
        ])
        table = app.query_one(LiveEventList)
        await wait_until(pilot, lambda: any(e.seq == 9001 for e in table.rows), "the injected marker")
        table.move_to(next(i for i, e in enumerate(table.rows) if e.seq == 9001))
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, LiveEventScreen), "the detail screen")
        await pilot.pause()
        text = screen_text(pilot)
        assert "Event 9,001: LOST" in text
        assert "LOST-EVENTS MARKER" in text
        assert "unknown (the kernel does not say)" in text
        assert "IN_Q_OVERFLOW" in text
        assert "Reconciliation after this loss" in text
        assert any("scratch/late.txt" in line and "[reconciled]" in line for line in text.splitlines())
        assert "picture reconciled with the disk" in text
        await pilot.press("escape")
        await wait_until(pilot, lambda: not isinstance(app.screen, LiveEventScreen), "the detail screen to close")


def test_related_events_keeps_the_newest_and_counts_all() -> None:
    events = [FsEvent(n, "modified", "hot.log", n, n) for n in range(1, 121)]
    events.insert(60, FsEvent(500, "created", "cold.txt", 60, 60))
    events.append(FsEvent(121, "moved", "other", 121, 121, dest="hot.log"))
    ring = EventRing(1000)
    ring.extend(events)
    related = related_events(ring, events[0], limit=50)
    assert related.total == 121
    assert [e.seq for e in related.events] == list(range(72, 122))  # newest last, the move into hot.log included
    only = related_events(ring, events[60])
    assert only.total == 1 and only.events == (events[60],)
