"""SVG snapshots of the Live pane in states the test controls.

Nothing writes under the watched tree, so the only rows are events the test
injects, with fixed times; the sparkline covers "now", far from those times.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.events.model import FsEvent
from backends.local import LocalSource
from tests.tui.conftest import wait_for_runs
from tui.app import DriftdeckApp
from tui.panes.live import LivePane

SIZE = (120, 36)
BASE = 1_795_000_000 * 10**9  # a fixed wall clock (2026-11-18), far from "now": the sparkline stays flat



@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    (root / "live" / "capture-00001").mkdir(parents=True)
    (root / "live" / "capture.log").write_text("x\n")
    return root


def known_events() -> list[FsEvent]:
    rows = [
        ("created", "live/capture-00001/frame-000001.json", None, 800),
        ("closed", "live/capture-00001/frame-000001.json", None, 900),
        ("modified", "live/capture.log", None, 300),
        ("created", "live/capture-00001/frame-000002.json", None, 4200),
        ("moved", "live/capture-00001/frame-000001.json", "live/capture-00001/frame-000001.done.json", None),
        ("modified", "live/capture.log", None, 350),
        ("deleted", "live/capture-00001/frame-000000.json", None, None),
    ]
    events = [
        FsEvent(100 + i, kind, path, BASE + i * 10**7, BASE + i * 10**7, dest=dest, latency_us=latency)
        for i, (kind, path, dest, latency) in enumerate(rows)
    ]
    events.append(FsEvent(107, "lost", "live", BASE + 10**8, BASE + 10**8, lost=12, detail="our event queue was full (40 events)"))
    events.append(FsEvent(108, "created", "live/capture-00001/frame-000003.json", BASE + 10**8, BASE + 10**8, reconciled=True))
    return events


async def open_live(pilot: Pilot) -> LivePane:
    await wait_for_runs(pilot)
    await pilot.press("2")
    pane = pilot.app.query_one(LivePane)
    for _ in range(400):
        if pane.state.backend.startswith("watching"):
            break
        await pilot.pause(0.025)
    return pane


def test_live_pane_starting(snap_compare, tree: Path) -> None:
    async def drive(pilot: Pilot) -> None:
        await open_live(pilot)
        await pilot.pause(0.7)

    app = DriftdeckApp(LocalSource(str(tree)), source_label="demo-workspace", cursor_blink=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive)


def test_live_pane_paused_with_a_loss(snap_compare, tree: Path) -> None:
    async def drive(pilot: Pilot) -> None:
        pane = await open_live(pilot)
        pane.ingest(known_events())
        await pilot.pause(0.3)
        await pilot.press("space")
        await pilot.pause(0.7)

    app = DriftdeckApp(LocalSource(str(tree)), source_label="demo-workspace", cursor_blink=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive)


def test_live_event_detail_of_a_move(snap_compare, tree: Path) -> None:
    async def drive(pilot: Pilot) -> None:
        pane = await open_live(pilot)
        pane.ingest(known_events())
        await pilot.pause(0.3)
        await pilot.press("g", "j", "j", "j", "j")  # the rename, seq 104
        await pilot.press("enter")
        await pilot.pause(0.3)

    app = DriftdeckApp(LocalSource(str(tree)), source_label="demo-workspace", cursor_blink=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive)
