"""``BaseSource``: the small contract a plugin source implements.

A source must say what it is (``describe``) and release what it holds
(``aclose``); every other operation is optional. ``BaseSource`` gives each
optional operation a default that raises ``UnsupportedError`` naming the
source and the operation, and ``describe().capabilities`` tells panes and
commands what is offered, so a source that only lists runs is a complete
source. A plugin overrides what it offers and lists those capabilities.
"""

from __future__ import annotations

from typing import Any, AsyncIterator, NoReturn

from backends.errors import UnsupportedError
from backends.models import SourceInfo

OPERATIONS: dict[str, str] = {
    "iter_runs": "runs", "list_runs": "runs", "get_run": "runs", "run_events": "runs", "artifact_preview": "runs",
    "list_dir": "files", "stat": "files", "read_range": "files",
    "list_manifests": "inventory", "list_snapshots": "inventory", "list_wal_pairs": "inventory",
    "verify_checksums": "checksums",
    "wal_index": "wal", "wal_lines": "wal", "validate_wal": "wal", "diff_wal": "wal", "search_wal": "wal",
    "snapshot_rules": "snapshots", "snapshot_path": "snapshots", "diff_snapshots": "snapshots", "diff_entry": "snapshots",
    "diff_file": "snapshots",
    "watch": "watch",
}
"""Every optional operation and the capability that offers it."""


class BaseSource:
    """A source that offers nothing until a subclass overrides it.

    Args:
        spec: The spec string the source was opened from.
    """

    kind = "plugin"

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def capabilities(self) -> frozenset[str]:
        """The capabilities whose every operation this class overrides."""
        offered = {cap for cap in set(OPERATIONS.values())
                   if all(getattr(type(self), op) is not getattr(BaseSource, op) for op, c in OPERATIONS.items() if c == cap)}
        return frozenset(offered)

    async def describe(self) -> SourceInfo:
        return SourceInfo(spec=self.spec, kind=self.kind, root=self.spec, read_only=True, capabilities=self.capabilities())

    async def aclose(self) -> None:
        return None

    def _unsupported(self, operation: str) -> NoReturn:
        raise UnsupportedError(f"{self.spec}: {operation} is not offered by this source ({self.kind})")

    async def _unsupported_stream(self, operation: str) -> AsyncIterator[Any]:
        nothing: tuple[Any, ...] = ()
        for item in nothing:  # an async generator: the error arrives on the first iteration, as a stream's would
            yield item
        self._unsupported(operation)

    def iter_runs(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("iter_runs")

    async def list_runs(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("list_runs")

    async def get_run(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("get_run")

    async def run_events(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("run_events")

    async def artifact_preview(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("artifact_preview")

    async def list_dir(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("list_dir")

    async def stat(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("stat")

    async def read_range(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("read_range")

    async def list_manifests(self) -> Any:
        self._unsupported("list_manifests")

    async def list_snapshots(self) -> Any:
        self._unsupported("list_snapshots")

    async def list_wal_pairs(self) -> Any:
        self._unsupported("list_wal_pairs")

    def verify_checksums(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("verify_checksums")

    def wal_index(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("wal_index")

    async def wal_lines(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("wal_lines")

    def validate_wal(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("validate_wal")

    def diff_wal(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("diff_wal")

    def search_wal(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("search_wal")

    async def snapshot_rules(self) -> Any:
        self._unsupported("snapshot_rules")

    async def snapshot_path(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("snapshot_path")

    def diff_snapshots(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("diff_snapshots")

    async def diff_entry(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("diff_entry")

    async def diff_file(self, *args: Any, **kwargs: Any) -> Any:
        self._unsupported("diff_file")

    def watch(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        return self._unsupported_stream("watch")
