"""Verify a manifest: every listed file hashed once, each line given a drift category.

``verify_manifest`` is a plain generator (no asyncio): it yields
``ChecksumEntry`` items as files complete, ``ChecksumProgress`` now and then,
and one ``ChecksumSummary`` last. Stop it early with ``stop`` (or by closing
the generator). Categories, in short:

- ``ok`` / ``changed``: hashed, equal or not to the listed hash;
- ``missing``: no such file; ``unreadable``: the OS would not let us read it
  (permission, a directory, a dangling symlink, a loop), with the OS reason;
- ``moved``: missing, but an unlisted file in scope has the listed hash;
- ``new``: a file in scope that no line lists (never the manifest itself);
- ``duplicate``: a path listed again; ``alias``: listed again under another
  spelling (``./f`` and ``f``); either is flagged ``conflict`` when the hashes differ;
- ``malformed``: a line that is not a SHA-256 entry.
"""

from __future__ import annotations

import os
import posixpath
import threading
import time
from typing import Iterator, Union

from backends.checksums.hashing import HashPool, Outcome, hash_paths, inside
from backends.checksums.manifest import ManifestLine, MalformedLine, parse_manifest
from backends.checksums.models import (
    ALIAS,
    CHANGED,
    DUPLICATE,
    MALFORMED,
    MANIFEST_EMPTY,
    MANIFEST_MISSING,
    MANIFEST_UNPARSEABLE,
    MANIFEST_UNREADABLE,
    MISSING,
    MOVED,
    NEW,
    OK,
    UNREADABLE,
    ChecksumEntry,
    ChecksumProgress,
    ChecksumSummary,
    ManifestProblem,
)
from backends.checksums.scope import Scope, walk_scope

VerifyItem = Union[ChecksumEntry, ChecksumProgress, ChecksumSummary]

PROGRESS_SECONDS = 0.1
"""Least time between two progress items."""

_SLOW_NAME = ("./", "/")


def _key(name: str) -> str:
    """The path a name designates, relative to the manifest's directory (or absolute)."""
    if name.startswith(_SLOW_NAME) or "//" in name or "/." in name or name.endswith("/") or name in (".", ".."):
        return posixpath.normpath(name)
    return name


class _Counts:
    def __init__(self) -> None:
        self.by_category: dict[str, int] = {}
        self.drift = False

    def add(self, entry: ChecksumEntry) -> ChecksumEntry:
        self.by_category[entry.category] = self.by_category.get(entry.category, 0) + 1
        if not self.drift and entry.is_drift:
            self.drift = True
        return entry

    def add_ok(self, count: int = 1) -> None:
        if count:
            self.by_category[OK] = self.by_category.get(OK, 0) + count


def verify_manifest(
    root: str,
    manifest: str,
    *,
    include_new: bool = True,
    scope: Scope = Scope(),
    workers: int | None = None,
    stop: threading.Event | None = None,
    emit_ok: bool = True,
    allow_fork: bool = True,
) -> Iterator[VerifyItem]:
    """Verify one manifest.

    Args:
        root: The source root (absolute); no file outside it is read.
        manifest: The manifest's path relative to ``root`` (POSIX).
        include_new: Look for unlisted files (``new``, and ``moved`` targets).
        scope: Where unlisted files are looked for.
        workers: Hashing parallelism (default: the usable cores).
        stop: Set it to stop; the summary then says ``cancelled``.
        emit_ok: Yield ``ok`` entries (they are always counted).
        allow_fork: Allow worker processes when the caller is single-threaded.

    Yields:
        Entries as they are decided, progress now and then, the summary last.
    """
    started = time.monotonic()
    stop = stop or threading.Event()
    counts = _Counts()
    real_root = os.path.realpath(root)
    abs_manifest = os.path.join(root, manifest)
    base = os.path.dirname(abs_manifest)
    prefix = posixpath.dirname(manifest)

    def summary(problem: ManifestProblem | None = None, *, hashed: int = 0, nbytes: int = 0, fmt: str | None = None) -> ChecksumSummary:
        return ChecksumSummary(
            manifest,
            dict(counts.by_category),
            counts.drift or problem is not None,
            hashed,
            nbytes,
            time.monotonic() - started,
            problem,
            stop.is_set(),
            fmt,
        )

    try:
        stream = open(abs_manifest, "rb")
    except FileNotFoundError:
        yield summary(ManifestProblem(MANIFEST_MISSING, f"{manifest}: no such manifest"))
        return
    except OSError as exc:
        reason = "is a directory" if isinstance(exc, IsADirectoryError) else (exc.strerror or str(exc))
        yield summary(ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {reason}"))
        return

    lines: list[ManifestLine] = []
    try:
        with stream:
            for parsed in parse_manifest(stream):
                if type(parsed) is ManifestLine:
                    lines.append(parsed)
                else:
                    assert isinstance(parsed, MalformedLine)
                    yield counts.add(ChecksumEntry(MALFORMED, manifest, parsed.line, None, reason=f"{parsed.reason}: {parsed.text}"))
                if stop.is_set():
                    yield summary()
                    return
    except OSError as exc:
        yield summary(ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {exc.strerror or exc}"))
        return

    formats = {line.format for line in lines}
    fmt = None if not formats else formats.pop() if len(formats) == 1 else "mixed"
    problem: ManifestProblem | None = None
    if not lines:
        if counts.by_category:
            malformed = counts.by_category.get(MALFORMED, 0)
            problem = ManifestProblem(
                MANIFEST_UNPARSEABLE, f"{manifest}: no SHA-256 line among its {malformed:,} non-blank lines"
            )
            yield summary(problem)
            return
        problem = ManifestProblem(MANIFEST_EMPTY, f"{manifest}: the manifest is empty (no entry to verify)")

    # Group lines by the path they designate: the first listing is verified, the others repeat it.
    primary_of: dict[str, int] = {}
    primaries: list[ManifestLine] = []
    keys: list[str] = []
    repeats: list[tuple[ManifestLine, int]] = []
    for line in lines:
        key = _key(line.name)
        index = primary_of.get(key)
        if index is None:
            primary_of[key] = len(primaries)
            primaries.append(line)
            keys.append(key)
        else:
            repeats.append((line, index))
    del lines

    def shown(key: str) -> str:
        if key.startswith("/"):
            return key
        return posixpath.normpath(posixpath.join(prefix, key)) if prefix else key

    # Refuse paths that leave the source root (checked once per directory).
    dir_ok: dict[str, bool] = {}
    paths: list[str] = []
    hashed_index: list[int] = []
    refused: list[int] = []
    for index, key in enumerate(keys):
        abs_path = key if key.startswith("/") else f"{base}/{key}"
        parent = abs_path.rpartition("/")[0] or "/"
        allowed = dir_ok.get(parent)
        if allowed is None:
            allowed = dir_ok[parent] = inside(real_root, os.path.realpath(parent))
        if allowed:
            paths.append(abs_path)
            hashed_index.append(index)
        else:
            refused.append(index)

    pool = HashPool(paths, real_root, workers=workers, stop=stop, allow_fork=allow_fork)
    batches = pool.results()
    try:
        # The pool (its processes, pipe and shared memory) is released however this ends:
        # finished, stopped, closed early by the consumer, or by an exception.
        pool.start()  # worker processes fork now, before this thread starts any other
        unlisted: list[str] = []
        if include_new:
            listed = set(keys)
            skip = posixpath.basename(manifest)
            for rel, reason in walk_scope(base, scope, skip, stop):
                if reason is not None:
                    yield counts.add(ChecksumEntry(UNREADABLE, shown(rel), None, None, reason=reason))
                elif rel not in listed:
                    unlisted.append(rel)

        bytes_total = 0
        if not pool.forked:  # threads: size the work for progress and to pick who hashes what
            sizes = []
            for path in paths:
                try:
                    sizes.append(os.stat(path).st_size)
                except OSError:
                    sizes.append(0)
            bytes_total = sum(sizes)
            pool.sizes = sizes

        actual: list[str | None] = [None] * len(primaries)
        missing: list[int] = []
        files_done = bytes_done = hashed = 0
        last_progress = 0.0
        for index in refused:
            line = primaries[index]
            yield counts.add(
                ChecksumEntry(UNREADABLE, shown(keys[index]), line.line, line.name, line.digest, reason="outside the source root (refused)")
            )
        total_files = len(paths)
        ok_count = 0
        for batch in batches:
            for position, outcome in batch:
                index = hashed_index[position]
                line = primaries[index]
                digest = outcome.digest
                if digest is not None:
                    actual[index] = digest
                    if digest == line.digest:
                        if emit_ok:
                            yield counts.add(
                                ChecksumEntry(OK, shown(keys[index]), line.line, line.name, line.digest, digest, outcome.size, outcome.mtime)
                            )
                        else:
                            ok_count += 1
                    else:
                        yield counts.add(
                            ChecksumEntry(CHANGED, shown(keys[index]), line.line, line.name, line.digest, digest, outcome.size, outcome.mtime)
                        )
                elif outcome.failure == MISSING:
                    missing.append(index)
                else:
                    yield counts.add(
                        ChecksumEntry(
                            UNREADABLE, shown(keys[index]), line.line, line.name, line.digest, None,
                            outcome.size, outcome.mtime, outcome.reason,
                        )
                    )
            files_done += len(batch)
            hashed += sum(1 for _, outcome in batch if outcome.digest is not None)
            bytes_done += sum(outcome.size or 0 for _, outcome in batch if outcome.digest is not None)
            now = time.monotonic()
            if now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                yield ChecksumProgress(manifest, files_done, total_files, bytes_done, max(bytes_total, bytes_done))
        counts.add_ok(ok_count)
        if stop.is_set():
            yield summary(problem, hashed=hashed, nbytes=bytes_done, fmt=fmt)
            return

        # Moves: a missing file's listed hash found on an unlisted file.
        found: dict[str, tuple[str, Outcome]] = {}
        unlisted_outcomes: dict[str, Outcome] = {}
        if missing and unlisted:
            wanted = {primaries[i].digest for i in missing}
            abs_unlisted = [f"{base}/{rel}" for rel in unlisted]
            total_files += len(unlisted)
            for position, outcome in hash_paths(abs_unlisted, real_root, workers=workers, stop=stop):
                rel = unlisted[position]
                unlisted_outcomes[rel] = outcome
                files_done += 1
                if outcome.digest is not None:
                    hashed += 1
                    bytes_done += outcome.size or 0
                    if outcome.digest in wanted and (outcome.digest not in found or rel < found[outcome.digest][0]):
                        found[outcome.digest] = (rel, outcome)
            if stop.is_set():
                yield summary(problem, hashed=hashed, nbytes=bytes_done, fmt=fmt)
                return
        yield ChecksumProgress(manifest, files_done, total_files, bytes_done, max(bytes_total, bytes_done))

        moved_to: set[str] = set()
        for index in sorted(missing, key=lambda i: primaries[i].line):
            line = primaries[index]
            target = found.get(line.digest)
            if target is not None and target[0] not in moved_to:
                rel, outcome = target
                moved_to.add(rel)
                yield counts.add(
                    ChecksumEntry(
                        MOVED, shown(keys[index]), line.line, line.name, line.digest, outcome.digest,
                        outcome.size, outcome.mtime, f"same content now at {shown(rel)}", shown(rel),
                    )
                )
            else:
                yield counts.add(ChecksumEntry(MISSING, shown(keys[index]), line.line, line.name, line.digest, reason="no such file"))

        for rel in unlisted:
            if rel in moved_to:
                continue
            outcome = unlisted_outcomes.get(rel)
            if outcome is None:
                try:
                    st = os.lstat(f"{base}/{rel}")
                    outcome = Outcome(None, st.st_size, st.st_mtime)
                except OSError as exc:
                    outcome = Outcome(None, None, None, UNREADABLE, exc.strerror)
            yield counts.add(ChecksumEntry(NEW, shown(rel), None, None, None, outcome.digest, outcome.size, outcome.mtime, "not listed in the manifest"))

        for line, index in repeats:
            first = primaries[index]
            conflict = line.digest != first.digest
            category = DUPLICATE if line.name == first.name else ALIAS
            if category == DUPLICATE:
                note = f"listed again (first on line {first.line})"
            else:
                note = f"same file as line {first.line} ({first.name})"
            if conflict:
                note += "; the two lines list different hashes"
            yield counts.add(
                ChecksumEntry(
                    category, shown(keys[index]), line.line, line.name, line.digest, actual[index],
                    reason=note, other=None if category == DUPLICATE else first.name, other_line=first.line,
                    conflict=conflict,
                )
            )

        yield summary(problem, hashed=hashed, nbytes=bytes_done, fmt=fmt)
    finally:
        batches.close()  # stops its threads, if any
        pool.close()  # reaps the worker processes even if results were never asked for
