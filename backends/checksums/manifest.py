"""SHA-256 manifests as GNU coreutils reads and writes them.

Accepted lines (after an optional UTF-8 BOM on line 1, leading blanks, and a
trailing ``\\n`` or ``\\r\\n``):

- GNU: ``<64 hex>  name`` (text) or ``<64 hex> *name`` (binary); the name is
  everything after the marker, spaces included.
- Single-space (``<64 hex> name``, the "BSD reversed" form GNU also reads).
  As in GNU, the first entry line decides whether a file uses it; the other
  form is then a malformed line (this is what stops a name with a leading
  space from being misread).
- BSD / ``--tag``: ``SHA256 (name) = <64 hex>``.
- ``shasum -a 256`` output is the GNU form.
- A leading ``\\`` marks an escaped name: ``\\\\`` is a backslash, ``\\n`` a
  newline and ``\\r`` a carriage return; any other escape is malformed.

Hex may be upper case. Comment lines (``#``) and blank lines are skipped.
Anything else, a line for another algorithm, or a digest of the wrong
length, is a ``MalformedLine`` with its line number; parsing goes on.
Lines longer than ``MAX_LINE`` bytes are malformed and never held in memory.
"""

from __future__ import annotations

import os
import re
from collections import namedtuple
from collections.abc import Iterator

TYPE_CHECKING = False  # typing costs every command-line start a few ms; checkers read the names below
if TYPE_CHECKING:
    from typing import BinaryIO

MAX_LINE = 1 << 20
"""Longest manifest line read into memory; longer lines are reported and skipped."""

UTF8_BOM = b"\xef\xbb\xbf"
HEX_DIGITS = 64

_HEX_NAMES = {32: "MD5", 40: "SHA-1", 56: "SHA-224", 96: "SHA-384", 128: "SHA-512"}
_GNU = re.compile(rb"([0-9A-Fa-f]+)[ \t](.*)\Z", re.S)
_TAG = re.compile(rb"([A-Za-z0-9-]+) ?\(")
_HEX = re.compile(rb"[0-9A-Fa-f]+\Z")
_LOWER = bytes.maketrans(b"ABCDEF", b"abcdef")
_HEX_CHARS = b"0123456789abcdefABCDEF"
_PLAIN_SEPARATORS = frozenset({"  ", " *"})


class ManifestLine(namedtuple("ManifestLine", "line name digest binary format")):
    """One well-formed manifest line.

    A named tuple rather than a dataclass: a manifest may hold millions of
    lines and this is built once per line.

    Attributes:
        line: 1-based line number.
        name: File name as listed, unescaped, decoded with ``os.fsdecode``
            (bytes that are not UTF-8 survive as surrogates).
        digest: Lowercase hex SHA-256.
        binary: The GNU ``*`` marker was present.
        format: ``gnu`` or ``bsd``.
    """

    __slots__ = ()

    line: int
    name: str
    digest: str
    binary: bool
    format: str


class MalformedLine(namedtuple("MalformedLine", "line reason text")):
    """A line that is not a SHA-256 entry.

    Attributes:
        line: 1-based line number.
        reason: What is wrong with it.
        text: The start of the line (at most 120 characters), for display.
    """

    __slots__ = ()

    line: int
    reason: str
    text: str


def unescape_name(raw: bytes) -> bytes | None:
    """Undo GNU escaping: ``\\\\`` -> ``\\``, ``\\n`` -> newline, ``\\r`` -> CR.

    Returns:
        The name, or ``None`` when the escaping is invalid (any other escape,
        a trailing lone backslash, or a NUL byte), as in GNU's ``filename_unescape``.
    """
    if b"\0" in raw:
        return None
    if b"\\" not in raw:
        return raw
    out = bytearray()
    i, n = 0, len(raw)
    while i < n:
        c = raw[i]
        if c == 0x5C:
            if i + 1 >= n:
                return None
            nxt = raw[i + 1]
            if nxt == 0x5C:
                out.append(0x5C)
            elif nxt == 0x6E:
                out.append(0x0A)
            elif nxt == 0x72:
                out.append(0x0D)
            else:
                return None
            i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def needs_escape(name: bytes) -> bool:
    """Whether GNU would prefix this name's line with ``\\``."""
    return b"\\" in name or b"\n" in name or b"\r" in name


def escape_name(name: bytes) -> bytes:
    """GNU escaping of a name (the caller adds the leading ``\\`` to the line)."""
    return name.replace(b"\\", b"\\\\").replace(b"\n", b"\\n").replace(b"\r", b"\\r")


def format_line(digest: str, name: str, *, binary: bool = False) -> bytes:
    """One GNU manifest line (with its newline), escaped exactly like ``sha256sum``.

    Args:
        digest: Hex SHA-256 (written lowercase).
        name: Path as it should be listed (``os.fsencode`` gives its bytes).
        binary: Write the ``*`` marker instead of a second space.
    """
    raw = os.fsencode(name)
    marker = b"*" if binary else b" "
    if needs_escape(raw):
        return b"\\" + digest.lower().encode("ascii") + b" " + marker + escape_name(raw) + b"\n"
    return digest.lower().encode("ascii") + b" " + marker + raw + b"\n"


def _show(raw: bytes) -> str:
    text = raw[:120].decode("utf-8", errors="replace")
    return text.replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _digest_problem(hex_part: bytes) -> str | None:
    if len(hex_part) == HEX_DIGITS and _HEX.match(hex_part):
        return None
    if not _HEX.match(hex_part):
        return "digest is not hexadecimal"
    algo = _HEX_NAMES.get(len(hex_part))
    if algo:
        return f"{len(hex_part)} hex digits ({algo}?), SHA-256 has 64"
    return f"{len(hex_part)} hex digits, SHA-256 has 64"


class _Parser:
    """Line-by-line state: GNU's choice between two-space and single-space forms."""

    def __init__(self) -> None:
        self.reversed: bool | None = None

    def parse(self, number: int, line: bytes) -> ManifestLine | MalformedLine | None:
        stripped = line.lstrip(b" \t")
        if not stripped:
            return None
        if stripped[:1] == b"#":
            return None
        escaped = stripped[:1] == b"\\"
        body = stripped[1:] if escaped else stripped
        tag = _TAG.match(body)
        if tag and not _HEX.match(tag.group(1)):
            return self._bsd(number, line, body, tag.group(1), tag.end(), escaped)
        match = _GNU.match(body)
        if match is None:
            return MalformedLine(number, "not a checksum line", _show(line))
        hex_part, rest = match.group(1), match.group(2)
        problem = _digest_problem(hex_part)
        if problem is not None:
            return MalformedLine(number, problem, _show(line))
        if not rest:
            return MalformedLine(number, "no file name", _show(line))
        binary = False
        if len(rest) == 1 or rest[:1] not in (b" ", b"*"):
            if self.reversed is False:
                return MalformedLine(number, "single space after the digest in a two-space manifest", _show(line))
            self.reversed = True
            name_raw = rest
        else:
            if self.reversed is True:
                return MalformedLine(number, "two-space entry in a single-space manifest", _show(line))
            self.reversed = False
            binary = rest[:1] == b"*"
            name_raw = rest[1:]
        return self._entry(number, line, name_raw, hex_part, binary, "gnu", escaped)

    def _bsd(
        self, number: int, line: bytes, body: bytes, algo: bytes, start: int, escaped: bool
    ) -> ManifestLine | MalformedLine:
        if algo.upper() != b"SHA256":
            return MalformedLine(number, f"{algo.decode('ascii', 'replace')} line: not a SHA-256 entry", _show(line))
        close = body.rfind(b")")
        if close < start:
            return MalformedLine(number, "BSD line without a closing parenthesis", _show(line))
        tail = body[close + 1:].strip(b" \t")
        if not tail.startswith(b"="):
            return MalformedLine(number, "BSD line without '= digest'", _show(line))
        hex_part = tail[1:].strip(b" \t")
        problem = _digest_problem(hex_part)
        if problem is not None:
            return MalformedLine(number, problem, _show(line))
        return self._entry(number, line, body[start:close], hex_part, False, "bsd", escaped)

    @staticmethod
    def _entry(
        number: int, line: bytes, name_raw: bytes, hex_part: bytes, binary: bool, fmt: str, escaped: bool
    ) -> ManifestLine | MalformedLine:
        if escaped:
            unescaped = unescape_name(name_raw)
            if unescaped is None:
                return MalformedLine(number, "invalid escape in file name (only \\\\, \\n and \\r)", _show(line))
            name_raw = unescaped
        elif b"\0" in name_raw:
            return MalformedLine(number, "NUL byte in file name", _show(line))
        if not name_raw:
            return MalformedLine(number, "no file name", _show(line))
        return ManifestLine(number, os.fsdecode(name_raw), hex_part.translate(_LOWER).decode("ascii"), binary, fmt)


def parse_manifest(stream: BinaryIO) -> Iterator[ManifestLine | MalformedLine]:
    """Parse a manifest line by line, in bounded memory.

    Args:
        stream: The manifest opened in binary mode.

    Yields:
        A ``ManifestLine`` or ``MalformedLine`` per line that is neither blank
        nor a comment, in file order.
    """
    parser = _Parser()
    readline = stream.readline
    number = 0
    while True:
        line = readline(MAX_LINE + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE and not line.endswith(b"\n"):
            skipped = len(line)
            while True:
                more = readline(MAX_LINE)
                skipped += len(more)
                if not more or more.endswith(b"\n"):
                    break
            yield MalformedLine(number, f"line of {skipped:,} bytes is longer than {MAX_LINE:,}", _show(line))
            continue
        if number == 1 and line.startswith(UTF8_BOM):
            line = line[3:]
        if line.endswith(b"\n"):
            line = line[:-1]
        if line.endswith(b"\r"):
            line = line[:-1]
        # Fast path: a plain GNU line, "<64 hex>  name" or "<64 hex> *name".
        if (
            len(line) > 66
            and line[64] == 0x20
            and line[65] in (0x20, 0x2A)
            and parser.reversed is not True
            and not line[:64].translate(None, _HEX_CHARS)
            and b"\0" not in line
        ):
            parser.reversed = False
            name = line[66:]
            try:
                text = name.decode("utf-8")
            except UnicodeDecodeError:
                text = os.fsdecode(name)
            yield ManifestLine(number, text, line[:64].translate(_LOWER).decode("ascii"), line[65] == 0x2A, "gnu")
            continue
        parsed = parser.parse(number, line)
        if parsed is not None:
            yield parsed


def parse_plain(data: bytes, rows: list[str] | None = None) -> tuple[list[str], list[str]] | None:
    """The whole manifest at once, when every line is a plain GNU entry.

    A plain entry is ``<64 hex>  name`` or ``<64 hex> *name`` with a UTF-8
    name and a ``\\n`` line end: what ``sha256sum`` writes for names that
    need no escaping. Parsing such a manifest in bulk costs a small fraction
    of going line by line, which matters for manifests of many small files:
    every check below runs over all lines at once, in C.

    Args:
        data: The manifest's bytes.
        rows: ``data`` decoded (``surrogateescape``) and split at each
            ``\\n``, without the empty last piece, if the caller has them.

    Returns:
        ``(names, digests)`` (lowercase hex) for lines 1, 2, ..., or ``None``
        when any line is not plain (then ``parse_manifest`` decides).
    """
    if not data.endswith(b"\n") or b"\r" in data or b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if rows is None:
        rows = text.split("\n")
        rows.pop()
    if min(map(len, rows)) < 67:  # a blank line, or no name after the digest and its separator
        return None
    if max(map(len, rows)) > MAX_LINE // 4:  # may pass MAX_LINE bytes: the line parser measures it
        return None
    digests = [row[:64] for row in rows]
    joined = "".join(digests)
    try:
        # Every byte takes two hex digits; anything else among them (a space
        # fromhex would skip, a backslash, a BOM) fails or shortens the result.
        if len(bytes.fromhex(joined)) != 32 * len(rows):
            return None
    except ValueError:
        return None
    if not {row[64:66] for row in rows} <= _PLAIN_SEPARATORS:
        return None
    if joined != joined.lower():
        digests = [digest.lower() for digest in digests]
    return [row[66:] for row in rows], digests
