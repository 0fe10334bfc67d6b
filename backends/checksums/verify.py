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

import io
import os
import posixpath
import stat as stat_mod
import threading
import time
from collections.abc import Container, Iterator, Sequence

from backends.checksums.early import PLAIN_MAX, EarlyStart, Lines, fork_on_lines
from backends.checksums.hashing import IS_A_DIRECTORY, HashPool, Outcome, hash_paths, inside
from backends.checksums.manifest import ManifestLine, MalformedLine, parse_manifest, parse_plain
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
from backends.checksums.scope import Scope, scan_scope
from backends.confine import confined_path, open_regular
from backends.errors import DriftdeckError, ForbiddenError, UnreadableError

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import Any, BinaryIO

VerifyItem = ChecksumEntry | ChecksumProgress | ChecksumSummary

PROGRESS_SECONDS = 0.1
"""Least time between two progress items."""

_SLOW_NAME = ("./", "/")
_NORMALIZE_MARKS = ("\n./", "\n/", "//", "/.", "/\n", "\n.\n", "\n..\n")
"""Substrings of the newline-joined names that show some name needs ``_key``'s normalization."""



def _keys(names: list[str]) -> list[str]:
    """``_key`` of every name; the list itself when no name needs normalizing (checked in bulk)."""
    joined = "\n" + "\n".join(names) + "\n"
    if any(mark in joined for mark in _NORMALIZE_MARKS):
        return [_key(name) for name in names]
    return names


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


HELD_MALFORMED = 100
"""Malformed lines held back (text unshown) until the first SHA-256 line proves the file a manifest."""


def _malformed(manifest: str, bad: MalformedLine, *, show: bool) -> ChecksumEntry:
    reason = f"{bad.reason}: {bad.text}" if show else f"{bad.reason} (text not shown: no SHA-256 line before it)"
    return ChecksumEntry(MALFORMED, manifest, bad.line, None, reason=reason)


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
    early: EarlyStart | None = None,
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
        early: This manifest as ``start_early`` read it, with the workers it
            forked (adopted here, and closed however the verification ends).

    Yields:
        Entries as they are decided, progress now and then, the summary last.
    """
    pools: list[HashPool] = []  # a pool started before the manifest was parsed, if any
    prefetched = None
    if early is not None and early.root == root and early.manifest == manifest:
        prefetched = early.lines
        pool = early.take_pool()
        if pool is not None:
            pools.append(pool)
    try:
        yield from _verify(root, manifest, include_new, scope, workers, stop, emit_ok, allow_fork, pools, prefetched)
    finally:
        for pool in pools:
            pool.close()


def _verify(
    root: str,
    manifest: str,
    include_new: bool,
    scope: Scope,
    workers: int | None,
    stop: threading.Event | None,
    emit_ok: bool,
    allow_fork: bool,
    early: list[HashPool],
    prefetched: Lines | None,
) -> Iterator[VerifyItem]:
    started = time.monotonic()
    stop = stop or threading.Event()
    counts = _Counts()
    real_root = os.path.realpath(root)
    try:  # the real path: a symlink followed by ".." must not lead out (the kernel resolves in that order)
        abs_manifest = confined_path(root, manifest, real_root=real_root)
    except ForbiddenError as exc:
        abs_manifest = ""
        manifest_refused: str | None = str(exc)
    else:
        manifest_refused = None
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

    stream = None  # kept open to parse a manifest too big to read at once
    lines = prefetched  # a manifest read at once
    if manifest_refused is not None:
        yield summary(ManifestProblem(MANIFEST_UNREADABLE, manifest_refused))
        return
    if lines is not None:
        data = lines.data
    else:
        try:
            stream = os.fdopen(open_regular(abs_manifest, real_root, manifest), "rb")  # a regular file only
            data = stream.read(PLAIN_MAX + 1)
        except FileNotFoundError:
            yield summary(ManifestProblem(MANIFEST_MISSING, f"{manifest}: no such manifest"))
            return
        except (OSError, UnreadableError, ForbiddenError) as exc:
            if stream is not None:
                stream.close()
            reason = str(exc) if isinstance(exc, DriftdeckError) else f"{manifest}: unreadable: {exc.strerror or exc}"
            yield summary(ManifestProblem(MANIFEST_UNREADABLE, reason))
            return
        if len(data) <= PLAIN_MAX:
            lines = Lines(data)
            if allow_fork:
                pool = fork_on_lines(lines, base, real_root, workers, emit_ok)  # None: threads, later
                if pool is not None:
                    early.append(pool)

    try:
        plain = parse_plain(data, lines.rows) if lines is not None else None
        if plain is not None:
            names, digests = plain
            numbers: Sequence[int] = range(1, len(names) + 1)
            formats = {"gnu"} if names else set()
        else:
            numbers, names, digests, formats = [], [], [], set()
            if lines is not None:
                source: BinaryIO = io.BytesIO(data)
            else:
                assert stream is not None
                stream.seek(0)
                source = stream
            del data, lines
            # A line's text is shown only once the file has proved to be a manifest (one SHA-256
            # line): a file that is not one (a token, /proc/self/environ) is never echoed.
            held: list[MalformedLine] | None = []
            for parsed in parse_manifest(source):
                if type(parsed) is ManifestLine:
                    numbers.append(parsed.line)
                    names.append(parsed.name)
                    digests.append(parsed.digest)
                    formats.add(parsed.format)
                    if held is not None:
                        for early_bad in held:
                            yield counts.add(_malformed(manifest, early_bad, show=True))
                        held = None
                else:
                    assert isinstance(parsed, MalformedLine)
                    if held is None:
                        yield counts.add(_malformed(manifest, parsed, show=True))
                    elif len(held) < HELD_MALFORMED:
                        held.append(parsed)
                    else:
                        yield counts.add(_malformed(manifest, parsed, show=False))
                if stop.is_set():
                    yield summary()
                    return
            for early_bad in held or ():
                yield counts.add(_malformed(manifest, early_bad, show=False))
    except OSError as exc:
        yield summary(ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {exc.strerror or exc}"))
        return
    finally:
        if stream is not None:
            stream.close()

    fmt = None if not formats else formats.pop() if len(formats) == 1 else "mixed"
    problem: ManifestProblem | None = None
    if not names:
        if counts.by_category:
            malformed = counts.by_category.get(MALFORMED, 0)
            problem = ManifestProblem(
                MANIFEST_UNPARSEABLE, f"{manifest}: no SHA-256 line among its {malformed:,} non-blank lines"
            )
            yield summary(problem)
            return
        problem = ManifestProblem(MANIFEST_EMPTY, f"{manifest}: the manifest is empty (no entry to verify)")

    # Group lines by the path they designate: the first listing (a "primary")
    # is verified, the others repeat it. Lines are columns: indexes into
    # numbers/names/digests.
    keys = _keys(names)
    repeats: list[tuple[int, int]] = []  # (line index, index of its primary)
    listed: dict[str, object] = dict.fromkeys(keys)  # every path listed: unlisted files are the rest
    if len(listed) == len(keys):
        primaries: Sequence[int] = range(len(keys))
        primary_keys = keys
    else:
        primary_of: dict[str, int] = {}
        primaries, primary_keys = [], []
        for index, key in enumerate(keys):
            first = primary_of.get(key)
            if first is None:
                primary_of[key] = len(primaries)
                primaries.append(index)
                primary_keys.append(key)
            else:
                repeats.append((index, first))

    def shown(key: str) -> str:
        if key.startswith("/"):
            return key
        return posixpath.normpath(posixpath.join(prefix, key)) if prefix else key

    def entry(category: str, index: int, *args: Any, **kwargs: Any) -> ChecksumEntry:
        """An entry for primary ``index``: its path, line, name and listed digest, then ``args``."""
        line = primaries[index]
        return ChecksumEntry(category, shown(primary_keys[index]), numbers[line], names[line], digests[line], *args, **kwargs)

    # Refuse paths that leave the source root (checked once per directory).
    refused_dirs, refused_keys = _refused(primary_keys, listed, base, real_root)
    clean = plain is not None and keys is names and not repeats and not refused_dirs and not refused_keys
    if early and clean and len(early[0].paths) == len(primary_keys):
        # The early pool's workers have been hashing these very lines: the parent joins
        # them, through the same views of the lines (listed digests as written: a digest
        # in uppercase only reaches the comparison below).
        pool = early[0]
        pool.stop = stop
        paths: Sequence[str | None] = pool.paths
        hashed_index: Sequence[int] = range(len(primary_keys))
        refused: list[int] = []
    else:
        for unused in early:
            unused.close()  # a manifest that needs the careful plan: start again from it
        all_paths = [key if key.startswith("/") else f"{base}/{key}" for key in primary_keys]
        if refused_dirs or refused_keys:
            paths, hashed_index, refused = [], [], []
            for index, key in enumerate(primary_keys):
                if key[: key.rfind("/") + 1] in refused_dirs or key in refused_keys:
                    refused.append(index)
                else:
                    paths.append(all_paths[index])
                    hashed_index.append(index)
        else:
            paths, hashed_index, refused = all_paths, range(len(all_paths)), []
        del all_paths
        # Without ok entries to show, matching files are only counted (see HashPool).
        expected = None if emit_ok else [digests[primaries[index]] for index in hashed_index]
        pool = HashPool(paths, real_root, workers=workers, stop=stop, allow_fork=allow_fork, expected=expected)
    batches = pool.results()
    try:
        # The pool (its processes, pipe and shared memory) is released however this ends:
        # finished, stopped, closed early by the consumer, or by an exception.
        pool.start()  # worker processes fork now, before this thread starts any other
        unlisted: list[str] = []
        if include_new:
            unlisted, errors = scan_scope(base, scope, posixpath.basename(manifest), stop, listed=listed)
            for rel, reason in errors:
                yield counts.add(ChecksumEntry(UNREADABLE, shown(rel), None, None, reason=reason))

        bytes_total = 0
        if not pool.forked:  # threads: size the work for progress and to pick who hashes what
            sizes = []
            for path in paths:
                try:
                    sizes.append(0 if path is None else os.stat(path).st_size)
                except OSError:
                    sizes.append(0)
            bytes_total = sum(sizes)
            pool.sizes = sizes

        actual: list[str | None] = [None] * len(primaries)
        missing: list[int] = []
        listed_dirs: list[str] = []
        files_done = bytes_done = hashed = 0
        last_progress = 0.0
        for index in refused:
            yield counts.add(entry(UNREADABLE, index, reason="outside the source root (refused)"))
        total_files = len(paths)
        ok_count = 0
        for batch in batches:
            for position, outcome in batch:
                index = hashed_index[position]
                digest = outcome.digest
                if digest is not None:
                    actual[index] = digest
                    if digest == digests[primaries[index]]:
                        if emit_ok:
                            yield counts.add(entry(OK, index, digest, outcome.size, outcome.mtime))
                        else:
                            ok_count += 1
                    else:
                        yield counts.add(entry(CHANGED, index, digest, outcome.size, outcome.mtime))
                elif outcome.failure == MISSING:
                    missing.append(index)
                else:
                    yield counts.add(entry(UNREADABLE, index, None, outcome.size, outcome.mtime, outcome.reason))
                    if include_new and outcome.reason == IS_A_DIRECTORY and _real_dir(paths[position]):
                        listed_dirs.append(primary_keys[index])  # the scan took it for a file; never a symlink
            files_done += len(batch)
            hashed += sum(1 for _, outcome in batch if outcome.digest is not None)
            bytes_done += sum(outcome.size or 0 for _, outcome in batch if outcome.digest is not None)
            now = time.monotonic()
            if now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                yield ChecksumProgress(manifest, files_done, total_files, bytes_done, max(bytes_total, bytes_done))
        for rel_dir in sorted(listed_dirs):
            if _leaves(rel_dir) or not scope.recursive or scope.excluded(rel_dir):
                continue  # not in the manifest's scope
            more, errors = scan_scope(base, scope, posixpath.basename(manifest), stop, listed=listed, start=rel_dir)
            unlisted.extend(more)
            for rel, reason in errors:
                yield counts.add(ChecksumEntry(UNREADABLE, shown(rel), None, None, reason=reason))
        ok_count += pool.matched
        files_done += pool.matched
        hashed += pool.matched
        bytes_done += pool.matched_bytes
        counts.add_ok(ok_count)
        if stop.is_set():
            yield summary(problem, hashed=hashed, nbytes=bytes_done, fmt=fmt)
            return

        # Moves: a missing file's listed hash found on an unlisted file.
        found: dict[str, tuple[str, Outcome]] = {}
        unlisted_outcomes: dict[str, Outcome] = {}
        if missing and unlisted:
            wanted = {digests[primaries[i]] for i in missing}
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
        for index in sorted(missing, key=lambda i: numbers[primaries[i]]):
            target = found.get(digests[primaries[index]])
            if target is not None and target[0] not in moved_to:
                rel, outcome = target
                moved_to.add(rel)
                yield counts.add(
                    entry(MOVED, index, outcome.digest, outcome.size, outcome.mtime, f"same content now at {shown(rel)}", shown(rel))
                )
            else:
                yield counts.add(entry(MISSING, index, reason="no such file"))

        for rel in unlisted:
            if rel in moved_to:
                continue
            seen = unlisted_outcomes.get(rel)
            if seen is not None:
                outcome = seen
            else:
                try:
                    st = os.lstat(f"{base}/{rel}")
                    outcome = Outcome(None, st.st_size, st.st_mtime)
                except OSError as exc:
                    outcome = Outcome(None, None, None, UNREADABLE, exc.strerror)
            yield counts.add(ChecksumEntry(NEW, shown(rel), None, None, None, outcome.digest, outcome.size, outcome.mtime, "not listed in the manifest"))

        for line, index in repeats:
            first = primaries[index]
            conflict = digests[line] != digests[first]
            category = DUPLICATE if names[line] == names[first] else ALIAS
            if category == DUPLICATE:
                note = f"listed again (first on line {numbers[first]})"
            else:
                note = f"same file as line {numbers[first]} ({names[first]})"
            if conflict:
                note += "; the two lines list different hashes"
            yield counts.add(
                ChecksumEntry(
                    category, shown(primary_keys[index]), numbers[line], names[line], digests[line], actual[index],
                    reason=note, other=None if category == DUPLICATE else names[first], other_line=numbers[first],
                    conflict=conflict,
                )
            )

        yield summary(problem, hashed=hashed, nbytes=bytes_done, fmt=fmt)
    finally:
        batches.close()  # stops its threads, if any
        pool.close()  # reaps the worker processes even if results were never asked for


def _refused(
    keys: Sequence[str], listed: Container[str], base: str, real_root: str
) -> tuple[set[str], set[str]]:
    """What resolves outside ``real_root``: directories of ``keys`` (spelt as in the keys), and whole keys.

    A key's directory is everything up to its last ``/``, that slash
    included (``""`` for a name in ``base``), so ``x/a`` and ``/x/a`` differ.
    A key made only of ``..`` components (``..``, ``../..``: normalised keys
    have no other way to end in ``..``) names a directory itself, checked as such.

    Args:
        keys: The normalised keys.
        listed: The same keys, for lookups.
        base: The manifest's directory (absolute).
        real_root: ``os.path.realpath`` of the source root.
    """
    refused_dirs = set()
    ups = []
    for spelt in {key[: key.rfind("/") + 1] for key in keys}:
        directory = spelt if spelt.startswith("/") else f"{base}/{spelt}"
        if not inside(real_root, os.path.realpath(directory)):
            refused_dirs.add(spelt)
        if not spelt.replace("../", "") and spelt + ".." in listed:
            ups.append(spelt + "..")
    refused_keys = {up for up in ups if not inside(real_root, os.path.realpath(f"{base}/{up}"))}
    return refused_dirs, refused_keys


def _leaves(rel: str) -> bool:
    """Whether a normalised path relative to the manifest's directory leaves it (``..``, ``../x``, ``/x``)."""
    return rel == ".." or rel.startswith(("/", "../"))


def _real_dir(path: str | None) -> bool:
    """A directory itself, not a symlink to one (the scope scan never follows links)."""
    if path is None:
        return False
    try:
        return stat_mod.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
