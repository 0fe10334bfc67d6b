"""Every pane over the hostile workspace: no crash, no hang, no internal error, nothing written.

The app visits panes 1 to 5 and opens the details of the first row of each
(plus every WAL pair and every manifest, where the FIFOs and locked files
are). As root (CI), the same walk runs a second time as ``nobody`` in a
forked child, where the mode-000 files really cannot be read.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import TabbedContent

from backends.local import LocalSource
from tests.conftest import run_unprivileged, tree_fingerprint
from tests.hostile_workspace import HOSTILE_RUN, build_hostile, restore_modes
from tests.tui.conftest import screen_text, wait_for_runs, wait_until
from tui.app import DriftdeckApp
from tui.panes.checksums import ChecksumsPane
from tui.panes.snapshots import SnapshotsPane
from tui.screens.run_detail import RunDetailScreen
from tui.widgets.checksum_manifests import ManifestList

SIZE = (140, 40)

EXCEPTION_NAME = re.compile(r"\b[A-Z][A-Za-z]*(Error|Exception)\b|Traceback|internal error")
"""A notification naming a Python exception type is a bug surfacing (ours say what happened in words)."""


def recording_app(root: str) -> tuple[DriftdeckApp, list[str]]:
    """The app over ``root``, and the list its notifications are kept in."""
    app = DriftdeckApp(LocalSource(root), source_label="hostile", cursor_blink=False)
    notes: list[str] = []
    notify = app.notify

    def keep(message: str, *args: Any, **kwargs: Any) -> None:
        notes.append(f"{kwargs.get('title') or ''}: {message}")
        notify(message, *args, **kwargs)

    app.notify = keep  # type: ignore[method-assign]
    return app, notes


async def _settle(pilot: Any, seconds: float = 0.3) -> None:
    await pilot.pause(seconds)
    await pilot.pause()


async def back_to_panes(pilot: Any) -> None:
    """Close whatever screen is open over the panes."""
    while pilot.app.screen is not pilot.app.screen_stack[0]:
        await pilot.press("escape")
        await _settle(pilot, 0.05)


async def walk_panes(root: str) -> dict[str, Any]:
    """Drive the app over ``root``; what it showed and notified."""
    app, notes = recording_app(root)
    seen: dict[str, str] = {}
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        seen["runs"] = screen_text(pilot)
        await pilot.press("g", "enter")  # the newest quarantined run: its record, an artifact and a WAL file are FIFOs
        await wait_until(pilot, lambda: isinstance(app.screen, RunDetailScreen), "the run detail")
        await _settle(pilot, 0.5)
        seen["run detail"] = screen_text(pilot)
        for key in ("a", *"jjjjjjjjjjj", "p", "t", "enter"):  # every artifact previewed, then the timeline
            await pilot.press(key)
            await _settle(pilot, 0.05)
        await back_to_panes(pilot)

        await pilot.press("2")
        await _settle(pilot, 0.5)
        await pilot.press("g", "enter")
        await _settle(pilot, 0.1)
        seen["live"] = screen_text(pilot)
        await back_to_panes(pilot)

        await pilot.press("3")
        await _settle(pilot, 0.5)
        seen["wal"] = screen_text(pilot)
        pairs = await app.source.list_wal_pairs()
        await pilot.press("g", "enter", "v")  # the first row in full, and the validation problems
        await _settle(pilot, 0.1)
        await back_to_panes(pilot)
        for _ in range(sum(1 for p in pairs if p.record.startswith(f"runs/{HOSTILE_RUN}/"))):  # on through the hostile run's pairs
            await pilot.press("right_square_bracket")
            await _settle(pilot, 0.2)
        seen["wal last"] = screen_text(pilot)

        await pilot.press("4")
        snapshots = app.query_one(SnapshotsPane)
        await wait_until(pilot, lambda: "differences ·" in screen_text(pilot), "the snapshot diff")
        seen["snapshots"] = screen_text(pilot)
        for _ in range(20):  # through the differences (FIFO, locked, links, deep JSON, huge line), each in the diff view
            await pilot.press("e")
            await _settle(pilot, 0.05)
        await pilot.press("g", "enter")
        await _settle(pilot, 0.3)
        seen["snapshot entry"] = screen_text(pilot)
        await back_to_panes(pilot)
        assert snapshots is not None

        await pilot.press("5")
        checksums = app.query_one(ChecksumsPane)
        await wait_until(pilot, lambda: bool(checksums.state.runs) and not checksums.state.queue and not any(r.running for r in checksums.state.runs.values()),
                         "every manifest verified")
        await _settle(pilot, 0.2)
        seen["checksums"] = screen_text(pilot)
        await pilot.press("m")
        await pilot.press("o", "t", "g", "enter")  # the first row's details (ok rows shown: the first manifest is all ok)
        await wait_until(pilot, lambda: app.screen is not app.screen_stack[0], "the checksum entry's details")
        await back_to_panes(pilot)
        await pilot.press("m")
        for _ in range(app.query_one(ManifestList).option_count - 1):  # every manifest shown: the FIFO, the locked one, the refused ones
            await pilot.press("down")
            await _settle(pilot, 0.1)
        seen["checksums last"] = screen_text(pilot)
        assert app.query_one(TabbedContent).active == "checksums"
        await pilot.press("q")
    return {"return_code": app.return_code, "notes": notes, "seen": seen}


def check(result: dict[str, Any]) -> None:
    assert result["return_code"] in (0, None), result
    notes = "\n".join(result["notes"])
    bad = [n for n in result["notes"] if EXCEPTION_NAME.search(n)]
    assert not bad, "notifications that name an exception:\n" + "\n".join(bad)
    seen = result["seen"]
    assert HOSTILE_RUN in seen["runs"] and HOSTILE_RUN in seen["run detail"]
    for said in ("run_record.jsonl: unreadable: a FIFO, not a regular file", "quarantine/a-fifo.json: unreadable: a FIFO",
                 "wal/replay.jsonl: unreadable: a FIFO, not a regular file", "wal/passwd-record.jsonl: resolves outside the source root",
                 "fixtures/hostile/passwd.sha256: resolves outside the source root"):
        assert said in notes, f"{said!r} not notified:\n{notes}"
    assert "fifo.txt" in seen["snapshots"] and "velocity.yaml file → other" in seen["snapshots"]
    for manifest in ("fixtures/fifo/SHA256SUMS", "fixtures/hostile/SHA256SUMS", "fixtures/hostile/passwd.sha256"):
        assert manifest in seen["checksums"], seen["checksums"]
    assert "UNREADABLE" in seen["checksums"]


@pytest.fixture
def hostile_base(unprivileged_tmp: Path):
    ws = build_hostile(unprivileged_tmp)
    yield ws
    restore_modes(ws)


@pytest.mark.timeout(240)
async def test_every_pane_over_the_hostile_workspace(hostile_base) -> None:
    before = tree_fingerprint(hostile_base.root)
    result = await walk_panes(str(hostile_base.root))
    for name, text in result["seen"].items():
        print(f"===== {name}\n{text}")
    print("\n".join(result["notes"]))
    check(result)
    assert tree_fingerprint(hostile_base.root) == before


@pytest.mark.timeout(240)
async def test_every_pane_over_the_hostile_workspace_unprivileged(hostile_base) -> None:
    before = tree_fingerprint(hostile_base.root)
    result = run_unprivileged(lambda: asyncio.run(walk_panes(str(hostile_base.root))), timeout=200)
    for name, text in result["seen"].items():
        print(f"===== {name}\n{text}")
    print("\n".join(result["notes"]))
    check(result)
    assert tree_fingerprint(hostile_base.root) == before
