"""SVG snapshots of each pane in every bundled theme, at 120x36 and at the narrow 80x24.

The scenes are the contrast test's (``test_theme_contrast.py``): the same states,
pictured, so a change in look is reviewed as an image and its readability is
measured by that test.
"""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from tests.tui.test_theme_contrast import SCENES, THEMES

PICTURED = ("runs", "run-detail", "wal", "snapshots-words", "checksums")
SIZES = [(120, 36), (80, 24)]


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("scene", PICTURED)
def test_theme_snapshot(scene: str, theme: str, size: tuple[int, int], snap_compare, make_app) -> None:
    async def drive(pilot: Pilot) -> None:
        await SCENES[scene](pilot)

    assert snap_compare(make_app(theme=theme), terminal_size=size, run_before=drive)
