"""Narrow terminals keep identifiers readable: what a user sees at 80x24 and 120x36."""

from __future__ import annotations

import re

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from backends.snapshots.models import SideRow
from tests.tui.conftest import screen_text
from tui.screenshots import settle
from tui.units import fit
from tui.widgets.snapshot_diff_view import SnapshotDiffView

RUN_ID = re.compile(r"run-\S*")


def test_fit_cuts_the_middle_and_keeps_both_ends() -> None:
    assert fit("run-20261115-1935-b309b4", 12, middle=True) == "run-20…309b4"
    assert fit("run-20261115-1935-b309b4", 12) == "run-2026111…"
    assert fit("short", 12, middle=True) == "short"
    assert fit("日本語のファイル名", 6, middle=True) == "日…名"  # never wider than asked; the cell pads
    assert fit("live/capture-00001/frame-000001.json", 20, middle=True).endswith("0001.json")
    assert fit("日本語のファイル名.json", 9, middle=True) == "日本…json"  # double-width characters count as two cells


def _visible_ids(text: str) -> list[str]:
    return [match.group(0) for line in text.splitlines()[3:] for match in [RUN_ID.search(line)] if match]


async def test_at_80x24_every_visible_run_id_is_distinct_and_shows_its_tail(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 0.2)
        ids = _visible_ids(screen_text(pilot))
        assert len(ids) >= 8
        assert len(set(ids)) == len(ids), ids
        # The side panel is collapsed, so the whole id fits: its hash part is on screen.
        assert all("…" not in i for i in ids), ids
        assert "run-20261115-1935-b309b4" in ids
        assert not app.query_one("#runs-side").display


async def test_side_panels_collapse_below_100_columns_and_backslash_toggles_them(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 0.2)
        side = app.query_one("#runs-side")
        assert "Reason codes" not in screen_text(pilot)
        await pilot.press("backslash")
        await pilot.pause(0.1)
        assert side.display and "Reason codes" in screen_text(pilot)
        await pilot.press("backslash")
        await pilot.pause(0.1)
        assert "Reason codes" not in screen_text(pilot)
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, 0.2)
        assert "Reason codes" in screen_text(pilot)
        await pilot.press("backslash")
        await pilot.pause(0.1)
        assert "Reason codes" not in screen_text(pilot)


async def test_at_120x36_a_filter_on_an_ids_tail_shows_the_match_in_the_row(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot, 0.2)
        await pilot.press("s")  # all states
        await settle(pilot, 0.2)
        await pilot.press("slash", *"b309b4", "enter")
        await settle(pilot, 0.2)
        rows = [line for line in screen_text(pilot).splitlines() if "run-20261115-1935" in line]
        assert rows and all("b309b4" in row for row in rows), rows


class DiffApp(App[None]):
    def compose(self) -> ComposeResult:
        yield SnapshotDiffView()


DIGEST_OLD = "9f" * 32
DIGEST_NEW = "a1" * 32


async def test_a_full_64_hex_digest_in_a_side_by_side_diff_is_reachable_with_l() -> None:
    app = DiffApp()
    async with app.run_test(size=(80, 24)) as pilot:
        view = app.query_one(SnapshotDiffView)
        text_old = f'  "sha256": "{DIGEST_OLD}",'
        text_new = f'  "sha256": "{DIGEST_NEW}",'
        view.set_rows([("side", SideRow("!", 3, text_old, ((13, 77),), 3, text_new, ((13, 77),)))])
        view.focus()
        await pilot.pause()

        def seen() -> str:
            return "".join(line.split("│")[0] for line in screen_text(pilot).splitlines()[:1])

        first = seen()
        assert DIGEST_OLD not in first  # cut at the pane's edge
        pieces = [first]
        for _ in range(6):
            await pilot.press("l")
            await pilot.pause()
            pieces.append(seen())
        assert view.shift > 0
        # Every hex digit of the digest was on screen at some offset, the end included.
        assert any(DIGEST_OLD[-20:] in piece for piece in pieces), pieces
        await pilot.press("h", "h", "h", "h", "h", "h", "h")
        await pilot.pause()
        assert view.shift == 0 and seen() == first


async def _run_detail(pilot: Pilot) -> str:
    await settle(pilot, 0.2)
    await pilot.press("enter")
    await settle(pilot, 0.3)
    return screen_text(pilot)


async def test_the_run_detail_preview_wraps_long_values(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        text = await _run_detail(pilot)
        # The quarantine record's detail sentence is longer than the preview is wide: it wraps, not cut.
        assert "produced a different" in text
        assert "…" not in "".join(line for line in text.splitlines() if '"detail"' in line)


async def test_a_wal_payload_cut_at_the_column_edge_is_reachable_with_l(make_app) -> None:
    from tests.tui.test_wal_pane import DIVERGES, open_pair, settled
    from tui.widgets.wal_pair_list import WalPairList

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_pair(pilot, DIVERGES)
        await settled(pilot)
        rows = app.query_one(WalPairList)
        rows.focus()
        summary = rows.record_cache[37].summary  # the first divergence, under the cursor
        assert len(summary) > rows.text_width  # cut on screen
        tail = summary[-8:]
        screens = [screen_text(pilot)]
        for _ in range(len(summary) // max(1, rows.text_width) + 2):
            await pilot.press("l")
            await pilot.pause()
            screens.append(screen_text(pilot))
        assert tail not in screens[0]
        assert any(tail in text for text in screens[1:]), tail
        for _ in range(len(screens)):
            await pilot.press("h")
        await pilot.pause()
        assert rows.shift == 0


async def test_at_80x24_live_paths_are_whole_and_the_stats_panel_waits_for_backslash(make_app) -> None:
    from tests.tui.test_live_snapshot import known_events
    from tui.panes.live import LivePane

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, 0.2)
        await pilot.press("2")
        await pilot.pause(0.3)
        app.query_one(LivePane).ingest(known_events())
        await pilot.press("space")  # paused: only the injected rows
        await pilot.pause(0.3)
        text = screen_text(pilot)
        assert "live/capture-00001/frame-000002.json" in text
        # Too long for the row: cut in the middle, so the move's destination name still shows.
        move = next(line for line in text.splitlines() if " moved " in line)
        assert "live/capture-00001/fr" in move and "…" in move and move.rstrip().endswith("000001.done.json"), move
        assert "Events by type" not in text
        await pilot.press("backslash")
        await pilot.pause(0.2)
        assert "Events by type" in screen_text(pilot)
