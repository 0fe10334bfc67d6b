"""Text that XML and HTML can carry, whatever the engines found in file names and lines."""

from __future__ import annotations

import re

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def xml_text(text: str) -> str:
    """``text`` with every character XML 1.0 forbids (and DEL) written as an escape.

    The surrogate escapes of undecodable bytes (PEP 383) become the byte as
    ``\\xNN``, as the ``--json`` output writes them; other control characters
    ``\\xNN``, other lone surrogates ``\\uXXXX``. Tab, newline and carriage
    return stay.
    """
    return _NOT_XML.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if 0xDC80 <= code <= 0xDCFF:
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
