"""Parity rules: which fields a WAL diff ignores, redacts, and how floats compare.

Field paths are dotted (``payload.status``). A segment ``*`` matches any key
of an object or any index of a list; a number matches a list index (or a key
spelled that way). Paths name fields of the event object itself, so the
default ignore rule ``ts_ms`` drops the top-level timestamp only.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable

from backends.wal.canonical import canonical_bytes

DEFAULT_IGNORE: tuple[str, ...] = ("ts_ms",)
"""Fields ignored unless told otherwise: a replay has its own wall clock."""
DEFAULT_REDACT: tuple[str, ...] = ("payload.authorization", "payload.secret")
"""Fields shown hashed unless told otherwise."""
REDACTION_PREFIX = "sha256:"


def redaction(value: Any) -> str:
    """``sha256:<first 12 hex>`` of the canonical JSON of ``value``."""
    return REDACTION_PREFIX + hashlib.sha256(canonical_bytes(value)).hexdigest()[:12]


def split_path(path: str) -> tuple[str, ...]:
    """``"payload.items.*.price"`` -> ``("payload", "items", "*", "price")``.

    Raises:
        ValueError: For an empty path or an empty segment.
    """
    segments = tuple(path.split("."))
    if not path or any(not s for s in segments):
        raise ValueError(f"invalid field path {path!r} (dotted names, e.g. payload.status)")
    return segments


@dataclass(frozen=True, slots=True)
class WalRules:
    """Parity rules for WAL diffs (serialisable: an HTTP source sends them as JSON).

    Attributes:
        ignore: Dotted field paths left out of the comparison.
        float_tolerance: Absolute tolerance when a float is compared with a number.
        redact: Dotted field paths shown as ``sha256:<12 hex>``, never in clear.
    """

    ignore: tuple[str, ...] = DEFAULT_IGNORE
    float_tolerance: float = 0.0
    redact: tuple[str, ...] = DEFAULT_REDACT

    def __post_init__(self) -> None:
        for path in (*self.ignore, *self.redact):
            split_path(path)
        if not self.float_tolerance >= 0.0:  # also refuses NaN
            raise ValueError(f"float tolerance must be >= 0, not {self.float_tolerance!r}")

    @classmethod
    def build(
        cls,
        ignore: Iterable[str] = (),
        redact: Iterable[str] = (),
        float_tolerance: float = 0.0,
        *,
        defaults: bool = True,
    ) -> "WalRules":
        """Rules with extra paths added to (or, ``defaults=False``, replacing) the defaults."""
        base_ignore = DEFAULT_IGNORE if defaults else ()
        base_redact = DEFAULT_REDACT if defaults else ()
        return cls(
            ignore=tuple(dict.fromkeys((*base_ignore, *ignore))),
            float_tolerance=float(float_tolerance),
            redact=tuple(dict.fromkeys((*base_redact, *redact))),
        )

    def to_json(self) -> dict[str, Any]:
        return {"ignore": list(self.ignore), "float_tolerance": self.float_tolerance, "redact": list(self.redact)}

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "WalRules":
        """Inverse of :meth:`to_json`."""
        return cls(
            ignore=tuple(body.get("ignore", DEFAULT_IGNORE)),
            float_tolerance=float(body.get("float_tolerance", 0.0)),
            redact=tuple(body.get("redact", DEFAULT_REDACT)),
        )

    def describe(self) -> str:
        """One line for humans: ``ignore ts_ms; redact payload.secret; float tolerance 0``."""
        ignore = ", ".join(self.ignore) or "nothing"
        redact = ", ".join(self.redact) or "nothing"
        return f"ignore {ignore}; redact {redact}; float tolerance {self.float_tolerance:g}"


class CompiledRules:
    """``WalRules`` prepared for the hot loop of a diff.

    Top-level ignore paths (the common case, ``ts_ms``) become plain
    ``dict.pop`` calls; deeper or wildcard paths walk the object.
    """

    __slots__ = ("rules", "top_ignore", "deep_ignore", "redact", "tolerance")

    def __init__(self, rules: WalRules) -> None:
        self.rules = rules
        paths = [split_path(p) for p in rules.ignore]
        self.top_ignore = tuple(p[0] for p in paths if len(p) == 1 and p[0] != "*")
        self.deep_ignore = tuple(p for p in paths if len(p) > 1 or p[0] == "*")
        self.redact = tuple(split_path(p) for p in rules.redact)
        self.tolerance = rules.float_tolerance

    def drop_ignored(self, event: dict[str, Any]) -> None:
        """Remove ignored fields from ``event`` in place."""
        for key in self.top_ignore:
            event.pop(key, None)
        for path in self.deep_ignore:
            _apply(event, path, 0, _DROP)

    def redact_in_place(self, value: Any) -> Any:
        """Replace redacted fields of ``value`` by their hash; returns ``value``."""
        for path in self.redact:
            _apply(value, path, 0, _HASH)
        return value


_DROP, _HASH = 0, 1


def _apply(node: Any, path: tuple[str, ...], depth: int, action: int) -> None:
    segment = path[depth]
    last = depth == len(path) - 1
    if isinstance(node, dict):
        keys = list(node) if segment == "*" else ([segment] if segment in node else [])
        for key in keys:
            if not last:
                _apply(node[key], path, depth + 1, action)
            elif action == _DROP:
                del node[key]
            else:
                node[key] = redaction(node[key])
    elif isinstance(node, list):
        if segment == "*":
            indexes: Iterable[int] = range(len(node))
        elif segment.isascii() and segment.isdigit() and int(segment) < len(node):  # int() refuses "²", a digit
            indexes = (int(segment),)
        else:
            indexes = ()
        for index in indexes:
            if not last:
                _apply(node[index], path, depth + 1, action)
            elif action == _DROP:
                node[index] = None  # both sides get the same placeholder, so the slot compares equal
            else:
                node[index] = redaction(node[index])
