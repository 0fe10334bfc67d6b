"""``MarkBook``: the rows the user marked with ``m``, per list, in the order they were marked.

Marks are kept by the app, not by the list widgets, so they survive a list
being rebuilt (a filter, a re-sort, a run detail closed and opened again).
Each list names its scope (``runs``, ``live``, ``wal``, ``timeline``) and
the key of a row (a run directory, an event's sequence number, a pair's
line numbers); the book keeps the row's :class:`~tui.selection.Selection`
for exports.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator

from tui.selection import Selection


class MarkBook:
    """Marked rows by scope and key."""

    def __init__(self) -> None:
        self._scopes: dict[str, dict[Hashable, Selection]] = {}
        self._order: dict[tuple[str, Hashable], None] = {}
        """Every mark as ``(scope, key)``, in the order it was made."""

    def scope(self, name: str) -> dict[Hashable, Selection]:
        """The marks of one scope (a live dict: lists test membership against it when they draw)."""
        return self._scopes.setdefault(name, {})

    def toggle(self, scope: str, key: Hashable, selection: Selection) -> bool:
        """Mark the row, or unmark it if it was marked; whether it is marked now."""
        marks = self.scope(scope)
        if key in marks:
            del marks[key]
            del self._order[(scope, key)]
            return False
        marks[key] = selection
        self._order[(scope, key)] = None
        return True

    def items(self) -> Iterator[tuple[str, Selection]]:
        """Every mark as ``(scope, selection)``, in the order they were made."""
        for scope, key in self._order:
            yield scope, self._scopes[scope][key]

    def __len__(self) -> int:
        return len(self._order)
