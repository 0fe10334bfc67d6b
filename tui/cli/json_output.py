"""The ``--json`` output of the commands: valid UTF-8, whatever the file names are.

A file name that is not UTF-8 reaches Python as a string with surrogate
escapes (PEP 383), which orjson refuses to encode (``--json`` ended in
"internal error" on such a workspace). Here such bytes are written as
``\\xNN`` text, as ``snapshots diff --json`` already does: the output stays
valid UTF-8 that any JSON parser reads, and the name stays recognisable.
Output without such names is exactly what ``orjson.dumps`` gives.
"""

from __future__ import annotations

from typing import Any

import orjson


def dumps(value: Any, option: int = 0) -> bytes:
    """``orjson.dumps(value, option=option)``, undecodable bytes of strings written as ``\\xNN``."""
    try:
        return orjson.dumps(value, option=option)
    except orjson.JSONEncodeError:
        return orjson.dumps(_printable(value), option=option)  # an unsupported type still raises, as before


def escape_undecodable(text: str) -> str:
    """``text`` with the surrogate escapes of undecodable bytes written as ``\\xNN`` (other lone surrogates as ``\\uXXXX``)."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte (from a JSON "\ud800" escape, say)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return escape_undecodable(value)
    if isinstance(value, dict):
        return {(escape_undecodable(k) if isinstance(k, str) else k): _printable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_printable(item) for item in value]
    return value
