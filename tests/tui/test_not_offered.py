"""Panes over a plugin source that offers only runs: "not offered by this source", never an error.

The source is a real ``BaseSource`` plugin (tests/tui/catalog_source.py) reading
runs from a catalog file; its capabilities are derived from what it overrides.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import TabbedContent

from backends.base import BaseSource
from backends.models import SourceInfo
from tests.tui.catalog_source import CatalogSource, RefusingWatchSource, write_catalog
from tests.tui.contrast import failures
from tests.tui.conftest import screen_text, wait_for_runs, wait_until
from themes import bundled_themes
from tui.app import DriftdeckApp
from tui.goto import parse_goto
from tui.panes.runs import RunsPane
from tui.screens.run_detail import RunDetailScreen
from tui.state.offered import PANE_NEEDS, Offered
from tui.widgets.not_offered import NotOffered

SIZE = (120, 36)

RUNS = [
    {"run_id": "run-0001", "state": "READY", "updated_at": "2026-11-01T10:00:00Z", "sort_ts": 1},
    {"run_id": "run-0002", "state": "QUARANTINED", "reason_code": "REPLAY_DIVERGENCE", "updated_at": "2026-11-01T11:00:00Z",
     "sort_ts": 2, "evidence": ["runs/run-0002/wal/record.jsonl#L37", "runs/run-0002/wal/replay.jsonl#L37"]},
    {"run_id": "run-0003", "state": "QUARANTINED", "reason_code": "CHECKSUM_DRIFT", "updated_at": "2026-11-01T12:00:00Z",
     "sort_ts": 3, "evidence": ["fixtures/golden/SHA256SUMS#L2"]},
]

PLACEHOLDERS = {
    "2": ("live", "Live events are not offered by this source (catalog: catalog://"),
    "3": ("wal", "WAL record/replay comparisons are not offered by this source (catalog: catalog://"),
    "4": ("snapshots", "Snapshot comparisons are not offered by this source (catalog: catalog://"),
    "5": ("checksums", "Checksum verifications are not offered by this source (catalog: catalog://"),
}


@pytest.fixture
def catalog(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "runs.jsonl", RUNS)


def catalog_app(catalog: Path, source: type[CatalogSource] = CatalogSource, **kwargs: Any) -> tuple[DriftdeckApp, list[str]]:
    """The app over the catalog plugin, and the notifications it shows (title: message)."""
    app = DriftdeckApp(source(f"catalog://{catalog}"), source_label="runs catalog", cursor_blink=False, **kwargs)
    notes: list[str] = []
    notify = app.notify

    def keep(message: str, *args: Any, **kw: Any) -> None:
        notes.append(f"{kw.get('title') or ''}: {message}")
        notify(message, *args, **kw)

    app.notify = keep  # type: ignore[method-assign]
    return app, notes


def flat_text(pilot: Pilot) -> str:
    """The screen's text with line breaks and runs of blanks as single spaces (long lines wrap)."""
    return " ".join(screen_text(pilot).split())


def footer_keys(app: DriftdeckApp) -> set[str]:
    """Descriptions of the bindings the footer shows now."""
    return {binding.description for _, binding, enabled, _ in app.active_bindings.values() if binding.show and enabled}


async def test_each_pane_says_what_the_source_does_not_offer(catalog: Path) -> None:
    app, notes = catalog_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        text = screen_text(pilot)
        assert "run-0002" in text and "run-0003" in text and "REPLAY_DIVERGENCE" in text
        assert "Filter" in footer_keys(app) and "Next quarantined" in footer_keys(app)
        for key, (pane_id, words) in PLACEHOLDERS.items():
            await pilot.press(key)
            await wait_until(pilot, lambda words=words: words in flat_text(pilot), f"pane {key}'s placeholder")
            assert app.query_one(TabbedContent).active == pane_id
            text = flat_text(pilot)
            assert "this source offers: runs." in text and "What it does offer is in: 1 Runs & Quarantine." in text
            assert isinstance(app.focused, NotOffered)
            # The pane's own keys are hidden and do nothing: only the app's keys remain in the footer.
            assert footer_keys(app) == {"Help", "Quit", "Copy", "Go to"}, key
            await pilot.press("e", "n", "slash", "r", "space", "x", "R")
            await pilot.pause(0.1)
            assert app.query_one(TabbedContent).active == pane_id and isinstance(app.focused, NotOffered)
        await pilot.press("1")
        await pilot.pause()
        assert "run-0002" in screen_text(pilot)
    assert not [n for n in notes if "Error" in n or "error" in n], notes


class DescribeOnly(BaseSource):
    """A plugin that offers nothing but describing itself: no runs."""

    kind = "bare"


async def test_a_source_without_runs_shows_pane_1s_placeholder_and_no_error(catalog: Path) -> None:
    # Pane 1 asks for runs beside describe(), not after it: the source's refusal must not show as an error.
    app, notes = catalog_app(catalog, DescribeOnly)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(RunsPane)
        await wait_until(pilot, lambda: pane.not_offered_text is not None and not pane.state.scanning, "pane 1's placeholder")
        await pilot.pause()
        assert "Pane 1 needs the capability 'runs'; this source offers: nothing beyond describing itself." in flat_text(pilot)
        assert not pane.state.runs and not pane.state.pending
        assert notes == [], notes


async def test_a_go_to_into_a_pane_not_offered_says_so_and_stays(catalog: Path) -> None:
    app, notes = catalog_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("colon", *"wal run-0002", "enter")
        await wait_until(pilot, lambda: any("wal:run-0002" in n for n in notes), "the go-to's notice")
        assert app.query_one(TabbedContent).active == "runs"
        assert ("Go to: wal:run-0002: pane 3, WAL / replay: WAL record/replay comparisons are not offered by this "
                f"source (catalog: catalog://{catalog})") in notes
        await pilot.press("colon", *"run run-0003", "enter")
        await wait_until(pilot, lambda: any("went to run run-0003" in n for n in notes), "the run go-to")


async def test_goto_on_the_command_line_to_a_pane_not_offered(catalog: Path) -> None:
    app, notes = catalog_app(catalog, goto=[parse_goto("manifest:fixtures/golden/SHA256SUMS")])
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: any("manifest:" in n for n in notes), "the go-to's notice")
        assert any("pane 5, Checksums: Checksum verifications are not offered by this source" in n for n in notes), notes


async def test_following_evidence_into_a_pane_not_offered_stays_on_the_run(catalog: Path) -> None:
    app, notes = catalog_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("colon", *"run run-0002", "enter")
        await wait_until(pilot, lambda: any("went to run run-0002" in n for n in notes), "the run go-to")
        await pilot.press("enter")
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen) and app.screen.detail is not None, "the run detail")
        await wait_until(pilot, lambda: '"reason_code": "REPLAY_DIVERGENCE"' in screen_text(pilot), "the artifact preview")
        await pilot.press("f")
        await wait_until(pilot, lambda: any("REPLAY_DIVERGENCE →" in n for n in notes), "the follow notice")
        assert ("Not offered: REPLAY_DIVERGENCE → pane 3, WAL / replay: WAL record/replay comparisons are not offered "
                f"by this source (catalog: catalog://{catalog})") in notes
        assert isinstance(app.screen, RunDetailScreen) and app.pivot_origin is None


async def test_an_operation_refused_at_run_time_is_said_in_the_pane(catalog: Path) -> None:
    app, notes = catalog_app(catalog, RefusingWatchSource)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("2")
        banner = f"⊘ not offered: catalog://{catalog}: watch is not offered by this source (change notifications are off)"
        await wait_until(pilot, lambda: banner in flat_text(pilot), "the pane's banner")
        assert "watching runs catalog" in screen_text(pilot)  # the pane itself is there: the source listed watch
        assert not [n for n in notes if "watch" in n], notes  # said in place, not as an error toast
        await pilot.press("1")
        await pilot.pause()
        assert "run-0002" in screen_text(pilot)


def test_not_offered_snapshot(snap_compare, catalog: Path) -> None:
    async def drive(pilot: Pilot) -> None:
        await wait_for_runs(pilot)
        await pilot.press("2")
        await wait_until(pilot, lambda: "Live events are not offered" in flat_text(pilot), "the placeholder")
        await pilot.pause(0.2)

    # A fixed spec: the snapshot must not depend on the test's temporary directory.
    app = DriftdeckApp(CatalogSource("catalog://ops/runs.jsonl", catalog), source_label="runs catalog", cursor_blink=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=drive)


async def test_opening_a_file_of_a_source_that_does_not_read_files_says_so(catalog: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EDITOR", "true")
    app, notes = catalog_app(catalog)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("O")
        await wait_until(pilot, lambda: any("cannot open" in n for n in notes), "the open notice")
        assert (f"Not offered: cannot open runs/run-0003/run_status.json: File listings and reads are not offered by this "
                f"source (catalog: catalog://{catalog})") in notes, notes


def test_the_offer_model_names_what_each_pane_lacks() -> None:
    def offered(*caps: str) -> Offered:
        return Offered(SourceInfo("x://y", "plugin", "x://y", True, frozenset(caps)))

    everything = offered("runs", "files", "inventory", "checksums", "wal", "snapshots", "watch")
    assert all(everything.pane_not_offered(pane) is None for pane in PANE_NEEDS)
    wal_only = offered("wal")
    assert wal_only.pane_not_offered("wal") is None  # two files named by path still compare without the pair list
    assert wal_only.not_offered("inventory") == "Listings of manifests, snapshots and WAL pairs are not offered by this source (plugin: x://y)"
    assert offered("snapshots").pane_not_offered("snapshots") == wal_only.not_offered("inventory")
    text = offered().placeholder("runs", "1", [])
    assert text is not None and text.splitlines() == [
        "Runs and quarantine records are not offered by this source (plugin: x://y).", "",
        "Pane 1 needs the capability 'runs'; this source offers: nothing beyond describing itself.",
    ]


@pytest.mark.parametrize("theme", sorted(bundled_themes()))
@pytest.mark.parametrize("source", [CatalogSource, RefusingWatchSource], ids=["placeholder", "refused-line"])
async def test_what_is_not_offered_is_readable_in_every_theme(theme: str, source: type[CatalogSource], catalog: Path) -> None:
    app, _ = catalog_app(catalog, source, theme=theme)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("2")
        await wait_until(pilot, lambda: "not offered" in flat_text(pilot), "what is not offered")
        await pilot.pause(0.2)
        problems = failures(app.export_screenshot())
    assert not problems, f"{theme}: text below 4.5:1\n" + "\n".join(problems)
