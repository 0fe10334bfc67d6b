"""The Snapshots pane (4), driven by keys on the demo workspace."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.local import LocalSource
from tests.conftest import tree_fingerprint
from tests.tui.conftest import screen_text, wait_for_runs
from tui.panes.snapshots import SnapshotsPane
from tui.widgets.snapshot_diff_view import SnapshotDiffView
from tui.widgets.snapshot_tree import SnapshotTree

SIZE = (120, 36)


async def open_pane(pilot: Pilot) -> SnapshotsPane:
    await wait_for_runs(pilot)
    await pilot.press("4")
    pane = pilot.app.query_one(SnapshotsPane)
    await wait_for_diff(pilot)
    return pane


async def wait_for_diff(pilot: Pilot) -> None:
    pane = pilot.app.query_one(SnapshotsPane)
    for _ in range(1000):
        await pilot.pause(0.01)
        if not pane.state.comparing and pane.state.summary is not None and not pane.state.pending:
            break
    await pilot.pause()


async def wait_for_content(pilot: Pilot, path: str, mode: str | None = None) -> str:
    """Wait until the right side shows ``path``'s diff (in ``mode``); return the screen text."""
    pane = pilot.app.query_one(SnapshotsPane)
    view = pilot.app.query_one(SnapshotDiffView)
    for _ in range(1000):
        await pilot.pause(0.01)
        content = pane.state.content
        loading = view.rows and view.rows[0] == ("note", "loading…")
        if content is not None and content.path == path and not loading and mode in (None, content.mode):
            break
    await pilot.pause(0.05)
    return screen_text(pilot)


async def go_to(pilot: Pilot, path: str) -> str:
    tree = pilot.app.query_one(SnapshotTree)
    index = next(i for i, row in enumerate(tree.rows) if row.kind == "entry" and row.key == path)
    tree.move_to(index)
    return await wait_for_content(pilot, path)


async def test_compares_the_two_newest_and_opens_on_the_first_difference(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        text = await wait_for_content(pilot, "rules/card-testing.yaml")
        assert "candidate-2026-11-08" in text and "candidate-2026-11-15" in text
        assert "7 differences · 31 unchanged (hidden) · rules on" in text
        assert "7 differences in 4 groups" in text
        assert "▾ rule drift" in text and "▾ validator" in text and "▾ telemetry" in text and "▾ other" in text
        assert "- card-testing.yaml" in text and "~ velocity.yaml" in text and "+ model-shard-04.bin" in text
        assert "rules/card-testing.yaml  removed · rule drift" in text
        assert "@@ -1,16 +0,0 @@" in text and "-   name: card-testing" in text
        assert "glossary.md" not in text  # unchanged are hidden
        await pilot.press("u")
        await pilot.pause()
        assert "· account-age.yaml" in screen_text(pilot)
        assert "31 unchanged · rules on" in screen_text(pilot)


async def test_next_and_previous_difference_with_structured_tables(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        tree = app.query_one(SnapshotTree)
        await pilot.press("e")
        text = await wait_for_content(pilot, "rules/velocity.yaml")
        assert tree.current.key == "rules/velocity.yaml"
        assert "PATH" in text and "OLD" in text and "NEW" in text
        assert "~ rule.thresholds.max_amount_eur" in text and "2500.0" in text and "1800.0" in text
        await pilot.press("e", "e")
        text = await wait_for_content(pilot, "telemetry/spans-score.jsonl")
        assert "1 of 120 records differ (records paired by key)" in text
        assert "+ span_id=" in text and "attrs.retries" in text
        await pilot.press("d", "j", "j")  # onto the value row: its surroundings show below
        await pilot.pause(0.1)
        text = screen_text(pilot)
        assert "@ line 78" in text and 'in {"partition":' in text
        await pilot.press("escape", "E")
        await wait_for_content(pilot, "validator/report.json")
        assert tree.current.key == "validator/report.json"


async def test_side_by_side_and_binary(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        text = await go_to(pilot, "notes/known-issues.md")
        assert "+ - KI-008: scorer 4.12.1 shipped without pin" in text
        await pilot.press("v")
        text = await wait_for_content(pilot, "notes/known-issues.md", "side")
        assert "│   10 - KI-008: scorer 4.12.1" in text
        await pilot.press("v")
        await pilot.press("b", "enter", "up", "enter")  # baseline: one snapshot older
        await wait_for_diff(pilot)
        text = screen_text(pilot)
        assert "baseline-2026-11-01" in text and "19 differences · 22 unchanged" in text
        text = await go_to(pilot, "blobs/feature-index.bin")
        assert "binary changed · other" in text
        assert "sha256 f33183e95dcc997dafe81ee0a45b8879218ed7f76432cadeec9848dae8254fa5" in text
        assert "first difference at byte 4,096" in text
        text = await go_to(pilot, "notes/ops/runbook.md")
        assert "notes/runbook.md → notes/ops/runbook.md  renamed" in text and "identical" in text


@pytest.fixture
def ruled_workspace(demo_root: Path, tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    shutil.copytree(demo_root / "history", root / "history")
    (root / "driftdeck.yaml").write_text("snapshots:\n  ignore_lines: ['^\\S+Z ']\n  ignore_whitespace: true\n")
    return root


async def test_rules_mark_entries_same_and_the_toggle_shows_what_they_hide(make_app, ruled_workspace: Path) -> None:
    app = make_app(ruled_workspace)
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await pilot.press("b", "enter", "up", "enter")
        await wait_for_diff(pilot)
        text = screen_text(pilot)
        assert "16 differences · 3 same after rules" in text
        assert "≈ timeline.log same after rules" in text
        text = await go_to(pilot, "notes/timeline.log")
        assert "changed, same after rules" in text
        assert "same after rules: ignore lines /^\\S+Z /; ignore whitespace" in text
        assert "≈ 2026-11-08T02:01:02.266Z INFO ingest started partition=0" in text
        await pilot.press("a")
        await wait_for_diff(pilot)
        text = screen_text(pilot)
        assert "19 differences · 22 unchanged (hidden) · rules OFF" in text
        assert "~ timeline.log" in text and "[line-endings-only]" in text


async def test_filter_and_export(make_app, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_pane(pilot)
        await pilot.press("slash", *"notes", "enter")
        await pilot.pause()
        keys = [row.key for row in app.query_one(SnapshotTree).rows if row.kind == "entry"]
        assert keys == ["notes/known-issues.md", "notes/postmortem-2026-11-13.md"]
        assert "filter 'notes'" in screen_text(pilot)
        await pilot.press("escape", "slash", "!", *"notes", "enter")
        await pilot.pause()
        keys = [row.key for row in app.query_one(SnapshotTree).rows if row.kind == "entry"]
        assert len(keys) == 5 and not any(k.startswith("notes/") for k in keys)
        await pilot.press("escape")
        report = tmp_path / "reports" / "diff.md"
        report.parent.mkdir()
        await pilot.press("x", "ctrl+u", *str(report), "enter")
        for _ in range(500):
            await pilot.pause(0.01)
            if report.exists():
                break
        await pilot.pause(0.1)
        text = report.read_text()
        assert "# Snapshot diff: `history/snapshots/candidate-2026-11-08` → `history/snapshots/candidate-2026-11-15`" in text
        assert "| `rule.thresholds.max_amount_eur` | `2500.0` | `1800.0` |" in text
        assert [p.name for p in report.parent.iterdir()] == ["diff.md"]
        assert any("report written to" in n.message for n in app._notifications)
        assert pane.is_mounted


async def test_export_to_a_missing_directory_is_a_notification(make_app, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await pilot.press("x", "ctrl+u", *str(tmp_path / "nope" / "r.md"), "enter")
        for _ in range(300):
            await pilot.pause(0.01)
            if any("cannot write the report" in n.message for n in app._notifications):
                break
        assert any("cannot write the report" in n.message for n in app._notifications)
        assert app.is_running


async def test_fewer_than_two_snapshots_and_bad_config(make_app, demo_root: Path, tmp_path: Path) -> None:
    root = tmp_path / "one"
    shutil.copytree(demo_root / "history" / "snapshots" / "baseline-2026-11-01",
                    root / "history" / "snapshots" / "only-one")
    (root / "driftdeck.yaml").write_text("snapshots:\n  tolerance: lots\n")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("4")
        await pilot.pause(0.5)
        text = screen_text(pilot)
        assert "needs two snapshots to compare; found only only-one" in text
        messages = [n.message for n in app._notifications]
        assert any("driftdeck.yaml:2: snapshots.tolerance must be a number >= 0" in m for m in messages)


async def test_browsing_snapshots_writes_nothing(demo_root: Path, make_app) -> None:
    before = tree_fingerprint(demo_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        for key in ("e", "e", "v", "E", "a"):
            await pilot.press(key)
            await pilot.pause(0.2)
        await wait_for_diff(pilot)
    assert tree_fingerprint(demo_root) == before


async def test_help_lists_the_snapshot_keys(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await pilot.press("question_mark")
        await pilot.pause()
        text = screen_text(pilot)
        for description in ("Next difference", "Prev difference", "Unified/side", "Apply rules", "Export"):
            assert description in text, description


async def test_the_diff_follows_the_cursor_without_another_key(make_app) -> None:
    """`e` moves to the next entry; its diff appears with no further key press (it used to wait for one)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_pane(pilot)
        await wait_for_content(pilot, "rules/card-testing.yaml")
        await pilot.press("e")
        tree = pilot.app.query_one(SnapshotTree)
        assert tree.current.key == "rules/velocity.yaml"
        pane = pilot.app.query_one(SnapshotsPane)
        for _ in range(200):  # a plain sleep: no key, no message from the test, only the app's timers and workers
            await asyncio.sleep(0.01)
            if pane.state.content is not None and pane.state.content.path == "rules/velocity.yaml":
                break
        await asyncio.sleep(0.05)
        text = screen_text(pilot)
        assert "rules/velocity.yaml  changed · rule drift" in text
        assert "rule.thresholds.max_amount_eur" in text



class HeldAtTheEnd(LocalSource):
    """The demo workspace, whose comparisons each hold their end until ``release`` is set (a slow disk)."""

    def __init__(self, root: str) -> None:
        super().__init__(root)
        self.release = asyncio.Event()

    async def diff_snapshots(self, a, b, rules=None, *, unchanged=True):  # type: ignore[no-untyped-def, override]
        async for item in super().diff_snapshots(a, b, rules, unchanged=unchanged):
            yield item
        await self.release.wait()


async def test_a_comparison_replaced_while_running_leaves_the_new_one_running_and_its_goto_followed(
    demo_root: Path,
) -> None:
    """A go-to asking another pair while the pane's first comparison runs (evidence followed to a pane not
    shown yet): the replaced comparison's end must not end the new one, nor let a path go-to look at it
    half read (CI saw the cursor left on the first difference)."""
    from tui.app import DriftdeckApp
    from tui.goto import parse_goto

    source = HeldAtTheEnd(str(demo_root))
    app = DriftdeckApp(source, source_label="demo-workspace", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("4")
        pane = app.query_one(SnapshotsPane)
        for _ in range(1000):  # the pane's own first comparison has streamed its entries and is held
            if pane.state.summary is not None:
                break
            await pilot.pause(0.01)
        assert pane.state.comparing and pane.state.pair == ("candidate-2026-11-08", "candidate-2026-11-15")
        await pane.goto(parse_goto("snap:baseline-2026-11-01..candidate-2026-11-08"))
        await pilot.pause(0.1)  # the replaced comparison is cancelled and ends meanwhile
        assert pane.state.comparing, "the replaced comparison's end ended the new one"
        follow = asyncio.ensure_future(pane.goto(parse_goto("path:blobs/feature-index.bin")))
        await pilot.pause(0.1)
        assert not follow.done()  # it waits for the comparison it names
        source.release.set()
        assert (await follow).startswith("blobs/feature-index.bin")
        await wait_for_diff(pilot)
        tree = app.query_one(SnapshotTree)
        assert tree.current is not None and tree.current.key == "blobs/feature-index.bin"
        assert pane.state.pair == ("baseline-2026-11-01", "candidate-2026-11-08") and not pane.state.comparing
