"""Verify a recording: ordering and per-path causal integrity.

Rules, checked record by record in one streaming pass (memory grows with the
tree, never with the number of events):

Ordering
    ``seq`` strictly increases; ``mono_ns`` never decreases.
Causality (per path)
    * ``modified``/``opened``/``closed``/``closed_no_write``/``deleted`` and
      the source of ``moved`` need a path that exists: listed by an
      ``exists`` baseline record, or created / moved in earlier.
    * Nothing may happen to a deleted (or moved-away) path until it is
      created (or moved in) again; a ``created`` path must not exist already.
    * A move's destination differs from its source, does not lie inside
      it, and agrees with the source on being a directory.

A recording that starts with a baseline of every path (``exists`` records,
header ``filter.baseline: true``) and records the structural types
(created, deleted, moved) is checked strictly: an unknown path is a
violation. Otherwise a path first seen in a change is taken to have existed,
and only what the stream itself shows (deletes, creates) is enforced.
Between a ``lost`` marker and its ``resynced`` marker, events on the
affected subtree are applied without checks: the producer said it lost
track there and is reconciling.

Exit codes (``VerifyReport.exit_code``): 0 ordered and causal, 1 order or
causality violations, 3 malformed (a line is not a JSON object, a value has
the wrong type, the file is not a recording), 4 records with missing fields.
A malformed file wins over missing fields, which win over violations.
"""

from __future__ import annotations

import os
import re
from collections import Counter, OrderedDict
from dataclasses import dataclass
from typing import IO, Any, Iterator

import orjson
import yaml

from backends.confine import open_read
from backends.errors import NotFoundError, UnreadableError
from backends.events.model import ALL_TYPES, FORMAT_NAME, STRUCTURE_TYPES
from backends.events.tree import Tree
from backends.models import Problem

MAX_LINE = 1 << 20
"""Longest record line read (1 MiB); longer lines are reported and skipped."""
MAX_YAML_BYTES = 64 << 20
"""Largest non-canonical YAML document parsed whole."""
KEEP = 50
"""Problems listed at most per kind (order, causality, malformed, missing fields); all are counted."""
GONE_MEMORY = 200_000
"""Deleted paths remembered for "deleted at seq N" explanations."""

REQUIRED = ("seq", "type", "path", "mono_ns")
NEEDS_EXISTING = frozenset({"modified", "opened", "closed", "closed_no_write", "deleted"})

EXIT_OK, EXIT_VIOLATIONS, EXIT_UNREADABLE, EXIT_MALFORMED, EXIT_MISSING = 0, 1, 2, 3, 4


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule.

    Attributes:
        line: 1-based line of the record in the file.
        seq: The record's ``seq``.
        rule: ``order`` or ``causality``.
        message: What is wrong.
        record: The record as read (compact JSON).
    """

    line: int | None
    seq: int
    rule: str
    message: str
    record: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "seq": self.seq, "rule": self.rule, "message": self.message, "record": self.record}


@dataclass(frozen=True, slots=True)
class VerifyReport:
    """The verdict on one recording."""

    path: str
    format: str
    header: dict[str, Any] | None
    strict: bool
    records: int
    by_type: dict[str, int]
    violations: tuple[Violation, ...]
    violation_count: int
    malformed: tuple[Problem, ...]
    malformed_count: int
    missing: tuple[Problem, ...]
    missing_count: int
    lost_markers: int
    reconciled: int
    order_violations: int = 0
    causality_violations: int = 0

    @property
    def exit_code(self) -> int:
        if self.malformed_count:
            return EXIT_MALFORMED
        if self.missing_count:
            return EXIT_MISSING
        if self.violation_count:
            return EXIT_VIOLATIONS
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "format": self.format,
            "exit_code": self.exit_code,
            "strict": self.strict,
            "records": self.records,
            "by_type": dict(sorted(self.by_type.items())),
            "lost_markers": self.lost_markers,
            "reconciled": self.reconciled,
            "violations": self.violation_count,
            "order_violations": self.order_violations,
            "causality_violations": self.causality_violations,
            "malformed": self.malformed_count,
            "missing_fields": self.missing_count,
            "problems": {
                "violations": [v.to_json() for v in self.violations],
                "malformed": [p.to_json() for p in self.malformed],
                "missing_fields": [p.to_json() for p in self.missing],
            },
        }


# Reading -----------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Bad:
    line: int | None
    reason: str


def _lines(handle: IO[bytes]) -> Iterator[tuple[int, bytes | None]]:
    """Lines with their numbers; ``None`` for a line longer than ``MAX_LINE``."""
    number = 0
    while True:
        chunk = handle.readline(MAX_LINE)
        if not chunk:
            return
        number += 1
        if len(chunk) == MAX_LINE and not chunk.endswith(b"\n"):
            while chunk and not chunk.endswith(b"\n"):
                chunk = handle.readline(MAX_LINE)
            yield number, None
            continue
        if number == 1 and chunk.startswith(b"\xef\xbb\xbf"):
            chunk = chunk[3:]
        yield number, chunk


def _parse(line: int, text: bytes) -> tuple[int, dict[str, Any]] | _Bad:
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        try:  # orjson says "str is not valid UTF-8: surrogates not allowed" of bytes that are not UTF-8
            text.decode("utf-8")
        except UnicodeDecodeError as bad:
            return _Bad(line, f"not UTF-8: byte 0x{text[bad.start]:02x} at column {bad.start + 1}")
        return _Bad(line, f"not JSON: {exc}")
    if not isinstance(value, dict):
        return _Bad(line, f"a record must be a JSON object, not {type(value).__name__}")
    return line, value


def read_records(path: str, label: str) -> tuple[str, Iterator[tuple[int | None, dict[str, Any]] | _Bad]]:
    """Detect the format of ``path`` and stream its records.

    Returns:
        ``("jsonl" | "yaml", records)``; the first record is the header when present.

    Raises:
        NotFoundError, UnreadableError: When the file cannot be opened.
    """
    try:
        handle = os.fdopen(open_read(path), "rb")
    except FileNotFoundError:
        raise NotFoundError(f"{label}: no such file", path=label) from None
    except IsADirectoryError:
        raise UnreadableError(f"{label}: is a directory, not a recording", path=label) from None
    except OSError as exc:
        raise UnreadableError(f"{label}: unreadable: {exc.strerror or exc}", path=label) from None
    try:
        first = b""
        for _, text in _lines(handle):
            if text is None or (text.strip() and not text.lstrip().startswith(b"#")):
                first = text or b"{"
                break
    except OSError as exc:
        handle.close()
        raise UnreadableError(f"{label}: unreadable: {exc.strerror or exc}", path=label) from None
    handle.seek(0)
    if _YAML_START.match(first.lstrip()):
        return "yaml", _yaml(handle, label)
    return "jsonl", _jsonl(handle)


_YAML_START = re.compile(rb"(?:---|- |[A-Za-z_][\w-]*:(?:\s|$))")
"""How a YAML recording's first line starts; anything else is read as JSONL."""


def _jsonl(handle: IO[bytes]) -> Iterator[tuple[int | None, dict[str, Any]] | _Bad]:
    with handle:
        for number, text in _lines(handle):
            if text is None:
                yield _Bad(number, f"line longer than {MAX_LINE:,} bytes")
                continue
            if not text.strip():
                continue
            yield _parse(number, text)


def _yaml(handle: IO[bytes], label: str) -> Iterator[tuple[int | None, dict[str, Any]] | _Bad]:
    """The canonical line-per-record YAML; anything else is parsed as a whole document."""
    with handle:
        buffered: list[tuple[int | None, dict[str, Any]] | _Bad] = []
        canonical = True
        for number, text in _lines(handle):
            if text is None:
                buffered.append(_Bad(number, f"line longer than {MAX_LINE:,} bytes"))
                continue
            line = text.rstrip(b"\r\n")
            if not line.strip() or line.lstrip().startswith(b"#") or line.strip() in (b"events:", b"events: []"):
                continue
            if line.startswith(b"header: {"):
                buffered.append(_parse(number, line[len(b"header: ") :]))
            elif line.startswith(b"- {"):
                buffered.append(_parse(number, line[2:]))
            else:
                canonical = False
                break
            if len(buffered) >= 1024:
                yield from buffered
                buffered = []
        if canonical:
            yield from buffered
            return
        # Not (entirely) line-per-record: read it as one document instead.
        handle.seek(0)
        data = handle.read(MAX_YAML_BYTES + 1)
    if len(data) > MAX_YAML_BYTES:
        yield _Bad(None, f"not line-per-record YAML and larger than {MAX_YAML_BYTES >> 20} MiB")
        return
    yield from _yaml_document(data)


def _yaml_document(data: bytes) -> Iterator[tuple[int | None, dict[str, Any]] | _Bad]:
    try:
        loader = yaml.SafeLoader(data)
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        yield _Bad(None, f"invalid YAML: {exc}")
        return
    try:
        node = loader.get_single_node()
        if node is None:
            yield _Bad(None, "empty YAML document")
            return
        if not isinstance(node, yaml.MappingNode):
            yield _Bad(node.start_mark.line + 1, "a YAML recording is a mapping with 'header' and 'events'")
            return
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if key == "header":
                value = loader.construct_object(value_node, deep=True)
                if isinstance(value, dict):
                    yield value_node.start_mark.line + 1, value
                else:
                    yield _Bad(value_node.start_mark.line + 1, "'header' must be a mapping")
            elif key == "events":
                if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
                    continue
                if not isinstance(value_node, yaml.SequenceNode):
                    yield _Bad(value_node.start_mark.line + 1, "'events' must be a list")
                    continue
                for item in value_node.value:
                    value = loader.construct_object(item, deep=True)
                    if isinstance(value, dict):
                        yield item.start_mark.line + 1, value
                    else:
                        yield _Bad(item.start_mark.line + 1, f"an event must be a mapping, not {type(value).__name__}")
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        mark = getattr(exc, "problem_mark", None)
        yield _Bad(mark.line + 1 if mark is not None else None, f"invalid YAML: {getattr(exc, 'problem', None) or exc}")
    finally:
        loader.dispose()


# Checking ----------------------------------------------------------------------------------------


class _Checker:
    """The per-record rules (see the module docstring)."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.tree = Tree()
        self.gone: OrderedDict[str, int] = OrderedDict()
        self.last_seq: int | None = None
        self.last_mono: int | None = None
        self.relaxed: str | None = None

    def _under_relaxed(self, path: str) -> bool:
        window = self.relaxed
        return window is not None and (window == "" or path == window or path.startswith(window + "/"))

    def _gone_since(self, path: str) -> int | None:
        """The seq that deleted ``path`` (or a parent) if it is known to be absent."""
        parts = path.split("/")
        for depth in range(len(parts), 0, -1):
            candidate = "/".join(parts[:depth])
            seq = self.gone.get(candidate)
            if seq is not None and not self.tree.exists(candidate):
                return seq
        return None

    def _forget_gone(self, path: str) -> None:
        self.gone.pop(path, None)

    def _remember_gone(self, path: str, seq: int) -> None:
        self.gone[path] = seq
        self.gone.move_to_end(path)
        if len(self.gone) > GONE_MEMORY:
            self.gone.popitem(last=False)

    def _absent(self, path: str, what: str) -> str | None:
        """Why ``path`` cannot be ``what`` (or ``None`` when that is allowed)."""
        if self.tree.exists(path):
            return None
        since = self._gone_since(path)
        if since is not None:
            return f"{what} {path!r}, which was deleted or moved away at seq {since} and not created again"
        if self.strict:
            return f"{what} {path!r}, which never existed (not in the baseline, never created or moved in)"
        return None

    def check(self, rec: dict[str, Any]) -> list[tuple[str, str]]:
        """Apply one well-formed record; return ``(rule, message)`` violations."""
        found: list[tuple[str, str]] = []
        seq, kind, path, mono = rec["seq"], rec["type"], rec["path"], rec["mono_ns"]
        if self.last_seq is not None and seq <= self.last_seq:
            found.append(("order", f"seq {seq} does not increase (previous seq {self.last_seq})"))
        if self.last_mono is not None and mono < self.last_mono:
            found.append(("order", f"mono_ns {mono} goes backwards (previous {self.last_mono})"))
        self.last_seq = seq if self.last_seq is None else max(seq, self.last_seq)
        self.last_mono = mono if self.last_mono is None else max(mono, self.last_mono)
        is_dir = bool(rec.get("is_dir", False))
        if kind in ("notice",):
            return found
        if kind == "lost":
            self.relaxed = path if self.relaxed is None or self.relaxed == path else ""
            return found
        if kind == "resynced":
            self.relaxed = None
            return found
        if kind == "exists":
            self.tree.add(path, is_dir)
            self._forget_gone(path)
            return found
        lenient = self._under_relaxed(path) or (kind == "moved" and self._under_relaxed(rec["dest"]))
        if kind == "created":
            if not lenient and self.tree.exists(path):
                found.append(("causality", f"created {path!r}, which already exists"))
            self.tree.add(path, is_dir)
            self._forget_gone(path)
        elif kind in NEEDS_EXISTING:
            if not lenient:
                why = self._absent(path, kind)
                if why:
                    found.append(("causality", why))
            if kind == "deleted":
                self.tree.remove(path)
                self._remember_gone(path, seq)
            elif not self.tree.exists(path):
                self.tree.add(path, is_dir)
                self._forget_gone(path)
        elif kind == "moved":
            dest = rec["dest"]
            if not lenient:
                if dest == path:
                    found.append(("causality", f"moved {path!r} onto itself"))
                elif dest.startswith(path + "/"):
                    found.append(("causality", f"moved {path!r} inside itself, to {dest!r}"))
                why = self._absent(path, "moved")
                if why:
                    found.append(("causality", why))
                elif self.tree.exists(path) and self.tree.is_dir(path) != is_dir and self.tree.is_dir(path):
                    found.append(("causality", f"moved {path!r} as a file, but it is a directory"))
            if not self.tree.move(path, dest):
                self.tree.add(dest, is_dir)
            self._remember_gone(path, seq)
            self._forget_gone(dest)
        return found


def _field_problems(rec: dict[str, Any]) -> tuple[list[str], str | None]:
    """Missing required fields, and a type error if a present field is wrong."""
    missing = [name for name in REQUIRED if name not in rec]
    if rec.get("type") == "moved" and "dest" not in rec:
        missing.append("dest")
    for name, kind in (("seq", int), ("mono_ns", int)):
        value = rec.get(name)
        if name in rec and (not isinstance(value, kind) or isinstance(value, bool)):
            return missing, f"{name} must be an integer, not {value!r}"
    for name in ("type", "path"):
        if name in rec and not isinstance(rec[name], str):
            return missing, f"{name} must be a string, not {rec[name]!r}"
    if "dest" in rec and rec.get("type") == "moved" and not isinstance(rec["dest"], str):
        return missing, f"dest must be a string, not {rec['dest']!r}"
    if isinstance(rec.get("type"), str) and rec["type"] not in ALL_TYPES:
        return missing, f"unknown event type {rec['type']!r}"
    return missing, None


def _is_strict(header: dict[str, Any] | None) -> bool:
    if header is None:
        return False
    spec = header.get("filter")
    if not isinstance(spec, dict) or spec.get("baseline") is not True:
        return False
    types = spec.get("types")
    return isinstance(types, list) and STRUCTURE_TYPES <= set(types)


def verify_recording(path: str, label: str | None = None) -> VerifyReport:
    """Check a recording file (JSONL or YAML) against the rules above.

    Args:
        path: The file on disk.
        label: How to name it in messages (default: ``path``).

    Raises:
        NotFoundError, UnreadableError: When the file cannot be read at all.
    """
    label = label or path
    fmt, records = read_records(path, label)
    header: dict[str, Any] | None = None
    checker: _Checker | None = None
    by_type: Counter[str] = Counter()
    violations: list[Violation] = []
    malformed: list[Problem] = []
    missing: list[Problem] = []
    counts: Counter[str] = Counter()
    total = lost = reconciled = 0
    first = True
    try:
        for item in records:
            if isinstance(item, _Bad):
                counts["malformed"] += 1
                if len(malformed) < KEEP:
                    malformed.append(Problem(label, item.line, item.reason))
                first = False
                continue
            line, rec = item
            if first:
                first = False
                if "format" in rec:
                    if rec.get("format") != FORMAT_NAME:
                        counts["malformed"] += 1
                        malformed.append(Problem(label, line, f"not a driftdeck events recording (format {rec.get('format')!r})"))
                        break
                    header = rec
                    continue
            if checker is None:
                checker = _Checker(_is_strict(header))
            if "format" in rec and header is not None:
                counts["malformed"] += 1
                if len(malformed) < KEEP:
                    malformed.append(Problem(label, line, "a second header in the middle of the recording"))
                continue
            absent, wrong = _field_problems(rec)
            if wrong:
                counts["malformed"] += 1
                if len(malformed) < KEEP:
                    malformed.append(Problem(label, line, wrong))
                continue
            if absent:
                counts["missing"] += 1
                if len(missing) < KEEP:
                    missing.append(Problem(label, line, f"missing field{'s' if len(absent) > 1 else ''}: {', '.join(absent)}"))
                continue
            total += 1
            by_type[rec["type"]] += 1
            lost += rec["type"] == "lost"
            reconciled += bool(rec.get("reconciled"))
            for rule, message in checker.check(rec):
                counts[rule] += 1
                if counts[rule] <= KEEP:
                    violations.append(Violation(line, rec["seq"], rule, message, orjson.dumps(rec).decode()))
    except OSError as exc:
        raise UnreadableError(f"{label}: unreadable: {exc.strerror or exc}", path=label) from None
    if first:
        counts["malformed"] += 1
        malformed.append(Problem(label, None, "empty file: not a recording"))
    return VerifyReport(
        path=label,
        format=fmt,
        header=header,
        strict=checker.strict if checker is not None else _is_strict(header),
        records=total,
        by_type=dict(by_type),
        violations=tuple(violations),
        violation_count=counts["order"] + counts["causality"],
        malformed=tuple(malformed),
        malformed_count=counts["malformed"],
        missing=tuple(missing),
        missing_count=counts["missing"],
        lost_markers=lost,
        reconciled=reconciled,
        order_violations=counts["order"],
        causality_violations=counts["causality"],
    )

