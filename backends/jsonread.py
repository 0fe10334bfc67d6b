"""JSON decoding that reports *where* a document is broken.

orjson is fast but its errors are terse; these helpers turn every failure into
a ``MalformedError`` naming the file and line: invalid UTF-8, empty input,
nesting deeper than orjson's 1024 levels, trailing garbage, syntax errors.
A UTF-8 byte-order mark is tolerated and skipped.
"""

from __future__ import annotations

from typing import Any

import orjson

from backends.errors import MalformedError

UTF8_BOM = b"\xef\xbb\xbf"


def line_of(data: bytes, offset: int) -> int:
    """1-based line number of byte ``offset`` in ``data``."""
    return data.count(b"\n", 0, max(0, offset)) + 1


def loads_located(data: bytes, path: str, *, first_line: int = 1) -> Any:
    """Parse one JSON document, raising ``MalformedError`` with a line number.

    Args:
        data: The raw bytes.
        path: File name used in the error message.
        first_line: Line number of ``data``'s first byte in its file (for
            documents that are one line of a JSONL file).

    Returns:
        The decoded value.

    Raises:
        MalformedError: With the path and line of the first problem.
    """
    if data.startswith(UTF8_BOM):
        data = data[3:]
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as exc:
        raise _locate(data, path, exc, first_line) from None


def _locate(data: bytes, path: str, exc: orjson.JSONDecodeError, first_line: int) -> MalformedError:
    if not data.strip():
        return MalformedError(path, first_line, "empty document")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as bad:
        line = line_of(data, bad.start) + first_line - 1
        return MalformedError(path, line, f"invalid UTF-8 (byte 0x{data[bad.start]:02x} at offset {bad.start})")
    message = exc.msg or "invalid JSON"
    if "depth" in message.lower() or "recursion" in message.lower():
        return MalformedError(path, first_line, "JSON nested deeper than 1024 levels")
    pos = min(max(exc.pos or 0, 0), len(text))
    line = text.count("\n", 0, pos) + first_line
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return MalformedError(path, line, f"invalid JSON at column {column}: {message}")
