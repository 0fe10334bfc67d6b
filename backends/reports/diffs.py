"""Side-by-side diffs for reports, from the snapshot engine's line and word diff (``textdiff``)."""

from __future__ import annotations

import json
from typing import Iterable

from backends.reports.model import SideDiff
from backends.snapshots.models import DiffLine, SideRow
from backends.snapshots.textdiff import intra_spans, opcodes, side_by_side

WHOLE = 1_000_000
"""Context wide enough to keep every line of a short text (one hunk)."""


def side_rows(lines: Iterable[DiffLine]) -> list[SideRow]:
    """Unified diff lines as side-by-side rows.

    ``textdiff.unified`` pairs the k-th removed with the k-th added line of a
    replaced block and gives each pair its changed words; the rows pair them
    the same way, so they equal what ``textdiff.side_by_side`` gives.
    """
    rows: list[SideRow] = []
    removed: list[DiffLine] = []
    added: list[DiffLine] = []

    def flush() -> None:
        for k in range(max(len(removed), len(added))):
            left = removed[k] if k < len(removed) else None
            right = added[k] if k < len(added) else None
            if left is not None and right is not None:
                rows.append(SideRow("!", left.old, left.text, left.spans, right.new, right.text, right.spans))
            elif left is not None:
                rows.append(SideRow("-", left.old, left.text, left.spans, None, "", ()))
            elif right is not None:
                rows.append(SideRow("+", None, "", (), right.new, right.text, right.spans))
        removed.clear()
        added.clear()

    for line in lines:
        if line.tag == "-":
            if added:
                flush()
            removed.append(line)
        elif line.tag == "+":
            added.append(line)
        else:
            flush()
            if line.tag == "@":
                rows.append(SideRow("@", None, line.text, (), None, "", ()))
            else:
                rows.append(SideRow(line.tag if line.tag == "~" else " ", line.old, line.text, (), line.new, line.text, ()))
    flush()
    return rows


def _lines(text: str) -> list[str]:
    """JSON pretty-printed one value per line (so a changed field is a changed line); other text as it is."""
    try:
        value = json.loads(text)
    except ValueError:
        return text.splitlines() or [text]
    return json.dumps(value, indent=2, ensure_ascii=False).splitlines()


def text_diff(title: str, left: str, right: str, a: str | None, b: str | None) -> SideDiff:
    """Two texts (JSON values pretty-printed) compared line by line, changed words marked.

    The rows carry no line numbers: the lines are of the pretty-printed
    value, not of any file (``title`` names the file lines).
    """
    la = _lines(a) if a is not None else []
    lb = _lines(b) if b is not None else []
    rows, truncated = side_by_side(la, lb, opcodes(la, lb), context=WHOLE)
    if not rows and la:  # identical texts: shown whole, unmarked
        rows = [SideRow(" ", None, line, (), None, line, ()) for line in la]
    rows = [SideRow(r.tag, None, r.left, r.left_spans, None, r.right, r.right_spans) for r in rows if r.tag != "@"]
    return SideDiff(title, left, right, tuple(rows), truncated)


def value_rows(changes: Iterable[tuple[str, str | None, str | None]]) -> tuple[SideRow, ...]:
    """``(path, old, new)`` value changes as changed rows, ``path = value`` on each side, changed words marked."""
    rows = []
    for path, old, new in changes:
        left = "" if old is None else f"{path} = {old}"
        right = "" if new is None else f"{path} = {new}"
        if old is not None and new is not None:
            ls, rs = intra_spans(old, new)
            shift = len(path) + 3
            rows.append(SideRow("!", None, left, tuple((s + shift, e + shift) for s, e in ls),
                                None, right, tuple((s + shift, e + shift) for s, e in rs)))
        elif old is not None:
            rows.append(SideRow("-", None, left, ((0, len(left)),), None, "", ()))
        else:
            rows.append(SideRow("+", None, "", (), None, right, ((0, len(right)),)))
    return tuple(rows)
