"""Canonical JSON: sorted keys, no whitespace, stable number formatting.

orjson writes floats in their shortest round-trip form (``0.1``, ``1e+16``)
and integers exactly, so two equal values always print the same bytes. Values
orjson cannot write (integers beyond 64 bits from another parser) fall back to
the standard library with the same separators and key order.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = orjson.OPT_SORT_KEYS


def canonical_bytes(value: Any) -> bytes:
    """``value`` as canonical JSON bytes."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical(value: Any) -> str:
    """``value`` as canonical JSON text."""
    return canonical_bytes(value).decode("utf-8")


def cut(text: str, limit: int) -> tuple[str, bool]:
    """``text`` cut to ``limit`` characters with a trailing ``…``; and whether it was cut."""
    if len(text) <= limit:
        return text, False
    return text[: max(0, limit - 1)] + "…", True
