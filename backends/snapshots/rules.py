"""Ignore rules: read from ``driftdeck.yaml``, merged with CLI flags, compiled.

The ``snapshots`` section of ``driftdeck.yaml`` (every key optional)::

    snapshots:
      ignore_paths: ["*.tmp", "notes/scratch/**"]
      ignore_lines: ['^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z']   # parts of lines to ignore (masked)
      exclude_fields: ["**.ts_ms", "attrs.retries"]
      tolerance: 1.0e-9
      ignore_order: false
      ignore_whitespace: false
      ignore_eol: false
      keys: [id, span_id]              # record keys of JSONL files / JSON arrays
      groups:                          # replaces the default groups, first match wins
        "rules/**": rule drift
        "validator/**": validator
        "telemetry/**": telemetry
      rename_threshold: 0.5
      structured_max_bytes: 67108864

Mistakes are ``MalformedError`` naming ``driftdeck.yaml`` and the line.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import Any, Callable, Mapping

from backends.patterns import Pattern, PatternError, compile_pattern
from backends.errors import MalformedError
from backends.snapshots.globs import glob_regex
from backends.snapshots.models import SnapshotRules

CONFIG_NAME = "driftdeck.yaml"
SECTION = "snapshots"

_LIST_KEYS = ("ignore_paths", "ignore_lines", "exclude_fields", "keys")
_BOOL_KEYS = ("ignore_order", "ignore_whitespace", "ignore_eol")
_KNOWN = (*_LIST_KEYS, *_BOOL_KEYS, "tolerance", "groups", "rename_threshold", "structured_max_bytes")

Locate = Callable[[str], "int | None"]


def rules_from_config(config: Mapping[str, Any], locate: Locate = lambda key: None) -> SnapshotRules:
    """Build rules from the parsed ``driftdeck.yaml``.

    Args:
        config: The whole parsed config (``LocalSource.config``).
        locate: Gives the line of a key of the ``snapshots`` section, for errors.

    Returns:
        The rules (defaults when the section is absent).

    Raises:
        MalformedError: For an unknown key, a value of the wrong type, a
            regex that does not compile, or a glob that leaves the root.
    """
    section = config.get(SECTION)
    if section is None:
        return SnapshotRules()
    if not isinstance(section, dict):
        raise MalformedError(CONFIG_NAME, locate(SECTION), "`snapshots` must be a mapping")
    values: dict[str, Any] = {}
    for key, value in section.items():
        line = locate(str(key))
        if key not in _KNOWN:
            raise MalformedError(CONFIG_NAME, line, f"unknown snapshots key {key!r} (known: {', '.join(_KNOWN)})")
        if key in _LIST_KEYS:
            items = [value] if isinstance(value, str) else value
            if not isinstance(items, list) or not all(isinstance(v, str) and v for v in items):
                raise MalformedError(CONFIG_NAME, line, f"snapshots.{key} must be a string or a list of strings")
            values[key] = tuple(items)
        elif key in _BOOL_KEYS:
            if not isinstance(value, bool):
                raise MalformedError(CONFIG_NAME, line, f"snapshots.{key} must be true or false")
            values[key] = value
        elif key in ("tolerance", "rename_threshold"):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise MalformedError(CONFIG_NAME, line, f"snapshots.{key} must be a number >= 0")
            if key == "rename_threshold" and value > 1:
                raise MalformedError(CONFIG_NAME, line, "snapshots.rename_threshold must be between 0 and 1")
            values[key] = float(value)
        elif key == "structured_max_bytes":
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise MalformedError(CONFIG_NAME, line, "snapshots.structured_max_bytes must be an integer >= 0")
            values[key] = value
        elif key == "groups":
            if not isinstance(value, dict) or not all(
                isinstance(k, str) and k and isinstance(v, str) and v for k, v in value.items()
            ):
                raise MalformedError(CONFIG_NAME, line, "snapshots.groups must map path globs to group labels")
            values[key] = tuple(value.items())
    rules = SnapshotRules(**values)
    check_rules(rules, lambda key: locate(key))
    return rules


def check_rules(rules: SnapshotRules, locate: Locate = lambda key: None, where: str = CONFIG_NAME) -> None:
    """Raise ``MalformedError`` for a regex that does not compile or a glob that escapes."""
    for regex in rules.ignore_lines:
        if not isinstance(regex, str):
            raise MalformedError(where, locate("ignore_lines"), f"ignore_lines must hold strings, not {regex!r}")
        try:
            compile_pattern(regex)
        except PatternError as exc:
            raise MalformedError(where, locate("ignore_lines"), f"invalid regex {regex!r}: {exc}") from None
    for key, globs in (("ignore_paths", rules.ignore_paths), ("groups", tuple(g for g, _ in rules.groups))):
        for glob in globs:
            if ".." in glob.replace("\\", "/").split("/"):
                raise MalformedError(where, locate(key), f"glob {glob!r} must stay inside the snapshot")
            glob_regex(glob)


_REPLACED_WHEN_GIVEN = ("keys",)
"""Rule lists the command line replaces rather than extends: record keys are tried in order."""


def merge_rules(base: SnapshotRules, flags: object = None, /, **given: Any) -> SnapshotRules:
    """Add command-line rules to the configured ones.

    The rules given are the attributes of ``flags`` (the command's options
    object, ``tui.cli.snapshots_diff.DiffOptions``) and the keywords
    ``given`` that name a field of ``SnapshotRules``: lists extend the
    configured ones (``keys`` replaces them when given), ``None`` keeps the
    configured value, any other value overrides it.

    Raises:
        TypeError: A keyword that names no rule.
        MalformedError: A regex that does not compile, a glob that escapes.
    """
    unknown = set(given) - {f.name for f in fields(SnapshotRules)}
    if unknown:
        raise TypeError(f"merge_rules: no such rule {', '.join(sorted(unknown))}")
    changes: dict[str, Any] = {}
    for name in (f.name for f in fields(SnapshotRules)):
        value = given[name] if name in given else getattr(flags, name, None)
        if value is None:
            continue
        if isinstance(value, tuple) and name in _REPLACED_WHEN_GIVEN:
            if value:
                changes[name] = value
        elif isinstance(value, tuple):
            changes[name] = getattr(base, name) + value
        else:
            changes[name] = value
    merged = replace(base, **changes)
    check_rules(merged, where="command line")
    return merged


def yaml_key_locator(text: str) -> Locate:
    """Line numbers of the keys of the ``snapshots`` section of a YAML text."""
    import yaml

    lines: dict[str, int] = {}
    try:
        root = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        root = None
    if isinstance(root, yaml.MappingNode):
        for key_node, value_node in root.value:
            if getattr(key_node, "value", None) == SECTION:
                lines[SECTION] = key_node.start_mark.line + 1
                if isinstance(value_node, yaml.MappingNode):
                    for child, _ in value_node.value:
                        lines.setdefault(str(child.value), child.start_mark.line + 1)
    return lines.get


# Compiled rules ---------------------------------------------------------------


def _field_regex(pattern: str) -> re.Pattern[str]:
    pattern = re.sub(r"\[(\d+|\*)\]", r".\1", pattern.strip().lstrip("$").lstrip("."))
    parts: list[str] = []
    for segment in pattern.split("."):
        if segment == "**":
            parts.append("(?:[^\x1f]*\x1f)*")
            continue
        body = "".join("[^\x1f]*" if c == "*" else "[^\x1f]" if c == "?" else re.escape(c) for c in segment)
        parts.append(body + "\x1f")
    return re.compile("".join(parts))


def field_path(path: tuple[Any, ...]) -> str:
    """A value path as users write it: ``findings[0].metrics.rows``."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            text = str(part)
            out += ("." if out else "") + (text if re.fullmatch(r"[A-Za-z_][\w-]*", text) else repr(text))
    return out or "(root)"


@dataclass(frozen=True)
class CompiledRules:
    """Rules ready to apply: compiled regexes and matchers.

    Args:
        rules: The rules as configured.
    """

    rules: SnapshotRules

    @cached_property
    def line_regexes(self) -> tuple[Pattern, ...]:
        """The ``ignore_lines`` patterns, time-limited (they come from users and clients)."""
        return tuple(compile_pattern(r) for r in self.rules.ignore_lines) if self.rules.apply else ()

    @cached_property
    def field_regexes(self) -> tuple[re.Pattern[str], ...]:
        return tuple(_field_regex(p) for p in self.rules.exclude_fields) if self.rules.apply else ()

    @property
    def tolerance(self) -> float:
        return self.rules.tolerance if self.rules.apply else 0.0

    @property
    def ignore_order(self) -> bool:
        return self.rules.ignore_order and self.rules.apply

    @property
    def structured_active(self) -> bool:
        """Whether any structured rule is on."""
        return bool(self.field_regexes or self.tolerance or self.ignore_order)

    def mask_line(self, line: str) -> str:
        """``line`` with the parts the line regexes match taken out."""
        for regex in self.line_regexes:
            line = regex.sub("", line)
        return line

    def excluded(self, path: tuple[Any, ...]) -> bool:
        """Whether a value path is excluded by ``exclude_fields``."""
        if not self.field_regexes:
            return False
        joined = "".join(f"{p}\x1f" for p in path)
        return any(regex.fullmatch(joined) for regex in self.field_regexes)

    def within_tolerance(self, a: Any, b: Any) -> bool:
        """Whether two numbers are equal within the tolerance."""
        return _is_number(a) and _is_number(b) and abs(a - b) <= self.tolerance

    def equal(self, a: Any, b: Any, path: tuple[Any, ...] = ()) -> bool:
        """Structural equality under the rules (exclusions, tolerance, order)."""
        if not self.structured_active:
            return strict_equal(a, b)
        return self._equal(a, b, path)

    def _equal(self, a: Any, b: Any, path: tuple[Any, ...]) -> bool:
        if path and self.excluded(path):
            return True
        if isinstance(a, dict) and isinstance(b, dict):
            for key in a.keys() | b.keys():
                sub = (*path, key)
                if key not in a or key not in b:
                    if not self.excluded(sub):
                        return False
                elif not self._equal(a[key], b[key], sub):
                    return False
            return True
        if isinstance(a, list) and isinstance(b, list):
            if len(a) != len(b):
                return False
            if self.ignore_order:
                a, b = sorted(a, key=order_key), sorted(b, key=order_key)
            return all(self._equal(x, y, (*path, i)) for i, (x, y) in enumerate(zip(a, b, strict=True)))
        if _is_number(a) and _is_number(b):
            return a == b or (self.tolerance > 0 and abs(a - b) <= self.tolerance)
        return type(a) is type(b) and a == b


def strict_equal(a: Any, b: Any) -> bool:
    """``a == b`` that also tells ``1`` from ``1.0`` from ``true``."""
    if a != b:
        return False
    return _same_types(a, b)


def _same_types(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return all(_same_types(v, b[k]) for k, v in a.items())
    if isinstance(a, list):
        return all(_same_types(x, y) for x, y in zip(a, b, strict=True))
    return True


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def order_key(value: Any) -> str:
    """A canonical text of a value, to sort lists whose order is ignored."""
    import orjson

    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS).decode()
    except TypeError:
        return repr(value)
