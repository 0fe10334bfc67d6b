"""What the screens say in words, and keys that go both ways."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Select

from backends.units import counted
from tests.tui.conftest import screen_text, wait_for_runs
from tui.widgets.run_table import RunTable


def test_counts_agree_with_their_nouns() -> None:
    assert counted(1, "warning") == "1 warning"
    assert counted(0, "warning") == "0 warnings"
    assert counted(1204, "entry", "entries") == "1,204 entries"


async def test_a_directory_that_is_not_a_workspace_says_where_runs_were_looked_for(make_app, tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_runs(pilot)
        await pilot.pause(0.2)
        text = screen_text(pilot)
        assert "no runs found" in text and "0 of 0 runs" not in text
        assert "No runs: nothing under" in text and "Is this a" in text  # in the list, wrapped to its width
        table = app.query_one(RunTable)
        assert table.row_count == 0
        assert f"nothing under {tmp_path} matches the layout's runs glob 'runs/*'" in table.empty_text


async def test_r_and_R_cycle_the_reason_filter_both_ways(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_runs(pilot)
        select = app.query_one("#reason-filter", Select)
        await pilot.press("R")
        await pilot.pause()
        last = select.value
        assert last == "WAL_SEQUENCE_VIOLATION"  # backwards from "All reasons" wraps to the last code
        await pilot.press("r")
        await pilot.pause()
        assert select.value == ""  # back on "All reasons"
        await pilot.press("r")
        await pilot.pause()
        assert select.value == "ATTEMPT_LIMIT_EXCEEDED"
        assert str(app.query_one("#runs-status").render()).startswith("1 of 58 runs · QUARANTINED +2 unreadable · ATTEMPT_LIMIT_EXCEEDED")


async def test_the_palette_screenshot_names_the_file_or_the_reason(make_app, demo_root: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/Downloads here: the working directory is used
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:  # run_test shows no toasts: the notices are read from the app
        await wait_for_runs(pilot)
        app.action_screenshot()
        await pilot.pause()
        saved = list(tmp_path.glob("driftdeck-*.svg"))
        assert len(saved) == 1 and saved[0].read_text().startswith("<svg")
        assert any(f"screenshot saved to {saved[0]}" in n.message for n in app._notifications)
        app.action_screenshot(path=str(demo_root))  # the read-only root is refused, with the reason
        app.action_screenshot(path=str(tmp_path / "no-such-dir"))
        await pilot.pause()
        messages = [n.message for n in app._notifications]
        assert any("screenshot not saved" in m and "read-only source root" in m for m in messages)
        assert any("screenshot not saved" in m and "No such file or directory" in m for m in messages)
        assert not list(demo_root.glob("*.svg"))
