"""Where the TUI may write an exported report (wherever the user says, except the data root), and the marks report."""

from __future__ import annotations

import os
from collections.abc import Iterable

import orjson

from backends.errors import ForbiddenError
from tui.selection import Selection


def export_path(source: object, typed: str) -> str:
    """The absolute path for a report the user typed, refusing the source's own root.

    The app promises READ-ONLY: even a report the user asks for is never
    written under a local source's root (a remote source has no local root).

    Raises:
        ForbiddenError: When the path resolves inside the local source root.
    """
    path = os.path.abspath(os.path.expanduser(typed))
    root = getattr(source, "root", None)
    if getattr(source, "kind", None) == "local" and isinstance(root, str):
        real_root = os.path.realpath(root)
        real = os.path.realpath(path)
        if real == real_root or real.startswith(real_root.rstrip("/") + "/"):
            raise ForbiddenError(f"{typed}: refusing to write under the read-only source root", path=typed)
    return path


def render_marks(marks: Iterable[tuple[str, Selection]], *, as_json: bool) -> bytes:
    """The marked rows as a report: JSON (``{"marks": [...]}``) or Markdown, scope by scope in marking order.

    Args:
        marks: ``(scope, selection)`` pairs, as :meth:`tui.marks.MarkBook.items` gives them.
        as_json: JSON rather than Markdown.
    """
    items = [
        {"scope": scope, "kind": item.kind, "value": item.value, "title": item.title, "path": item.path, "line": item.line,
         "detail": orjson.loads(item.detail_json())}
        for scope, item in marks
    ]
    if as_json:
        return orjson.dumps({"version": 1, "marks": items}, option=orjson.OPT_INDENT_2) + b"\n"
    lines = ["# driftdeck marks", ""]
    scope = None
    for mark in items:
        if mark["scope"] != scope:
            scope = mark["scope"]
            lines += [f"## {scope}", ""]
        where = f" — `{mark['path']}`" + (f" line {mark['line']}" if mark["line"] else "") if mark["path"] else ""
        lines.append(f"- **{mark['title'] or mark['value']}** ({mark['kind']}: `{mark['value']}`){where}")
    if not items:
        lines.append("nothing is marked")
    return ("\n".join(lines) + "\n").encode()
