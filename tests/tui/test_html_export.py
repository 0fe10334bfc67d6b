"""HTML reports exported from the panes (``x``, a name ending in .html): the same report the CLI writes."""

from __future__ import annotations

from pathlib import Path

from tests.tui.test_checksums_pane import SIZE as CK_SIZE
from tests.tui.test_checksums_pane import open_golden
from tests.tui.test_snapshots_pane import SIZE as SNAP_SIZE
from tests.tui.test_snapshots_pane import open_pane


async def wait_for(pilot, path: Path) -> str:
    for _ in range(500):
        await pilot.pause(0.01)
        if path.exists():
            break
    return path.read_text()


async def test_checksums_pane_exports_html(make_app, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=CK_SIZE) as pilot:
        await open_golden(pilot)
        report = tmp_path / "ck.html"
        await pilot.press("x")
        app.query_one("#ck-export").value = str(report)
        await pilot.press("enter")
        page = await wait_for(pilot, report)
        assert page.startswith("<!DOCTYPE html>") and 'id="verdict">DRIFT</span>' in page
        assert "fixtures/golden/data/ledger.csv" in page and "changed: expected sha256" in page
        assert page.count('<tr class="case ') == 18  # every entry of the manifest, ok ones included
        assert any("(HTML)" in n.message for n in app._notifications)
        assert [p.name for p in tmp_path.iterdir()] == ["ck.html"]


async def test_snapshots_pane_exports_html_with_word_marks(make_app, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SNAP_SIZE) as pilot:
        await open_pane(pilot)
        report = tmp_path / "snap.html"
        await pilot.press("x", "ctrl+u", *str(report), "enter")
        page = await wait_for(pilot, report)
        assert 'id="verdict">DIFFERENT</span>' in page
        assert "rule.thresholds.max_amount_eur = <del>2500</del>.0" in page and "rule.thresholds.max_amount_eur = <ins>1800</ins>.0" in page
        assert [p.name for p in tmp_path.iterdir()] == ["snap.html"]
