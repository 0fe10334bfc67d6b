"""Structured diffs of JSON, YAML and JSONL: which values changed, at which paths.

deepdiff is thorough but slow on big inputs (seconds for 10,000 records), so
records are first indexed by a key (``id``, ``span_id`` ... or their position),
compared with ``==`` (or the rules' equality), and deepdiff runs only on the
pairs that differ. A JSON or YAML document whose top level is a list of
objects is treated as records too; any other document is one record.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import orjson

from backends.errors import MalformedError
from backends.jsonread import loads_located
from backends.snapshots.models import FieldChange
from backends.snapshots.rules import CompiledRules, field_path

MAX_FIELDS = 2000
"""Field changes listed at most per entry."""

MAX_VALUE_CHARS = 200
"""Old/new values are cut to this many characters."""

PARENT_CHARS = 400
"""The surrounding object of a change is cut to this many characters."""


@dataclass(frozen=True, slots=True)
class Record:
    """One record of a structured file.

    Attributes:
        key: How the record is identified (``span_id=…``, ``#12``, or ``""``
            for a whole document).
        where: Where it is in its file (``line 42``, ``item 3``; ``""`` for a document).
        value: The parsed value (for a malformed JSONL line: its raw text).
        problem: Why the line did not parse, if it did not.
    """

    key: str
    where: str
    value: Any
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class Parsed:
    """A parsed structured file: its records and what could not be parsed."""

    records: list[Record]
    problems: list[str]
    as_records: bool


def parse(data: bytes, fmt: str, path: str, keys: tuple[str, ...]) -> Parsed:
    """Parse ``data`` as ``fmt`` and split it into records.

    Args:
        data: The file's bytes.
        fmt: ``json``, ``yaml`` or ``jsonl``.
        path: Name used in problems.
        keys: Record key fields, tried in order.

    Raises:
        MalformedError: When a JSON or YAML document does not parse (JSONL
            lines that do not parse become records holding their raw text).
    """
    if fmt == "jsonl":
        return _parse_jsonl(data, path, keys)
    doc = loads_located(data, path) if fmt == "json" else _load_yaml(data, path)
    if isinstance(doc, list) and doc and all(isinstance(item, dict) for item in doc):
        return Parsed(_keyed(((f"item {i + 1}", item) for i, item in enumerate(doc)), keys), [], True)
    return Parsed([Record("", "", doc)], [], False)


def load_value(data: bytes, fmt: str, path: str) -> Any:
    """The whole value of a structured file (a JSONL file is the list of its lines' values).

    Raises:
        MalformedError: When any of it does not parse.
    """
    if fmt == "json":
        return loads_located(data, path)
    if fmt == "yaml":
        return _load_yaml(data, path)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    values = []
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            try:
                values.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                loads_located(line, path, first_line=number)
    return values


def _load_yaml(data: bytes, path: str) -> Any:
    from backends.yamlread import load_yaml

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise MalformedError(path, data.count(b"\n", 0, bad.start) + 1, "invalid UTF-8") from None
    docs = load_yaml(text, path, documents=True)
    return docs[0] if len(docs) == 1 else docs


def _parse_jsonl(data: bytes, path: str, keys: tuple[str, ...]) -> Parsed:
    problems: list[str] = []
    items: list[tuple[str, Any]] = []
    raw: list[tuple[int, str, str]] = []
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for number, line in enumerate(data.split(b"\n"), start=1):
        if not line.strip():
            continue
        try:
            items.append((f"line {number}", orjson.loads(line)))
        except orjson.JSONDecodeError:
            try:
                loads_located(line, path, first_line=number)
            except MalformedError as exc:
                problems.append(str(exc))
                raw.append((number, line.decode("utf-8", errors="replace"), exc.reason))
    records = _keyed(iter(items), keys)
    records += [Record(f"line {number} (malformed)", f"line {number}", text, reason) for number, text, reason in raw]
    return Parsed(records, problems, True)


def _keyed(items: Iterator[tuple[str, Any]], keys: tuple[str, ...]) -> list[Record]:
    records: list[Record] = []
    seen: dict[str, int] = {}
    for position, (where, value) in enumerate(items):
        key = f"#{position + 1}"
        if isinstance(value, dict):
            for field in keys:
                found = value.get(field)
                if isinstance(found, (str, int, float)) and not isinstance(found, bool):
                    key = f"{field}={found}"
                    break
        count = seen.get(key, 0) + 1
        seen[key] = count
        records.append(Record(key if count == 1 else f"{key}#{count}", where, value))
    return records


def field_changes(a: Parsed, b: Parsed, rules: CompiledRules) -> tuple[list[FieldChange], int, bool]:
    """Value-level changes between two parsed files.

    Records are paired by key; equal pairs are skipped with ``==`` (or the
    rules' equality) and deepdiff runs only on the pairs that differ. Changes
    a rule ignores are kept, flagged ``ignored``.

    Returns:
        ``(changes, differing_records, truncated)``.
    """
    index_b = {r.key: r for r in b.records}
    keys_a = {r.key for r in a.records}
    out: list[FieldChange] = []
    differing = 0
    for record in a.records:
        other = index_b.get(record.key)
        if other is None:
            differing += 1
            out.append(FieldChange("removed", record.key or "(document)", _show(record.value), None,
                                   _context(record, None)))
        elif record.value != other.value or not _types_match(record.value, other.value):
            changes = _record_changes(record, other, rules)
            if changes:
                differing += 1
                out.extend(changes)
        if len(out) >= MAX_FIELDS:
            return out[:MAX_FIELDS], differing, True
    for record in b.records:
        if record.key not in keys_a:
            differing += 1
            out.append(FieldChange("added", record.key or "(document)", None, _show(record.value),
                                   _context(None, record)))
            if len(out) >= MAX_FIELDS:
                return out[:MAX_FIELDS], differing, True
    return out, differing, False


def _types_match(a: Any, b: Any) -> bool:
    from backends.snapshots.rules import strict_equal

    return strict_equal(a, b)


def _record_changes(old: Record, new: Record, rules: CompiledRules) -> list[FieldChange]:
    from deepdiff import DeepDiff

    context = _context(old, new)
    prefix = old.key
    if old.problem is not None or new.problem is not None:
        return [FieldChange("changed", prefix or "(document)", _show(old.value), _show(new.value), context)]
    diff = DeepDiff(old.value, new.value, view="tree", ignore_order=rules.ignore_order, verbose_level=2)
    out: list[FieldChange] = []
    for report, levels in diff.items():
        kind = _KINDS.get(report)
        if kind is None:
            continue
        for level in levels:
            path = tuple(level.path(output_format="list"))
            t1 = None if kind == "added" else _show(level.t1)
            t2 = None if kind == "removed" else _show(level.t2)
            ignored = rules.excluded(path) or (kind == "changed" and rules.tolerance > 0
                                               and rules.within_tolerance(level.t1, level.t2))
            shown = field_path(path)
            parent = _parent(level, kind)
            out.append(FieldChange(kind, f"{prefix} › {shown}" if prefix else shown, t1, t2, context, ignored,
                                   parent))
    out.sort(key=lambda change: change.path)
    return out


_KINDS = {
    "values_changed": "changed",
    "type_changes": "type_changed",
    "dictionary_item_added": "added",
    "iterable_item_added": "added",
    "dictionary_item_removed": "removed",
    "iterable_item_removed": "removed",
}


def _parent(level: Any, kind: str) -> str | None:
    """The container around a changed value (new side, old side when removed), compact."""
    up = getattr(level, "up", None)
    if up is None or up.up is None and not getattr(level, "path", None):
        return None
    value = up.t1 if kind == "removed" else up.t2
    if not isinstance(value, (dict, list)):
        return None
    return _show(value, PARENT_CHARS)


def _context(old: Record | None, new: Record | None) -> str:
    record = new or old
    assert record is not None
    if not record.key:
        return ""
    where = record.where
    if old is not None and new is not None and old.where != new.where:
        where = f"{old.where} → {new.where}"
    if record.problem is not None:
        return f"{where}: {record.problem}"
    return where


def _show(value: Any, limit: int = MAX_VALUE_CHARS) -> str:
    try:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS, default=str).decode()
    except TypeError:
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"
