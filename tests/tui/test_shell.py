"""The shell and the Runs & Quarantine pane, driven by keys like a user would."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import TabbedContent

from tests.conftest import tree_fingerprint, write_run
from tests.tui.conftest import screen_text, wait_for_runs
from tui.panes.runs import RunsPane
from tui.screens.help import HelpScreen
from tui.screens.run_detail import RunDetailScreen
from tui.widgets.run_table import RunTable

SIZE = (120, 36)


async def test_opens_on_quarantined_runs_with_header_and_chart(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        text = screen_text(pilot)
        assert "source: demo-workspace" in text and "READ-ONLY" in text
        assert "12 of 58 runs · QUARANTINED +2 unreadable · newest first" in text
        assert "REPLAY_DIVERGENCE" in text and "Reason codes" in text
        assert "run-broken-status" in text  # broken runs are never hidden by the state filter
        table = app.query_one(RunTable)
        assert {r.state for r in table.rows} == {"QUARANTINED", None}
        assert app.focused is table


async def test_number_keys_switch_panes_and_each_shows_its_inventory(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        expectations = {
            "2": ("live", "watching demo-workspace"),
            "3": ("wal", "7 divergences: 6 changed, 1 torn"),
            "4": ("snapshots", "7 differences · 31 unchanged (hidden) · rules on"),
            "5": ("checksums", "4 manifests"),
            "1": ("runs", "of 58 runs"),
        }
        for key, (pane_id, summary) in expectations.items():
            await pilot.press(key)
            for _ in range(100):  # the engines of panes 3 and 4 need a moment on first show
                await pilot.pause(0.05)
                if summary in screen_text(pilot):
                    break
            assert app.query_one(TabbedContent).active == pane_id
            assert summary in screen_text(pilot), (key, screen_text(pilot))


async def test_state_and_text_filters_narrow_the_list(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("s")  # QUARANTINED -> all states
        await pilot.pause()
        assert "58 of 58 runs · all states" in screen_text(pilot)
        await pilot.press("slash", *"checksum", "enter")
        await pilot.pause()
        rows = app.query_one(RunTable).rows
        assert [r.reason_code for r in rows] == ["CHECKSUM_DRIFT"]
        assert "filter 'checksum'" in screen_text(pilot)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("slash", "!", *"quarantined", "enter")
        await pilot.pause()
        states = {r.state for r in app.query_one(RunTable).rows}
        assert "QUARANTINED" not in states and "READY" in states


async def test_reason_filter_and_next_quarantined(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("r")  # first reason code, alphabetically
        await pilot.pause()
        rows = app.query_one(RunTable).rows
        assert {r.reason_code for r in rows if r.state} == {"ATTEMPT_LIMIT_EXCEEDED"}
        assert "ATTEMPT_LIMIT_EXCEEDED" in screen_text(pilot)


async def test_e_and_E_jump_between_quarantined_runs_of_all_states(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("s")  # all states: quarantined runs are scattered among the others
        await pilot.pause()
        table = app.query_one(RunTable)
        quarantined = [i for i, run in enumerate(table.rows) if run.state == "QUARANTINED"]
        assert len(quarantined) >= 2
        table.move_to(quarantined[0])
        await pilot.press("e")
        assert table.cursor == quarantined[1]
        await pilot.press("E")
        assert table.cursor == quarantined[0]
        await pilot.press("E")
        assert table.cursor == quarantined[-1]  # wraps around


async def test_sort_toggle_reverses_time_order(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        table = app.query_one(RunTable)
        newest = [r.sort_ts for r in table.rows if r.state]
        assert newest == sorted(newest, reverse=True)
        await pilot.press("t")
        await pilot.pause()
        oldest = [r.sort_ts for r in table.rows if r.state]
        assert oldest == sorted(oldest)
        assert "oldest first" in screen_text(pilot)


async def test_detail_shows_status_artifact_preview_evidence_and_timeline(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("slash", *"dd6511", "enter")
        await pilot.pause()
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert isinstance(app.screen, RunDetailScreen)
        text = screen_text(pilot)
        assert "run-20261104-0905-dd6511" in text and "ENGINE_RECEIPT_MISMATCH" in text
        assert "Quarantine artifacts (" in text
        assert "Preview: runs/run-20261104-0905-dd6511/quarantine/" in text
        assert '"reason_code": "ENGINE_RECEIPT_MISMATCH"' in text
        assert "Record timeline:" in text and "newest last" in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, RunDetailScreen)


async def test_large_artifact_preview_is_cut_and_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("slash", *"dd6511", "enter", "enter")
        await pilot.pause(0.5)
        options = app.screen.query_one("#artifacts")
        names = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        big = next(i for i, n in enumerate(names) if n.startswith("engine-mismatch.json"))
        options.highlighted = big
        await pilot.pause(0.5)
        scroll = app.screen.query_one("#preview-scroll")
        scroll.scroll_end(animate=False)
        await pilot.pause(0.2)
        assert "… preview cut at 64.0 KiB of 291.7 KiB" in screen_text(pilot)


async def test_malformed_record_line_is_shown_in_the_timeline(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("slash", *"95ec55", "enter", "enter")
        await pilot.pause(0.5)
        text = screen_text(pilot)
        assert "1 malformed" in text
        await pilot.press("t", "g")
        await pilot.pause()
        assert "⚠ invalid JSON" in screen_text(pilot)


async def test_long_record_pages_in_completely(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("slash", *"7ad25b", "enter", "enter")
        for _ in range(100):
            await pilot.pause(0.05)
            if "2,500 events, newest last" in screen_text(pilot):
                break
        assert "Record timeline: 2,500 events, newest last" in screen_text(pilot)


async def test_help_lists_the_current_pane_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(pilot)
        assert "1  Runs & Quarantine" in text and "Next quarantined" in text and "switch pane" in text
        await pilot.press("escape", "3", "question_mark")
        await pilot.pause()
        text = screen_text(pilot)
        assert "3  WAL / replay" in text and "Next divergence" in text


async def test_command_palette_switches_pane_and_theme(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("ctrl+p", *"pane 4", "enter")
        await pilot.pause(0.3)
        assert app.query_one(TabbedContent).active == "snapshots"
        await pilot.press("ctrl+p", *"theme: driftdeck-light", "enter")
        await pilot.pause(0.3)
        assert app.theme == "driftdeck-light"


async def test_errors_become_notifications_not_tracebacks(tmp_path: Path, make_app) -> None:
    write_run(tmp_path, "gone")
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        (tmp_path / "runs" / "gone" / "run_status.json").unlink()
        (tmp_path / "runs" / "gone").rmdir()
        await pilot.press("enter")
        await pilot.pause(0.5)
        messages = [n.message for n in app._notifications]
        assert any("gone: no such run" in m for m in messages), messages
        assert app.is_running


async def test_reload_during_a_scan_finishes_with_every_run(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(RunsPane)
        pane.reload()
        pane.reload()
        await wait_for_runs(pilot)
        assert "12 of 58 runs · QUARANTINED +2 unreadable" in screen_text(pilot)
        assert "scanning" not in screen_text(pilot)


async def test_browsing_writes_nothing(demo_root: Path, make_app) -> None:
    before = tree_fingerprint(demo_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("escape", "2", "3", "4", "5")
        await pilot.pause(0.3)
    assert tree_fingerprint(demo_root) == before
    assert isinstance(app.query(RunsPane), object)
