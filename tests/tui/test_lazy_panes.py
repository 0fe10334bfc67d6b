"""Panes not shown first are composed when first shown: the first screen holds only what it shows."""

from __future__ import annotations

from pathlib import Path

from textual.widgets import Input, TabbedContent

from tests.tui.conftest import wait_for_runs, wait_until
from tui.app import DriftdeckApp
from tui.panes.base import DeckPane
from tui.panes.checksums import ChecksumsPane
from tui.panes.wal import WalPane
from tui.widgets.checksum_table import ChecksumTable
from tui.widgets.wal_pair_list import WalPairList

SIZE = (120, 36)


def composed(app: DriftdeckApp) -> dict[str, int]:
    """Widgets under each pane, by pane id."""
    return {pane.PANE_ID: len(list(pane.query("*"))) for pane in app.query(DeckPane)}


async def test_only_the_pane_shown_first_is_composed_and_the_others_when_first_shown(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        counts = composed(app)
        assert counts["runs"] > 5
        assert counts["live"] == counts["wal"] == counts["snapshots"] == counts["checksums"] == 0
        await pilot.press("3")
        pane = app.query_one(WalPane)
        await wait_until(pilot, lambda: pane.content_ready, "pane 3's content")
        assert composed(app)["wal"] > 5 and composed(app)["checksums"] == 0
        await pilot.pause()
        assert app.focused is app.query_one(WalPairList)  # focus lands once the content is in
        await pilot.press("1", "3")  # shown again: composed once, not again
        assert len(app.query(WalPairList)) == 1


async def test_a_key_typed_right_after_switching_acts_on_the_new_pane(make_app) -> None:  # type: ignore[no-untyped-def]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("5", "slash")  # in one go: the filter key reaches the pane being composed
        field = app.query_one("#ck-filter", Input)
        await wait_until(pilot, lambda: app.focused is field, "the checksum filter")
        assert field.display and field.cursor_blink is False  # the app's no-blink setting reaches late inputs


async def test_a_goto_into_a_pane_never_shown_waits_for_its_content(demo_root: Path) -> None:
    notes: list[str] = []
    app = make_deck(demo_root, notes)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        assert not app.query_one(ChecksumsPane).built
        # typed in a row, from pane 1: the second waits for the first, which waits for pane 5's content
        await pilot.press("colon", *"manifest golden/SHA256SUMS", "enter", "colon", *"path fixtures/golden/data/c.json", "enter")
        await wait_until(pilot, lambda: sum(n.startswith("went to") for n in notes) == 2 or any("went" not in n for n in notes), "both go-tos")
        assert app.query_one(TabbedContent).active == "checksums"
        assert app.query_one(ChecksumTable).current.path == "fixtures/golden/data/c.json"
        assert notes[-1].startswith("went to fixtures/golden/data/c.json in fixtures/golden/SHA256SUMS")


def make_deck(root: Path, notes: list[str]) -> DriftdeckApp:
    """The deck on ``root``, keeping its notifications in ``notes``."""
    from backends.local import LocalSource

    app = DriftdeckApp(LocalSource(str(root)), source_label="demo-workspace", cursor_blink=False)
    notify = app.notify

    def keep(message: str, *args: object, **kw: object) -> None:
        notes.append(message)
        notify(message, *args, **kw)  # type: ignore[arg-type]

    app.notify = keep  # type: ignore[method-assign]
    return app
