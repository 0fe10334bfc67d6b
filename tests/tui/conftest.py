"""Fixtures for driving the app: a demo workspace built once, and an app factory."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest
from textual.pilot import Pilot

from backends.demo import build_demo
from backends.local import LocalSource
from tui.app import DriftdeckApp
from tui.panes.runs import RunsPane


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "workspace"
    build_demo(root, seed=7)
    return root


@pytest.fixture
def make_app(demo_root: Path):
    def make(root: Path | None = None, **kwargs) -> DriftdeckApp:
        kwargs.setdefault("source_label", "demo-workspace")
        kwargs.setdefault("cursor_blink", False)
        return DriftdeckApp(LocalSource(str(root or demo_root)), **kwargs)

    return make


async def wait_for_runs(pilot: Pilot) -> None:
    """Wait until the runs scan has finished and the view is drawn."""
    pane = pilot.app.query_one(RunsPane)
    for _ in range(3000):
        if not pane.state.scanning and not pane.state.pending:
            break
        await pilot.pause(0.01)
    await pilot.pause()


CHAR_WIDTH = 20 * 0.61
"""Width of one cell in Rich's SVG export (char height 20, aspect ratio 0.61)."""


def screen_text(pilot: Pilot) -> str:
    """Everything on screen as plain text lines, read back from an SVG export.

    Fragments are placed at their cell column, so blank cells come back as spaces.
    """
    svg = pilot.app.export_screenshot()
    rows: dict[float, list[tuple[int, str]]] = {}
    for x, y, text in re.findall(r'<text[^>]*?x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg):
        rows.setdefault(float(y), []).append((round(float(x) / CHAR_WIDTH), html.unescape(text).replace("\xa0", " ")))
    lines = []
    for _, parts in sorted(rows.items()):
        line = ""
        for column, text in sorted(parts):
            line = line.ljust(column) + text
        lines.append(line.rstrip())
    return "\n".join(lines)


def live_app(root: Path) -> DriftdeckApp:
    """An app on a workspace the test may write to (for the Live pane)."""
    return DriftdeckApp(LocalSource(str(root)), source_label="demo-workspace", cursor_blink=False)


async def wait_until(pilot: Pilot, predicate, what: str, tries: int = 1200) -> None:  # type: ignore[no-untyped-def]
    """Pause until ``predicate()`` holds; fail with the screen's text after ``tries`` pauses (30 s or more:
    a fresh CI machine under load is slower than any desk; a wait that passes costs nothing more)."""
    for _ in range(tries):
        if predicate():
            return
        await pilot.pause(0.025)
    raise AssertionError(f"timed out waiting for {what}:\n{screen_text(pilot)}")
