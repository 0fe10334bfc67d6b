"""``WalLine``: one line of a WAL file, ready to display (redacted, canonical, cut).

Lines that parse are shown as canonical JSON with redacted fields hashed.
Lines that do not parse are shown as text; a value that follows a redacted
key name (``"secret": "…"``) is still hashed, so a torn or broken line does
not leak a secret either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

from backends.wal.canonical import canonical, cut
from backends.wal.reader import UTF8_BOM
from backends.wal.rules import CompiledRules, redaction

ENVELOPE = frozenset({"v", "id", "ts_ms", "run_id", "kind"})
"""Fields every event has; the rest is what a summary shows."""
DISPLAY_CHARS = 2000
"""Characters of a line's text kept for display by default."""


@dataclass(frozen=True, slots=True)
class WalLine:
    """One line of a WAL file as shown by the pane.

    Attributes:
        line: 1-based line number.
        offset: Byte offset of the line's start.
        size: Length in bytes (without the newline).
        text: Canonical, redacted JSON of the event, or the raw text of a line
            that does not parse (with redacted values hashed), cut for display.
        cut: Whether ``text`` was cut short.
        summary: The event without its envelope (``v``, ``id``, ``ts_ms``,
            ``run_id``, ``kind``): its payload as canonical JSON when that is
            all that is left, cut like ``text``; ``text`` for non-events.
        event_id: ``id`` of the event, when it is an integer.
        kind: ``kind`` of the event, when it is a string.
        ts_ms: ``ts_ms`` of the event, when it is an integer.
        problem: Why the line is not an event (``not-json``, ``invalid-utf8``,
            ``not-object``, ``blank-line``, ``too-long``), or ``None``.
        terminated: Whether the line ends with a newline.
    """

    line: int
    offset: int
    size: int
    text: str
    cut: bool = False
    summary: str = ""
    event_id: int | None = None
    kind: str | None = None
    ts_ms: int | None = None
    problem: str | None = None
    terminated: bool = True

    def to_json(self) -> dict[str, Any]:
        return {
            "line": self.line, "offset": self.offset, "size": self.size, "text": self.text, "cut": self.cut,
            "summary": self.summary,
            "event_id": self.event_id, "kind": self.kind, "ts_ms": self.ts_ms, "problem": self.problem,
            "terminated": self.terminated,
        }

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> "WalLine":
        fields: dict[str, Any] = {k: body.get(k) for k in cls.__slots__ if k in body}
        return cls(**fields)


def describe_line(
    line: int,
    offset: int,
    raw: bytes,
    full_size: int,
    rules: CompiledRules,
    *,
    terminated: bool = True,
    max_chars: int = DISPLAY_CHARS,
) -> WalLine:
    """Turn the bytes of one line into a :class:`WalLine`.

    Args:
        line: Line number.
        offset: Byte offset.
        raw: The line's bytes; when cut short of ``full_size`` (longer than
            the parse cap) it is shown as text, marked ``too-long``.
        full_size: Length of the whole line in bytes.
        rules: Redaction rules.
        terminated: Whether the line ends with a newline.
        max_chars: Characters of text kept.
    """
    truncated = len(raw) < full_size
    if raw.endswith(b"\n"):
        raw = raw[:-1]
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    if line == 1 and raw.startswith(UTF8_BOM):
        raw = raw[3:]
    problem: str | None = None
    if truncated:
        problem = "too-long"
    elif not raw.strip():
        problem = "blank-line"
    else:
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError:
            try:
                raw.decode("utf-8")
                problem = "not-json"
            except UnicodeDecodeError:
                problem = "invalid-utf8"
        else:
            if isinstance(value, dict):
                rules.redact_in_place(value)
                text, was_cut = cut(canonical(value), max_chars)
                event_id = value.get("id")
                kind = value.get("kind")
                ts = value.get("ts_ms")
                rest = {k: v for k, v in value.items() if k not in ENVELOPE}
                body = rest["payload"] if len(rest) == 1 and "payload" in rest else rest
                return WalLine(
                    line, offset, full_size, text, was_cut, cut(canonical(body), max_chars)[0],
                    event_id if type(event_id) is int else None,
                    kind if isinstance(kind, str) else None,
                    ts if type(ts) is int else None,
                    None, terminated,
                )
            problem = "not-object"
    text, was_cut = cut(redact_text(raw.decode("utf-8", errors="replace"), rules), max_chars)
    return WalLine(line, offset, full_size, text, was_cut or problem == "too-long", text, problem=problem,
                   terminated=terminated)


_STRING = r'"(?:[^"\\]|\\.)*"?'
_SCALAR = r'-?[0-9][^,}\]]*|true|false|null'


def redact_text(text: str, rules: CompiledRules) -> str:
    """Hash the values that follow a redacted key name in text that is not valid JSON.

    Best effort for broken lines: the key is the last segment of each redact
    path; string and scalar values (even cut short) are replaced.
    """
    names = {path[-1] for path in rules.redact if path[-1] != "*"}
    if not names:
        return text
    keys = "|".join(re.escape(name) for name in sorted(names))
    pattern = re.compile(rf'("(?:{keys})"\s*:\s*)({_STRING}|{_SCALAR})')
    return pattern.sub(lambda m: m.group(1) + '"' + redaction(m.group(2)) + '"', text)
