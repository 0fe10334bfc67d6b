"""``LocalSource``: a workspace directory on this machine, read-only.

The source is composed of services, each over the directory's storage
(``backends.storage.directory.DirStorage``): ``self.wal`` (``WalService``),
``self.checksums``, ``self.snapshots`` and ``self.events``; the engine
operations of the ``DataSource`` contract are delegated to them. Runs, files
and inventory are read here. Blocking work runs on threads (``asyncio.to_thread`` or a producer thread for
streams), so the event loop of the TUI or of the HTTP server never stalls. No
method writes anything: every file is opened ``"rb"``.
"""

from __future__ import annotations

import asyncio
import fnmatch
import os
import stat
import threading
from contextlib import aclosing
from typing import TYPE_CHECKING, AsyncIterator, Iterator


from backends.checksums.local import ChecksumsService
from backends.confine import OUTSIDE_TARGET, inside, not_regular
from backends.errors import ForbiddenError, NotFoundError, UnavailableError, UnreadableError, os_reason
from backends.events.local import EventsService
from backends.globwalk import is_wildcard, walk_glob
from backends.rooted import Rooted
from backends.models import (
    CAP_FILES,
    CAP_INVENTORY,
    CAP_RUNS,
    ArtifactPreview,
    FileEntry,
    Page,
    Problem,
    RunDetail,
    RunEvent,
    RunQuery,
    RunSummary,
    SnapshotInfo,
    SourceInfo,
    WalPair,
)
from backends.snapshots.local import SnapshotsService
from backends.wal.local import WalService
from backends.runs import (
    MAX_ARTIFACT_PARSE_BYTES,
    discover_runs,
    list_artifacts,
    load_status,
    parse_event_cursor,
    preview_artifact,
    read_bounded,
    read_events,
    summarize_run,
)
from backends.childpipe import Child
from backends.runs_child import scan_runs_in_child, start_scan
from backends.threadstream import iterate_in_thread

if TYPE_CHECKING:
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

MAX_READ_RANGE = 16 << 20
MAX_EVENTS_PAGE = 5000


class LocalSource(Rooted):
    """A workspace on the local filesystem, composed of engine services over its ``DirStorage``.

    Args:
        spec: A directory path, or ``file://`` followed by one.

    Raises:
        NotFoundError: When the path does not exist or is not a directory.
        MalformedError: When its ``driftdeck.yaml`` is broken.
    """

    kind = "local"
    _early_scan: Child | None = None

    def __init__(self, spec: str) -> None:
        super().__init__(spec)
        self.wal = WalService(self.storage)
        self.checksums = ChecksumsService(self.storage)
        self.snapshots = SnapshotsService(self)
        self.events = EventsService(self.storage)

    def __repr__(self) -> str:
        return f"LocalSource({self.root!r})"

    async def describe(self) -> SourceInfo:
        return SourceInfo(
            spec=self.spec,
            kind=self.kind,
            root=self.root,
            read_only=True,
            capabilities=frozenset({CAP_RUNS, CAP_FILES, CAP_INVENTORY})
            | ChecksumsService.CAPABILITIES
            | WalService.CAPABILITIES
            | SnapshotsService.CAPABILITIES
            | EventsService.CAPABILITIES,
            layout=self.layout.to_json(),
        )

    async def aclose(self) -> None:
        if self._early_scan is not None:
            self._early_scan.close()
            self._early_scan = None

    def start_scan_early(self) -> None:
        """Start the isolated Runs scan now, for the next ``scan_runs_isolated`` to read.

        A UI calls this before it imports and composes (about 0.3 s): the scan
        child's own start-up and first batch (0.18 s on 100,000 runs) happen
        meanwhile. Does nothing when a scan is already waiting or cannot start.
        """
        if self._early_scan is None:
            try:
                self._early_scan = start_scan(self.root)
            except UnavailableError:
                self._early_scan = None  # scan_runs_isolated starts (or falls back) itself and says why

    # Runs ------------------------------------------------------------------

    def iter_runs(
        self, query: RunQuery = RunQuery(), batch: int = 500, after: str | None = None
    ) -> AsyncIterator[list[RunSummary]]:
        after_parts = after.split("/") if after else None

        def produce(stop: threading.Event) -> Iterator[list[RunSummary]]:
            chunk: list[RunSummary] = []
            size = min(batch, 64)  # small first batches: the first screen fills sooner
            for run in discover_runs(self.root, self.layout, query):
                if after_parts is not None and run.key.split("/") <= after_parts:
                    continue  # a resumed listing: by key, so a run added or released meanwhile shifts nothing
                chunk.append(run)
                if len(chunk) >= size:
                    yield chunk
                    chunk = []
                    size = min(batch, size * 2)
                if stop.is_set():
                    return
            if chunk:
                yield chunk

        return iterate_in_thread(produce, name="driftdeck-runs")

    async def scan_runs_isolated(self) -> AsyncIterator[list[RunSummary]]:
        """Every run, in path order, scanned in a child process (see ``backends.runs_child``).

        For a UI: the scan cannot compete with drawing for the GIL. When the
        child fails before its first batch (the interpreter cannot be run again,
        say), the scan runs on a thread here instead; a failure after that is raised.
        """
        started = False
        early, self._early_scan = self._early_scan, None
        try:
            async with aclosing(scan_runs_in_child(self.root, early)) as batches:
                async for batch in batches:
                    started = True
                    yield batch
        except UnavailableError:
            if started:
                raise
            async for batch in self.iter_runs(RunQuery(), batch=500):
                yield batch

    async def list_runs(
        self, query: RunQuery = RunQuery(), cursor: str | None = None, limit: int = 500
    ) -> Page[RunSummary]:
        return await asyncio.to_thread(self._list_runs, query, cursor, max(1, limit))

    def _list_runs(self, query: RunQuery, cursor: str | None, limit: int) -> Page[RunSummary]:
        after = cursor.split("/") if cursor else None
        items: list[RunSummary] = []
        for run in discover_runs(self.root, self.layout, query):
            if after is not None and run.key.split("/") <= after:
                continue
            if len(items) == limit:
                return Page(tuple(items), items[-1].key)
            items.append(run)
        return Page(tuple(items), None)

    async def get_run(self, run: str) -> RunDetail:
        return await asyncio.to_thread(self._get_run, run)

    def _find_run(self, run: str) -> RunSummary:
        for key in self._candidate_keys(run):
            summary = summarize_run(self.root, key, key.rsplit("/", 1)[-1], self.layout)
            if run in (summary.run_id, summary.key):
                return summary
        for summary in discover_runs(self.root, self.layout):
            if run in (summary.run_id, summary.key):
                return summary
        raise NotFoundError(f"{run}: no such run in {self.root}")

    def _candidate_keys(self, run: str) -> Iterator[str]:
        """Run directories that may hold ``run`` without a full scan."""
        if "\x00" in run or run.startswith("/") or ".." in run.split("/"):
            return
        segments = self.layout.runs.strip("/").split("/")
        if len(run.split("/")) == len(segments) and fnmatch.fnmatchcase(run, self.layout.runs.strip("/")):
            if os.path.isdir(self._resolve(run)):
                yield run
        wild = [i for i, s in enumerate(segments) if is_wildcard(s)]
        if len(wild) == 1 and "/" not in run and fnmatch.fnmatchcase(run, segments[wild[0]]):
            segments[wild[0]] = run
            key = "/".join(segments)
            if os.path.isdir(self._resolve(key)):
                yield key

    def _get_run(self, run: str) -> RunDetail:
        summary = self._find_run(run)
        key = summary.key
        status_rel = f"{key}/{self.layout.status}"
        status, _ = load_status(self.root, status_rel)
        problems: list[Problem] = [summary.problem] if summary.problem else []
        record_rel = f"{key}/{self.layout.record}"
        record: str | None = record_rel  # None when there is no record to page through
        try:
            record_stat = os.stat(self._resolve(record_rel))
            record_size = record_stat.st_size
            if not stat.S_ISREG(record_stat.st_mode):  # a FIFO or a directory: never paged (nor waited on)
                problems.append(Problem(record_rel, None, f"unreadable: {not_regular(record_stat.st_mode)}"))
                record, record_size = None, 0
        except ForbiddenError as exc:
            problems.append(Problem(record_rel, None, str(exc).split(": ", 1)[1]))
            record, record_size = None, 0
        except FileNotFoundError:
            record, record_size = None, 0
        except OSError as exc:  # what cannot be looked at cannot be paged either
            problems.append(Problem(record_rel, None, f"unreadable: {os_reason(exc)}"))
            record, record_size = None, 0
        artifacts, artifact_problems = list_artifacts(self.root, key, self.layout)
        problems.extend(artifact_problems)
        problems.extend(a.problem for a in artifacts if a.problem is not None)
        wal_files = tuple(
            f"{key}/{rel}"
            for rel, _ in walk_glob(os.path.join(self.root, key), self.layout.wal, want_dirs=False, confine=self._real_root, keep_refused=True)
        )
        return RunDetail(summary, status, status_rel, record, record_size, tuple(artifacts), wal_files, tuple(problems))

    async def run_events(self, run: str, cursor: str | None = None, limit: int = 200) -> Page[RunEvent]:
        return await asyncio.to_thread(self._run_events, run, cursor, min(max(1, limit), MAX_EVENTS_PAGE))

    def _run_events(self, run: str, cursor: str | None, limit: int) -> Page[RunEvent]:
        summary = self._find_run(run)
        rel = f"{summary.key}/{self.layout.record}"
        offset, line = parse_event_cursor(cursor)
        try:
            events, offset, line, at_end = read_events(self._resolve(rel), rel, offset, line, limit)
        except FileNotFoundError:
            return Page((), None)
        except OSError as exc:
            raise UnreadableError(f"{rel}: unreadable: {os_reason(exc)}", path=rel) from None
        return Page(tuple(events), None if at_end else f"{offset}:{line}")

    async def artifact_preview(self, path: str, max_bytes: int = 65536) -> ArtifactPreview:
        return await asyncio.to_thread(self._artifact_preview, path, max(256, max_bytes))

    def _artifact_preview(self, path: str, max_bytes: int) -> ArtifactPreview:
        abs_path = self._resolve(path)
        try:
            data, size = read_bounded(abs_path, MAX_ARTIFACT_PARSE_BYTES + 1)
        except OSError as exc:
            raise UnreadableError(f"{path}: unreadable: {os_reason(exc)}", path=path) from None
        return preview_artifact(path, data, size, max_bytes)

    # Files -----------------------------------------------------------------

    async def list_dir(self, path: str = "", after: str | None = None, limit: int | None = None) -> list[FileEntry]:
        return await asyncio.to_thread(self._list_dir, path, after, limit)

    def _list_dir(self, path: str, after: str | None = None, limit: int | None = None) -> list[FileEntry]:
        abs_path = self._resolve(path or ".")
        rel = "" if path in ("", ".") else path.strip("/")
        try:
            with os.scandir(abs_path) as it:
                names = sorted(entry.name for entry in it if after is None or entry.name > after)
            if limit is not None:
                names = names[:limit]
        except FileNotFoundError:
            raise NotFoundError(f"{path or '.'}: no such directory", path=path) from None
        except OSError as exc:
            raise UnreadableError(f"{path or '.'}: cannot list: {os_reason(exc)}", path=path) from None
        return [self._entry(os.path.join(abs_path, n), f"{rel}/{n}" if rel else n) for n in names]

    async def stat(self, path: str) -> FileEntry:
        return await asyncio.to_thread(self._stat, path)

    def _stat(self, path: str) -> FileEntry:
        abs_path = self._resolve(path, follow=False)
        if not os.path.lexists(abs_path):
            raise NotFoundError(f"{path}: no such file", path=path)
        return self._entry(abs_path, path.strip("/"))

    def _entry(self, abs_path: str, rel: str) -> FileEntry:
        try:
            st = os.lstat(abs_path)
        except OSError as exc:
            return FileEntry(rel, "other", 0, 0.0, error=os_reason(exc))
        if stat.S_ISLNK(st.st_mode):
            try:
                target: str | None = os.readlink(abs_path)
            except OSError:
                target = None
            if target is not None and not inside(self._real_root, os.path.realpath(abs_path)):
                target = OUTSIDE_TARGET  # where a link out of the root points is not the client's business
            return FileEntry(rel, "symlink", st.st_size, st.st_mtime, target=target)
        kind = "dir" if stat.S_ISDIR(st.st_mode) else "file" if stat.S_ISREG(st.st_mode) else "other"
        return FileEntry(rel, kind, st.st_size, st.st_mtime)

    async def read_range(self, path: str, offset: int, length: int) -> bytes:
        return await asyncio.to_thread(self._read_range, path, max(0, offset), min(max(0, length), MAX_READ_RANGE))

    def _read_range(self, path: str, offset: int, length: int) -> bytes:
        fd = self._open(path)
        try:
            return os.pread(fd, length, offset)
        except OSError as exc:
            raise UnreadableError(f"{path}: unreadable: {os_reason(exc)}", path=path) from None
        finally:
            os.close(fd)

    # Inventory -------------------------------------------------------------

    async def list_manifests(self) -> list[str]:
        return await asyncio.to_thread(self._list_manifests)

    def _list_manifests(self) -> list[str]:
        found: set[str] = set()
        for glob in self.layout.manifests:
            # keep_refused: a manifest linking out of the root is listed; verifying it says it is refused
            found.update(rel for rel, _ in walk_glob(self.root, glob, want_dirs=False, confine=self._real_root, keep_refused=True))
        return sorted(found)

    async def list_snapshots(self) -> list[SnapshotInfo]:
        return await asyncio.to_thread(self._list_snapshots)

    def _list_snapshots(self) -> list[SnapshotInfo]:
        snapshots = []
        for rel, _ in walk_glob(self.root, self.layout.snapshots, want_dirs=True, confine=self._real_root):
            files = size = 0
            newest = 0.0
            for dirpath, _, filenames in os.walk(os.path.join(self.root, rel)):
                for name in filenames:
                    try:
                        st = os.lstat(os.path.join(dirpath, name))
                    except OSError:
                        continue
                    files += 1
                    size += st.st_size
                    newest = max(newest, st.st_mtime)
            snapshots.append(SnapshotInfo(rel.rsplit("/", 1)[-1], rel, files, size, newest))
        snapshots.sort(key=lambda s: (s.mtime, s.name))
        return snapshots

    async def list_wal_pairs(self) -> list[WalPair]:
        return await asyncio.to_thread(self._list_wal_pairs)

    def _list_wal_pairs(self) -> list[WalPair]:
        pairs = []
        for key, captures in walk_glob(self.root, self.layout.runs, want_dirs=True, confine=self._real_root):
            files = [
                rel
                for rel, _ in walk_glob(os.path.join(self.root, key), self.layout.wal, want_dirs=False, confine=self._real_root, keep_refused=True)
            ]
            if not files:
                continue
            run_id = summarize_run(self.root, key, captures[-1] if captures else key, self.layout).run_id
            names = set(files)
            for rel in files:
                base = rel.rsplit("/", 1)[-1]
                if "record" not in base:
                    continue
                partner = rel[: len(rel) - len(base)] + base.replace("record", "replay")
                pairs.append(WalPair(run_id, f"{key}/{rel}", f"{key}/{partner}" if partner in names else None))
        return pairs


    # Engines, delegated to the services ----------------------------------------

    def verify_checksums(
        self, manifest: str, *, include_new: bool = True, scope: Scope | None = None, emit_ok: bool = True
    ) -> AsyncIterator[ChecksumEntry | ChecksumProgress | ChecksumSummary]:
        if scope is None:
            return self.checksums.verify_checksums(manifest, include_new=include_new, emit_ok=emit_ok)
        return self.checksums.verify_checksums(manifest, include_new=include_new, scope=scope, emit_ok=emit_ok)

    def wal_index(self, path: str) -> AsyncIterator[WalProgress | WalIndexInfo]:
        return self.wal.wal_index(path)

    async def wal_lines(
        self, path: str, start: int, count: int, rules: WalRules | None = None, *, max_chars: int | None = None
    ) -> list[WalLine]:
        return await self.wal.wal_lines(path, start, count, rules, max_chars=max_chars)

    def validate_wal(
        self, path: str, *, max_problems: int | None = None
    ) -> AsyncIterator[WalProblem | WalProgress | WalValidation]:
        return self.wal.validate_wal(path, max_problems=max_problems)

    def diff_wal(
        self, record: str, replay: str, rules: WalRules | None = None, *, max_divergences: int = 0, context: int | None = None
    ) -> AsyncIterator[WalDivergence | WalProgress | WalDiffSummary]:
        return self.wal.diff_wal(record, replay, rules, max_divergences=max_divergences, context=context)

    def search_wal(self, path: str, text: str, rules: WalRules | None = None) -> AsyncIterator[list[int] | WalProgress]:
        return self.wal.search_wal(path, text, rules)

    async def snapshot_rules(self) -> SnapshotRules:
        return await self.snapshots.snapshot_rules()

    async def snapshot_path(self, name: str) -> str:
        return await self.snapshots.snapshot_path(name)

    def diff_snapshots(
        self, a: str, b: str, rules: SnapshotRules | None = None, *, unchanged: bool = True
    ) -> AsyncIterator[EntryDiff | DiffProgress | DiffSummary]:
        return self.snapshots.diff_snapshots(a, b, rules, unchanged=unchanged)

    async def diff_entry(
        self, a: str, b: str, path: str, rules: SnapshotRules | None = None, mode: str = "auto",
        *, old_path: str | None = None, context: int = 3,
    ) -> EntryContent:
        return await self.snapshots.diff_entry(a, b, path, rules, mode, old_path=old_path, context=context)

    async def diff_file(self, a: str, b: str) -> str:
        return await self.snapshots.diff_file(a, b)

    def watch(self, path: str = "", filters: WatchFilter | None = None) -> AsyncIterator[list[FsEvent]]:
        if filters is None:
            return self.events.watch(path)
        return self.events.watch(path, filters)
