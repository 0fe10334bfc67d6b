"""Every character on screen, in every bundled theme, is readable: WCAG 4.5:1 against its own background.

Each scene drives the demo to a state a user reaches (cursor rows, the selected
divergence, word-level diff highlights, a drift row, the help and detail
screens); then every bundled theme is applied in turn and the composed screen
is read back cell by cell (``tests/tui/contrast.py``). A colour that does not
come from the theme, or a theme slot that does not contrast, fails here with
the row, both colours and the text it hides.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from tests.tui.contrast import failures
from tests.tui.test_checksums_pane import open_golden
from tests.tui.test_live_snapshot import known_events
from tests.tui.test_snapshots_pane import go_to, open_pane, wait_for_content
from tests.tui.test_wal_pane import DIVERGES, open_pair, settled
from themes import bundled_themes
from tui.panes.live import LivePane
from tui.screenshots import settle

THEMES = sorted(bundled_themes())


async def runs(pilot: Pilot) -> None:
    await settle(pilot)


async def runs_all_states(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("s", "j", "j")
    await settle(pilot)


async def run_detail(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("enter")
    await settle(pilot)


async def help_screen(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("question_mark")
    await pilot.pause(0.2)


async def live(pilot: Pilot) -> None:
    await settle(pilot)
    await pilot.press("2")
    pane = pilot.app.query_one(LivePane)
    await pilot.pause(0.3)
    pane.ingest(known_events())
    await pilot.pause(0.3)
    await pilot.press("space", "g", "j")
    await pilot.pause(0.3)


async def wal(pilot: Pilot) -> None:
    await open_pair(pilot, DIVERGES)
    await settled(pilot)


async def snapshots_words(pilot: Pilot) -> None:
    await open_pane(pilot)
    await go_to(pilot, "notes/known-issues.md")


async def snapshots_table(pilot: Pilot) -> None:
    await open_pane(pilot)
    await pilot.press("e")
    await wait_for_content(pilot, "rules/velocity.yaml", "structured")
    await pilot.press("e", "e")
    await wait_for_content(pilot, "telemetry/spans-score.jsonl", "structured")
    await pilot.press("d", "j", "j")
    await pilot.pause(0.1)


async def checksums(pilot: Pilot) -> None:
    await open_golden(pilot)
    await pilot.press("e")
    await pilot.pause(0.3)


SCENES: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "runs": runs,
    "runs-all-states": runs_all_states,
    "run-detail": run_detail,
    "help": help_screen,
    "live": live,
    "wal": wal,
    "snapshots-words": snapshots_words,
    "snapshots-table": snapshots_table,
    "checksums": checksums,
}


CASES = [(scene, (120, 36)) for scene in SCENES] + [
    (scene, (80, 24)) for scene in ("runs", "run-detail", "wal", "snapshots-words", "checksums")
]
"""Every scene at 120x36; the narrow layout for the scenes whose columns it changes."""


@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize(("scene", "size"), CASES, ids=[f"{scene}-{w}x{h}" for scene, (w, h) in CASES])
async def test_every_character_is_readable(scene: str, size: tuple[int, int], theme: str, make_app) -> None:
    # A fresh app per theme: content built before a theme switch keeps the old colours
    # until it is rebuilt, which is not what a user starting in that theme sees.
    app = make_app(theme=theme)
    async with app.run_test(size=size) as pilot:
        await SCENES[scene](pilot)
        problems = failures(app.export_screenshot())
    assert not problems, f"{scene} in {theme} at {size}: text below 4.5:1\n" + "\n".join(problems)


def test_the_check_sees_a_hard_coded_colour() -> None:
    """The reader finds low contrast it was not told about: grey text drawn on a light background."""
    from io import StringIO

    from rich.console import Console
    from rich.text import Text

    console = Console(width=20, file=StringIO(), record=True, color_system="truecolor")
    console.print(Text("hidden", style="#e0e0e0 on #f7f8fa"), Text("shown", style="#101010 on #f7f8fa"))
    found = failures(console.export_svg())
    assert len(found) == 1 and "hidden" in found[0]


async def test_switching_the_theme_redraws_the_run_detail_in_the_new_colours(make_app) -> None:
    """The palette's Theme commands switch a running app; texts built with theme colours follow."""
    app = make_app(theme="driftdeck-high-contrast")
    async with app.run_test(size=(120, 36)) as pilot:
        await run_detail(pilot)
        app.theme = "driftdeck-light"
        await settle(pilot, 0.3)
        problems = failures(app.export_screenshot())
    assert not problems, "\n".join(problems)
