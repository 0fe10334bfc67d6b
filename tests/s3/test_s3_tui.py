"""The TUI on a bucket: every pane works on an s3:// source as on a directory."""

from __future__ import annotations

from textual.widgets import TabbedContent

from backends.s3.source import S3Source
from tests.tui.conftest import screen_text, wait_for_runs
from tui.app import DriftdeckApp

SIZE = (120, 36)


async def test_every_pane_answers_on_a_bucket(s3_demo: str) -> None:
    app = DriftdeckApp(S3Source(s3_demo), source_label="bucket-demo", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for_runs(pilot)
        assert "12 of 58 runs · QUARANTINED +2 unreadable" in screen_text(pilot) and "REPLAY_DIVERGENCE" in screen_text(pilot)
        expectations = {
            "3": ("wal", "7 divergences: 6 changed, 1 torn"),
            "4": ("snapshots", "rules on"),
            "5": ("checksums", "4 manifests"),
            "2": ("live", "polling the bucket listing"),
        }
        for key, (pane_id, summary) in expectations.items():
            await pilot.press(key)
            for _ in range(200):
                await pilot.pause(0.05)
                if summary in screen_text(pilot):
                    break
            assert app.query_one(TabbedContent).active == pane_id
            assert summary in screen_text(pilot), (key, screen_text(pilot))
