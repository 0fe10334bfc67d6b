"""What a verification decides, once for every place a manifest can live.

The directory engine (``verify``: fork pool, directory descriptors) and the
storage engine (``storage_verify``: a bucket read by concurrent GETs) differ
only in how they read the manifest, hash files and find unlisted ones. Every
verdict is made here: ``Verdicts`` parses the lines into columns, groups
repeats, turns hash outcomes into ``ok`` / ``changed`` / ``missing`` /
``unreadable`` entries, matches moves, reports ``new`` files and repeats, and
writes the summary, so both engines give the same entries in the same order.
"""

from __future__ import annotations

import posixpath
import threading
import time
from collections.abc import Iterable, Iterator, Sequence

from backends.checksums.hashing import IS_A_DIRECTORY, Outcome
from backends.checksums.manifest import ManifestLine, MalformedLine, parse_manifest
from backends.checksums.models import (
    ALIAS,
    CHANGED,
    DUPLICATE,
    MALFORMED,
    MANIFEST_EMPTY,
    MANIFEST_UNPARSEABLE,
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

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import Any, BinaryIO, Callable, Generator

VerifyItem = ChecksumEntry | ChecksumProgress | ChecksumSummary

PROGRESS_SECONDS = 0.1
"""Least time between two progress items."""
HELD_MALFORMED = 100
"""Malformed lines held back (text unshown) until the first SHA-256 line proves the file a manifest."""

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


def leaves(rel: str) -> bool:
    """Whether a normalised path relative to the manifest's directory leaves it (``..``, ``../x``, ``/x``)."""
    return rel == ".." or rel.startswith(("/", "../"))


def _malformed(manifest: str, bad: MalformedLine, *, show: bool) -> ChecksumEntry:
    reason = f"{bad.reason}: {bad.text}" if show else f"{bad.reason} (text not shown: no SHA-256 line before it)"
    return ChecksumEntry(MALFORMED, manifest, bad.line, None, reason=reason)


class Tally:
    """Work counted while hashing: progress and the summary's figures."""

    __slots__ = ("files_done", "files_total", "bytes_done", "bytes_total", "hashed", "ok")

    def __init__(self, files_total: int, bytes_total: int) -> None:
        self.files_done = self.bytes_done = self.hashed = self.ok = 0
        self.files_total = files_total
        self.bytes_total = bytes_total


class Verdicts:
    """The entries and summary of one manifest's verification.

    Use in order: ``parse`` the lines, ``plan`` (groups repeats; ``keys`` are
    the paths to hash, by primary index), ``decide`` on hash outcomes,
    ``moves`` for missing files, then ``finish``.

    Args:
        manifest: The manifest's root-relative path (POSIX).
        stop: Set to cancel; the summary then says ``cancelled``.
    """

    def __init__(self, manifest: str, stop: threading.Event) -> None:
        self.manifest = manifest
        self.stop = stop
        self.started = time.monotonic()
        self.prefix = posixpath.dirname(manifest)
        self.by_category: dict[str, int] = {}
        self.drift = False
        self.fmt: str | None = None
        self.problem: ManifestProblem | None = None
        self.numbers: Sequence[int] = ()
        self.names: list[str] = []
        self.digests: list[str] = []
        self.keys: list[str] = []
        self.primaries: Sequence[int] = ()
        self.primary_keys: list[str] = []
        self.repeats: list[tuple[int, int]] = []  # (line index, index of its primary)
        self.listed: dict[str, object] = {}  # every path listed: unlisted files are the rest
        self.actual: list[str | None] = []
        self.missing: list[int] = []

    # Counting --------------------------------------------------------------------

    def add(self, entry: ChecksumEntry) -> ChecksumEntry:
        """Count ``entry`` and hand it back."""
        self.by_category[entry.category] = self.by_category.get(entry.category, 0) + 1
        if not self.drift and entry.is_drift:
            self.drift = True
        return entry

    def add_ok(self, count: int) -> None:
        """Count ``count`` matching files not yielded as entries."""
        if count:
            self.by_category[OK] = self.by_category.get(OK, 0) + count

    def summary(
        self, problem: ManifestProblem | None = None, tally: Tally | None = None, *, final: bool = False
    ) -> ChecksumSummary:
        """The summary now (``final``: with the manifest's own problem and format)."""
        problem = problem or (self.problem if final else None)
        return ChecksumSummary(
            self.manifest, dict(self.by_category), self.drift or problem is not None,
            tally.hashed if tally else 0, tally.bytes_done if tally else 0, time.monotonic() - self.started,
            problem, self.stop.is_set(), self.fmt if final or tally else None,
        )

    def shown(self, key: str) -> str:
        """The root-relative path of a key (relative to the manifest's directory, or absolute)."""
        if key.startswith("/"):
            return key
        return posixpath.normpath(posixpath.join(self.prefix, key)) if self.prefix else key

    def entry(self, category: str, index: int, *args: Any, **kwargs: Any) -> ChecksumEntry:
        """An entry for primary ``index``: its path, line, name and listed digest, then ``args``."""
        line = self.primaries[index]
        return ChecksumEntry(
            category, self.shown(self.primary_keys[index]), self.numbers[line], self.names[line], self.digests[line], *args, **kwargs
        )

    # Lines ------------------------------------------------------------------------

    def parse(self, plain: tuple[list[str], list[str]] | None, source: BinaryIO | None) -> Generator[ChecksumEntry, None, bool]:
        """Take the lines: ``plain`` (a bulk parse) or, when ``None``, line by line from ``source``.

        A line's text is shown only once the file has proved to be a manifest
        (one SHA-256 line): a file that is not one (a token,
        ``/proc/self/environ``) is never echoed.

        Yields:
            ``malformed`` entries. Returns ``False`` when stopped meanwhile.
        """
        if plain is not None:
            self.names, self.digests = plain
            self.numbers = range(1, len(self.names) + 1)
            formats = {"gnu"} if self.names else set()
        else:
            assert source is not None
            numbers: list[int] = []
            names, digests, formats = self.names, self.digests, set()
            held: list[MalformedLine] | None = []
            for parsed in parse_manifest(source):
                if type(parsed) is ManifestLine:
                    numbers.append(parsed.line)
                    names.append(parsed.name)
                    digests.append(parsed.digest)
                    formats.add(parsed.format)
                    if held is not None:
                        for early_bad in held:
                            yield self.add(_malformed(self.manifest, early_bad, show=True))
                        held = None
                else:
                    assert isinstance(parsed, MalformedLine)
                    if held is None:
                        yield self.add(_malformed(self.manifest, parsed, show=True))
                    elif len(held) < HELD_MALFORMED:
                        held.append(parsed)
                    else:
                        yield self.add(_malformed(self.manifest, parsed, show=False))
                if self.stop.is_set():
                    return False
            for early_bad in held or ():
                yield self.add(_malformed(self.manifest, early_bad, show=False))
            self.numbers = numbers
        self.fmt = None if not formats else formats.pop() if len(formats) == 1 else "mixed"
        return True

    def take(self, plain: tuple[list[str], list[str]] | None, source: BinaryIO | None) -> Generator[VerifyItem, None, bool]:
        """``parse`` then ``plan``; when nothing is left to verify (stopped, or no manifest), the summary
        is yielded and ``False`` returned."""
        if not (yield from self.parse(plain, source)):
            yield self.summary()
            return False
        if not self.plan():
            yield self.summary(self.problem)
            return False
        return True

    def plan(self) -> bool:
        """Group lines by the path they designate: the first listing (a "primary") is verified, the others
        repeat it. Sets ``problem`` for an empty manifest; returns ``False`` when nothing is left to verify
        (the manifest is no manifest: ``problem`` says so)."""
        if not self.names:
            if self.by_category:
                malformed = self.by_category.get(MALFORMED, 0)
                self.problem = ManifestProblem(
                    MANIFEST_UNPARSEABLE, f"{self.manifest}: no SHA-256 line among its {malformed:,} non-blank lines"
                )
                return False
            self.problem = ManifestProblem(MANIFEST_EMPTY, f"{self.manifest}: the manifest is empty (no entry to verify)")
        keys = self.keys = _keys(self.names)
        self.listed = dict.fromkeys(keys)
        if len(self.listed) == len(keys):
            self.primaries, self.primary_keys = range(len(keys)), keys
        else:
            primary_of: dict[str, int] = {}
            primaries: list[int] = []
            primary_keys: list[str] = []
            for index, key in enumerate(keys):
                first = primary_of.get(key)
                if first is None:
                    primary_of[key] = len(primaries)
                    primaries.append(index)
                    primary_keys.append(key)
                else:
                    self.repeats.append((index, first))
            self.primaries, self.primary_keys = primaries, primary_keys
        self.actual = [None] * len(self.primaries)
        return True

    @property
    def clean(self) -> bool:
        """Every name was already a normal path and no path is listed twice."""
        return self.keys is self.names and not self.repeats

    # Outcomes ------------------------------------------------------------------------

    def refused(self, indexes: Iterable[int]) -> Iterator[ChecksumEntry]:
        """``unreadable`` entries for primaries whose path leaves the source root."""
        for index in indexes:
            yield self.add(self.entry(UNREADABLE, index, reason="outside the source root (refused)"))

    def decide(
        self, batches: Iterable[list[tuple[int, Outcome]]], hashed_index: Sequence[int], tally: Tally, emit_ok: bool
    ) -> Generator[VerifyItem, None, list[int]]:
        """Entries for hash outcomes as they come: ``(position, outcome)`` where ``hashed_index[position]``
        is the primary index. Missing ones are held for ``moves``.

        Returns:
            Positions whose outcome was "is a directory" (the unlisted scan may enter them).
        """
        digests, primaries, actual, missing = self.digests, self.primaries, self.actual, self.missing
        add, entry = self.add, self.entry
        dirs: list[int] = []
        last_progress = 0.0
        ok_count = 0
        for batch in batches:
            for position, outcome in batch:
                index = hashed_index[position]
                digest = outcome.digest
                if digest is not None:
                    actual[index] = digest
                    if digest == digests[primaries[index]]:
                        if emit_ok:
                            yield add(entry(OK, index, digest, outcome.size, outcome.mtime))
                        else:
                            ok_count += 1
                    else:
                        yield add(entry(CHANGED, index, digest, outcome.size, outcome.mtime))
                elif outcome.failure == MISSING:
                    missing.append(index)
                elif outcome.reason == IS_A_DIRECTORY:  # a directory's size says nothing (and a bucket has none)
                    yield add(entry(UNREADABLE, index, None, None, outcome.mtime, outcome.reason))
                    dirs.append(position)
                else:
                    yield add(entry(UNREADABLE, index, None, outcome.size, outcome.mtime, outcome.reason))
            tally.files_done += len(batch)
            hashed = [outcome.size or 0 for _, outcome in batch if outcome.digest is not None]
            tally.hashed += len(hashed)
            tally.bytes_done += sum(hashed)
            now = time.monotonic()
            if now - last_progress >= PROGRESS_SECONDS:
                last_progress = now
                yield self.progress(tally)
        tally.ok += ok_count
        return dirs

    def progress(self, tally: Tally) -> ChecksumProgress:
        return ChecksumProgress(
            self.manifest, tally.files_done, tally.files_total, tally.bytes_done, max(tally.bytes_total, tally.bytes_done)
        )

    def wanted(self) -> set[str]:
        """The listed digests of the missing files: what an unlisted file must hash to, to be a move."""
        return {self.digests[self.primaries[i]] for i in self.missing}

    @staticmethod
    def moves(
        outcomes: Iterable[tuple[int, Outcome]], unlisted: list[str], wanted: set[str], tally: Tally
    ) -> tuple[dict[str, tuple[str, Outcome]], dict[str, Outcome]]:
        """Match hashed unlisted files to missing ones: ``(digest -> (first path by name, outcome), every outcome)``."""
        found: dict[str, tuple[str, Outcome]] = {}
        seen: dict[str, Outcome] = {}
        tally.files_total += len(unlisted)
        for position, outcome in outcomes:
            rel = unlisted[position]
            seen[rel] = outcome
            tally.files_done += 1
            if outcome.digest is not None:
                tally.hashed += 1
                tally.bytes_done += outcome.size or 0
                if outcome.digest in wanted and (outcome.digest not in found or rel < found[outcome.digest][0]):
                    found[outcome.digest] = (rel, outcome)
        return found, seen

    def finish(
        self,
        found: dict[str, tuple[str, Outcome]],
        unlisted: list[str],
        seen: dict[str, Outcome],
        look: Callable[[str], Outcome],
        tally: Tally,
    ) -> Iterator[VerifyItem]:
        """Missing and moved files, ``new`` ones (``look`` gives the size and time of one not hashed),
        repeats, then the summary."""
        numbers, names, digests, primaries = self.numbers, self.names, self.digests, self.primaries
        moved_to: set[str] = set()
        for index in sorted(self.missing, key=lambda i: numbers[primaries[i]]):
            target = found.get(digests[primaries[index]])
            if target is not None and target[0] not in moved_to:
                rel, outcome = target
                moved_to.add(rel)
                yield self.add(self.entry(
                    MOVED, index, outcome.digest, outcome.size, outcome.mtime, f"same content now at {self.shown(rel)}", self.shown(rel)
                ))
            else:
                yield self.add(self.entry(MISSING, index, reason="no such file"))
        for rel in unlisted:
            if rel in moved_to:
                continue
            outcome = seen.get(rel) or look(rel)
            yield self.add(ChecksumEntry(
                NEW, self.shown(rel), None, None, None, outcome.digest, outcome.size, outcome.mtime, "not listed in the manifest"
            ))
        for line, index in self.repeats:
            first = primaries[index]
            conflict = digests[line] != digests[first]
            category = DUPLICATE if names[line] == names[first] else ALIAS
            if category == DUPLICATE:
                note = f"listed again (first on line {numbers[first]})"
            else:
                note = f"same file as line {numbers[first]} ({names[first]})"
            if conflict:
                note += "; the two lines list different hashes"
            yield self.add(ChecksumEntry(
                category, self.shown(self.primary_keys[index]), numbers[line], names[line], digests[line], self.actual[index],
                reason=note, other=None if category == DUPLICATE else names[first], other_line=numbers[first], conflict=conflict,
            ))
        yield self.summary(tally=tally, final=True)
