"""The ``DataSource`` protocol and ``open_source(spec)``.

Every pane and every CLI command talks to exactly one ``DataSource``. A source
is chosen by a spec string: a filesystem path opens a ``LocalSource``, an
``http(s)://`` URL an HTTP source, and third parties register more schemes in
the ``driftdeck.sources`` entry-point group (the entry-point name is the URL
scheme, the object a class taking ``(spec)``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, AsyncIterator, Callable, Protocol, runtime_checkable

from backends.errors import SourceSpecError
from backends.models import CAP_CHECKSUMS as CAP_CHECKSUMS  # re-exported: plugins name capabilities from here
from backends.models import CAP_FILES as CAP_FILES
from backends.models import CAP_INVENTORY as CAP_INVENTORY
from backends.models import CAP_RUNS as CAP_RUNS
from backends.models import CAP_SNAPSHOTS as CAP_SNAPSHOTS
from backends.models import CAP_WAL as CAP_WAL
from backends.models import CAP_WATCH as CAP_WATCH
from backends.models import (
    ArtifactPreview,
    FileEntry,
    Page,
    RunDetail,
    RunEvent,
    RunQuery,
    RunSummary,
    SnapshotInfo,
    SourceInfo,
    WalPair,
)

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from backends.checksums.models import ChecksumEntry, ChecksumProgress, ChecksumSummary
    from backends.checksums.scope import Scope
    from backends.events.model import FsEvent, WatchFilter
    from backends.snapshots.models import DiffProgress, DiffSummary, EntryContent, EntryDiff, SnapshotRules
    from backends.wal.diff import WalDiffSummary, WalDivergence
    from backends.wal.index import WalIndexInfo
    from backends.wal.lines import WalLine
    from backends.wal.progress import WalProgress
    from backends.wal.rules import WalRules
    from backends.wal.validate import WalProblem, WalValidation

ENTRY_POINT_GROUP = "driftdeck.sources"


@runtime_checkable
class DataSource(Protocol):
    """What every source offers. All paths are POSIX, relative to the root.

    Streams are async iterators: engines run where the data is and their
    results arrive as they are produced; stop iterating to cancel. Operations
    a source does not support raise ``UnsupportedError``; its
    ``describe().capabilities`` says which ones it supports.
    """

    spec: str

    async def describe(self) -> SourceInfo:
        """Cheap description: root, kind, capabilities, layout."""
        ...

    async def aclose(self) -> None:
        """Release connections, threads and watches."""
        ...

    # Runs and quarantine -------------------------------------------------
    def iter_runs(
        self, query: RunQuery = RunQuery(), batch: int = 500, after: str | None = None
    ) -> AsyncIterator[list[RunSummary]]:
        """Stream runs matching ``query`` in key order, in batches, as they are discovered (after the key ``after``)."""
        ...

    async def list_runs(
        self, query: RunQuery = RunQuery(), cursor: str | None = None, limit: int = 500
    ) -> Page[RunSummary]:
        """One page of runs in discovery order; pass ``next_cursor`` back for more."""
        ...

    async def get_run(self, run: str) -> RunDetail:
        """One run by id or key, with its artifacts. Raises ``NotFoundError``."""
        ...

    async def run_events(self, run: str, cursor: str | None = None, limit: int = 200) -> Page[RunEvent]:
        """A page of a run's record events, oldest first."""
        ...

    async def artifact_preview(self, path: str, max_bytes: int = 65536) -> ArtifactPreview:
        """A bounded, pretty-printed preview of an artifact file."""
        ...

    # Files ----------------------------------------------------------------
    async def list_dir(self, path: str = "", after: str | None = None, limit: int | None = None) -> list[FileEntry]:
        """Entries of one directory, sorted by name."""
        ...

    async def stat(self, path: str) -> FileEntry:
        """One entry without following a final symlink."""
        ...

    async def read_range(self, path: str, offset: int, length: int) -> bytes:
        """Up to ``length`` bytes of a file starting at ``offset``."""
        ...

    # Inventory -------------------------------------------------------------
    async def list_manifests(self) -> list[str]:
        """Checksum manifests the source holds, sorted."""
        ...

    async def list_snapshots(self) -> list[SnapshotInfo]:
        """Trace snapshots, oldest first."""
        ...

    async def list_wal_pairs(self) -> list[WalPair]:
        """Record/replay WAL pairs, by run."""
        ...

    # Checksums (pane 5) -----------------------------------------------------
    def verify_checksums(
        self, manifest: str, *, include_new: bool = True, scope: "Scope" = ..., emit_ok: bool = True
    ) -> "AsyncIterator[ChecksumEntry | ChecksumProgress | ChecksumSummary]":
        """Verify one manifest: entries as files complete, progress, the summary last."""
        ...

    # WAL / replay (pane 3) ------------------------------------------------------
    def wal_index(self, path: str) -> "AsyncIterator[WalProgress | WalIndexInfo]":
        """Build (or reuse) a WAL file's line-offset index: progress, then its size."""
        ...

    async def wal_lines(
        self, path: str, start: int, count: int, rules: "WalRules | None" = None, *, max_chars: int = ...
    ) -> "list[WalLine]":
        """Lines ``start`` … of a WAL file (1-based), redacted and ready to show."""
        ...

    def validate_wal(self, path: str, *, max_problems: int = ...) -> "AsyncIterator[WalProblem | WalProgress | WalValidation]":
        """Problems in line order, progress, one summary last."""
        ...

    def diff_wal(
        self, record: str, replay: str, rules: "WalRules | None" = None, *, max_divergences: int = 0, context: int = ...
    ) -> "AsyncIterator[WalDivergence | WalProgress | WalDiffSummary]":
        """Divergences between a record and its replay, progress, one summary last."""
        ...

    def search_wal(self, path: str, text: str, rules: "WalRules | None" = None) -> "AsyncIterator[list[int] | WalProgress]":
        """Line numbers whose shown (redacted) text contains ``text`` (``!`` inverts)."""
        ...

    # Snapshots (pane 4) ----------------------------------------------------------
    async def snapshot_rules(self) -> "SnapshotRules":
        """The snapshot rules the workspace configures (``driftdeck.yaml``)."""
        ...

    async def snapshot_path(self, name: str) -> str:
        """Where the snapshot ``name`` lives, relative to the root."""
        ...

    def diff_snapshots(
        self, a: str, b: str, rules: "SnapshotRules | None" = None, *, unchanged: bool = True
    ) -> "AsyncIterator[EntryDiff | DiffProgress | DiffSummary]":
        """Entry differences between two snapshots, progress, the summary last."""
        ...

    async def diff_entry(
        self, a: str, b: str, path: str, rules: "SnapshotRules | None" = None, mode: str = "auto",
        *, old_path: str | None = None, context: int = 3,
    ) -> "EntryContent":
        """The content diff of one entry, computed when asked for."""
        ...

    async def diff_file(self, a: str, b: str) -> str:
        """Unified diff of two files."""
        ...

    # Live events (pane 2) --------------------------------------------------------
    def watch(self, path: str = "", filters: "WatchFilter" = ...) -> "AsyncIterator[list[FsEvent]]":
        """Batches of live filesystem events under ``path``; losses arrive as explicit
        ``lost`` markers followed by ``reconciled`` events, never silently."""
        ...


def _plugin_sources() -> dict[str, EntryPoint]:
    from importlib.metadata import entry_points

    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def open_source(spec: str) -> DataSource:
    """Open the source a spec string names.

    Args:
        spec: A filesystem path, an ``http(s)://`` URL, or ``scheme://...``
            for a scheme registered in the ``driftdeck.sources`` group.

    Returns:
        A ready source.

    Raises:
        SourceSpecError: When the spec names nothing that can be opened.
        NotFoundError: When a local path does not exist.
    """
    scheme, sep, _ = spec.partition("://")
    if not sep:
        from backends.local import LocalSource

        return LocalSource(spec)
    scheme = scheme.lower()
    plugins = _plugin_sources()
    if scheme in plugins:
        factory: Callable[[str], DataSource] = plugins[scheme].load()  # the group's contract: a class taking (spec)
        return factory(spec)
    if scheme in ("http", "https"):
        from backends.http.client import HttpSource

        return HttpSource(spec)
    known = ", ".join(sorted({"http", "https", *plugins})) or "none"
    raise SourceSpecError(f"{spec}: unknown source scheme {scheme!r} (known: {known})")
