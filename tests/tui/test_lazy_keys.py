"""Keys and go-tos into panes not yet composed: sent at once, they act on the new pane's content, in order."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input

from tests.tui.conftest import wait_for_runs, wait_until
from tests.tui.test_operator_keys import SIZE, active, deck
from tui.goto import parse_goto
from tui.panes.base import DeckPane
from tui.panes.checksums import ChecksumsPane
from tui.panes.live import LivePane
from tui.panes.snapshots import SnapshotsPane
from tui.panes.wal import WalPane
from tui.widgets.snapshot_tree import SnapshotTree
from tui.widgets.wal_pair_list import WalPairList


def widgets(pane: DeckPane) -> int:
    """How many widgets the pane holds."""
    return len(pane.query("*"))


def wal_run(root: Path) -> str:
    return sorted(p.parent.parent.name for p in root.glob("runs/*/wal/record.jsonl"))[0]


@pytest.mark.parametrize(("number", "pane_class", "filter_id"),
                         [("3", WalPane, "wal-filter"), ("4", SnapshotsPane, "snap-filter"), ("5", ChecksumsPane, "ck-filter")])
async def test_a_key_sent_right_after_the_panes_number_acts_on_its_content(
    demo_root: Path, number: str, pane_class: type[DeckPane], filter_id: str
) -> None:
    app, _ = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        # Both keys queued before the app handles either, as from a fast typist or a paste.
        app.post_message(events.Key(number, number))
        app.post_message(events.Key("slash", "/"))
        await wait_until(pilot, lambda: app.query_one(pane_class).content_ready and app.focused is not None
                         and app.focused.id == filter_id, "the pane's own filter line")
        assert app.query_one(f"#{filter_id}", Input).display
        assert not app.query_one("#runs-filter", Input).display  # the key was not handled by the pane left behind
        assert active(app) == pane_class.PANE_ID


async def test_goto_on_the_command_line_crosses_into_panes_not_shown_in_order(demo_root: Path) -> None:
    run = wal_run(demo_root)
    targets = [parse_goto(f"run:{run}"), parse_goto(f"wal:{run}"), parse_goto("line:5"),
               parse_goto("snap:baseline-2026-11-01..candidate-2026-11-15")]
    app, notes = deck(demo_root, goto=targets)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: sum(n.startswith("went to") for n in notes) == 4, "four go-tos", tries=2400)
        wal = app.query_one(WalPane)
        rows = app.query_one(WalPairList)
        assert wal.state.pair is not None and wal.state.pair.run_id == run
        assert rows.row_at(rows.cursor).record_line == 5
        assert active(app) == "snapshots"
        assert notes[-1] == "went to snapshots baseline-2026-11-01 → candidate-2026-11-15"
        assert widgets(app.query_one(LivePane)) == 0 and widgets(app.query_one(ChecksumsPane)) == 0


async def test_a_snapshot_path_goto_lands_in_the_snapshots_pane_never_shown(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("colon", *"snap baseline-2026-11-01..candidate-2026-11-15", "enter")
        await wait_until(pilot, lambda: bool(notes) and notes[-1].startswith("went to snapshots"), "the snapshot go-to")
        pane = app.query_one(SnapshotsPane)
        await wait_until(pilot, lambda: pane.state.summary is not None, "the comparison")
        entry = next(e for e in pane.state.entries if e.category != "unchanged")
        await pilot.press("colon", *f"path {entry.path}", "enter")
        await wait_until(pilot, lambda: notes[-1].startswith("went to") and entry.path in notes[-1], "the path go-to")
        assert app.query_one(SnapshotTree).current.entry == entry
