"""SVG snapshots of the shell at 120x36, cursor blink off, on the deterministic demo.

Panes 2-5 have their own snapshot tests (``test_<pane>_snapshot.py``) that wait
for exactly the state they picture; this file covers pane 1, the run detail,
the help screen and the themes.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tui.screenshots import SHOTS, SIZE, settle


SHELL_SHOTS = [(stem, keys) for stem, keys in SHOTS if stem.startswith("1-")]


@pytest.mark.parametrize(("stem", "keys"), SHELL_SHOTS, ids=[stem for stem, _ in SHELL_SHOTS])
def test_pane_snapshot(stem: str, keys: tuple[str, ...], snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await settle(pilot)
        if keys:
            await pilot.press(*keys)
            await settle(pilot)

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=drive)


def test_light_theme_snapshot(snap_compare, make_app) -> None:
    assert snap_compare(make_app(theme="driftdeck-light"), terminal_size=SIZE, run_before=settle)


def test_high_contrast_detail_snapshot(snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await settle(pilot)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make_app(theme="driftdeck-high-contrast"), terminal_size=SIZE, run_before=drive)
