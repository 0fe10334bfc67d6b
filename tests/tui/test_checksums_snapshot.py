"""SVG snapshot of the Checksums pane on the demo's golden manifest (120x36)."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.test_checksums_pane import open_golden


def test_checksums_golden_snapshot(snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await open_golden(pilot)
        await pilot.press("e")  # cursor on the first drift: the changed ledger
        await pilot.pause(0.3)

    assert snap_compare(make_app(), terminal_size=(120, 36), run_before=drive)
