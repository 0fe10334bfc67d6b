"""SVG snapshots of the Snapshots pane (4) on the deterministic demo workspace, 120x36."""

from __future__ import annotations

from textual.pilot import Pilot

from tests.tui.test_snapshots_pane import go_to, open_pane, wait_for_content

SIZE = (120, 36)


def test_snapshots_pane_unified(snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await open_pane(pilot)
        await go_to(pilot, "notes/known-issues.md")

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=drive)


def test_snapshots_pane_structured_table(snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await open_pane(pilot)
        await pilot.press("e")
        await wait_for_content(pilot, "rules/velocity.yaml", "structured")
        await pilot.press("e", "e")
        await wait_for_content(pilot, "telemetry/spans-score.jsonl", "structured")
        await pilot.press("d", "j", "j")
        await pilot.pause(0.1)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=drive)
