"""The Live events pane, driven by keys over a real watcher on a busy directory."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import orjson
import pytest
from textual.pilot import Pilot

from backends.demo.activity import ActivityWriter
from backends.events.model import FsEvent
from backends.events.verify import verify_recording
from backends.local import LocalSource
from tests.tui.conftest import live_app as make, screen_text, wait_for_runs, wait_until
from tui.app import DriftdeckApp
from tui.panes.live import LivePane
from tui.widgets.live_event_list import LiveEventList

SIZE = (120, 36)





async def open_live(pilot: Pilot) -> LivePane:
    await wait_for_runs(pilot)
    pane = pilot.app.query_one(LivePane)
    assert not pane.state.started  # nothing is watched until the pane is shown
    await pilot.press("2")
    await wait_until(pilot, lambda: pane.state.backend.startswith("watching"), "the watcher to start")
    return pane


@pytest.fixture
def busy(tmp_path: Path):
    root = tmp_path / "ws"
    (root / "live").mkdir(parents=True)
    writer = ActivityWriter(root, interval=0.02)
    yield root, writer
    writer.stop()


async def test_shows_live_activity_with_counters(busy) -> None:
    root, writer = busy
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        # How the watch started is on screen before any activity (later notices may take that line).
        await wait_until(pilot, lambda: "watching . with inotify: 1 entries" in screen_text(pilot), "the backend line")
        writer.start()
        await wait_until(pilot, lambda: any(e.type == "created" for e in pane.state.ring), "created events")
        await wait_until(pilot, lambda: "live/capture-00000/frame-0000" in screen_text(pilot), "rows on screen")
        text = screen_text(pilot)
        assert "watching demo-workspace · path . · following" in text
        assert "Events by type" in text and "Top churning paths" in text
        table = app.query_one(LiveEventList)
        assert table.cursor == len(table.rows) - 1  # following the newest


async def test_space_pauses_ingestion_and_counts_what_arrives(busy) -> None:
    root, writer = busy
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        writer.start()
        await wait_until(pilot, lambda: len(pane.state.ring) > 3, "some events")
        await pilot.press("space")
        frozen = len(app.query_one(LiveEventList).rows)
        await wait_until(pilot, lambda: pane.state.held > 5, "events held while paused")
        await wait_until(pilot, lambda: "new events held while paused" in screen_text(pilot), "the held count")
        await wait_until(pilot, lambda: "paused" in screen_text(pilot), "paused")
        assert len(app.query_one(LiveEventList).rows) == frozen
        await pilot.press("space")
        await pilot.pause(0.2)
        assert len(app.query_one(LiveEventList).rows) > frozen and pane.state.held == 0


async def test_scrolling_up_stops_following_and_g_jumps_back(busy) -> None:
    root, writer = busy
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        writer.start()
        await wait_until(pilot, lambda: len(pane.state.ring) > 40, "40 events")
        await pilot.press("g")
        await wait_until(pilot, lambda: pane.state.unseen > 0, "unseen events counted")
        await wait_until(pilot, lambda: "new events — press G" in screen_text(pilot), "the jump hint")
        await wait_until(pilot, lambda: "scrolled back" in screen_text(pilot), "scrolled back")
        await pilot.press("G")
        await pilot.pause(0.2)
        table = app.query_one(LiveEventList)
        assert pane.state.following and table.cursor >= len(table.rows) - 2
        await wait_until(pilot, lambda: "new events — press G" not in screen_text(pilot), "new events — press G")


async def test_text_filter_and_type_toggles(busy) -> None:
    root, writer = busy
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        writer.start()
        await wait_until(pilot, lambda: any(e.type == "moved" for e in pane.state.ring), "a rename")
        await pilot.press("slash", *"capture.log", "enter")
        await pilot.pause(0.2)
        rows = app.query_one(LiveEventList).rows
        assert rows and all("capture.log" in (e.path + (e.dest or "")) for e in rows)
        await pilot.press("escape")
        await pilot.press("m")  # hide modified (the watch restarts without it)
        await pilot.pause(0.3)
        assert "modified" not in pane.state.types
        assert not [e for e in app.query_one(LiveEventList).rows if e.type == "modified"]
        await wait_until(pilot, lambda: pane.state.backend.startswith("watching"), "the restarted watch")


async def test_loss_banner_and_reconciliation_are_visible(tmp_path: Path) -> None:
    app = make(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        pane.ingest([FsEvent(900, "lost", "", 1, 1, lost=None, detail="the kernel's inotify queue overflowed (IN_Q_OVERFLOW)")])
        banner = "⚠ an unknown number of events lost (the kernel's inotify queue overflowed (IN_Q_OVERFLOW))"
        await wait_until(pilot, lambda: banner in screen_text(pilot), "the banner")
        pane.ingest([
            FsEvent(901, "created", "late.txt", 2, 2, reconciled=True),
            FsEvent(902, "resynced", "", 3, 3, detail="picture reconciled with the disk: 1 reconciled, 0 stale events superseded"),
        ])
        await wait_until(pilot, lambda: "reconciled after a loss" in screen_text(pilot), "the reconciled banner")
        await wait_until(pilot, lambda: "[reconciled]" in screen_text(pilot), "[reconciled]")
        await pilot.press("g")
        table = app.query_one(LiveEventList)
        assert table.current.type == "lost"
        await pilot.press("e")
        assert table.current.reconciled
        await pilot.press("e")
        assert table.current.type == "resynced"


async def test_r_records_to_a_named_file_that_verifies(busy, tmp_path: Path) -> None:
    root, writer = busy
    target = tmp_path / "out" / "rec.jsonl"
    target.parent.mkdir()
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        await start_recording(pilot, str(target))
        await wait_until(pilot, lambda: "● recording to" in screen_text(pilot), "● recording to")
        writer.start()
        await wait_until(pilot, lambda: pane.state.recorder is not None and pane.state.recorder.count > 10, "recorded events")
        await pilot.press("r")
        await pilot.pause()
    report = verify_recording(str(target))
    assert report.records > 10 and report.malformed_count == 0 and report.missing_count == 0


async def start_recording(pilot: Pilot, target: str) -> None:
    await pilot.press("r")
    await pilot.pause()
    pilot.app.screen.query_one("#live-prompt-input").value = target
    await pilot.press("enter")
    await pilot.pause()


async def test_recording_under_the_source_root_is_refused(busy) -> None:
    root, _writer = busy
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        await start_recording(pilot, str(root / "live" / "rec.jsonl"))
        assert pane.state.recorder is None
        await wait_until(pilot, lambda: "● recording to" not in screen_text(pilot), "● recording to")
        messages = [n.message for n in app._notifications]
        assert any("refusing to write under the read-only source root" in m for m in messages), messages
        assert app.is_running
    assert not [p for p in root.rglob("*") if p.name == "rec.jsonl" or p.name.startswith(".driftdeck-rec-")]


async def test_recording_a_watched_subdirectory_has_paths_relative_to_it(busy, tmp_path: Path) -> None:
    root, writer = busy
    target = tmp_path / "out" / "rec.jsonl"
    target.parent.mkdir()
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        await pilot.press("p")
        await pilot.pause()
        app.screen.query_one("#live-prompt-input").value = "live"
        await pilot.press("enter")
        await wait_until(pilot, lambda: pane.state.path == "live" and pane.state.backend.startswith("watching"), "the watch of live/")
        await start_recording(pilot, str(target))
        await wait_until(pilot, lambda: "● recording to" in screen_text(pilot), "● recording to")
        writer.start()
        await wait_until(pilot, lambda: pane.state.recorder is not None and pane.state.recorder.count > 10, "recorded events")
        await pilot.press("r")
        await pilot.pause()
    lines = [orjson.loads(line) for line in target.read_bytes().splitlines()]
    header, events = lines[0], lines[1:]
    assert header["path"] == "live" and len(events) > 10
    paths = [e["path"] for e in events] + [e["dest"] for e in events if e.get("dest")]
    assert not [p for p in paths if p == "live" or p.startswith("live/")]
    assert any(p.startswith("capture-") for p in paths)
    report = verify_recording(str(target))
    assert report.exit_code == 0, report.to_json()
    assert not list(target.parent.glob(".driftdeck-rec-*"))


async def test_a_failing_recording_write_stops_it_without_crashing(busy, tmp_path: Path) -> None:
    root, _writer = busy
    target = tmp_path / "rec.jsonl"
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        await start_recording(pilot, str(target))
        recorder = pane.state.recorder
        assert recorder is not None

        def full_disk(events) -> None:
            raise OSError(28, "No space left on device")

        recorder.write = full_disk  # type: ignore[method-assign]
        pane.ingest([FsEvent(1, "created", "a.txt", 1, 1)])
        await wait_until(pilot, lambda: pane.state.recorder is None, "the recording to stop")
        await wait_until(
            pilot, lambda: any("No space left on device" in n.message for n in app._notifications), "the error notification"
        )
        await wait_until(pilot, lambda: "● recording to" not in screen_text(pilot), "the header to drop the recording")
        assert app.is_running
    assert not target.exists() and not list(tmp_path.glob(".driftdeck-rec-*"))


async def test_a_source_that_cannot_watch_says_so(tmp_path: Path) -> None:
    class NoWatch(LocalSource):
        def watch(self, path="", filters=None):
            from backends.errors import UnsupportedError

            raise UnsupportedError(f"{self.root}: this source cannot watch")

    app = DriftdeckApp(NoWatch(str(tmp_path)), source_label="demo-workspace", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("2")
        await wait_until(pilot, lambda: "cannot watch" in screen_text(pilot), "the error")
        await wait_until(pilot, lambda: "watching demo-workspace" in screen_text(pilot), "watching demo-workspace")
        assert app.is_running


async def test_a_type_toggle_while_recording_keeps_numbers_rising(busy, tmp_path: Path) -> None:
    root, writer = busy
    target = tmp_path / "out" / "toggled.jsonl"
    target.parent.mkdir()
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_live(pilot)
        await start_recording(pilot, str(target))
        writer.start()
        await wait_until(pilot, lambda: pane.state.recorder is not None and pane.state.recorder.count > 10, "events before the toggle")
        before = pane.state.recorder.count if pane.state.recorder else 0
        await pilot.press("x")  # a type toggle restarts the watch
        await wait_until(pilot, lambda: pane.state.recorder is not None and pane.state.recorder.count > before + 20, "events after the toggle")
        await pilot.press("r")
        await pilot.pause()
        seqs = [e.seq for e in pane.state.ring]
    assert all(a < b for a, b in pairwise(seqs)), "the ring holds a number twice or out of order"
    report = verify_recording(str(target))
    assert report.order_violations == 0 and report.malformed_count == 0, report.violations[:3]
    notices = [orjson.loads(line).get("detail", "") for line in target.read_bytes().splitlines()[1:]]
    assert any(n.startswith("watch restarted on . for ") and "sequence numbers continue from" in n for n in notices)


async def test_a_relative_recording_name_is_reported_with_its_directory(busy, tmp_path: Path, monkeypatch) -> None:
    root, writer = busy
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    app = make(root)
    async with app.run_test(size=SIZE) as pilot:
        await open_live(pilot)
        await start_recording(pilot, "rec.jsonl")
        await wait_until(pilot, lambda: "● recording to" in screen_text(pilot), "the header")
        await pilot.press("r")
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any(f"events to {elsewhere / 'rec.jsonl'}" in m for m in messages), messages
    assert (elsewhere / "rec.jsonl").exists()
