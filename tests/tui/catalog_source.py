"""A tiny plugin source for the TUI tests: runs read from a JSONL catalog file, and nothing else.

``catalog://PATH`` names a file with one run status per line (``run_id``,
``state``, ``reason_code``, ``updated_at``, ``evidence``). The source is a
``BaseSource`` that overrides only the runs operations, so its capabilities
are ``{"runs"}``: the panes that need more say they are not offered.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from backends.base import BaseSource
from backends.errors import NotFoundError, UnsupportedError
from backends.models import ArtifactInfo, ArtifactPreview, EvidenceRef, Page, RunDetail, RunQuery, RunSummary


def write_catalog(path: Path, runs: list[dict[str, Any]]) -> Path:
    """Write ``runs`` as a catalog file; its path."""
    path.write_text("".join(json.dumps(run) + "\n" for run in runs), encoding="utf-8")
    return path


class CatalogSource(BaseSource):
    """Runs from a catalog file: listing, one run with its quarantine artifact, a preview of it."""

    kind = "catalog"

    def __init__(self, spec: str, path: Path | None = None) -> None:
        super().__init__(spec)
        self.path = path or Path(spec.removeprefix("catalog://"))

    def _read(self) -> list[dict[str, Any]]:
        with self.path.open(encoding="utf-8") as handle:
            return [json.loads(line) for line in handle if line.strip()]

    @staticmethod
    def _summary(row: dict[str, Any]) -> RunSummary:
        return RunSummary(row["run_id"], f"runs/{row['run_id']}", row.get("state"), row.get("reason_code"),
                          row.get("updated_at"), float(row.get("sort_ts", 0.0)))

    def iter_runs(self, query: RunQuery = RunQuery(), batch: int = 500, after: str | None = None) -> AsyncIterator[list[RunSummary]]:
        return self._batches(batch)

    async def _batches(self, batch: int) -> AsyncIterator[list[RunSummary]]:
        runs = [self._summary(row) for row in self._read()]
        for start in range(0, len(runs), batch):
            yield runs[start:start + batch]

    async def list_runs(self, query: RunQuery = RunQuery(), cursor: str | None = None, limit: int = 500) -> Page[RunSummary]:
        start = int(cursor or 0)
        runs = [self._summary(row) for row in self._read()]
        end = start + limit
        return Page(tuple(runs[start:end]), str(end) if end < len(runs) else None)

    def _row(self, run: str) -> dict[str, Any]:
        for row in self._read():
            if run in (row["run_id"], f"runs/{row['run_id']}"):
                return row
        raise NotFoundError(f"{self.spec}: no run {run!r}")

    async def get_run(self, run: str) -> RunDetail:
        row = self._row(run)
        summary = self._summary(row)
        artifacts: tuple[ArtifactInfo, ...] = ()
        wal = tuple(str(ref) for ref in row.get("evidence", ()) if "/wal/" in str(ref))
        if summary.state == "QUARANTINED":
            evidence = tuple(EvidenceRef(str(ref)) for ref in row.get("evidence", ()))
            artifacts = (ArtifactInfo("reason.json", f"{summary.key}/quarantine/reason.json", len(json.dumps(row)),
                                      summary.reason_code, summary.updated_at, "from the catalog", evidence),)
        return RunDetail(summary, row, f"{summary.key}/run_status.json", None, 0, artifacts,
                         tuple(sorted({ref.split("#")[0] for ref in wal})))

    async def run_events(self, run: str, cursor: str | None = None, limit: int = 200) -> Page[Any]:
        self._row(run)
        return Page((), None)

    async def artifact_preview(self, path: str, max_bytes: int = 65536) -> ArtifactPreview:
        run = path.split("/")[1]
        text = json.dumps(self._row(run), indent=2)
        return ArtifactPreview(path, len(text), text[:max_bytes], "json", len(text) > max_bytes)


class RefusingWatchSource(CatalogSource):
    """A catalog that lists live events among its capabilities but refuses them when asked
    (say, notifications switched off on the store after the source was opened)."""

    kind = "catalog-watch"

    def watch(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._refuse()

    async def _refuse(self) -> AsyncIterator[Any]:
        for _ in ():
            yield []
        raise UnsupportedError(f"{self.spec}: watch is not offered by this source (change notifications are off)")
