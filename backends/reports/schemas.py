"""The JSON Schemas (draft 2020-12) of every ``--json`` output, shipped as package data.

Each output names its schema: a document in its ``"schema"`` field, an NDJSON
stream in its first record (``{"type": "header", "schema": ...}``), a
recording in its header. A schema is ``schemas/<name>.v<N>.json``; a change
to what an output may hold is a new version (a test keeps the recorded hash
of every published version, so an edit in place fails).
"""

from __future__ import annotations

TYPE_CHECKING = False  # the commands import schema_id on every --json run: nothing heavy at import
if TYPE_CHECKING:
    from typing import Any

VERSIONS: dict[str, int] = {
    "quarantine-list": 1,
    "quarantine-show": 1,
    "checksums-verify": 1,
    "checksums-update": 1,
    "wal-validate": 1,
    "wal-diff": 1,
    "snapshots-diff": 1,
    "events-verify": 1,
    "events-record": 1,
    "events-recording": 1,
}
"""Every schema and its current version."""

STREAMS = frozenset({"quarantine-list", "checksums-verify", "events-recording"})
"""Schemas of NDJSON streams: each describes one line (record), not the whole output."""


def schema_id(name: str) -> str:
    """``driftdeck/<name>/v<N>``: the value of the ``"schema"`` field of ``name``'s outputs."""
    return f"driftdeck/{name}/v{VERSIONS[name]}"


def schema_text(name: str, version: int | None = None) -> str:
    """The schema file's text (the current version unless ``version`` is given).

    Raises:
        KeyError: When there is no such schema.
    """
    from importlib import resources

    if name not in VERSIONS:
        raise KeyError(name)
    path = resources.files("backends.reports").joinpath("schemas", f"{name}.v{version or VERSIONS[name]}.json")
    if not path.is_file():
        raise KeyError(f"{name} v{version}")
    return path.read_text(encoding="utf-8")


def load_schema(name: str, version: int | None = None) -> dict[str, Any]:
    """The schema as a JSON object."""
    import json

    schema: dict[str, Any] = json.loads(schema_text(name, version))
    return schema
