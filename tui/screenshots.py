"""Render every pane of the demo workspace to SVG: ``python -m tui.screenshots [OUT_DIR]``.

The demo workspace is deterministic, so the pictures only change when the UI
does. Used to regenerate ``screenshots/`` on purpose after a UI change.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from textual.pilot import Pilot

SIZE = (120, 36)

SHOTS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("1-runs-quarantine", ()),
    ("1-runs-all-states", ("s",)),
    ("1-run-detail", ("enter",)),
    ("1-help", ("question_mark",)),
    ("2-live", ("2",)),
    ("3-wal", ("3", "right_square_bracket")),
    ("4-snapshots", ("4",)),
    ("5-checksums", ("5",)),
)
"""File stem and the keys pressed (after the runs have loaded) for each picture."""


LONG_LIVED = frozenset({"live-watch"})
"""Worker groups that run for as long as their pane is shown (never "finished")."""


def busy(pilot: Pilot[None]) -> bool:
    """Whether the app still has work in flight that would change the screen."""
    from textual.worker import WorkerState

    from tui.panes.runs import RunsPane

    pane = pilot.app.query_one(RunsPane)
    if pane.state.scanning or pane.state.pending:
        return True
    return any(
        worker.state in (WorkerState.PENDING, WorkerState.RUNNING) and worker.group not in LONG_LIVED
        for worker in pilot.app.workers
    )


async def settle(pilot: Pilot[None], seconds: float = 0.6) -> None:
    """Wait until every worker is done (three quiet checks in a row), then let timers flush."""
    quiet = 0
    for _ in range(1500):
        quiet = 0 if busy(pilot) else quiet + 1
        if quiet >= 3:
            break
        await pilot.pause(0.05)
    await pilot.pause(seconds)


async def render_all(out_dir: Path) -> list[Path]:
    """Build the demo workspace in a temporary directory and save one SVG per shot."""
    from backends.demo import build_demo
    from backends.local import LocalSource
    from tui.app import DriftdeckApp

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "demo"
        build_demo(root, seed=7)
        for stem, keys in SHOTS:
            app = DriftdeckApp(LocalSource(str(root)), source_label="demo-workspace", cursor_blink=False)
            async with app.run_test(size=SIZE) as pilot:
                await settle(pilot)
                if keys:
                    await pilot.press(*keys)
                    await settle(pilot)
                path = out_dir / f"{stem}.svg"
                path.write_text(app.export_screenshot(title=f"driftdeck: {stem}"), encoding="utf-8")
                written.append(path)
    return written


def main() -> None:
    out_dir = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("screenshots")
    for path in asyncio.run(render_all(out_dir)):
        print(path)


if __name__ == "__main__":
    main()
