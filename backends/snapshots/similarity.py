"""Similarity of two files for rename detection, the way ``git diff -M`` scores it.

Each file is cut into chunks that end at a newline or after 64 bytes; for
text, a ``\\r`` before ``\\n`` is dropped first. The score is the number of bytes
the two files have in common chunk-wise, divided by the larger size. Git pairs
a removed and an added file as a rename when this is at least 50 %.
"""

from __future__ import annotations

from collections import Counter

CHUNK = 64


def chunk_counts(data: bytes) -> Counter[int]:
    """Bytes per chunk hash of ``data`` (line-ish chunks of at most 64 bytes)."""
    data = data.replace(b"\r\n", b"\n")
    counts: Counter[int] = Counter()
    start, n = 0, len(data)
    while start < n:
        newline = data.find(b"\n", start, start + CHUNK)
        end = newline + 1 if newline >= 0 else min(n, start + CHUNK)
        piece = data[start:end]
        counts[hash(piece)] += len(piece)
        start = end
    return counts


def similarity(a: Counter[int], size_a: int, b: Counter[int], size_b: int) -> float:
    """Score in ``[0, 1]`` of two files given their ``chunk_counts``."""
    biggest = max(size_a, size_b)
    if biggest == 0:
        return 1.0
    if len(a) > len(b):
        a, b = b, a
    copied = sum(min(count, b[key]) for key, count in a.items() if key in b)
    return min(1.0, copied / biggest)


def plausible(size_a: int, size_b: int, threshold: float) -> bool:
    """Whether two sizes can reach ``threshold`` at all (git's early rejection)."""
    biggest, smallest = max(size_a, size_b), min(size_a, size_b)
    return biggest == 0 or (biggest - smallest) <= biggest * (1.0 - threshold)
