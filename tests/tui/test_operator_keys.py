"""What operators of k9s, lnav and delta reach for: copy (y, Y), go to (:, --goto), $EDITOR (O), marks (m ' ")."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TabbedContent

from backends.local import LocalSource
from tests.conftest import tree_fingerprint
from tests.tui.conftest import screen_text, wait_for_runs, wait_until
from tui.app import DriftdeckApp
from tui.cli import main
from tui.goto import parse_goto
from tui.panes.checksums import ChecksumsPane
from tui.panes.snapshots import SnapshotsPane
from tui.panes.wal import WalPane
from tui.widgets.checksum_table import ChecksumTable
from tui.widgets.goto_line import GotoLine
from tui.widgets.run_table import RunTable
from tui.widgets.snapshot_tree import SnapshotTree
from tui.widgets.virtual_list import MARK_GLYPH
from tui.widgets.wal_pair_list import WalPairList

SIZE = (120, 36)


def deck(root: Path, **kwargs: Any) -> tuple[DriftdeckApp, list[str]]:
    """The app over ``root`` and the notifications it shows, in order."""
    app = DriftdeckApp(LocalSource(str(root)), source_label="demo-workspace", cursor_blink=False, **kwargs)
    notes: list[str] = []
    notify = app.notify

    def keep(message: str, *args: Any, **kw: Any) -> None:
        notes.append(message)
        notify(message, *args, **kw)

    app.notify = keep  # type: ignore[method-assign]
    return app, notes


def active(app: DriftdeckApp) -> str:
    return app.query_one(TabbedContent).active


# Copy ------------------------------------------------------------------------------------


async def test_y_copies_the_run_id_and_Y_the_run_as_json(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("j")
        run = app.query_one(RunTable).current
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == run.run_id
        assert notes[-1] == f"copied run id: {run.run_id}"
        await pilot.press("Y")
        await pilot.pause()
        copied = json.loads(app.clipboard)
        assert copied["run_id"] == run.run_id and copied["state"] == "QUARANTINED" and copied["key"] == run.key
        assert notes[-1].startswith(f"copied run {run.run_id} as JSON")


async def test_y_copies_the_divergence_the_hash_and_the_path_in_panes_3_4_5(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("3")
        rows = app.query_one(WalPairList)
        await wait_until(pilot, lambda: rows.row_at(rows.cursor) is not None and rows.row_at(rows.cursor).divergence is not None,
                         "the first divergence")
        divergence = rows.row_at(rows.cursor).divergence
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == divergence.headline()
        assert notes[-1].startswith("copied divergence: line ")

        await pilot.press("5", "colon", *"manifest golden/SHA256SUMS", "enter")
        table = app.query_one(ChecksumTable)
        await wait_until(pilot, lambda: table.current is not None and (table.current.actual or table.current.expected), "a checksum entry")
        entry = table.current
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == (entry.actual or entry.expected) and len(app.clipboard) == 64
        assert notes[-1].startswith("copied hash: ") and "…" in notes[-1]  # a 64-digit hash, shortened in the notice

        await pilot.press("4")
        tree = app.query_one(SnapshotTree)
        await wait_until(pilot, lambda: tree.current is not None and tree.current.entry is not None, "a snapshot entry")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == tree.current.entry.path
        assert notes[-1] == f"copied path: {tree.current.entry.path}"


# Go to -----------------------------------------------------------------------------------


async def test_colon_line_completes_and_goes_to_a_run_hidden_by_the_filter(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    ready = next(p for p in sorted((demo_root / "runs").iterdir()) if '"READY"' in (p / "run_status.json").read_text())
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("2", "colon")  # from another pane
        line = app.query_one(GotoLine)
        assert app.focused is line
        await pilot.press(*"ru", "tab")
        assert line.value == "run "
        await pilot.press(*ready.name[:-3])
        await wait_until(pilot, lambda: line._suggestion == f"run {ready.name}", "the completion")
        await pilot.press("tab", "enter")
        await wait_until(pilot, lambda: any(n.startswith("went to") for n in notes), "the go-to")
        assert active(app) == "runs"
        table = app.query_one(RunTable)
        assert table.current.run_id == ready.name and table.current.state == "READY"
        assert "filters cleared to show the run" in notes
        assert notes[-1] == f"went to run {ready.name}"
        assert app.focused is table and "-open" not in line.classes


async def test_colon_line_completes_snapshots_manifests_and_wal_runs_of_panes_never_shown(demo_root: Path) -> None:
    """Straight after start (only the Runs pane built), ``:`` completes what the other panes would list."""
    app, notes = deck(demo_root)
    wal_run = sorted(p.parent.parent.name for p in demo_root.glob("runs/*/wal/record.jsonl"))[0]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        unbuilt = [app.query_one(SnapshotsPane), app.query_one(ChecksumsPane), app.query_one(WalPane)]
        assert not any(pane.content_ready for pane in unbuilt)
        for typed, completed in [("snap candidate-2026-11-1", "snap candidate-2026-11-15"),
                                 ("manifest fixtures/gol", "manifest fixtures/golden/SHA256SUMS"),
                                 ("wal " + wal_run[:-4], "wal " + wal_run)]:
            await pilot.press("colon", *typed)
            await wait_until(pilot, lambda c=completed: c in screen_text(pilot), f"the completion {completed!r}")
            await pilot.press("escape")
        assert not any(pane.content_ready for pane in unbuilt)  # completing built none of them
        await pilot.press("colon", *"snap baseline-2026", "tab", *"..candidate-2026-11-08", "enter")
        await wait_until(pilot, lambda: any(n.startswith("went to snapshots") for n in notes), "the snapshot go-to")
        assert notes[-1] == "went to snapshots baseline-2026-11-01 → candidate-2026-11-08"


async def test_unknown_and_unmatched_targets_say_so(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        for typed, message in [
            ("run nope", "run:nope: no run 'nope' among 58 runs"),
            ("job 3", "unknown target 'job'; give one of run:ID"),
            ("manifest nowhere/SHA256SUMS", "manifest:nowhere/SHA256SUMS: no manifest 'nowhere/SHA256SUMS' (4 manifests, none of that path)"),
            ("snap baseline-2026-11-01 later", "no snapshot 'later' (snapshots: baseline-2026-11-01, candidate-2026-11-08, candidate-2026-11-15)"),
        ]:
            await pilot.press("colon", *typed, "enter")
            await wait_until(pilot, lambda m=message: any(m in n for n in notes), f"the message for {typed!r}")
        line = app.query_one(GotoLine)
        await pilot.press("colon", "x", "escape")
        assert "-open" not in line.classes and app.focused is not line


async def test_goto_on_the_command_line_opens_a_manifest_entry(demo_root: Path) -> None:
    targets = [parse_goto("manifest:golden/SHA256SUMS"), parse_goto("path:fixtures/golden/data/c.json")]
    app, notes = deck(demo_root, goto=targets)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: sum(n.startswith("went to") for n in notes) == 2 or any("golden" in n and "went" not in n for n in notes),
                         "both go-tos")
        assert active(app) == "checksums"
        pane = app.query_one(ChecksumsPane)
        assert pane.state.current == "fixtures/golden/SHA256SUMS"
        entry = app.query_one(ChecksumTable).current
        assert entry.path == "fixtures/golden/data/c.json"
        assert notes[-1] == f"went to fixtures/golden/data/c.json in fixtures/golden/SHA256SUMS ({entry.category})"


async def test_goto_wal_run_and_line_and_snapshot_pair(demo_root: Path) -> None:
    wal_run = sorted(p.parent.parent.name for p in demo_root.glob("runs/*/wal/record.jsonl"))[0]
    targets = [parse_goto(f"wal:{wal_run}"), parse_goto("line:5")]
    app, notes = deck(demo_root, goto=targets)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: sum(n.startswith("went to") for n in notes) == 2, "both go-tos")
        assert active(app) == "wal"
        pane = app.query_one(WalPane)
        assert pane.state.pair is not None and pane.state.pair.run_id == wal_run
        rows = app.query_one(WalPairList)
        assert rows.row_at(rows.cursor).record_line == 5
        await pilot.pause(0.3)  # the first divergence must not take the cursor back
        assert rows.row_at(rows.cursor).record_line == 5
        assert "record line 5 ↔ replay line 5" in screen_text(pilot)

        await pilot.press("colon", *"snap baseline-2026-11-01..candidate-2026-11-15", "enter")
        await wait_until(pilot, lambda: notes[-1] == "went to snapshots baseline-2026-11-01 → candidate-2026-11-15", "the snapshot go-to")
        assert active(app) == "snapshots"
        pane4 = app.query_one(SnapshotsPane)
        await wait_until(pilot, lambda: pane4.state.summary is not None, "the comparison")
        entry = next(e for e in pane4.state.entries if e.category == "unchanged")
        await pilot.press("colon", *f"path {entry.path}", "enter")
        await wait_until(pilot, lambda: notes[-1].startswith("went to") and entry.path in notes[-1], "the path go-to")
        assert app.query_one(SnapshotTree).current.entry == entry  # unchanged entries are hidden until asked for


def test_a_bad_goto_on_the_command_line_is_a_usage_error(demo_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main([str(demo_root), "--goto", "line:zero"])
    assert exit_info.value.code == 2
    assert "--goto" in capsys.readouterr().err


# $EDITOR ---------------------------------------------------------------------------------


def recording_editor(directory: Path, name: str) -> tuple[Path, Path]:
    """A program called ``name`` that writes its arguments, one a line, to a file; both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "argv.txt"
    program = directory / name
    program.write_text(f'#!/bin/sh\nprintf "%s\\n" "$@" > "{log}"\n')
    program.chmod(program.stat().st_mode | stat.S_IXUSR)
    return program, log


async def test_O_opens_the_checksum_entry_in_the_editor_and_writes_nothing_under_the_root(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program, log = recording_editor(tmp_path / "bin", "myeditor")
    monkeypatch.setenv("EDITOR", f"{program} --readonly")
    monkeypatch.delenv("VISUAL", raising=False)
    before = tree_fingerprint(demo_root)
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("colon", *"manifest golden/SHA256SUMS", "enter")
        table = app.query_one(ChecksumTable)
        await wait_until(pilot, lambda: table.current is not None and table.current.category != "malformed", "a checksum entry")
        entry = table.current
        await pilot.press("O")
        await wait_until(pilot, log.exists, "the editor to run")
    assert log.read_text().splitlines() == ["--readonly", os.path.realpath(demo_root / entry.path)]
    assert tree_fingerprint(demo_root) == before


async def test_O_on_a_divergence_opens_the_wal_file_at_its_line_in_a_line_aware_editor(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    program, log = recording_editor(tmp_path / "bin", "vi")
    monkeypatch.setenv("VISUAL", str(program))
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("3")
        rows = app.query_one(WalPairList)
        await wait_until(pilot, lambda: rows.row_at(rows.cursor) is not None and rows.row_at(rows.cursor).divergence is not None,
                         "the first divergence")
        aligned = rows.row_at(rows.cursor)
        pair = app.query_one(WalPane).state.pair
        await pilot.press("O")
        await wait_until(pilot, log.exists, "the editor to run")
    assert log.read_text().splitlines() == [f"+{aligned.record_line}", os.path.realpath(demo_root / pair.record)]


# Marks -----------------------------------------------------------------------------------


async def test_marks_show_in_the_row_jump_and_export(demo_root: Path, tmp_path: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        table = app.query_one(RunTable)
        first = table.current
        await pilot.press("m", "j", "j", "j")
        third = table.current
        await pilot.press("m", "G")
        await pilot.pause()
        lines = screen_text(pilot).splitlines()
        marked = [line for line in lines if MARK_GLYPH in line]
        assert len(marked) == 2 and first.run_id in marked[0] and third.run_id in marked[1]
        await pilot.press("apostrophe")  # from the bottom, next wraps to the first mark
        assert table.current == first
        await pilot.press("apostrophe")
        assert table.current == third
        await pilot.press("quotation_mark")
        assert table.current == first
        await pilot.press("s")  # another filter keeps the marks
        await pilot.pause()
        assert table.is_marked(table.rows.index(first))

        await pilot.press("3")  # a WAL row: the mark sits at the middle bar, the divergence mark stays
        rows = app.query_one(WalPairList)
        await wait_until(pilot, lambda: rows.row_at(rows.cursor) is not None and rows.row_at(rows.cursor).divergence is not None,
                         "the first divergence")
        await pilot.press("m")
        await pilot.pause()
        assert any("≠" in line and MARK_GLYPH + "│" in line.replace(" ", "") for line in screen_text(pilot).splitlines())

        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"Export marks")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause(0.2)
        target = tmp_path / "marks.json"
        await pilot.press("ctrl+a", "ctrl+k", *str(target), "enter")
        await wait_until(pilot, target.exists, "the marks file")
    exported = json.loads(target.read_text())["marks"]
    assert [(m["scope"], m["value"]) for m in exported][:2] == [("runs", first.run_id), ("runs", third.run_id)]
    assert exported[2]["scope"] == "wal" and exported[2]["kind"] == "divergence" and exported[2]["line"]
    assert notes[-1] == f"3 marks written to {target}"


async def test_marks_export_refuses_the_source_root(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("m")
        app.action_export_marks()
        await pilot.pause(0.2)
        await pilot.press("ctrl+a", "ctrl+k", *str(demo_root / "marks.md"), "enter")
        await wait_until(pilot, lambda: any("refusing to write under the read-only source root" in n for n in notes), "the refusal")
    assert not (demo_root / "marks.md").exists()


async def test_O_on_a_remote_source_opens_a_read_only_temporary_copy(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from backends.http.client import HttpSource
    from backends.http.server import BackgroundServer, create_app

    program, log = recording_editor(tmp_path / "bin", "myeditor")
    monkeypatch.setenv("EDITOR", str(program))
    monkeypatch.delenv("VISUAL", raising=False)
    token = "a-token-for-the-editor-test"
    before = tree_fingerprint(demo_root)
    with BackgroundServer(create_app(LocalSource(str(demo_root)), token=token)) as running:
        app = DriftdeckApp(HttpSource(running.url, token=token, retries=1, backoff=0.05), source_label="remote", cursor_blink=False)
        notes: list[str] = []
        notify = app.notify
        app.notify = lambda message, *a, **k: (notes.append(message), notify(message, *a, **k))[1]  # type: ignore[method-assign]
        async with app.run_test(size=SIZE) as pilot:
            await wait_for_runs(pilot)
            await pilot.press("colon", *"manifest golden/SHA256SUMS", "enter")
            await pilot.press("colon", *"path fixtures/golden/data/c.json", "enter")
            await wait_until(pilot, lambda: sum(n.startswith("went to") for n in notes) == 2, "both go-tos", tries=2400)
            await pilot.press("O")
            await wait_until(pilot, log.exists, "the editor to run")
            opened = Path(log.read_text().splitlines()[0])
            assert opened.read_bytes() == (demo_root / "fixtures/golden/data/c.json").read_bytes()
            assert not os.access(opened, os.W_OK) or os.geteuid() == 0  # root may write anything; the mode says read-only
            assert stat.S_IMODE(opened.stat().st_mode) & 0o222 == 0
            assert not str(opened).startswith(str(demo_root)) and opened.name == "c.json"
            assert any("remote source: opening a read-only temporary copy" in n and str(opened) in n for n in notes)
        assert not opened.exists()  # the copies go with the app
    assert tree_fingerprint(demo_root) == before


async def test_run_detail_timeline_takes_marks_and_y_copies_the_event(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        run = app.query_one(RunTable).current
        await pilot.press("enter")
        await pilot.pause(0.3)
        await pilot.press("t")
        from tui.widgets.event_list import EventList

        timeline = app.screen.query_one(EventList)
        await wait_until(pilot, lambda: timeline.current is not None, "the timeline")
        event = timeline.current
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == (event.event_id or f"{run.key}/run_record.jsonl:{event.line}")
        await pilot.press("m")
        await pilot.pause()
        assert timeline.is_marked(timeline.cursor)
        await pilot.press("escape", "enter")  # the marks outlive the screen
        await pilot.pause(0.3)
        await pilot.press("t")
        timeline = app.screen.query_one(EventList)
        await wait_until(pilot, lambda: timeline.current is not None and timeline.is_marked(timeline.rows.index(event)), "the mark again")
        assert any(line.lstrip().startswith(MARK_GLYPH) for line in screen_text(pilot).splitlines())


async def test_the_footer_fits_120_columns_and_help_lists_the_new_keys(demo_root: Path) -> None:
    app, notes = deck(demo_root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        for key in "12345":
            await pilot.press(key)
            await pilot.pause(0.2)
            footer = screen_text(pilot).splitlines()[-1]
            assert "q Quit  y Copy  : Go to" in footer and footer.rstrip().endswith("^p palette"), (key, footer)
        await pilot.press("question_mark")
        await pilot.pause()
        await pilot.press("question_mark", "5", "question_mark")  # pane 5: its short footer labels in full
        await pilot.pause()
        rows = [f"{keys} {words}" for _, section in app.screen.sections for keys, words in section]
        for row in ("y copy the selected run id", ": go to: run ID, wal RUN", "' / \" next / previous marked row",
                    "O / V open the file under the cursor in $EDITOR / $PAGER", "o Show ok", "r Re-verify"):
            assert any(r.startswith(row) for r in rows), row


async def test_live_events_are_marked_with_b_copied_and_found_by_path(tmp_path: Path) -> None:
    from backends.events.model import FsEvent
    from tui.panes.live import LivePane
    from tui.widgets.live_event_list import LiveEventList

    root = tmp_path / "ws"
    root.mkdir()
    app, notes = deck(root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("2")
        pane = app.query_one(LivePane)
        events = [FsEvent(1000 + i, "created", f"live/file-{i}.txt", i, i) for i in range(5)]
        pane.ingest(events)
        listing = app.query_one(LiveEventList)
        await wait_until(pilot, lambda: listing.current is not None and listing.current.path == "live/file-4.txt", "the events")
        types = pane.state.types
        await pilot.press("b", "m")  # b marks here; m still toggles modified events
        await pilot.pause(0.2)
        assert pane.state.types == types ^ {"modified"}, notes
        await pilot.press("colon", *"path live/file-1.txt", "enter")
        await wait_until(pilot, lambda: listing.current is not None and listing.current.seq == 1001, "the path go-to")
        await pilot.press("y")
        await pilot.pause()
        assert app.clipboard == "live/file-1.txt" and notes[-1] == "copied path: live/file-1.txt"
        await pilot.press("apostrophe")
        assert listing.current.seq == 1004
        assert any(line.lstrip().startswith(MARK_GLYPH) and "live/file-4.txt" in line for line in screen_text(pilot).splitlines())
        assert [item.value for _, item in app.marks.items()] == ["live/file-4.txt"]
