"""What a changed file pair amounts to: its label and whether the rules make it the same.

Called once per changed pair, with both files' bytes already in memory (the
tree diff reads each file once). Labels always apply; ignore rules apply only
when ``rules.apply`` is on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from backends.errors import MalformedError
from backends.snapshots.formats import STRUCTURED, decode_text, format_of, split_lines
from backends.snapshots.rules import CompiledRules, order_key, strict_equal

WHITESPACE_ONLY = "whitespace-only"
LINE_ENDINGS_ONLY = "line-endings-only"
FORMATTING_ONLY = "formatting-only"

_WHITESPACE = b" \t\n\r\x0b\x0c"


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome for one changed pair.

    Attributes:
        format: ``binary``, ``text``, ``json``, ``yaml`` or ``jsonl``.
        label: ``line-endings-only``, ``whitespace-only``, ``formatting-only`` or ``None``.
        same_after_rules: Whether the rules ignore every difference.
        rule: The rule that did, when one did.
    """

    format: str
    label: str | None = None
    same_after_rules: bool = False
    rule: str | None = None


def judge(path: str, a: bytes, b: bytes, rules: CompiledRules) -> Verdict:
    """Label a changed pair and apply the ignore rules to it.

    Args:
        path: Path of the entry (chooses the format by extension).
        a: Baseline bytes.
        b: Candidate bytes.
        rules: Compiled rules.
    """
    fmt_a, fmt_b = format_of(path, a), format_of(path, b)
    if "binary" in (fmt_a, fmt_b):
        return Verdict("binary")
    fmt = fmt_b
    label = label_of(a, b)
    active = rules.rules.apply
    if active and label == LINE_ENDINGS_ONLY and (rules.rules.ignore_eol or rules.rules.ignore_whitespace):
        return Verdict(fmt, label, True, "ignore line endings" if rules.rules.ignore_eol else "ignore whitespace")
    if active and label == WHITESPACE_ONLY and rules.rules.ignore_whitespace:
        return Verdict(fmt, label, True, "ignore whitespace")
    if fmt in STRUCTURED and max(len(a), len(b)) <= rules.rules.structured_max_bytes:
        verdict = _structured(path, fmt, a, b, label, rules)
        if verdict is not None:
            return verdict
    if active and (rules.line_regexes or rules.rules.ignore_whitespace or rules.rules.ignore_eol):
        if _lines_same(a, b, rules):
            return Verdict(fmt, label, True, _line_rule(rules))
    return Verdict(fmt, label)


def label_of(a: bytes, b: bytes) -> str | None:
    """``line-endings-only``, ``whitespace-only`` or ``None`` for two differing byte strings."""
    if a.replace(b"\r\n", b"\n") == b.replace(b"\r\n", b"\n"):
        return LINE_ENDINGS_ONLY
    if a.translate(None, _WHITESPACE) == b.translate(None, _WHITESPACE):
        return WHITESPACE_ONLY
    return None


def _structured(path: str, fmt: str, a: bytes, b: bytes, label: str | None, rules: CompiledRules) -> Verdict | None:
    from backends.snapshots.structured import load_value  # loads orjson/yaml: only for changed structured files

    try:
        va, vb = load_value(a, fmt, path), load_value(b, fmt, path)
    except MalformedError:
        return None
    if strict_equal(va, vb):
        label = label or FORMATTING_ONLY
        if rules.rules.apply and rules.rules.ignore_whitespace:
            return Verdict(fmt, label, True, "ignore whitespace")
        return Verdict(fmt, label)
    if rules.structured_active and _records_equal(va, vb, fmt, rules):
        return Verdict(fmt, label, True, _structured_rule(rules))
    return None


def _records_equal(va: object, vb: object, fmt: str, rules: CompiledRules) -> bool:
    """Equality under the rules; in record files (JSONL, arrays of objects) field
    paths are relative to each record, as in the structured diff."""
    records = fmt == "jsonl" or (
        isinstance(va, list) and isinstance(vb, list) and all(isinstance(x, dict) for x in (*va, *vb)) and va and vb
    )
    if not records or not isinstance(va, list) or not isinstance(vb, list):
        return rules.equal(va, vb)
    if len(va) != len(vb):
        return False
    if rules.ignore_order:
        va, vb = sorted(va, key=order_key), sorted(vb, key=order_key)
    return all(rules.equal(x, y) for x, y in zip(va, vb, strict=True))


def _structured_rule(rules: CompiledRules) -> str:
    parts = [f"exclude {', '.join(rules.rules.exclude_fields)}"] if rules.field_regexes else []
    if rules.tolerance:
        parts.append(f"tolerance {rules.tolerance:g}")
    if rules.ignore_order:
        parts.append("ignore order")
    return "; ".join(parts)


def _lines_same(a: bytes, b: bytes, rules: CompiledRules) -> bool:
    la, open_a = split_lines(decode_text(a)[0])
    lb, open_b = split_lines(decode_text(b)[0])
    if len(la) != len(lb) or (open_a != open_b and not rules.rules.ignore_whitespace):
        return False
    key = line_key(rules)
    if key is None:  # no rule applies to lines: they compare as they are
        return la == lb
    return all(key(x) == key(y) for x, y in zip(la, lb, strict=True))


def line_key(rules: CompiledRules) -> Callable[[str], str] | None:
    """The comparison key of a text line under ``rules`` (``None`` when no rule applies)."""
    regexes = rules.line_regexes
    space = rules.rules.apply and rules.rules.ignore_whitespace
    eol = rules.rules.apply and rules.rules.ignore_eol
    if not (regexes or space or eol):
        return None

    def key(line: str) -> str:
        if eol and line.endswith("\r"):
            line = line[:-1]
        for regex in regexes:
            line = regex.sub("", line)
        if space:
            line = "".join(line.split())
        return line

    return key


def _line_rule(rules: CompiledRules) -> str:
    parts = [f"ignore lines /{r}/" for r in rules.rules.ignore_lines]
    if rules.rules.ignore_whitespace:
        parts.append("ignore whitespace")
    if rules.rules.ignore_eol:
        parts.append("ignore line endings")
    return "; ".join(parts)
