"""Pane 1 starts its scan beside ``describe()``, not after it (a source without runs: tests/tui/test_not_offered.py)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from backends.models import RunQuery, RunSummary, SourceInfo
from tests.tui.catalog_source import CatalogSource, write_catalog
from tests.tui.conftest import screen_text, wait_for_runs, wait_until
from tui.app import DriftdeckApp

SIZE = (120, 36)
PATIENCE = 30.0
"""How long the describe() below waits for the scan at most (a guard against a hang, not a measurement)."""


class DescribeAfterScan(CatalogSource):
    """A catalog source whose ``describe()`` answers only once the runs scan has asked for its first runs
    (as a server's answer may arrive after a request sent beside it); it records what happened in order."""

    def __init__(self, spec: str, path: Path) -> None:
        super().__init__(spec, path)
        self.log: list[str] = []
        self.scan_asked = asyncio.Event()

    async def describe(self) -> SourceInfo:
        self.log.append("describe asked")
        try:
            await asyncio.wait_for(self.scan_asked.wait(), PATIENCE)
        except TimeoutError:
            self.log.append("describe gave up waiting for the scan")
        self.log.append("describe answered")
        return await super().describe()

    def iter_runs(self, query: RunQuery = RunQuery(), batch: int = 500, after: str | None = None) -> AsyncIterator[list[RunSummary]]:
        return self._asked(super().iter_runs(query, batch, after))

    async def _asked(self, batches: AsyncIterator[list[RunSummary]]) -> AsyncIterator[list[RunSummary]]:
        self.log.append("scan asked")
        self.scan_asked.set()
        async for chunk in batches:
            yield chunk


async def test_the_runs_scan_is_asked_before_describe_answers(tmp_path: Path) -> None:
    runs = [{"run_id": f"run-{i:04d}", "state": "QUARANTINED", "reason_code": "ENGINE_RECEIPT_MISMATCH",
             "updated_at": "2026-11-01T10:00:00Z", "sort_ts": i} for i in range(3)]
    source = DescribeAfterScan("catalog://runs", write_catalog(tmp_path / "runs.jsonl", runs))
    app = DriftdeckApp(source, source_label="runs catalog", cursor_blink=False)
    async with app.run_test(size=SIZE) as pilot:
        await wait_until(pilot, lambda: "describe answered" in source.log, "describe() to answer")
        await wait_for_runs(pilot)
        assert source.log.index("scan asked") < source.log.index("describe answered")
        assert "describe gave up waiting for the scan" not in source.log
        text = screen_text(pilot)
        assert all(f"run-{i:04d}" in text for i in range(3)), text
        assert "3 of 3 runs" in text

