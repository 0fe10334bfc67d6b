"""``Selection``: what is under the cursor, as the app-level keys see it.

Every pane (and the run detail screen) answers ``selected_item()`` with one
of these; ``y`` copies its ``value``, ``Y`` its ``detail`` as JSON, ``m``
marks it, ``O`` opens its ``path``. The keys are declared once, on the app.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

NOTICE_WIDTH = 48
"""Cells of a copied value a notification shows at most (the middle is elided)."""


@dataclass(frozen=True)
class Selection:
    """One selected item.

    Attributes:
        kind: What ``value`` is, in words: ``run id``, ``path``, ``hash``, ``divergence``, ``line``.
        value: The one value ``y`` copies.
        detail: Everything about the item, for ``Y`` (JSON) and exported marks.
        path: The file under the cursor, relative to the source root, if there is one.
        line: The line of ``path`` the item is on (an editor opens there).
        title: A short human name of the item (a mark's label in exports).
    """

    kind: str
    value: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    path: str | None = None
    line: int | None = None
    title: str = ""

    def detail_json(self) -> str:
        """``detail`` as indented JSON (what ``Y`` copies)."""
        return orjson.dumps(dict(self.detail), option=orjson.OPT_INDENT_2, default=_jsonable).decode()


def _jsonable(value: object) -> object:
    """What orjson cannot encode by itself: read-only mappings, sets, named tuples' fields."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    as_dict = getattr(value, "_asdict", None)
    if callable(as_dict):
        return as_dict()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def as_detail(item: object) -> dict[str, Any]:
    """A model object (dataclass, named tuple or object with ``to_json``) as a plain dict."""
    to_json = getattr(item, "to_json", None)
    if callable(to_json):
        data = to_json()
        if isinstance(data, dict):
            return data
    as_dict = getattr(item, "_asdict", None)
    if callable(as_dict):
        return dict(as_dict())
    loaded = orjson.loads(orjson.dumps(item, default=_jsonable))
    if not isinstance(loaded, dict):
        raise TypeError(f"{type(item).__name__} is not a record")
    return loaded


def shorten(text: str, width: int = NOTICE_WIDTH) -> str:
    """``text`` on one line, its middle elided to fit ``width`` characters (ids keep both ends)."""
    text = " ".join(text.split())
    if len(text) <= width:
        return text
    keep = width - 1
    return text[: (keep + 1) // 2] + "…" + text[len(text) - keep // 2:]
