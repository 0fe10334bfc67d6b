"""The Checksums pane, driven by keys on the demo workspace."""

from __future__ import annotations

import hashlib
import json
import os
import threading
from pathlib import Path

from textual.pilot import Pilot

from backends.checksums import hashing
from backends.local import LocalSource
from tests.conftest import tree_fingerprint
from tests.tui.conftest import screen_text, wait_for_runs
from tui.panes.checksums import ChecksumsPane
from tui.screens.checksum_detail import ChecksumDetailScreen
from tui.widgets.checksum_manifests import ManifestList
from tui.widgets.checksum_table import ChecksumTable

SIZE = (120, 36)
GOLDEN = "fixtures/golden/SHA256SUMS"


async def wait_verified(pilot: Pilot) -> ChecksumsPane:
    """Wait until every queued verification has finished and the view is drawn."""
    pane = pilot.app.query_one(ChecksumsPane)
    for _ in range(1000):
        if pane.state.manifests and not pane.state.queue and pane.state.runs and not any(r.running for r in pane.state.runs.values()):
            break
        await pilot.pause(0.01)
    await pilot.pause(FLUSH_PAUSE)
    return pane


FLUSH_PAUSE = 0.25


async def open_golden(pilot: Pilot) -> ChecksumsPane:
    await wait_for_runs(pilot)
    await pilot.press("5")
    pane = await wait_verified(pilot)
    manifests = pilot.app.query_one(ManifestList)
    manifests.highlighted = pane.state.manifests.index(GOLDEN)
    await pilot.pause(FLUSH_PAUSE)
    pilot.app.query_one(ChecksumTable).focus()
    await pilot.pause()
    return pane


async def test_every_manifest_is_verified_with_badges(make_app, demo_root: Path) -> None:
    before = tree_fingerprint(demo_root)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("5")
        await wait_verified(pilot)
        text = screen_text(pilot)
        assert "fixtures/bsd/SHA256SUMS" in text and "fixtures/release/artifact.tar.gz.sha256" in text
        assert "DRIFT  1 changed   1 missing" in text
        assert "EMPTY  1 new" in text
        assert "no drift: all 3 entries ok (o shows them)" in text  # the first manifest, bsd, is clean
    assert tree_fingerprint(demo_root) == before


async def test_golden_entries_hide_ok_and_jump_between_drifts(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = await open_golden(pilot)
        table = app.query_one(ChecksumTable)
        text = screen_text(pilot)
        assert "fixtures/golden/SHA256SUMS · DRIFT · 10 of 18 entries · ok hidden" in text
        assert "data/ledger.csv" in text and "→ data/archive/2026-11" in text
        assert {e.category for e in table.rows} == {"alias", "changed", "missing", "unreadable", "moved", "duplicate", "malformed", "new"}
        assert table.current.category == "alias"
        await pilot.press("e")  # alias agrees with line 1: not drift, so e lands on "changed"
        assert table.current.category == "changed"
        await pilot.press("e", "e")
        assert table.current.line == 8
        await pilot.press("E")
        assert table.current.line == 7
        await pilot.press("o")
        await pilot.pause(FLUSH_PAUSE)
        assert "18 of 18 entries · every category" in screen_text(pilot)
        await pilot.press("c", "c")  # all categories -> changed -> missing
        await pilot.pause(FLUSH_PAUSE)
        assert [e.path for e in table.rows] == ["fixtures/golden/data/missing.csv"]
        assert "1 of 18 entries · missing" in screen_text(pilot)
        assert pane.state.category == "missing"


async def test_path_filter_and_inverted_filter(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_golden(pilot)
        table = app.query_one(ChecksumTable)
        await pilot.press("slash", *"ledger", "enter")
        await pilot.pause(FLUSH_PAUSE)
        assert [e.category for e in table.rows] == ["changed"]
        assert "filter 'ledger'" in screen_text(pilot)
        await pilot.press("escape")
        await pilot.pause(FLUSH_PAUSE)
        assert len(table.rows) == 10
        await pilot.press("slash", "!", *"data/", "enter")
        await pilot.pause(FLUSH_PAUSE)
        assert {e.category for e in table.rows} == {"malformed"}


async def test_enter_shows_expected_and_actual_hash_and_both_paths_of_a_move(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_golden(pilot)
        table = app.query_one(ChecksumTable)
        table.move_to(next(i for i, e in enumerate(table.rows) if e.category == "changed"))
        changed = table.current
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ChecksumDetailScreen)
        text = screen_text(pilot)
        assert changed.expected in text and changed.actual in text and "DIFFER" in text
        assert "3.4 KiB (3,438 bytes)" in text and "line 5" in text
        assert "j/k scroll" in text  # the shared detail box: the keyboard model's scroll keys, q closes
        await pilot.press("j", "G", "g", "q")
        await pilot.pause()
        assert not isinstance(app.screen, ChecksumDetailScreen)
        table.move_to(next(i for i, e in enumerate(table.rows) if e.category == "moved"))
        await pilot.press("enter")
        await pilot.pause()
        text = screen_text(pilot)
        assert "fixtures/golden/data/old-name.csv" in text
        assert any(
            line.split("█")[1].split() == ["now", "at", "fixtures/golden/data/archive/2026-11/new-name.csv"]
            for line in text.splitlines() if line.count("█") >= 2
        )
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ChecksumDetailScreen)


async def test_export_writes_markdown_and_json_atomically(make_app, tmp_path: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_golden(pilot)
        field_path = str(tmp_path / "report.md")
        await pilot.press("x")
        field = app.query_one("#ck-export")
        field.value = field_path
        await pilot.press("enter")
        for _ in range(200):
            if (tmp_path / "report.md").exists():
                break
            await pilot.pause(0.02)
        markdown = (tmp_path / "report.md").read_text()
        assert "# Checksum report: `fixtures/golden/SHA256SUMS`" in markdown
        assert "| 5 | changed | `fixtures/golden/data/ledger.csv` |" in markdown
        await pilot.press("x")
        field.value = str(tmp_path / "report.json")
        await pilot.press("enter")
        for _ in range(200):
            if (tmp_path / "report.json").exists():
                break
            await pilot.pause(0.02)
        body = json.loads((tmp_path / "report.json").read_text())
        assert body["summary"]["counts"]["ok"] == 8 and len(body["entries"]) == 18
        assert sorted(os.listdir(tmp_path)) == ["report.json", "report.md"]  # no temporary file left


async def test_export_refuses_the_read_only_source_root(make_app, demo_root: Path) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await open_golden(pilot)
        await pilot.press("x")
        app.query_one("#ck-export").value = str(demo_root / "report.md")
        await pilot.press("enter")
        await pilot.pause(0.3)
        assert not (demo_root / "report.md").exists()
        messages = [n.message for n in app._notifications]
        assert any("refusing to write under the read-only source root" in m for m in messages), messages


async def test_reverify_sees_a_change_and_escape_cancels(make_app, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "ws"
    (root / "data").mkdir(parents=True)
    lines = []
    for n in range(40):
        data = os.urandom(2 << 20)
        (root / "data" / f"f{n:02d}.bin").write_bytes(data)
        lines.append(f"{hashlib.sha256(data).hexdigest()}  data/f{n:02d}.bin\n")
    (root / "SHA256SUMS").write_text("".join(lines))

    # While the gate is up, files from f10 on are held until the verification is stopped,
    # so escape always lands mid-run, however fast this machine hashes.
    gate = threading.Event()
    real_hash_file = hashing.hash_file

    def gated_hash_file(path, real_root, buf, stop=None, **kwargs):
        if gate.is_set() and stop is not None and os.path.basename(path) >= "f10":
            stop.wait(30)
        return real_hash_file(path, real_root, buf, stop, **kwargs)

    monkeypatch.setattr(hashing, "hash_file", gated_hash_file)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("5")
        pane = await wait_verified(pilot)
        assert "SHA256SUMS · OK · 0 of 40 entries" in screen_text(pilot)
        (root / "data" / "f07.bin").write_bytes(b"tampered")
        gate.set()
        first = pane.state.runs["SHA256SUMS"]
        await pilot.press("r")
        for _ in range(1000):  # until the new run has streamed something
            run = pane.state.runs["SHA256SUMS"]
            if run is not first and run.progress is not None:
                break
            await pilot.pause(0.01)
        assert run is not first and run.running and run.progress is not None
        await pilot.press("escape")  # cancel: the gated files are still waiting
        for _ in range(1000):
            if not run.running:
                break
            await pilot.pause(0.01)
        await pilot.pause(FLUSH_PAUSE)
        assert run.cancelled and not run.running and run.state == "cancelled"
        hashed = [e for e in run.entries if e.actual is not None]
        assert 1 <= len(hashed) < 40
        assert {e.path for e in hashed} <= {f"data/f{n:02d}.bin" for n in range(10)}
        assert "cancelled (r verifies again)" in screen_text(pilot)
        assert any("verification cancelled" in n.message for n in app._notifications)
        gate.clear()
        await pilot.press("r")
        pane = await wait_verified(pilot)
        text = screen_text(pilot)
        assert "SHA256SUMS · DRIFT · 1 of 40 entries" in text and "data/f07.bin" in text


async def test_a_workspace_aliasing_its_own_directories_is_verified(make_app, tmp_path: Path) -> None:
    # b -> a and self -> . once made the manifest listing fail, leaving "reading the source…" on screen.
    root = tmp_path / "w"
    (root / "a").mkdir(parents=True)
    data = b"payload\n"
    (root / "a" / "f.txt").write_bytes(data)
    (root / "a" / "SHA256SUMS").write_text(f"{hashlib.sha256(data).hexdigest()}  f.txt\n")
    (root / "b").symlink_to("a")
    (root / "self").symlink_to(".")
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("5")
        pane = await wait_verified(pilot)
        assert pane.state.manifests == ["a/SHA256SUMS"]
        text = screen_text(pilot)
        assert "a/SHA256SUMS · OK" in text and "reading the source" not in text


async def test_a_failing_manifest_listing_is_shown_in_the_status_line(make_app, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "w"
    root.mkdir()

    async def broken(self) -> list[str]:
        raise OSError("the disk went away")

    monkeypatch.setattr(LocalSource, "list_manifests", broken)
    app = make_app(root)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("5")
        for _ in range(200):
            if "cannot list the manifests" in screen_text(pilot):
                break
            await pilot.pause(0.01)
        text = screen_text(pilot)
        assert "cannot list the manifests: OSError: the disk went away" in text
        assert "reading the source" not in text


async def test_an_ok_first_manifest_focuses_the_list_and_e_crosses_to_the_drift(make_app) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        await pilot.press("5")
        pane = await wait_verified(pilot)
        assert pane.state.current == "fixtures/bsd/SHA256SUMS"  # clean: every entry hidden as ok
        await pilot.press("5")  # shown again: focus goes where there is something to move through
        await pilot.pause()
        assert isinstance(app.focused, ManifestList)
        await pilot.press("e")
        await pilot.pause(FLUSH_PAUSE)
        table = app.query_one(ChecksumTable)
        assert pane.state.current != "fixtures/bsd/SHA256SUMS" and app.focused is table
        assert table.current is not None and table.current.is_drift
        assert f"{pane.state.current} · " in screen_text(pilot)  # the status names the manifest now shown
        first = pane.state.current
        for _ in range(40):  # e keeps going through every drifting manifest and comes back round
            await pilot.press("e")
            if pane.state.current != first:
                break
        assert pane.state.current != first
