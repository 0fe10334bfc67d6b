"""What kind of content a snapshot file holds: binary, text, JSON, YAML, JSONL."""

from __future__ import annotations

SNIFF_BYTES = 8000
"""Bytes looked at for a NUL to call a file binary (as git and diff do)."""

_EXTENSIONS = {
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".yaml": "yaml",
    ".yml": "yaml",
}

STRUCTURED = frozenset({"json", "yaml", "jsonl"})


def format_of(path: str, head: bytes | None) -> str:
    """``binary`` when ``head`` holds a NUL, else the format the name says (``text`` by default)."""
    if head is not None and b"\x00" in head[:SNIFF_BYTES]:
        return "binary"
    name = path.rsplit("/", 1)[-1].lower()
    dot = name.rfind(".")
    return _EXTENSIONS.get(name[dot:], "text") if dot > 0 else "text"


def decode_text(data: bytes) -> tuple[str, str | None]:
    """Decode UTF-8 (a BOM is dropped); invalid bytes become U+FFFD and a note says so."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as bad:
        line = data.count(b"\n", 0, bad.start) + 1
        return data.decode("utf-8", errors="replace"), f"not valid UTF-8 (first bad byte on line {line}); shown with replacement characters"


def split_lines(text: str) -> tuple[list[str], bool]:
    """Lines without their ``\\n`` (a ``\\r`` before it stays: line endings are
    content), and whether the last line lacks its newline."""
    if not text:
        return [], False
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
        return lines, False
    return lines, True
