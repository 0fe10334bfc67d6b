"""``BaseSource``: a plugin implements what it offers; the rest says "not offered by this source"."""

from __future__ import annotations

import pytest

from backends.base import BaseSource
from backends.errors import UnsupportedError
from backends.models import Page, RunSummary
from backends.source import DataSource


class RunsOnly(BaseSource):
    """A plugin that lists runs and nothing else."""

    kind = "runs-only"
    RUNS = (RunSummary("r-1", "runs/r-1", "READY", None, None, 0.0),)

    async def _runs(self):
        yield list(self.RUNS)

    def iter_runs(self, *args, **kwargs):
        return self._runs()

    async def list_runs(self, *args, **kwargs):
        return Page(self.RUNS, None)

    async def get_run(self, run):
        raise NotImplementedError

    async def run_events(self, *args, **kwargs):
        return Page((), None)

    async def artifact_preview(self, *args, **kwargs):
        raise NotImplementedError


async def test_a_runs_only_plugin_is_a_complete_source() -> None:
    source = RunsOnly("runs-only://x")
    assert isinstance(source, DataSource)
    info = await source.describe()
    assert info.capabilities == {"runs"}
    assert [r.run_id async for chunk in source.iter_runs() for r in chunk] == ["r-1"]


async def test_what_is_not_offered_raises_unsupported_with_one_line() -> None:
    source = RunsOnly("runs-only://x")
    with pytest.raises(UnsupportedError, match=r"^runs-only://x: diff_wal is not offered by this source \(runs-only\)$"):
        async for _ in source.diff_wal("a", "b"):
            pass
    with pytest.raises(UnsupportedError, match="list_snapshots is not offered"):
        await source.list_snapshots()
