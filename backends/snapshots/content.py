"""The content diff of one entry, computed only when someone looks at it.

``entry_content`` reads the two sides of one entry (bounded) and returns an
``EntryContent``: a unified or side-by-side line diff for text, a table of
value changes for JSON/YAML/JSONL, or sizes and SHA-256 digests for binary.
Anything that cannot be shown the preferred way falls back and says why.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat as stat_mod
from dataclasses import dataclass
from typing import Callable, Iterator

from backends.confine import NOFOLLOW, open_read, shown_target
from backends.errors import MalformedError, UnreadableError
from backends.snapshots.formats import SNIFF_BYTES, STRUCTURED, decode_text, format_of, split_lines
from backends.snapshots.models import EntryContent, SnapshotRules
from backends.snapshots.rules import CompiledRules
from backends.snapshots.structured import field_changes, parse
from backends.snapshots.textdiff import opcodes, side_by_side, unified
from backends.snapshots.tree import read_file
from backends.storage.base import ChunkStream
from backends.snapshots.verdict import LINE_ENDINGS_ONLY, WHITESPACE_ONLY, label_of, line_key

TEXT_MAX = 32 << 20
"""Text files above this size (per side) are summarised like binary ones."""


@dataclass(frozen=True, slots=True)
class Side:
    """One side of an entry as the content diff reads it: what it is, and how to read it.

    A directory file (``file_side``) and a storage object (``stored.stored_side``)
    give the same shape, so one diff serves both.

    Attributes:
        kind: ``absent``, ``file``, ``dir``, ``symlink`` or ``other``.
        size: Bytes of a file (0 otherwise).
        target: A symlink's target (as shown).
        head: The first ``n`` bytes of the file.
        read: All its bytes (callers check ``size`` against their limits first).
        chunks: Its bytes in chunks, in order (for digests and the first difference).
    """

    kind: str
    size: int = 0
    target: str | None = None
    head: Callable[[int], bytes] = lambda n: b""
    read: Callable[[], bytes] = lambda: b""
    chunks: Callable[[], Iterator[bytes]] = lambda: iter(())


ABSENT = Side("absent")


def file_side(path: str | None, real_root: str | None = None) -> Side:
    """The ``Side`` of a path on this machine (``lstat``: a symlink is not followed)."""
    if path is None:
        return ABSENT
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return ABSENT
    except OSError as exc:
        raise UnreadableError(f"{path}: unreadable: {exc.strerror or exc}", path=path) from None
    mode = st.st_mode
    if stat_mod.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError as exc:
            return Side("symlink", target=f"(target unreadable: {exc.strerror or exc})")
        return Side("symlink", target=shown_target(path, target, real_root) if real_root is not None else target)
    if stat_mod.S_ISDIR(mode):
        return Side("dir")
    if stat_mod.S_ISREG(mode):
        return Side("file", st.st_size, head=lambda n: read_file(path, n), read=lambda: read_file(path),
                    chunks=lambda: _file_chunks(path))
    return Side("other")


def _file_chunks(path: str) -> Iterator[bytes]:
    fd = open_read(path, NOFOLLOW)
    try:
        while chunk := os.read(fd, 1 << 20):
            yield chunk
    finally:
        os.close(fd)


def entry_content(
    path_a: str | None,
    path_b: str | None,
    path: str,
    rules: SnapshotRules = SnapshotRules(),
    mode: str = "auto",
    *,
    old_path: str | None = None,
    context: int = 3,
    real_root: str | None = None,
) -> EntryContent:
    """Compute the content diff of one entry of two directories.

    Args:
        path_a: Absolute path of the baseline side (``None`` when absent).
        path_b: Absolute path of the candidate side (``None`` when absent).
        path: The entry path as reported (candidate side).
        rules: Rules; with ``rules.apply`` the ignored differences are tagged.
        mode: ``auto``, ``unified``, ``side``, ``structured`` or ``binary``.
        old_path: The baseline path of a rename.
        context: Lines of context around changes.
        real_root: The source root's real path: a symlink leading out of it
            is described without its target.

    Raises:
        UnreadableError: When a side exists but cannot be read.
    """
    side_a, side_b = file_side(path_a, real_root), file_side(path_b, real_root)
    try:
        return content_of(side_a, side_b, path, rules, mode, old_path=old_path, context=context)
    except OSError as exc:
        raise UnreadableError(f"{path}: unreadable: {exc.strerror or exc}", path=path) from None


def content_of(
    side_a: Side,
    side_b: Side,
    path: str,
    rules: SnapshotRules = SnapshotRules(),
    mode: str = "auto",
    *,
    old_path: str | None = None,
    context: int = 3,
) -> EntryContent:
    """The content diff of one entry given its two sides (arguments as for ``entry_content``).

    Reads are bounded: a side above ``TEXT_MAX`` is summarised like a binary
    one (streamed for its digest), and a structured diff is tried only up to
    ``rules.structured_max_bytes``. Errors of a side's reads propagate.
    """
    kind_a, kind_b = side_a.kind, side_b.kind
    size_a = side_a.size if kind_a == "file" else 0
    size_b = side_b.size if kind_b == "file" else 0
    base = EntryContent(path, "none", old_path=old_path, size_a=size_a, size_b=size_b)
    if {kind_a, kind_b} - {"file", "absent"}:
        notes: list[str] = [_describe("baseline", kind_a, side_a.target), _describe("candidate", kind_b, side_b.target)]
        return EntryContent(path, "none", old_path=old_path, size_a=size_a, size_b=size_b, notes=tuple(notes))
    head_a = side_a.head(SNIFF_BYTES) if kind_a == "file" else b""
    head_b = side_b.head(SNIFF_BYTES) if kind_b == "file" else b""
    fmt = "binary" if "binary" in (format_of(path, head_a), format_of(path, head_b)) else format_of(path, head_b)
    if mode == "binary" or fmt == "binary" or max(size_a, size_b) > TEXT_MAX:
        notes = [] if fmt == "binary" or mode == "binary" else [
            f"too large for a line diff ({max(size_a, size_b):,} bytes > {TEXT_MAX:,})"]
        return _binary(base, side_a if kind_a == "file" else None, side_b if kind_b == "file" else None, notes)
    data_a = side_a.read() if kind_a == "file" else b""
    data_b = side_b.read() if kind_b == "file" else b""
    compiled = CompiledRules(rules)
    notes = []
    both = kind_a == "file" and kind_b == "file"
    if fmt in STRUCTURED and mode in ("auto", "structured") and both:
        if max(size_a, size_b) > rules.structured_max_bytes:
            notes.append(f"structured diff skipped: {max(size_a, size_b):,} bytes is above "
                         f"{rules.structured_max_bytes:,}; showing a line diff")
        else:
            structured = _structured(base, fmt, data_a, data_b, path, compiled, notes)
            if structured is not None:
                return structured
    elif mode == "structured":
        notes.append("not a structured file (or one side is missing); showing a line diff")
    return _text(base, data_a, data_b, compiled, "side" if mode == "side" else "unified", context, notes)


def file_diff_text(side_a: Side, side_b: Side, a: str, b: str) -> str:
    """Unified diff text of two files (no rules), headed ``a/<a>`` and ``b/<b>``.

    Raises:
        UnreadableError: When a side cannot be read.
    """
    from backends.snapshots.textdiff import render_unified

    try:
        content = content_of(side_a, side_b, b, SnapshotRules(apply=False), "unified")
    except OSError as exc:
        raise UnreadableError(f"{b}: unreadable: {exc.strerror or exc}", path=b) from None
    return render_unified(content.lines, f"a/{a}", f"b/{b}")


def _describe(side: str, kind: str, target: str | None) -> str:
    if kind == "symlink":
        return f"{side}: symlink -> {target}"
    if kind == "absent":
        return f"{side}: absent"
    return f"{side}: {'directory' if kind == 'dir' else kind}"


def _binary(base: EntryContent, side_a: Side | None, side_b: Side | None, notes: list[str]) -> EntryContent:
    digest_a = _sha256(side_a.chunks()) if side_a else None
    digest_b = _sha256(side_b.chunks()) if side_b else None
    if side_a and side_b:
        offset = first_difference(side_a.chunks(), side_b.chunks())
        if offset is None:
            notes.append("identical bytes")
        else:
            notes.append(f"first difference at byte {offset:,}")
    return EntryContent(base.path, "binary", old_path=base.old_path, size_a=base.size_a, size_b=base.size_b,
                        sha256_a=digest_a, sha256_b=digest_b, notes=tuple(notes))


def _sha256(chunks: Iterator[bytes]) -> str:
    digest = hashlib.sha256()
    for chunk in chunks:
        digest.update(chunk)
    return digest.hexdigest()


def first_difference(chunks_a: Iterator[bytes], chunks_b: Iterator[bytes]) -> int | None:
    """The offset of the first differing byte of two chunk streams (chunk borders may differ), ``None`` if equal."""
    with io.BufferedReader(ChunkStream(chunks_a), 1 << 20) as fa, io.BufferedReader(ChunkStream(chunks_b), 1 << 20) as fb:
        offset = 0
        while True:
            ca, cb = fa.read(1 << 20), fb.read(1 << 20)  # a buffered read returns short only at the end
            if ca != cb:
                limit = min(len(ca), len(cb))
                index = next((i for i in range(limit) if ca[i] != cb[i]), limit)
                return offset + index
            if not ca:
                return None
            offset += len(ca)


def _structured(
    base: EntryContent, fmt: str, a: bytes, b: bytes, path: str, rules: CompiledRules, notes: list[str]
) -> EntryContent | None:
    keys = rules.rules.keys
    try:
        pa = parse(a, fmt, f"baseline {base.old_path or path}", keys)
        pb = parse(b, fmt, f"candidate {path}", keys)
    except MalformedError as exc:
        notes.append(f"{exc}; showing a line diff")
        return None
    notes.extend(pa.problems + pb.problems)
    changes, differing, truncated = field_changes(pa, pb, rules)
    if not changes:
        label = label_of(a, b)
        notes.append(f"same values; the files differ only in {_what(label)}" if a != b else "identical")
    if truncated:
        notes.append(f"first {len(changes):,} value changes shown")
    records = (len(pa.records), len(pb.records), differing) if pa.as_records or pb.as_records else None
    return EntryContent(base.path, "structured", old_path=base.old_path, fields=tuple(changes),
                        size_a=base.size_a, size_b=base.size_b, notes=tuple(notes), truncated=truncated,
                        records=records)


def _what(label: str | None) -> str:
    if label == LINE_ENDINGS_ONLY:
        return "line endings"
    if label == WHITESPACE_ONLY:
        return "whitespace"
    return "formatting (key order, quoting, spacing)"


def _text(
    base: EntryContent, a: bytes, b: bytes, rules: CompiledRules, mode: str, context: int, notes: list[str]
) -> EntryContent:
    text_a, bad_a = decode_text(a)
    text_b, bad_b = decode_text(b)
    for side, bad in (("baseline", bad_a), ("candidate", bad_b)):
        if bad:
            notes.append(f"{side}: {bad}")
    lines_a, open_a = split_lines(text_a)
    lines_b, open_b = split_lines(text_b)
    label = label_of(a, b) if a != b and a and b else None
    if label == LINE_ENDINGS_ONLY:
        notes.append("only line endings differ (␍ marks a carriage return)")
    elif label == WHITESPACE_ONLY:
        notes.append("only whitespace differs")
    if open_a != open_b:
        side = "baseline" if open_a else "candidate"
        notes.append(f"no newline at end of file in the {side}")
    key = line_key(rules)
    ops = opcodes(lines_a, lines_b, key, open_a, open_b)
    if mode == "side":
        rows, truncated = side_by_side(lines_a, lines_b, ops, context)
        if not rows:
            notes.append("identical" if a == b else "no line differences")
        return EntryContent(base.path, "side", old_path=base.old_path, rows=tuple(rows), size_a=base.size_a,
                            size_b=base.size_b, notes=tuple(notes), truncated=truncated)
    lines, truncated = unified(lines_a, lines_b, ops, context)
    if not lines:
        notes.append("identical" if a == b else "no line differences")
    return EntryContent(base.path, "unified", old_path=base.old_path, lines=tuple(lines), size_a=base.size_a,
                        size_b=base.size_b, notes=tuple(notes), truncated=truncated)
