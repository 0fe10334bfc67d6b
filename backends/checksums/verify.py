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

This module reads a directory (the manifest, the fork pool or hashing threads,
the scope scan); every verdict is made by ``verdicts.Verdicts``, which the
bucket's engine (``storage_verify``) shares.
"""

from __future__ import annotations

import io
import os
import posixpath
import stat as stat_mod
import threading
from collections.abc import Container, Iterator, Sequence
from functools import partial

from backends.checksums.early import PLAIN_MAX, EarlyStart, Lines, fork_on_lines
from backends.checksums.hashing import HashPool, Outcome, hash_paths, inside
from backends.checksums.manifest import parse_plain
from backends.checksums.models import MANIFEST_MISSING, MANIFEST_UNREADABLE, UNREADABLE, ChecksumEntry, ManifestProblem
from backends.checksums.scope import Scope, scan_scope
from backends.checksums.verdicts import Tally, Verdicts, VerifyItem, leaves
from backends.confine import confined_path, open_regular
from backends.errors import DriftdeckError, ForbiddenError, UnreadableError

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import BinaryIO

__all__ = ["VerifyItem", "verify_manifest"]


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
    verdicts = Verdicts(manifest, stop or threading.Event())
    stop = verdicts.stop
    real_root = os.path.realpath(root)
    try:  # the real path: a symlink followed by ".." must not lead out (the kernel resolves in that order)
        abs_manifest = confined_path(root, manifest, real_root=real_root)
    except ForbiddenError as exc:
        yield verdicts.summary(ManifestProblem(MANIFEST_UNREADABLE, str(exc)))
        return
    base = os.path.dirname(abs_manifest)

    stream = None  # kept open to parse a manifest too big to read at once
    lines = prefetched  # a manifest read at once
    if lines is not None:
        data = lines.data
    else:
        try:
            stream = os.fdopen(open_regular(abs_manifest, real_root, manifest), "rb")  # a regular file only
            data = stream.read(PLAIN_MAX + 1)
        except FileNotFoundError:
            yield verdicts.summary(ManifestProblem(MANIFEST_MISSING, f"{manifest}: no such manifest"))
            return
        except (OSError, UnreadableError, ForbiddenError) as exc:
            if stream is not None:
                stream.close()
            reason = str(exc) if isinstance(exc, DriftdeckError) else f"{manifest}: unreadable: {exc.strerror or exc}"
            yield verdicts.summary(ManifestProblem(MANIFEST_UNREADABLE, reason))
            return
        if len(data) <= PLAIN_MAX:
            lines = Lines(data)
            if allow_fork:
                pool = fork_on_lines(lines, base, real_root, workers, emit_ok)  # None: threads, later
                if pool is not None:
                    early.append(pool)

    try:
        plain = parse_plain(data, lines.rows) if lines is not None else None
        source: BinaryIO | None = None
        if plain is None:
            if lines is not None:
                source = io.BytesIO(data)
            else:
                assert stream is not None
                stream.seek(0)
                source = stream
        del data, lines
        go_on = yield from verdicts.take(plain, source)
    except OSError as exc:
        yield verdicts.summary(ManifestProblem(MANIFEST_UNREADABLE, f"{manifest}: unreadable: {exc.strerror or exc}"))
        return
    finally:
        if stream is not None:
            stream.close()
    if not go_on:
        return
    primary_keys, listed, digests, primaries = verdicts.primary_keys, verdicts.listed, verdicts.digests, verdicts.primaries

    # Refuse paths that leave the source root (checked once per directory).
    refused_dirs, refused_keys = _refused(primary_keys, listed, base, real_root)
    clean = plain is not None and verdicts.clean and not refused_dirs and not refused_keys
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
                yield verdicts.add(ChecksumEntry(UNREADABLE, verdicts.shown(rel), None, None, reason=reason))

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

        tally = Tally(len(paths), bytes_total)
        yield from verdicts.refused(refused)
        dirs = yield from verdicts.decide(batches, hashed_index, tally, emit_ok)
        listed_dirs = [primary_keys[hashed_index[p]] for p in dirs if include_new and _real_dir(paths[p])]
        for rel_dir in sorted(listed_dirs):  # the scan took them for files; never a symlink
            if leaves(rel_dir) or not scope.recursive or scope.excluded(rel_dir):
                continue  # not in the manifest's scope
            more, errors = scan_scope(base, scope, posixpath.basename(manifest), stop, listed=listed, start=rel_dir)
            unlisted.extend(more)
            for rel, reason in errors:
                yield verdicts.add(ChecksumEntry(UNREADABLE, verdicts.shown(rel), None, None, reason=reason))
        tally.ok += pool.matched
        tally.files_done += pool.matched
        tally.hashed += pool.matched
        tally.bytes_done += pool.matched_bytes
        verdicts.add_ok(tally.ok)
        if stop.is_set():
            yield verdicts.summary(tally=tally, final=True)
            return

        # Moves: a missing file's listed hash found on an unlisted file.
        found: dict[str, tuple[str, Outcome]] = {}
        seen: dict[str, Outcome] = {}
        if verdicts.missing and unlisted:
            hashed = hash_paths([f"{base}/{rel}" for rel in unlisted], real_root, workers=workers, stop=stop)
            found, seen = verdicts.moves(hashed, unlisted, verdicts.wanted(), tally)
            if stop.is_set():
                yield verdicts.summary(tally=tally, final=True)
                return
        yield verdicts.progress(tally)
        yield from verdicts.finish(found, unlisted, seen, partial(_look, base), tally)
    finally:
        batches.close()  # stops its threads, if any
        pool.close()  # reaps the worker processes even if results were never asked for


def _look(base: str, rel: str) -> Outcome:
    """Size and time of an unlisted file that was not hashed."""
    try:
        st = os.lstat(f"{base}/{rel}")
        return Outcome(None, st.st_size, st.st_mtime)
    except OSError as exc:
        return Outcome(None, None, None, UNREADABLE, exc.strerror)


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


def _real_dir(path: str | None) -> bool:
    """A directory itself, not a symlink to one (the scope scan never follows links)."""
    if path is None:
        return False
    try:
        return stat_mod.S_ISDIR(os.lstat(path).st_mode)
    except OSError:
        return False
