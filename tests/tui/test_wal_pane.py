"""The WAL / replay pane on the demo workspace, driven by keys like a user would."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.conftest import tree_fingerprint
from tests.tui.conftest import screen_text, wait_for_runs
from tui.panes.wal import WalPane
from tui.screens.wal_event import WalEventScreen
from tui.widgets.wal_pair_list import WalPairList
from tui.widgets.wal_problem_list import WalProblemList

SIZE = (120, 36)
DIVERGES = "run-20261101-1755-4eb721"
TORN = "run-20261101-1445-06826e"
BACKWARDS = "run-20261110-0655-23f61c"
PARITY = "run-20261119-0925-9cb029"
FIRST = "≠ changed: line 37 (id 37, kind ExternalIOFinished): payload.status expected 200, found 503"


async def settled(pilot: Pilot) -> WalPane:
    """Wait until the pane's diff and validations are done and merged."""
    pane = pilot.app.query_one(WalPane)
    for _ in range(1500):
        done = pane.state.pair is not None and (pane.state.pair.replay is None or pane.state.summary is not None)
        done = done and all(pane.state.validation.get(s) is not None for s, _ in pane.state.paths())
        if done and not pane.state.pending and not pane.state.searching:
            break
        await pilot.pause(0.02)
    await pilot.pause(0.3)
    return pane


async def open_pair(pilot: Pilot, run_id: str) -> WalPane:
    """Switch to pane 3, then press ] until ``run_id``'s pair is shown."""
    await wait_for_runs(pilot)
    await pilot.press("3")
    pane = await settled(pilot)
    for _ in range(len(pane.state.pairs)):
        if pane.state.pair is not None and pane.state.pair.run_id == run_id:
            break
        await pilot.press("right_square_bracket")
        pane = await settled(pilot)
    assert pane.state.pair is not None and pane.state.pair.run_id == run_id
    return pane


async def test_diverging_pair_opens_on_its_first_divergence(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, DIVERGES)
        text = screen_text(pilot)
        assert FIRST in text
        assert "400 ↔ 401 lines · 3 divergences: 2 changed, 1 extra" in text
        rows = app.query_one(WalPairList)
        assert rows.row_at(rows.cursor).record_line == 37
        line_37 = next(line for line in text.splitlines() if line.startswith("≠    37 37"))
        assert "ExternalIOFinished" in line_37
        assert "    32 32" in text  # the events leading up to it are on screen too
        assert app.focused is rows


async def test_e_and_E_walk_the_divergences(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, DIVERGES)
        await pilot.press("e")
        await pilot.pause(0.2)
        assert '≠ changed: line 233 (id 233, kind DecisionMade): payload.decision expected "approve", found "review"' in screen_text(pilot)
        await pilot.press("e")
        await pilot.pause(0.2)
        text = screen_text(pilot)
        assert "+ extra: replay line 401 (id 401, kind ActivityScheduled): extra in replay" in text
        assert "(not in record: extra)" in text
        await pilot.press("e")  # no further divergence: the cursor stays
        await pilot.pause(0.2)
        assert "+ extra: replay line 401" in screen_text(pilot)
        await pilot.press("E", "E")
        await pilot.pause(0.2)
        assert FIRST in screen_text(pilot)


async def test_enter_shows_the_event_pair_with_a_field_level_diff(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, DIVERGES)
        await pilot.press("enter")
        await pilot.pause(0.4)
        assert isinstance(app.screen, WalEventScreen)
        text = screen_text(pilot)
        assert "payload.status" in text and "200" in text and "503" in text
        assert '"status": 503' in text and '"status": 200' in text
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, WalEventScreen)


async def test_torn_tail_banner_problems_and_float_tolerance(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pair(pilot, TORN)
        text = screen_text(pilot)
        assert "✂ torn tail: replay.jsonl line 200 is cut short" in text
        assert "7 divergences: 6 changed, 1 torn" in text
        assert "200 torn-tail" in text
        await pilot.press("t")  # float tolerance 1e-9: only the torn tail is left
        pane = await settled(pilot)
        text = screen_text(pilot)
        assert "1 divergence: 1 torn" in text and "tolerance 1e-09" in text
        assert "✂ torn: line 200 (id 200, kind ActivityScheduled): replay line 200 is a torn tail" in text
        assert pane.state.summary is not None and pane.state.summary.replay_torn == 200


async def test_problem_list_jumps_to_the_line(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, BACKWARDS)
        text = screen_text(pilot)
        assert "122 id-backwards" in text and "+ extra: replay line 122 (id 119, kind TimerStarted)" in text
        await pilot.press("g")
        await pilot.press("v")
        await pilot.pause()
        assert isinstance(app.focused, WalProblemList) and app.focused.id == "wal-replay-problems"
        await pilot.press("enter")
        await pilot.pause(0.3)
        rows = app.query_one(WalPairList)
        assert app.focused is rows and rows.row_at(rows.cursor).replay_line == 122


async def test_filter_by_kind_and_clear(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, DIVERGES)
        await pilot.press("slash", *"ExternalIOFinished", "enter")
        await settled(pilot)
        rows = app.query_one(WalPairList)
        assert rows.row_count == 79
        kinds = {rows.record_cache.get(rows.row_at(i).record_line).kind for i in range(10)}
        assert kinds == {"ExternalIOFinished"}
        text = screen_text(pilot)
        assert "filter: 79 rows" in text and "▊ExternalIOFinished" in text.replace(" ", "")
        await pilot.press("e")
        await pilot.pause(0.2)
        assert FIRST in screen_text(pilot)  # id 37 is an ExternalIOFinished: it is in the filtered view
        await pilot.press("escape")
        await pilot.pause(0.2)
        assert rows.row_count == 401 and "filter:" not in screen_text(pilot)
        await pilot.press("slash", "!", *"activity", "enter")
        await settled(pilot)
        assert 0 < rows.row_count < 401


async def test_parity_pair_and_secrets_never_on_screen(make_app, demo_root) -> None:
    before = tree_fingerprint(demo_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, PARITY)
        text = screen_text(pilot)
        assert "300 ↔ 300 lines · parity ✓ 300 matched" in text
        assert "valid ✓ (300 events)" in text
        assert "sha256:" in text and "whsec_" not in text and "Bearer" not in text
        await pilot.press("enter")
        await pilot.pause(0.4)
        assert "identical under the parity rules" in screen_text(pilot)
        assert "whsec_" not in screen_text(pilot)
    assert tree_fingerprint(demo_root) == before


async def test_open_any_two_files(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pair(pilot, PARITY)
        await pilot.press("o")
        await pilot.pause()
        field = app.screen.query_one("#wal-open-replay")
        field.value = f"runs/{DIVERGES}/wal/replay.jsonl"
        await pilot.press("enter", "enter")
        pane = await settled(pilot)
        assert pane.state.pair.replay == f"runs/{DIVERGES}/wal/replay.jsonl"
        assert pane.state.summary is not None and pane.state.summary.divergences > 0


async def test_opening_a_missing_file_says_so_instead_of_diffing_for_ever(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pair(pilot, PARITY)
        await pilot.press("o")
        await pilot.pause()
        app.screen.query_one("#wal-open-replay").value = f"runs/{PARITY}/wal/no-such-replay.jsonl"
        await pilot.press("enter", "enter")
        for _ in range(200):
            await pilot.pause(0.02)
            if "no-such-replay.jsonl:" in screen_text(pilot):
                break
        text = screen_text(pilot)
        banner = next(line for line in text.splitlines() if "no-such-replay.jsonl:" in line)
        assert banner.strip().startswith("⚠ ") and f"runs/{PARITY}/wal/no-such-replay.jsonl" in banner
        status = next(line for line in text.splitlines() if "lines ·" in line)
        assert "⚠ not compared" in status and "diffing" not in status
        # The picker no longer names the pair that was shown before.
        assert PARITY not in text.splitlines()[3] and "WAL pair…" in text
