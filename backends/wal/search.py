"""Search a WAL file for the lines whose displayed text contains a string.

The match is case-insensitive against what the pane shows: the canonical,
redacted text of the event (so a redacted secret never matches). A leading
``!`` inverts the match. Raw bytes are checked first; only lines whose bytes
contain the needle are parsed to confirm, so a search costs about one pass
of ``bytes.lower`` over the file (needles with JSON punctuation or non-ASCII
letters are confirmed on every line).
"""

from __future__ import annotations

import threading
from itertools import islice
from typing import Iterator

from backends.wal.lines import describe_line
from backends.wal.progress import WalProgress
from backends.wal.reader import Cancelled, LineReader, Stored
from backends.wal.rules import CompiledRules, WalRules

STEP = 1 << 15
"""Lines read between two batches of matches (and progress reports)."""


def search_wal_file(
    path: str | Stored, name: str, text: str, rules: WalRules = WalRules(), stop: threading.Event | None = None
) -> Iterator[list[int] | WalProgress]:
    """Line numbers (1-based, ascending) of the lines that match ``text``.

    Args:
        path: Filesystem path (or the file in a storage).
        name: The file as the user knows it.
        text: The needle; a leading ``!`` keeps the lines that do not match.
        rules: Redaction rules (what the displayed text hides).
        stop: Set to cancel (the search then just ends).

    Yields:
        Batches of line numbers, and progress after each block.
    """
    invert = text.startswith("!")
    needle = (text[1:] if invert else text).casefold()
    compiled = CompiledRules(rules)
    needle_bytes = needle.encode("utf-8")
    # Canonical text differs from raw bytes in spacing, escapes and key order; a needle
    # that could straddle those is confirmed on every line instead of prefiltered.
    prefilter = needle.isascii() and not any(c in needle for c in '"\\:, {}[]')
    with LineReader(path, name, stop) as reader:
        lines = reader.lines()
        number = 0
        try:
            while True:
                reader.check()
                start = number
                batch: list[int] = []
                for raw in islice(lines, STEP):
                    number += 1
                    hit = (not prefilter or needle_bytes in raw.lower()) and _confirm(number, raw, needle, compiled)
                    if hit != invert:
                        batch.append(number)
                if batch:
                    yield batch
                yield WalProgress("search", number, reader.position, reader.size)
                if number - start < STEP:
                    return
        except Cancelled:
            return


def _confirm(number: int, raw: bytes, needle: str, compiled: CompiledRules) -> bool:
    if not needle:
        return True
    shown = describe_line(number, 0, raw, len(raw), compiled, max_chars=len(raw) * 2 + 64)
    return needle in shown.text.casefold()
