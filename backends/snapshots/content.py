"""The content diff of one entry, computed only when someone looks at it.

``entry_content`` reads the two sides of one entry (bounded) and returns an
``EntryContent``: a unified or side-by-side line diff for text, a table of
value changes for JSON/YAML/JSONL, or sizes and SHA-256 digests for binary.
Anything that cannot be shown the preferred way falls back and says why.
"""

from __future__ import annotations

import os
import stat as stat_mod

from backends.confine import NOFOLLOW, open_read, shown_target
from backends.errors import MalformedError, UnreadableError
from backends.snapshots.formats import SNIFF_BYTES, STRUCTURED, decode_text, format_of, split_lines
from backends.snapshots.models import EntryContent, SnapshotRules
from backends.snapshots.rules import CompiledRules
from backends.snapshots.structured import field_changes, parse
from backends.snapshots.textdiff import opcodes, side_by_side, unified
from backends.snapshots.tree import read_file, sha256_file
from backends.snapshots.verdict import LINE_ENDINGS_ONLY, WHITESPACE_ONLY, label_of, line_key

TEXT_MAX = 32 << 20
"""Text files above this size (per side) are summarised like binary ones."""


def _side(path: str | None) -> tuple[str, os.stat_result | None, str | None]:
    """``(kind, stat, note)`` of one side: ``absent``, ``file``, ``dir``, ``symlink``, ``other``."""
    if path is None:
        return "absent", None, None
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return "absent", None, None
    except OSError as exc:
        raise UnreadableError(f"{path}: unreadable: {exc.strerror or exc}", path=path) from None
    mode = st.st_mode
    if stat_mod.S_ISLNK(mode):
        try:
            return "symlink", st, os.readlink(path)
        except OSError as exc:
            return "symlink", st, f"(target unreadable: {exc.strerror or exc})"
    if stat_mod.S_ISDIR(mode):
        return "dir", st, None
    if stat_mod.S_ISREG(mode):
        return "file", st, None
    return "other", st, None


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
    """Compute the content diff of one entry.

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
    kind_a, st_a, target_a = _side(path_a)
    kind_b, st_b, target_b = _side(path_b)
    if real_root is not None:
        if kind_a == "symlink" and path_a and target_a is not None:
            target_a = shown_target(path_a, target_a, real_root)
        if kind_b == "symlink" and path_b and target_b is not None:
            target_b = shown_target(path_b, target_b, real_root)
    size_a = st_a.st_size if st_a is not None and kind_a == "file" else 0
    size_b = st_b.st_size if st_b is not None and kind_b == "file" else 0
    base = EntryContent(path, "none", old_path=old_path, size_a=size_a, size_b=size_b)
    if {kind_a, kind_b} - {"file", "absent"}:
        notes: list[str] = [_describe("baseline", kind_a, target_a), _describe("candidate", kind_b, target_b)]
        return EntryContent(path, "none", old_path=old_path, size_a=size_a, size_b=size_b, notes=tuple(notes))
    try:
        head_a = read_file(path_a, SNIFF_BYTES) if kind_a == "file" and path_a else b""
        head_b = read_file(path_b, SNIFF_BYTES) if kind_b == "file" and path_b else b""
        fmt = "binary" if "binary" in (format_of(path, head_a), format_of(path, head_b)) else format_of(path, head_b)
        if mode == "binary" or fmt == "binary" or max(size_a, size_b) > TEXT_MAX:
            notes = [] if fmt == "binary" or mode == "binary" else [
                f"too large for a line diff ({max(size_a, size_b):,} bytes > {TEXT_MAX:,})"]
            return _binary(base, path_a if kind_a == "file" else None, path_b if kind_b == "file" else None, notes)
        data_a = read_file(path_a) if kind_a == "file" and path_a else b""
        data_b = read_file(path_b) if kind_b == "file" and path_b else b""
    except OSError as exc:
        raise UnreadableError(f"{path}: unreadable: {exc.strerror or exc}", path=path) from None
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


def _describe(side: str, kind: str, target: str | None) -> str:
    if kind == "symlink":
        return f"{side}: symlink -> {target}"
    if kind == "absent":
        return f"{side}: absent"
    return f"{side}: {'directory' if kind == 'dir' else kind}"


def _binary(base: EntryContent, path_a: str | None, path_b: str | None, notes: list[str]) -> EntryContent:
    digest_a = sha256_file(path_a)[0] if path_a else None
    digest_b = sha256_file(path_b)[0] if path_b else None
    if path_a and path_b:
        offset = _first_difference(path_a, path_b)
        if offset is None:
            notes.append("identical bytes")
        else:
            notes.append(f"first difference at byte {offset:,}")
    return EntryContent(base.path, "binary", old_path=base.old_path, size_a=base.size_a, size_b=base.size_b,
                        sha256_a=digest_a, sha256_b=digest_b, notes=tuple(notes))


def _first_difference(path_a: str, path_b: str) -> int | None:
    fa = open_read(path_a, NOFOLLOW)
    try:
        fb = open_read(path_b, NOFOLLOW)  # inside the try: fa is closed if this fails
        try:
            offset = 0
            while True:
                ca, cb = os.read(fa, 1 << 20), os.read(fb, 1 << 20)
                if ca != cb:
                    limit = min(len(ca), len(cb))
                    index = next((i for i in range(limit) if ca[i] != cb[i]), limit)
                    return offset + index
                if not ca:
                    return None
                offset += len(ca)
        finally:
            os.close(fb)
    finally:
        os.close(fa)


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
