"""Field-level comparison of two events: just the fields that differ.

Only called for a pair that already compared unequal (or to apply a float
tolerance), so it favours clarity over speed. Numbers compare by value (an
integer equals the same float); a float is equal to a number within the
tolerance; booleans are not numbers here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from backends.wal.canonical import canonical, cut

MAX_CHANGES = 1000
"""Field changes kept per event pair at most."""
VALUE_CHARS = 4000
"""Characters of one expected/found value kept."""

_ABSENT = object()


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field that differs between the recorded and the replayed event.

    Attributes:
        path: Dotted path (``payload.status``; list items by index).
        expected: Canonical JSON of the recorded value, ``None`` when absent.
        found: Canonical JSON of the replayed value, ``None`` when absent.
    """

    path: str
    expected: str | None
    found: str | None

    def describe(self) -> str:
        """``payload.status expected 200, found 503`` (absent values said so)."""
        expected = "absent" if self.expected is None else self.expected
        found = "absent" if self.found is None else self.found
        return f"{self.path or '(event)'} expected {expected}, found {found}"

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "expected": self.expected, "found": self.found}


def _is_number(value: Any) -> bool:
    return type(value) is int or type(value) is float


def _equal_scalars(a: Any, b: Any, tolerance: float) -> bool:
    if _is_number(a) and _is_number(b):
        if a == b:
            return True
        return tolerance > 0.0 and (type(a) is float or type(b) is float) and abs(a - b) <= tolerance
    return type(a) is type(b) and a == b


def field_changes(expected: Any, found: Any, tolerance: float = 0.0) -> list[FieldChange]:
    """The fields that differ between two (already redacted) values, in path order."""
    out: list[FieldChange] = []
    _walk(expected, found, [], tolerance, out)
    return out


def _walk(a: Any, b: Any, path: list[str], tolerance: float, out: list[FieldChange]) -> None:
    if len(out) >= MAX_CHANGES:
        return
    if type(a) is dict and type(b) is dict:
        for key in sorted(a.keys() | b.keys()):
            path.append(key)
            _walk(a.get(key, _ABSENT), b.get(key, _ABSENT), path, tolerance, out)
            path.pop()
        return
    if type(a) is list and type(b) is list:
        for index in range(max(len(a), len(b))):
            path.append(str(index))
            _walk(a[index] if index < len(a) else _ABSENT, b[index] if index < len(b) else _ABSENT, path, tolerance, out)
            path.pop()
        return
    if a is _ABSENT or b is _ABSENT or not _equal_scalars(a, b, tolerance):
        out.append(FieldChange(".".join(path), _value(a), _value(b)))


def _value(value: Any) -> str | None:
    if value is _ABSENT:
        return None
    return cut(canonical(value), VALUE_CHARS)[0]
