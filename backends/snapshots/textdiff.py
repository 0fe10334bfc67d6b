"""Line diffs of text: unified and side-by-side, with intra-line highlights.

Lines are matched by ``difflib.SequenceMatcher`` on *comparison keys*: the raw
line, or the line with the ignore rules applied (line regexes masked,
whitespace or line endings normalised). Lines whose keys match but whose text
differs are the differences the rules hide; they are kept, tagged ``~``, so
the reader sees them. Within changed line pairs the changed words are
located with a second matcher over word tokens.
"""

from __future__ import annotations

import re
from difflib import SequenceMatcher
from typing import Callable, Iterator

from backends.snapshots.models import DiffLine, SideRow

MAX_OUTPUT = 5000
"""Diff lines (or rows) produced at most; the rest is cut with a note."""

MAX_INTRA_CHARS = 4000
"""Lines longer than this are highlighted whole instead of word by word."""

_TOKEN = re.compile(r"\w+|\s+|[^\w\s]", re.UNICODE)

Opcode = tuple[str, int, int, int, int]


def display(line: str) -> str:
    """A line as shown: a trailing carriage return becomes a visible ``␍``."""
    return line[:-1] + "␍" if line.endswith("\r") else line


def opcodes(
    a: list[str], b: list[str], key: Callable[[str], str] | None = None, eol_a: bool = False, eol_b: bool = False
) -> list[Opcode]:
    """Opcodes over the lines of ``a`` and ``b``, with ``ignored`` runs split out.

    Args:
        a: Baseline lines.
        b: Candidate lines.
        key: Maps a line to the text compared (``None``: compare raw lines).
        eol_a: Whether ``a``'s last line lacks a newline.
        eol_b: Whether ``b``'s last line lacks a newline.
    """
    ka = [key(x) for x in a] if key else list(a)
    kb = [key(x) for x in b] if key else list(b)
    if eol_a and ka:
        ka[-1] += "\x00no-eol"
    if eol_b and kb:
        kb[-1] += "\x00no-eol"
    matcher = SequenceMatcher(None, ka, kb, autojunk=len(ka) + len(kb) > 4000)
    out: list[Opcode] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag != "equal" or key is None:
            out.append((tag, i1, i2, j1, j2))
            continue
        k, n = 0, i2 - i1
        while k < n:
            same = a[i1 + k] == b[j1 + k]
            start = k
            while k < n and (a[i1 + k] == b[j1 + k]) == same:
                k += 1
            out.append(("equal" if same else "ignored", i1 + start, i1 + k, j1 + start, j1 + k))
    return out


def group(ops: list[Opcode], context: int) -> Iterator[list[Opcode]]:
    """Hunks: changes (``ignored`` included) with ``context`` equal lines around them."""
    if not ops:
        return
    if all(op[0] == "equal" for op in ops):
        return
    ops = list(ops)
    tag, i1, i2, j1, j2 = ops[0]
    if tag == "equal":
        ops[0] = (tag, max(i1, i2 - context), i2, max(j1, j2 - context), j2)
    tag, i1, i2, j1, j2 = ops[-1]
    if tag == "equal":
        ops[-1] = (tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context))
    hunk: list[Opcode] = []
    for tag, i1, i2, j1, j2 in ops:
        if tag == "equal" and i2 - i1 > 2 * context:
            hunk.append((tag, i1, min(i2, i1 + context), j1, min(j2, j1 + context)))
            yield hunk
            hunk = []
            i1, j1 = max(i1, i2 - context), max(j1, j2 - context)
        hunk.append((tag, i1, i2, j1, j2))
    if hunk and not (len(hunk) == 1 and hunk[0][0] == "equal"):
        yield hunk


def intra_spans(old: str, new: str) -> tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]:
    """Character ranges of the words that changed between two lines."""
    if len(old) > MAX_INTRA_CHARS or len(new) > MAX_INTRA_CHARS:
        return ((0, len(old)),) if old else (), ((0, len(new)),) if new else ()
    ta, tb = _TOKEN.findall(old), _TOKEN.findall(new)
    pa, pb = _offsets(ta), _offsets(tb)
    left: list[tuple[int, int]] = []
    right: list[tuple[int, int]] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if i2 > i1:
            _add(left, pa[i1], pa[i2])
        if j2 > j1:
            _add(right, pb[j1], pb[j2])
    left, right = _merge(left, old), _merge(right, new)
    if old != new and not left and not right:
        # The difference is invisible (a trailing carriage return, say): mark the end.
        left = [(max(0, len(old) - 1), len(old))] if old else []
        right = [(max(0, len(new) - 1), len(new))] if new else []
    return tuple(left), tuple(right)


def _merge(spans: list[tuple[int, int]], text: str) -> list[tuple[int, int]]:
    """Join spans separated only by whitespace, so a changed phrase reads as one."""
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def _offsets(tokens: list[str]) -> list[int]:
    offsets = [0]
    for token in tokens:
        offsets.append(offsets[-1] + len(token))
    return offsets


def _add(spans: list[tuple[int, int]], start: int, end: int) -> None:
    if spans and spans[-1][1] == start:
        spans[-1] = (spans[-1][0], end)
    else:
        spans.append((start, end))


def unified(a: list[str], b: list[str], ops: list[Opcode], context: int = 3) -> tuple[list[DiffLine], bool]:
    """Unified diff lines for ``opcodes(a, b, ...)``; returns ``(lines, truncated)``."""
    out: list[DiffLine] = []
    for hunk in group(ops, context):
        first, last = hunk[0], hunk[-1]
        out.append(DiffLine("@", None, None, _header(first[1], last[2], first[3], last[4])))
        for tag, i1, i2, j1, j2 in hunk:
            if tag == "equal":
                out.extend(DiffLine(" ", i1 + k + 1, j1 + k + 1, display(a[i1 + k])) for k in range(i2 - i1))
            elif tag == "ignored":
                out.extend(DiffLine("~", i1 + k + 1, j1 + k + 1, display(b[j1 + k])) for k in range(i2 - i1))
            else:
                pairs = min(i2 - i1, j2 - j1) if tag == "replace" else 0
                spans = [intra_spans(display(a[i1 + k]), display(b[j1 + k])) for k in range(pairs)]
                for k in range(i2 - i1):
                    out.append(DiffLine("-", i1 + k + 1, None, display(a[i1 + k]), spans[k][0] if k < pairs else ()))
                for k in range(j2 - j1):
                    out.append(DiffLine("+", None, j1 + k + 1, display(b[j1 + k]), spans[k][1] if k < pairs else ()))
        if len(out) > MAX_OUTPUT:
            return out[:MAX_OUTPUT], True
    return out, False


def side_by_side(a: list[str], b: list[str], ops: list[Opcode], context: int = 3) -> tuple[list[SideRow], bool]:
    """Side-by-side rows for ``opcodes(a, b, ...)``; returns ``(rows, truncated)``."""
    out: list[SideRow] = []
    for hunk in group(ops, context):
        first, last = hunk[0], hunk[-1]
        out.append(SideRow("@", None, _header(first[1], last[2], first[3], last[4]), (), None, "", ()))
        for tag, i1, i2, j1, j2 in hunk:
            if tag in ("equal", "ignored"):
                mark = " " if tag == "equal" else "~"
                out.extend(
                    SideRow(mark, i1 + k + 1, display(a[i1 + k]), (), j1 + k + 1, display(b[j1 + k]), ())
                    for k in range(i2 - i1)
                )
                continue
            for k in range(max(i2 - i1, j2 - j1)):
                left = display(a[i1 + k]) if k < i2 - i1 else None
                right = display(b[j1 + k]) if k < j2 - j1 else None
                if left is not None and right is not None:
                    ls, rs = intra_spans(left, right)
                    out.append(SideRow("!", i1 + k + 1, left, ls, j1 + k + 1, right, rs))
                elif left is not None:
                    out.append(SideRow("-", i1 + k + 1, left, (), None, "", ()))
                else:
                    out.append(SideRow("+", None, "", (), j1 + k + 1, right or "", ()))
        if len(out) > MAX_OUTPUT:
            return out[:MAX_OUTPUT], True
    return out, False


def _header(i1: int, i2: int, j1: int, j2: int) -> str:
    def part(start: int, end: int) -> str:
        count = end - start
        first = start + 1 if count else start
        return f"{first}" if count == 1 else f"{first},{count}"

    return f"@@ -{part(i1, i2)} +{part(j1, j2)} @@"


def render_unified(lines: list[DiffLine] | tuple[DiffLine, ...], old_name: str, new_name: str) -> str:
    """Plain unified diff text (``---``/``+++`` headers) of diff lines."""
    if not lines:
        return ""
    out = [f"--- {old_name}", f"+++ {new_name}"]
    for line in lines:
        if line.tag == "@":
            out.append(line.text)
        elif line.tag == "~":
            out.append(f"~{line.text}")
        else:
            out.append(f"{line.tag}{line.text}")
    return "\n".join(out) + "\n"
