"""The table of DataSource operations the HTTP API exposes.

One entry per operation: its URL, how its result travels (a JSON value, an
NDJSON stream of items, raw bytes, or Server-Sent Events) and its parameters.
Server and client are both generated from this table, so they cannot drift
apart, and the OpenAPI description is derived from it too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import orjson

from backends.errors import MalformedError
from backends.models import RunQuery

MAX_LIMIT = 5000
MAX_RANGE = 16 << 20


@dataclass(frozen=True, slots=True)
class Param:
    """One query parameter.

    Attributes:
        name: Keyword argument name of the DataSource method (and query key).
        kind: ``str``, ``int``, ``float``, ``bool``, ``strs`` (repeatable) or
            ``json`` (a JSON document decoded with ``decode``).
        required: Whether the request must carry it.
        maximum: Upper bound for ``int`` parameters.
        decode: For ``json``: turns the parsed JSON into the argument.
        encode: For ``json``: turns the argument into JSON-able data.
        default: Value the server passes when the request leaves it out
            (how an unpaged request still gets a bounded page).
    """

    name: str
    kind: str = "str"
    required: bool = False
    maximum: int | None = None
    decode: Callable[[Any], Any] | None = None
    encode: Callable[[Any], Any] | None = None
    default: Any = None


@dataclass(frozen=True, slots=True)
class Operation:
    """A DataSource method served at ``/api/v1/<path>``.

    Attributes:
        name: Method name on the DataSource.
        path: URL path below ``/api/v1/``.
        kind: ``json`` (awaitable -> value), ``stream`` (async iterator ->
            NDJSON), ``bytes`` (awaitable -> raw body) or ``sse``.
        params: Query parameters.
        summary: One line for the OpenAPI description.
        resumable: Whether the stream yields the same items in the same order
            every time, so a broken stream may resume after ``skip`` items.
        resume_after: The parameter by which a broken stream resumes after
            the ``key`` of the last item delivered (instead of ``skip``, which
            misses or repeats items when the data changed in between).
    """

    name: str
    path: str
    kind: str
    params: tuple[Param, ...]
    summary: str
    resumable: bool = False
    resume_after: str | None = None


def _query_from_json(data: Any) -> RunQuery:
    if not isinstance(data, dict):
        raise MalformedError("query", None, "expected a JSON object")
    return RunQuery(
        states=frozenset(map(str, data.get("states", ()))),
        reason_codes=frozenset(map(str, data.get("reason_codes", ()))),
        text=str(data.get("text", "")),
    )


def _model(name: str, *allowed: str) -> Param:
    """A parameter carrying a model as tagged JSON; only the ``allowed`` types (``module:Class``) are decoded.

    The tag is checked before anything is imported or built: a client naming
    another type (any importable ``backends`` class) gets a 400, never an import.
    """
    from backends.http import wire

    def decode(data: Any) -> Any:
        tag = data.get("t") if isinstance(data, dict) else None
        if tag not in allowed:
            raise MalformedError(f"?{name}", None, f"expected a tagged {' or '.join(a.rpartition(':')[2] for a in allowed)}")
        return wire.untag(data)

    return Param(name, "json", decode=decode, encode=wire.tag_json)


SNAPSHOT_RULES = "backends.snapshots.models:SnapshotRules"
WAL_RULES = "backends.wal.rules:WalRules"
QUERY = Param("query", "json", decode=_query_from_json, encode=lambda q: q.to_json())
PATH = Param("path", required=True)
RULES = _model("rules", WAL_RULES)
SNAP_RULES = _model("rules", SNAPSHOT_RULES)
MAX_OFFSET = 1 << 62
"""Largest byte offset accepted (``pread`` takes a signed 64-bit offset)."""
MAX_CURSOR_CHARS = 4096

OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("describe", "describe", "json", (), "What the source is and can do."),
        Operation(
            "iter_runs", "runs/stream", "stream", (QUERY, Param("batch", "int", maximum=MAX_LIMIT), Param("after")),
            "Every matching run in key order, streamed in batches as discovered; `after` resumes after a run key.",
            resumable=True, resume_after="after",
        ),
        Operation("list_runs", "runs", "json", (QUERY, Param("cursor"), Param("limit", "int", maximum=MAX_LIMIT)), "One page of runs."),
        Operation("get_run", "run", "json", (Param("run", required=True),), "One run with its artifacts."),
        Operation("run_events", "run/events", "json", (Param("run", required=True), Param("cursor"), Param("limit", "int", maximum=MAX_LIMIT)), "A page of a run's record events."),
        Operation("artifact_preview", "artifact/preview", "json", (PATH, Param("max_bytes", "int", maximum=1 << 20)), "Bounded preview of an artifact."),
        Operation(
            "list_dir", "files/list", "json", (Param("path"), Param("after"), Param("limit", "int", maximum=MAX_LIMIT, default=MAX_LIMIT)),
            f"Entries of a directory by name, after the name `after`, at most `limit` (default {MAX_LIMIT}).",
        ),
        Operation("stat", "files/stat", "json", (PATH,), "One entry."),
        Operation("read_range", "files/range", "bytes", (PATH, Param("offset", "int", required=True, maximum=MAX_OFFSET), Param("length", "int", required=True, maximum=MAX_RANGE)), "Bytes of a file."),
        Operation("list_manifests", "manifests", "json", (), "Checksum manifests."),
        Operation("list_snapshots", "snapshots", "json", (), "Trace snapshots."),
        Operation("list_wal_pairs", "wal/pairs", "json", (), "WAL record/replay pairs."),
        Operation(
            "verify_checksums", "checksums/verify", "stream",
            (Param("manifest", required=True), Param("include_new", "bool"), _model("scope", "backends.checksums.scope:Scope"), Param("emit_ok", "bool")),
            "Verify one manifest: entries as files complete, progress, the summary last.",
        ),
        Operation("wal_index", "wal/index", "stream", (PATH,), "Build a WAL file's line index: progress, then its size."),
        Operation(
            "wal_lines", "wal/lines", "json",
            (PATH, Param("start", "int", required=True), Param("count", "int", required=True, maximum=MAX_LIMIT), RULES, Param("max_chars", "int", maximum=1 << 20)),
            "Lines of a WAL file, redacted and ready to show.",
        ),
        Operation("validate_wal", "wal/validate", "stream", (PATH, Param("max_problems", "int", maximum=1_000_000)), "Validation problems of a WAL file, then a summary.", resumable=True),
        Operation(
            "diff_wal", "wal/diff", "stream",
            (Param("record", required=True), Param("replay", required=True), RULES, Param("max_divergences", "int", maximum=10_000_000), Param("context", "int", maximum=100)),
            "Divergences between a record and its replay, then a summary.",
        ),
        Operation("search_wal", "wal/search", "stream", (PATH, Param("text", required=True), RULES), "Line numbers whose shown text matches."),
        Operation("snapshot_rules", "snapshots/rules", "json", (), "The snapshot rules the workspace configures."),
        Operation("snapshot_path", "snapshots/path", "json", (Param("name", required=True),), "Where a snapshot named so lives."),
        Operation(
            "diff_snapshots", "snapshots/diff", "stream",
            (Param("a", required=True), Param("b", required=True), SNAP_RULES, Param("unchanged", "bool")),
            "Entry differences between two snapshots, then a summary.",
        ),
        Operation(
            "diff_entry", "snapshots/entry", "json",
            (Param("a", required=True), Param("b", required=True), PATH, SNAP_RULES, Param("mode"), Param("old_path"), Param("context", "int", maximum=1000)),
            "The content diff of one entry.",
        ),
        Operation("diff_file", "files/diff", "json", (Param("a", required=True), Param("b", required=True)), "Unified diff of two files."),
        Operation(
            "watch", "events/watch", "sse", (Param("path"), _model("filters", "backends.events.model:WatchFilter")),
            "Live filesystem events as Server-Sent Events (id <epoch>:<seq>, Last-Event-ID resumes, comment heartbeats).",
        ),
    )
}


def parse_params(op: Operation, query: Any) -> dict[str, Any]:
    """Turn request query parameters into keyword arguments for ``op``.

    Args:
        op: The operation.
        query: A multi-dict with ``get`` and ``getlist`` (Starlette's QueryParams).

    Raises:
        MalformedError: Naming the parameter that is missing or wrong.
    """
    known = {p.name for p in op.params}
    unknown = sorted(set(query.keys()) - known)
    if unknown:
        raise MalformedError(f"?{unknown[0]}", None, f"unknown parameter for {op.path}")
    kwargs: dict[str, Any] = {}
    for param in op.params:
        if param.kind == "strs":
            values = query.getlist(param.name)
            if values:
                kwargs[param.name] = tuple(values)
            continue
        raw = query.get(param.name)
        if raw is None:
            if param.required:
                raise MalformedError(f"?{param.name}", None, "required parameter is missing")
            if param.default is not None:
                kwargs[param.name] = param.default
            continue
        kwargs[param.name] = _convert(param, raw)
    return kwargs


def _convert(param: Param, raw: str) -> Any:
    try:
        if param.kind == "int":
            value = int(raw)
            if value < 0 or (param.maximum is not None and value > param.maximum):
                raise ValueError(f"out of range 0..{param.maximum}")
            return value
        if param.kind == "float":
            return float(raw)
        if param.kind == "bool":
            if raw not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return raw in ("true", "1")
        if param.kind == "json":
            data = orjson.loads(raw)
            return param.decode(data) if param.decode else data
    except MalformedError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError, OverflowError, orjson.JSONDecodeError) as exc:
        # a model built from client JSON with a wrong field or type: the client's fault, said in one line
        raise MalformedError(f"?{param.name}", None, f"invalid value: {type(exc).__name__}: {exc}") from None
    if len(raw) > MAX_CURSOR_CHARS and param.name == "cursor":
        raise MalformedError(f"?{param.name}", None, f"longer than {MAX_CURSOR_CHARS} characters")
    if "\x00" in raw:
        raise MalformedError(f"?{param.name}", None, "NUL byte refused")
    return raw


def encode_params(op: Operation, kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    """Keyword arguments of a client call as query parameters for ``op``."""
    params: list[tuple[str, str]] = []
    by_name = {p.name: p for p in op.params}
    for name, value in kwargs.items():
        if value is None:
            continue
        param = by_name[name]
        if param.kind == "strs":
            params.extend((name, str(v)) for v in value)
        elif param.kind == "json":
            data = param.encode(value) if param.encode else value
            params.append((name, orjson.dumps(data).decode()))
        elif param.kind == "bool":
            params.append((name, "true" if value else "false"))
        else:
            params.append((name, str(value)))
    return params


def openapi() -> dict[str, Any]:
    """An OpenAPI 3.1 description of every operation."""
    schema_of: dict[str, dict[str, Any]] = {"str": {"type": "string"}, "int": {"type": "integer", "minimum": 0}, "float": {"type": "number"},
                 "bool": {"type": "boolean"}, "json": {"type": "string", "contentMediaType": "application/json"},
                 "strs": {"type": "array", "items": {"type": "string"}}}
    media = {"json": "application/json", "stream": "application/x-ndjson", "bytes": "application/octet-stream",
             "sse": "text/event-stream"}
    paths: dict[str, Any] = {"/api/v1/health": {"get": {"summary": "Liveness; needs no token.", "responses": {"200": {"description": "ok"}}}}}
    for op in OPERATIONS.values():
        parameters = []
        for p in op.params:
            schema = dict(schema_of[p.kind])
            if p.maximum is not None:
                schema["maximum"] = p.maximum
            parameters.append({"name": p.name, "in": "query", "required": p.required, "schema": schema})
        paths[f"/api/v1/{op.path}"] = {
            "get": {
                "operationId": op.name,
                "summary": op.summary,
                "parameters": parameters,
                "responses": {
                    "200": {"description": "ok", "content": {media[op.kind]: {}}},
                    "400": {"description": "bad parameter"},
                    "401": {"description": "missing or wrong bearer token"},
                    "403": {"description": "path outside the root"},
                    "404": {"description": "not found"},
                },
            }
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "driftdeck read-only API", "version": "1"},
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
        "security": [{"bearer": []}],
        "paths": paths,
    }
