"""Verify a manifest held in a ``Storage`` (a bucket): objects hashed from streamed GETs, many in flight.

The verdicts are ``verdicts.Verdicts``'s, exactly as for a directory; what
differs is reading. The manifest is read with one GET and parsed by the same
parser. The manifest's directory is listed once (recursively, 1,000 keys a
request): an object there is hashed from a streamed GET on one of
``CONCURRENCY`` threads (``hashlib`` and obstore's reads release the GIL); a
listed path that is a directory (a prefix, or a ``dir/`` marker key) is
``unreadable``, as a directory is; an object that vanishes between the listing
and its GET is ``unreadable`` with a one-line reason, and the rest is still
verified. Unlisted objects (``new``, and ``moved`` targets) come from the same
listing, in the directory scan's order.

No store's SHA-256 can be read through obstore 0.12 (see
``backends.storage.bucket``), so every listed object is downloaded and hashed.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import posixpath
import threading
from collections.abc import Iterable, Iterator
from typing import BinaryIO
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

from backends.checksums.early import PLAIN_MAX, Lines
from backends.checksums.hashing import IS_A_DIRECTORY, Outcome
from backends.checksums.manifest import parse_plain
from backends.checksums.models import MANIFEST_MISSING, MANIFEST_UNREADABLE, MISSING, UNREADABLE, ManifestProblem
from backends.checksums.scope import Scope
from backends.checksums.verdicts import Tally, Verdicts, VerifyItem, leaves
from backends.errors import DriftdeckError, ForbiddenError, NotFoundError
from backends.storage.base import ChunkStream, Stat, Storage, WalkStorage, parents

CONCURRENCY = 32
"""GETs in flight (the issue's measurement on 2 cores: obstore peaks around 32)."""
CHUNK = 1 << 20
"""Bytes per chunk of a streamed GET."""
VANISHED = "vanished between listing and reading"
_DIRECTORY = Outcome(None, None, 0.0, UNREADABLE, IS_A_DIRECTORY)  # a bucket keeps no time for a directory
_MISSING = Outcome(None, None, None, MISSING, "no such file")
BATCH = 64
"""Outcomes handed over at once."""


class Tree:
    """The objects under the manifest's directory, by path relative to it, and the directories they imply.

    Args:
        storage: Where they live.
        base: The manifest's directory (root-relative).
        objects: What one recursive listing of ``base`` gave.
    """

    def __init__(self, storage: Storage, base: str, objects: Iterable[Stat]) -> None:
        self.storage = storage
        self.base = base
        cut = len(base) + 1 if base else 0
        self.objects = {o.path[cut:]: o for o in objects if o.path[cut:]}
        self.dirs = parents(self.objects)
        self._parents: dict[str, dict[str, Stat]] = {}

    def locate(self, rel: str) -> Stat | None:
        """What the root-relative ``rel`` is by its parent's delimiter listing (each parent listed once):
        an object, a directory (a prefix or a ``dir/`` marker), or ``None``."""
        parent, _, name = rel.rpartition("/")
        if parent not in self._parents:
            listing = self.storage.list(parent, limit=1 << 30)
            self._parents[parent] = {d: Stat(d, "dir", 0, 0.0, None) for d in listing.dirs}
            self._parents[parent].update((f.path, f) for f in listing.files)
        return self._parents[parent].get(f"{parent}/{name}" if parent else name)

    def root_path(self, key: str) -> str:
        """The root-relative path of a key relative to the manifest's directory."""
        return posixpath.normpath(posixpath.join(self.base, key)) if self.base else posixpath.normpath(key)

    def unlisted(self, listed: dict[str, object], skip: str, scope: Scope) -> list[str]:
        """Objects no line lists, in scope, in the directory scan's order (per directory: its files by name,
        then each sub-directory's); those under a listed directory last, after the rest, by directory."""
        listed_dirs = sorted(d for d in listed if d in self.dirs and not leaves(d))
        entered = [d for d in listed_dirs if scope.recursive and not scope.excluded(d)]
        main: list[str] = []
        later: dict[str, list[str]] = {d: [] for d in entered}
        for rel in self.objects:
            if rel in listed or rel == skip:
                continue
            parts = rel.split("/")
            if len(parts) > 1 and not scope.recursive:
                continue
            ancestors = ["/".join(parts[:i]) for i in range(1, len(parts))]
            if scope.exclude and any(scope.excluded(a) for a in (*ancestors, rel)):
                continue
            owner = next((a for a in reversed(ancestors) if a in listed), None)  # the deepest: each is scanned on its own
            if owner is None:
                main.append(rel)
            elif owner in later:
                later[owner].append(rel)
        found = sorted(main, key=_scan_order)
        for rel_dir in entered:
            found.extend(sorted(later[rel_dir], key=_scan_order))
        return found


def _scan_order(rel: str) -> list[tuple[int, str]]:
    """Depth-first order of ``scan_scope``: in each directory its files by name, then its sub-directories."""
    parts = rel.split("/")
    return [(1, p) for p in parts[:-1]] + [(0, parts[-1])]


def hash_object(storage: Storage, rel: str, listed: Stat, stop: threading.Event) -> Outcome:
    """Hash one listed object from a streamed GET, never raising for a store error (a reason instead).

    Args:
        storage: Where it lives.
        rel: Root-relative path.
        listed: What the listing said of it (its time is reported).
        stop: Checked between chunks.
    """
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in storage.stream(rel, chunk_size=CHUNK):
            digest.update(chunk)
            size += len(chunk)
            if stop.is_set():
                return Outcome(None, size, listed.mtime, UNREADABLE, "stopped")
    except NotFoundError:
        return Outcome(None, None, None, UNREADABLE, VANISHED)
    except DriftdeckError as exc:
        return Outcome(None, listed.size, listed.mtime, UNREADABLE, _reason(exc, rel))
    return Outcome(digest.hexdigest(), size, listed.mtime)


def _reason(exc: DriftdeckError, rel: str) -> str:
    text = str(exc)
    return text[len(rel) + 2:] if text.startswith(f"{rel}: ") else text


def hash_objects(
    storage: Storage, jobs: list[tuple[str, Stat]], stop: threading.Event, concurrency: int = CONCURRENCY
) -> Iterator[list[tuple[int, Outcome]]]:
    """``(index, outcome)`` batches for ``jobs`` (root-relative path, listing), ``concurrency`` GETs in flight,
    as they complete."""
    if not jobs:
        return
    with ThreadPoolExecutor(min(concurrency, len(jobs)), thread_name_prefix="driftdeck-get") as pool:
        pending: dict[Future[Outcome], int] = {}
        queue = iter(range(len(jobs)))
        try:
            for index in queue:
                pending[pool.submit(hash_object, storage, *jobs[index], stop)] = index
                if len(pending) >= concurrency * 2:
                    break
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                batch = [(pending.pop(future), future.result()) for future in done]
                for index in queue:
                    pending[pool.submit(hash_object, storage, *jobs[index], stop)] = index
                    if len(pending) >= concurrency * 2:
                        break
                yield batch
        except GeneratorExit:  # abandoned: the GETs in flight stop at their next chunk, not at their end
            stop.set()
            raise
        finally:
            for future in pending:
                future.cancel()


def verify_in_storage(
    storage: WalkStorage,
    manifest: str,
    *,
    include_new: bool = True,
    scope: Scope = Scope(),
    stop: threading.Event | None = None,
    emit_ok: bool = True,
    concurrency: int = CONCURRENCY,
) -> Iterator[VerifyItem]:
    """Verify one manifest held in ``storage``; items as ``verify.verify_manifest`` yields them.

    Args:
        storage: Where the manifest and its files live.
        manifest: The manifest's root-relative path.
        include_new: Look for unlisted objects (``new``, and ``moved`` targets).
        scope: Where unlisted objects are looked for.
        stop: Set it to stop; the summary then says ``cancelled``.
        emit_ok: Yield ``ok`` entries (they are always counted).
        concurrency: GETs in flight.
    """
    verdicts = Verdicts(manifest, stop or threading.Event())
    stop = verdicts.stop
    chunks = storage.stream(manifest, chunk_size=CHUNK)
    head = bytearray()
    try:
        for chunk in chunks:
            head += chunk
            if len(head) > PLAIN_MAX:
                break
    except ForbiddenError as exc:
        yield verdicts.summary(ManifestProblem(MANIFEST_UNREADABLE, str(exc)))
        return
    except NotFoundError:
        yield verdicts.summary(_absent(storage, manifest))
        return
    except DriftdeckError as exc:
        yield verdicts.summary(ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {_reason(exc, manifest)}"))
        return
    plain: tuple[list[str], list[str]] | None = None
    source: BinaryIO | None = None
    if len(head) <= PLAIN_MAX:  # read at once, parsed in bulk when plain
        data = bytes(head)
        plain = parse_plain(data, Lines(data).rows)
        source = None if plain is not None else io.BytesIO(data)
        del data
    else:  # too big to hold: parsed line by line as the same GET goes on
        source = io.BufferedReader(ChunkStream(itertools.chain([bytes(head)], chunks)), CHUNK)
    del head
    try:
        go_on = yield from verdicts.take(plain, source)
    except DriftdeckError as exc:
        yield verdicts.summary(ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {_reason(exc, manifest)}"))
        return
    finally:
        if source is not None:
            source.close()
        close = getattr(chunks, "close", None)
        if close is not None:
            close()  # ends the manifest's GET now (the chain around it above has no close of its own)
    if not go_on:
        return
    base = posixpath.dirname(manifest)
    tree = Tree(storage, base, storage.walk(base))
    jobs: list[tuple[str, Stat]] = []
    hashed_index: list[int] = []
    refused: list[int] = []
    known: list[tuple[int, Outcome]] = []  # decided from listings alone: directories, missing files
    for index, key in enumerate(verdicts.primary_keys):
        rel = tree.root_path(key)
        if key.startswith("/") or rel == ".." or rel.startswith("../"):
            refused.append(index)
            continue
        if key in tree.objects:
            what: Stat | None = tree.objects[key]
        elif key in tree.dirs:
            known.append((index, _DIRECTORY))
            continue
        else:  # not listed: a "dir/" marker, or nothing (never a GET: SeaweedFS answers "a\\b" with "a/b")
            try:
                what = tree.locate(rel)
            except DriftdeckError as exc:  # a name no key can have (a NUL byte): one line, the rest verified
                known.append((index, Outcome(None, None, None, UNREADABLE, _reason(exc, rel))))
                continue
        if what is not None and what.kind == "file":
            hashed_index.append(index)
            jobs.append((rel, what))
        else:
            known.append((index, _MISSING if what is None else _DIRECTORY))
    unlisted = tree.unlisted(verdicts.listed, posixpath.basename(manifest), scope) if include_new else []
    tally = Tally(len(jobs) + len(known), sum(stat.size for _, stat in jobs))
    yield from verdicts.refused(refused)
    last = [(len(jobs) + n, outcome) for n, (_, outcome) in enumerate(known)]
    hashed_index += [index for index, _ in known]
    batches = _then(hash_objects(storage, jobs, stop, concurrency), last)
    if not emit_ok:  # as the directory's pool does: matching files are only counted
        batches = _counted(batches, [verdicts.digests[verdicts.primaries[i]] for i in hashed_index], tally)
    yield from verdicts.decide(batches, hashed_index, tally, emit_ok)
    verdicts.add_ok(tally.ok)
    if stop.is_set():
        yield verdicts.summary(tally=tally, final=True)
        return
    found: dict[str, tuple[str, Outcome]] = {}
    seen: dict[str, Outcome] = {}
    if verdicts.missing and unlisted:
        more = [(tree.root_path(rel), tree.objects[rel]) for rel in unlisted]
        found, seen = verdicts.moves(
            (item for batch in hash_objects(storage, list(more), stop, concurrency) for item in batch), unlisted,
            verdicts.wanted(), tally,
        )
        if stop.is_set():
            yield verdicts.summary(tally=tally, final=True)
            return
    yield verdicts.progress(tally)

    def look(rel: str) -> Outcome:
        listed = tree.objects[rel]
        return Outcome(None, listed.size, listed.mtime)

    yield from verdicts.finish(found, unlisted, seen, look, tally)


def _counted(
    batches: Iterator[list[tuple[int, Outcome]]], expected: list[str], tally: Tally
) -> Iterator[list[tuple[int, Outcome]]]:
    """The outcomes that differ from ``expected``; matches only counted in ``tally``."""
    for batch in batches:
        kept = [(position, outcome) for position, outcome in batch if outcome.digest != expected[position]]
        matched = len(batch) - len(kept)
        tally.ok += matched
        tally.files_done += matched
        tally.hashed += matched
        tally.bytes_done += sum(o.size or 0 for p, o in batch if o.digest == expected[p])
        yield kept


def _then(batches: Iterator[list[tuple[int, Outcome]]], last: list[tuple[int, Outcome]]) -> Iterator[list[tuple[int, Outcome]]]:
    yield from batches
    if last:
        yield last


def _absent(storage: Storage, manifest: str) -> ManifestProblem:
    """Why a manifest's GET found nothing: a directory (marker) there, or nothing at all."""
    try:
        kind = storage.stat(manifest).kind
    except NotFoundError:
        return ManifestProblem(MANIFEST_MISSING, f"{manifest}: no such manifest")
    if kind == "dir":
        return ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {IS_A_DIRECTORY}")
    return ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {VANISHED}")
