"""Where a workspace keeps things: default globs and ``driftdeck.yaml``.

A workspace root may hold a ``driftdeck.yaml`` whose ``layout`` section
overrides any of the defaults below, so that existing trees work unmoved::

    layout:
      runs: "fraud-platform/*/sr"     # glob of run directories
      status: "run_status.json"       # inside a run directory
      record: "run_record.jsonl"      # inside a run directory
      quarantine: "quarantine/*.json" # inside a run directory
      wal: "wal/*.jsonl"              # inside a run directory
      snapshots: "history/snapshots/*"
      manifests: ["**/SHA256SUMS", "**/*.sha256"]

Other top-level sections are left for the engines that own them.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, replace
from typing import Any

from backends.confine import open_read
from backends.errors import MalformedError

CONFIG_NAME = "driftdeck.yaml"
MAX_CONFIG_BYTES = 1 << 20


@dataclass(frozen=True, slots=True)
class Layout:
    """The globs a local source uses, relative to its root or to a run dir."""

    runs: str = "runs/*"
    status: str = "run_status.json"
    record: str = "run_record.jsonl"
    quarantine: str = "quarantine/*.json"
    wal: str = "wal/*.jsonl"
    snapshots: str = "history/snapshots/*"
    manifests: tuple[str, ...] = ("**/SHA256SUMS", "**/*.sha256")

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["manifests"] = list(self.manifests)
        return data


_STRING_KEYS = ("runs", "status", "record", "quarantine", "wal", "snapshots")


def load_config(root: str) -> tuple[Layout, dict[str, Any]]:
    """Read ``driftdeck.yaml`` under ``root`` (if any) into a ``Layout``.

    Args:
        root: Absolute workspace root.

    Returns:
        The layout and the whole parsed config (empty when there is no file).

    Raises:
        MalformedError: When the file is not YAML, not a mapping, or names an
            unknown layout key or a value of the wrong type; with its line.
    """
    path = os.path.join(root, CONFIG_NAME)
    try:
        with os.fdopen(open_read(path), "rb") as handle:  # a FIFO named driftdeck.yaml is refused, not waited on
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        return Layout(), {}
    except OSError as exc:
        raise MalformedError(CONFIG_NAME, None, f"cannot read: {exc.strerror or exc}") from None
    return parse_config(raw)


def parse_config(raw: bytes) -> tuple[Layout, dict[str, Any]]:
    """``driftdeck.yaml``'s bytes (at most ``MAX_CONFIG_BYTES + 1`` of them) as ``load_config`` returns them.

    Raises:
        MalformedError: As for ``load_config``.
    """
    if len(raw) > MAX_CONFIG_BYTES:
        raise MalformedError(CONFIG_NAME, None, "larger than 1 MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as bad:
        raise MalformedError(CONFIG_NAME, raw.count(b"\n", 0, bad.start) + 1, "invalid UTF-8") from None
    from backends.yamlread import load_yaml  # only when there is a config to read: yaml is slow to import

    config = load_yaml(text, CONFIG_NAME)
    if config is None:
        return Layout(), {}
    if not isinstance(config, dict):
        raise MalformedError(CONFIG_NAME, 1, "expected a mapping at the top level")
    section = config.get("layout") or {}
    if not isinstance(section, dict):
        raise MalformedError(CONFIG_NAME, _line_of_key(text, "layout"), "`layout` must be a mapping")
    layout = Layout()
    for key, value in section.items():
        line = _line_of_key(text, str(key))
        if key in _STRING_KEYS:
            if not isinstance(value, str) or not value.strip():
                raise MalformedError(CONFIG_NAME, line, f"layout.{key} must be a non-empty glob string")
            _check_relative(value, key, line)
            change: dict[str, Any] = {key: value.strip()}  # one of the string fields, named by the file
            layout = replace(layout, **change)
        elif key == "manifests":
            values = [value] if isinstance(value, str) else value
            if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
                raise MalformedError(CONFIG_NAME, line, "layout.manifests must be a glob or a list of globs")
            for glob in values:
                _check_relative(glob, key, line)
            layout = replace(layout, manifests=tuple(v.strip() for v in values))
        else:
            known = ", ".join((*_STRING_KEYS, "manifests"))
            raise MalformedError(CONFIG_NAME, line, f"unknown layout key {key!r} (known: {known})")
    return layout, config


def _check_relative(glob: str, key: str, line: int | None) -> None:
    parts = glob.replace("\\", "/").split("/")
    if glob.startswith("/") or ".." in parts:
        raise MalformedError(CONFIG_NAME, line, f"layout.{key} must stay inside the root: {glob!r}")


def _line_of_key(text: str, key: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{key}:"):
            return number
    return None
