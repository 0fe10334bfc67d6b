"""A virtual list scrolls where it is asked to however its rows arrived (no key, no resize in between)."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tests.tui.conftest import screen_text
from tui.widgets.virtual_list import VirtualList


class Numbers(App[None]):
    CSS = "VirtualList { height: 10; }"

    def compose(self) -> ComposeResult:
        yield VirtualList()


async def test_a_scroll_asked_before_the_rows_can_scroll_happens_once_they_can() -> None:
    """Rows set on an empty, laid-out list show no scrollbar until a later layout, and Textual drops a
    scroll meanwhile: a WAL pair's first divergence (put near the top this way) stayed off screen."""
    app = Numbers()
    async with app.run_test(size=(40, 12)) as pilot:
        rows = app.query_one(VirtualList)
        await pilot.pause()
        rows.set_rows([f"row {n}" for n in range(400)])
        assert not rows.allow_vertical_scroll  # the state the moves below arrive in
        rows.move_to(55)  # the divergence, shown with five rows above it, as the WAL pane does
        rows.scroll_to_top(50)
        rows.scroll_to_row(55)  # a later "keep the cursor in view" (a resize, more rows) before the list can scroll
        await pilot.pause()
        assert rows.scroll_offset.y == 50 and screen_text(pilot).splitlines()[0].strip() == "row 50"
        rows.move_to(300)  # later moves follow the cursor, as a key's would
        await pilot.pause()
        assert rows.scroll_offset.y == 291 and "row 300" in screen_text(pilot)
