"""SVG snapshot of the WAL / replay pane on the demo's diverging pair, first divergence selected."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.test_wal_pane import DIVERGES, open_pair, settled


def test_wal_pane_snapshot(snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await open_pair(pilot, DIVERGES)
        await settled(pilot)

    assert snap_compare(make_app(), terminal_size=(120, 36), run_before=drive)
