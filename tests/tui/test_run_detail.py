"""Run detail: evidence that is never cut off, missing first, and the deck's keys inside it."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TabbedContent

from tests.tui.conftest import screen_text, wait_for_runs, wait_until
from tui.screens.help import HelpScreen
from tui.screens.run_detail import RunDetailScreen, record_line
from tui.widgets.evidence_list import EvidenceList, evidence_rows, missing_summary

EVIDENCE_MISSING = "c0e8e0"  # run-20261106-1910-c0e8e0 in the demo (seed 7)


async def open_run(pilot: Pilot, suffix: str) -> RunDetailScreen:
    await wait_for_runs(pilot)
    await pilot.press("slash", *suffix, "enter", "enter")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, RunDetailScreen) and pilot.app.screen.detail is not None,
                     "the run detail")
    await pilot.pause(0.2)
    screen = pilot.app.screen
    assert isinstance(screen, RunDetailScreen)
    return screen


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_missing_evidence_is_listed_first_and_counted_in_the_header(make_app, size: tuple[int, int]) -> None:
    app = make_app()
    async with app.run_test(size=size) as pilot:
        await open_run(pilot, EVIDENCE_MISSING)
        text = screen_text(pilot)
        assert "2 of 4 evidence missing" in text
        lines = [line for line in text.splitlines() if "✗ missing" in line or "✓ [" in line or "· [" in line]
        # Every evidence row is on screen, even at 80x24, the two missing ones first.
        assert len(lines) == 4, text
        assert all("✗ missing" in line for line in lines[:2]) and not any("✗ missing" in line for line in lines[2:])


async def test_e_walks_the_missing_evidence_and_the_full_reference_is_shown(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_run(pilot, EVIDENCE_MISSING)
        evidence = screen.query_one(EvidenceList)
        await pilot.press("e")
        await pilot.pause()
        assert app.focused is evidence and evidence.cursor == 1
        await pilot.press("e")
        await pilot.pause()
        assert evidence.cursor == 0  # wraps around the two missing ones
        await pilot.press("e")
        await pilot.pause()
        # The row is cut at 80 columns; the highlighted reference is shown whole below the list.
        path = "history/snapshots/candidate-2026-11-08/telemetry/spans-engine.jsonl"
        assert not any(path in line for line in screen_text(pilot).splitlines())
        shown = str(screen.query_one("#evidence-current", Static).render())
        assert shown == f"{path} — expected spans (missing)"


async def test_enter_on_a_record_line_shows_it_in_the_timeline(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, EVIDENCE_MISSING)
        await wait_until(pilot, lambda: "newest last" in screen_text(pilot) and "loading" not in screen_text(pilot), "the timeline")
        evidence = screen.query_one(EvidenceList)
        index = next(i for i, row in enumerate(evidence.rows) if "run_record.jsonl#L" in row.ref.ref)
        line = record_line(evidence.rows[index].ref.ref, screen.detail.record_path)
        assert line is not None
        await pilot.press("v")
        evidence.move_to(index)
        await pilot.press("enter")
        await pilot.pause()
        timeline = screen.query_one("#timeline")
        assert app.focused is timeline and timeline.current.line == line
        assert "CheckFailed" in screen_text(pilot)


async def test_j_k_g_scroll_the_preview_and_number_keys_switch_panes(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "dd6511")  # a long artifact preview
        await pilot.press("p")
        scroll = screen.query_one("#preview-scroll")
        await pilot.press("j", "j", "j")
        await pilot.pause()
        assert scroll.scroll_y == 3
        await pilot.press("G")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y > 3
        await pilot.press("g", "k")
        await pilot.pause()
        assert scroll.scroll_y == 0
        await pilot.press("3")
        await pilot.pause()
        assert not isinstance(app.screen, RunDetailScreen)
        assert app.query_one(TabbedContent).active == "wal"


async def test_help_over_the_detail_names_things_in_words(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_run(pilot, EVIDENCE_MISSING)
        await pilot.press("question_mark")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(pilot)
        assert "Run detail" in text and "Next missing" in text
        assert "RunDetailScreen" not in text and "KeyedOptionList" not in text


def test_evidence_rows_merge_repeated_references_and_put_missing_first() -> None:
    from backends.models import ArtifactInfo, EvidenceRef

    shared = EvidenceRef("runs/r/run_record.jsonl#L9", "file", "the check", True)
    first = ArtifactInfo("a.json", "runs/r/quarantine/a.json", 10,
                         evidence=(shared, EvidenceRef("https://ci/logs", "url"), EvidenceRef("gone.json", "receipt", None, False)))
    second = ArtifactInfo("b.json", "runs/r/quarantine/b.json", 10, evidence=(shared, EvidenceRef("lost.bin", "file", None, False)))
    rows = evidence_rows([first, second])
    assert [row.ref.ref for row in rows] == ["gone.json", "lost.bin", "runs/r/run_record.jsonl#L9", "https://ci/logs"]
    assert rows[2].artifacts == ("a.json", "b.json")
    assert missing_summary(rows) == "2 of 4 evidence missing"
    assert missing_summary([]) == "no evidence cited"
    assert missing_summary(rows[2:]) == "2 evidence, none missing"


async def test_help_scrolls_with_the_deck_keys_on_a_short_terminal(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("3", "question_mark")
        await pilot.pause()
        scroll = app.screen.query_one("VerticalScroll")
        assert scroll.max_scroll_y > 0  # the WAL pane's keys do not fit in 24 rows
        await pilot.press("G")
        await pilot.pause()
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("g", "j", "j")
        await pilot.pause()
        assert scroll.scroll_y == 2


async def wait_pane(pilot: Pilot, pane_id: str) -> None:
    await wait_until(pilot, lambda: not isinstance(pilot.app.screen, RunDetailScreen)
                     and pilot.app.query_one(TabbedContent).active == pane_id, f"pane {pane_id}")


async def test_f_follows_a_replay_divergence_to_its_first_divergence_and_escape_comes_back(make_app) -> None:
    from tui.panes.wal import WalPane
    from tui.widgets.wal_pair_list import WalPairList

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_run(pilot, "4eb721")  # REPLAY_DIVERGENCE with a WAL pair
        await pilot.press("f")
        await wait_pane(pilot, "wal")
        pane = app.query_one(WalPane)
        rows = app.query_one(WalPairList)
        await wait_until(pilot, lambda: pane.state.pair is not None and pane.state.pair.run_id == "run-20261101-1755-4eb721"
                         and rows.row_count and rows.row_at(rows.cursor).record_line == 37, "the first divergence")
        assert "payload.status expected 200, found 503" in screen_text(pilot)
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen), "the run again")
        assert app.screen.run.run_id == "run-20261101-1755-4eb721"
        await pilot.press("escape")
        await pilot.pause()
        assert app.query_one(TabbedContent).active == "runs"


async def test_enter_on_a_wal_line_and_f_on_drift_and_sealed_output_open_their_panes(make_app) -> None:
    from tui.panes.checksums import ChecksumsPane
    from tui.panes.snapshots import SnapshotsPane
    from tui.panes.wal import WalPane
    from tui.widgets.snapshot_tree import SnapshotTree

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await open_run(pilot, "4eb721")
        evidence = screen.query_one(EvidenceList)
        await pilot.press("v")
        evidence.move_to(next(i for i, r in enumerate(evidence.rows) if r.ref.ref.endswith("replay.jsonl#L233")))
        await pilot.press("enter")  # a replay line: the pair (record lines are what line: names)
        await wait_pane(pilot, "wal")
        await wait_until(pilot, lambda: app.query_one(WalPane).state.pair.run_id == "run-20261101-1755-4eb721", "the pair")

        await pilot.press("1")
        await pilot.pause()
        await pilot.press("escape")  # clears the filter of open_run
        await open_run(pilot, "f36bb7")  # CHECKSUM_DRIFT
        await pilot.press("f")
        await wait_pane(pilot, "checksums")
        await wait_until(pilot, lambda: app.query_one(ChecksumsPane).state.current == "fixtures/golden/SHA256SUMS", "the manifest")

        await pilot.press("1")
        await pilot.pause()
        await pilot.press("escape")
        await open_run(pilot, "7b2ea6")  # SEALED_OUTPUT_MUTATED
        await pilot.press("f")
        await wait_pane(pilot, "snapshots")
        pane = app.query_one(SnapshotsPane)
        tree = app.query_one(SnapshotTree)
        await wait_until(pilot, lambda: pane.state.pair == ("baseline-2026-11-01", "candidate-2026-11-08")
                         and tree.current is not None and tree.current.key == "blobs/feature-index.bin", "the sealed output")
        # selected first, painted on the next refresh (CI under load once read the screen in between)
        await wait_until(pilot, lambda: "blobs/feature-index.bin" in screen_text(pilot), "the sealed output on screen")


async def test_a_run_whose_evidence_no_pane_shows_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await open_run(pilot, "7adbe7")  # CLOCK_SKEW_DETECTED: its record and a URL only
        await pilot.press("f")
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunDetailScreen)
        assert any("no pane shows this" in n.message for n in app._notifications)
