"""``Alignment``: which record and replay lines sit on each row of a side-by-side view.

A diff reports only its divergences; every row between two divergences is a
matched pair in lockstep. So the whole alignment of two million-line files is
held as three ``array('q')`` with one entry per divergence (the row, and the
lines of each file consumed through it), and a row is located with a bisect.
Rows past the last divergence are assumed in lockstep until the diff says
otherwise, so a view can be drawn before the diff has finished.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right
from typing import NamedTuple

from backends.wal.diff import WalDivergence


class AlignedRow(NamedTuple):
    """One row: the line of each side (``None`` when the side has none) and its divergence, if any."""

    record_line: int | None
    replay_line: int | None
    divergence: WalDivergence | None


class Alignment:
    """Rows of a record/replay pair, built from the divergences of their diff.

    Attributes:
        record_lines: Lines of the record known so far (grows while it is indexed).
        replay_lines: Lines of the replay known so far.
        final_rows: Number of rows once the diff has finished (``None`` before).
        divergences: The divergences added, in row order.
    """

    def __init__(self) -> None:
        self.record_lines = 0
        self.replay_lines = 0
        self.final_rows: int | None = None
        self.divergences: list[WalDivergence] = []
        self._rows: array[int] = array("q")
        self._record_after: array[int] = array("q")
        self._replay_after: array[int] = array("q")

    def _anchor(self, index: int) -> tuple[int, int, int]:
        if index < 0:
            return -1, 0, 0
        return self._rows[index], self._record_after[index], self._replay_after[index]

    def add(self, divergence: WalDivergence) -> None:
        """Record a divergence (they arrive in row order)."""
        row0, record0, replay0 = self._anchor(len(self._rows) - 1)
        step = divergence.row - row0 - 1  # matched rows in between
        record_after = divergence.record_line if divergence.record_line is not None else record0 + step
        replay_after = divergence.replay_line if divergence.replay_line is not None else replay0 + step
        self._rows.append(divergence.row)
        self._record_after.append(record_after)
        self._replay_after.append(replay_after)
        self.divergences.append(divergence)

    def __len__(self) -> int:
        """Rows of the view (an estimate until the diff has finished)."""
        if self.final_rows is not None:
            return self.final_rows
        row0, record0, replay0 = self._anchor(len(self._rows) - 1)
        return row0 + 1 + max(0, self.record_lines - record0, self.replay_lines - replay0)

    def at(self, row: int) -> AlignedRow:
        """The lines on ``row``."""
        index = bisect_right(self._rows, row) - 1
        if index >= 0 and self._rows[index] == row:
            divergence = self.divergences[index]
            return AlignedRow(divergence.record_line, divergence.replay_line, divergence)
        row0, record0, replay0 = self._anchor(index)
        record = record0 + row - row0
        replay = replay0 + row - row0
        return AlignedRow(record if record <= self.record_lines else None,
                          replay if replay <= self.replay_lines else None, None)

    def row_of(self, line: int, *, replay: bool = False) -> int:
        """The row that holds ``line`` of the record (or of the replay)."""
        after = self._replay_after if replay else self._record_after
        index = bisect_left(after, line)
        if index < len(self._rows):
            divergence = self.divergences[index]
            if (divergence.replay_line if replay else divergence.record_line) == line:
                return self._rows[index]
        row0, record0, replay0 = self._anchor(index - 1)
        return row0 + line - (replay0 if replay else record0)

    def divergence_rows(self) -> array[int]:
        """Rows of the divergences, ascending."""
        return self._rows

    def next_divergence(self, row: int, step: int) -> int | None:
        """The row of the next (``step`` 1) or previous (``step`` -1) divergence from ``row``."""
        if not self._rows:
            return None
        if step > 0:
            index = bisect_right(self._rows, row)
            return self._rows[index] if index < len(self._rows) else None
        index = bisect_left(self._rows, row) - 1
        return self._rows[index] if index >= 0 else None
