"""``HttpSource``: the DataSource contract over ``driftdeck serve``'s HTTP API.

A thin adapter on httpx (async): every method is one GET of the operation
table. Idempotent requests are retried on connection errors and 5xx with
exponential backoff and jitter; streams that break mid-way resume where they
stopped (``skip``); errors come back as the same typed errors the local
source raises. ``state`` tells the UI whether the server is reachable.
"""

from __future__ import annotations

import asyncio
import os
import random
import ssl
from typing import Any, AsyncIterator, TypeVar

import httpx
import orjson

from backends import errors
from backends.http import wire
from backends.http.operations import MAX_LIMIT, OPERATIONS, encode_params
from backends.models import (
    ArtifactPreview,
    FileEntry,
    Page,
    RunDetail,
    RunEvent,
    RunQuery,
    RunSummary,
    SnapshotInfo,
    SourceInfo,
    WalPair,
)

T = TypeVar("T")

TOKEN_ENV = "DRIFTDECK_TOKEN"
CA_BUNDLE_ENV = "DRIFTDECK_CA_BUNDLE"
RETRYABLE = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadError,
    httpx.ReadTimeout,
    httpx.RemoteProtocolError,
    httpx.PoolTimeout,
)


class HttpSource:
    """A remote workspace served by ``driftdeck serve``.

    Args:
        spec: ``http(s)://host:port`` (a trailing ``/api/v1`` is accepted).
        token: Bearer token; default: the ``DRIFTDECK_TOKEN`` environment variable.
        retries: Attempts after the first for idempotent requests.
        backoff: First retry delay in seconds (doubles each time, with jitter).
    """

    kind = "http"

    def __init__(
        self, spec: str, token: str | None = None, *, retries: int = 4, backoff: float = 0.25, ca_bundle: str | None = None
    ) -> None:
        base = spec.rstrip("/")
        if base.endswith("/api/v1"):
            base = base[: -len("/api/v1")]
        if not base.startswith(("http://", "https://")):
            raise errors.SourceSpecError(f"{spec}: not an http(s) URL")
        self.spec = spec
        self.base = base
        self.token = token if token is not None else os.environ.get(TOKEN_ENV) or None
        self.retries = retries
        self.backoff = backoff
        self.ca_bundle = ca_bundle
        """CA certificates (PEM) trusted for an ``https://`` server; default ``$DRIFTDECK_CA_BUNDLE``, else the system's."""
        self.state = "connecting"
        """``connecting``, ``connected``, ``retrying in Ns`` or ``offline``."""
        self.idle_timeout = 35.0
        """Seconds without a byte (the server sends heartbeats) before a live stream reconnects."""
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"HttpSource({self.base!r})"

    def _tls(self) -> ssl.SSLContext | bool:
        """Certificate verification: the system's roots, or the CA bundle in ``DRIFTDECK_CA_BUNDLE``.

        Raises:
            SourceSpecError: When the bundle cannot be loaded.
        """
        bundle = self.ca_bundle or os.environ.get(CA_BUNDLE_ENV)
        if not bundle:
            return True
        try:
            return ssl.create_default_context(cafile=bundle)
        except (OSError, ssl.SSLError) as exc:
            raise errors.SourceSpecError(f"{bundle}: cannot load the CA bundle: {exc}") from None

    # Transport -------------------------------------------------------------

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is not None and self._loop is not loop and self._loop is not None and not self._loop.is_closed():
            # A client of another, still running loop cannot be closed from here: let it finish there.
            old = self._client
            self._loop.call_soon_threadsafe(lambda: asyncio.ensure_future(old.aclose()))
        if self._client is None or self._loop is not loop:
            headers = {"accept": "application/json"}
            if self.token:
                headers["authorization"] = f"Bearer {self.token}"
            timeout = httpx.Timeout(connect=5.0, read=120.0, write=10.0, pool=10.0)
            self._client = httpx.AsyncClient(
                base_url=f"{self.base}/api/v1/", headers=headers, timeout=timeout, verify=self._tls(), follow_redirects=False
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None

    async def _pause(self, attempt: int) -> None:
        delay = min(8.0, self.backoff * (2**attempt)) * (0.5 + random.random() / 2)
        self.state = f"retrying in {delay:.1f}s"
        await asyncio.sleep(delay)

    def _raise_for(self, response: httpx.Response, body: bytes) -> None:
        try:
            info = orjson.loads(body)["error"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            info = {"type": "", "message": f"{self.base}: HTTP {response.status_code}"}
        raise rebuild_error(info, response.status_code, self.base)

    async def _get(self, name: str, kwargs: dict[str, Any]) -> bytes:
        op = OPERATIONS[name]
        params = encode_params(op, kwargs)
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                response = await self._http().get(op.path, params=tuple(params))
            except RETRYABLE as exc:
                last = exc
            else:
                if response.status_code < 500:
                    self.state = "connected"
                    if response.status_code >= 400:
                        self._raise_for(response, response.content)
                    return response.content
                last = errors.UnavailableError(f"{self.base}: HTTP {response.status_code}")
            if attempt < self.retries:
                await self._pause(attempt)
        self.state = "offline"
        raise errors.UnavailableError(f"{self.base}: unreachable after {self.retries + 1} attempts ({_describe(last)})")

    async def _call(self, operation: str, /, **kwargs: Any) -> Any:
        # ``operation`` is positional-only: the keyword arguments are the operation's own (``name=`` among them).
        return wire.loads(await self._get(operation, kwargs))

    async def _call_as(self, kind: type[T], operation: str, /, **kwargs: Any) -> T:
        """``_call`` for an operation that answers a ``kind``; another answer is a malformed response."""
        value = await self._call(operation, **kwargs)
        if not isinstance(value, kind):
            path = f"{self.base}/api/v1/{OPERATIONS[operation].path}"
            raise errors.MalformedError(path, None, f"expected {kind.__name__} from the server, got {type(value).__name__}")
        return value

    async def _stream(self, operation: str, /, **kwargs: Any) -> AsyncIterator[Any]:
        """Items of an NDJSON stream; a broken connection resumes after the last item."""
        op = OPERATIONS[operation]
        delivered = 0
        last_key: str | None = None  # of the last item delivered, for ``op.resume_after``
        attempt = 0
        while True:
            if delivered and not op.resumable:
                self.state = "offline"
                raise errors.UnavailableError(f"{self.base}: {op.path} stream broke after {delivered} items; run it again")
            params = encode_params(op, kwargs)
            if delivered:
                params += [(op.resume_after, last_key)] if op.resume_after and last_key else [("skip", str(delivered))]
            try:
                async with self._http().stream("GET", op.path, params=tuple(params)) as response:
                    if response.status_code >= 500:
                        raise errors.UnavailableError(f"{self.base}: HTTP {response.status_code}")
                    if response.status_code >= 400:
                        self._raise_for(response, await response.aread())
                    self.state = "connected"
                    async for line in response.aiter_lines():
                        if not line:
                            continue
                        try:
                            raw = orjson.loads(line)
                        except orjson.JSONDecodeError as exc:
                            raise errors.MalformedError(f"{self.base}/api/v1/{op.path}", delivered + 1, f"invalid NDJSON from server: {exc}") from None
                        if isinstance(raw, dict) and raw.get("end") is True:
                            return
                        if isinstance(raw, dict) and "error" in raw and set(raw) == {"error"}:
                            raise rebuild_error(raw["error"], 200, self.base)
                        delivered += 1
                        attempt = 0
                        item = wire.untag(raw)
                        last_key = _item_key(item) or last_key
                        yield item
                raise errors.UnavailableError(f"{self.base}: stream ended without its end marker")
            except (*RETRYABLE, errors.UnavailableError) as exc:
                if attempt >= self.retries or (delivered and not op.resumable):
                    self.state = "offline"
                    raise errors.UnavailableError(
                        f"{self.base}: stream broken after {delivered} items, gave up after {attempt + 1} attempts ({_describe(exc)})"
                    ) from None
                await self._pause(attempt)
                attempt += 1

    # DataSource ------------------------------------------------------------

    async def describe(self) -> SourceInfo:
        return await self._call_as(SourceInfo, "describe")

    def iter_runs(
        self, query: RunQuery = RunQuery(), batch: int = 500, after: str | None = None
    ) -> AsyncIterator[list[RunSummary]]:
        return self._stream("iter_runs", query=query, batch=batch, after=after)

    async def list_runs(self, query: RunQuery = RunQuery(), cursor: str | None = None, limit: int = 500) -> Page[RunSummary]:
        return await self._call_as(Page, "list_runs", query=query, cursor=cursor, limit=limit)

    async def get_run(self, run: str) -> RunDetail:
        return await self._call_as(RunDetail, "get_run", run=run)

    async def run_events(self, run: str, cursor: str | None = None, limit: int = 200) -> Page[RunEvent]:
        return await self._call_as(Page, "run_events", run=run, cursor=cursor, limit=limit)

    async def artifact_preview(self, path: str, max_bytes: int = 65536) -> ArtifactPreview:
        return await self._call_as(ArtifactPreview, "artifact_preview", path=path, max_bytes=max_bytes)

    async def list_dir(self, path: str = "", after: str | None = None, limit: int | None = None) -> list[FileEntry]:
        """Entries of a directory; without ``limit``, every entry, fetched page by page (the server pages at ``MAX_LIMIT``)."""
        entries: list[FileEntry] = []
        while True:
            page_limit = MAX_LIMIT if limit is None else min(MAX_LIMIT, limit - len(entries))
            page: list[FileEntry] = await self._call_as(list, "list_dir", path=path, after=after, limit=page_limit)
            entries.extend(page)
            if len(page) < page_limit or (limit is not None and len(entries) >= limit):
                return entries
            after = page[-1].path.rsplit("/", 1)[-1]

    async def stat(self, path: str) -> FileEntry:
        return await self._call_as(FileEntry, "stat", path=path)

    async def read_range(self, path: str, offset: int, length: int) -> bytes:
        return await self._get("read_range", {"path": path, "offset": offset, "length": length})

    async def list_manifests(self) -> list[str]:
        return await self._call_as(list, "list_manifests")

    async def list_snapshots(self) -> list[SnapshotInfo]:
        return await self._call_as(list, "list_snapshots")

    async def list_wal_pairs(self) -> list[WalPair]:
        return await self._call_as(list, "list_wal_pairs")

    # Engines: run on the server, next to the data ---------------------------------

    def verify_checksums(
        self, manifest: str, *, include_new: bool = True, scope: Any = None, emit_ok: bool = True
    ) -> AsyncIterator[Any]:
        return self._stream("verify_checksums", manifest=manifest, include_new=include_new, scope=scope, emit_ok=emit_ok)

    def wal_index(self, path: str) -> AsyncIterator[Any]:
        return self._stream("wal_index", path=path)

    async def wal_lines(self, path: str, start: int, count: int, rules: Any = None, *, max_chars: int | None = None) -> list[Any]:
        return await self._call_as(list, "wal_lines", path=path, start=start, count=count, rules=rules, max_chars=max_chars)

    def validate_wal(self, path: str, *, max_problems: int | None = None) -> AsyncIterator[Any]:
        return self._stream("validate_wal", path=path, max_problems=max_problems)

    def diff_wal(
        self, record: str, replay: str, rules: Any = None, *, max_divergences: int | None = None, context: int | None = None
    ) -> AsyncIterator[Any]:
        return self._stream("diff_wal", record=record, replay=replay, rules=rules, max_divergences=max_divergences, context=context)

    def search_wal(self, path: str, text: str, rules: Any = None) -> AsyncIterator[Any]:
        return self._stream("search_wal", path=path, text=text, rules=rules)

    async def snapshot_rules(self) -> Any:
        return await self._call("snapshot_rules")

    async def snapshot_path(self, name: str) -> str:
        return await self._call_as(str, "snapshot_path", name=name)

    def diff_snapshots(self, a: str, b: str, rules: Any = None, *, unchanged: bool = True) -> AsyncIterator[Any]:
        return self._stream("diff_snapshots", a=a, b=b, rules=rules, unchanged=unchanged)

    async def diff_entry(
        self, a: str, b: str, path: str, rules: Any = None, mode: str = "auto", *, old_path: str | None = None, context: int = 3
    ) -> Any:
        return await self._call("diff_entry", a=a, b=b, path=path, rules=rules, mode=mode, old_path=old_path, context=context)

    async def diff_file(self, a: str, b: str) -> str:
        return await self._call_as(str, "diff_file", a=a, b=b)

    async def watch(self, path: str = "", filters: Any = None) -> AsyncIterator[list[Any]]:
        """Live events over Server-Sent Events; reconnects for ever, resuming after
        the last event received (``Last-Event-ID``), so nothing arrives twice."""
        op = OPERATIONS["watch"]
        params = encode_params(op, {"path": path, "filters": filters})
        last_id: str | None = None
        epoch, last_seq, attempt = "", 0, 0
        timeout = httpx.Timeout(connect=5.0, read=self.idle_timeout, write=10.0, pool=10.0)
        while True:
            headers = {"accept": "text/event-stream", **({"last-event-id": last_id} if last_id else {})}
            try:
                async with self._http().stream("GET", op.path, params=tuple(params), headers=headers, timeout=timeout) as response:
                    if 400 <= response.status_code < 500:
                        self._raise_for(response, await response.aread())
                    if response.status_code >= 500:
                        raise errors.UnavailableError(f"{self.base}: HTTP {response.status_code}")
                    self.state = "connected"
                    attempt = 0
                    async for event, message_id, data in sse_messages(response.aiter_lines()):
                        if event == "error":
                            raise rebuild_error(orjson.loads(data)["error"], 200, self.base)
                        if message_id:
                            last_id = message_id
                        batch = wire.loads(data)
                        new_epoch = (message_id or "").rpartition(":")[0]
                        if new_epoch and new_epoch != epoch:
                            epoch, last_seq = new_epoch, 0
                        fresh = [e for e in batch if not (0 < e.seq <= last_seq)]
                        last_seq = max([last_seq, *(e.seq for e in fresh)])
                        if fresh:
                            yield fresh
            except (*RETRYABLE, httpx.ReadTimeout, errors.UnavailableError):
                pass
            await self._pause(min(attempt, 5))
            attempt += 1


def rebuild_error(info: dict[str, Any], status: int, base: str) -> errors.DriftdeckError:
    """The typed error a server's error body describes."""
    name = str(info.get("type") or "")
    message = str(info.get("message") or f"{base}: HTTP {status}")
    cls = getattr(errors, name, None)
    if status == 401:
        return errors.AuthError(f"{base}: {message}")
    if cls is errors.MalformedError and info.get("reason") is not None:
        return errors.MalformedError(str(info.get("path")), info.get("line"), str(info["reason"]))
    if isinstance(cls, type) and issubclass(cls, errors.DriftdeckError) and cls is not errors.MalformedError:
        return cls(message, path=info.get("path"))
    by_status = {403: errors.ForbiddenError, 404: errors.NotFoundError, 501: errors.UnsupportedError}
    return by_status.get(status, errors.DriftdeckError)(message)


def _describe(exc: Exception | None) -> str:
    if exc is None:
        return "no response"
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0]


def _item_key(item: Any) -> str | None:
    """The ``key`` of a stream item (of the last element of a batch), if it has one."""
    if isinstance(item, list):
        item = item[-1] if item else None
    key = getattr(item, "key", None)
    return key if isinstance(key, str) else None


async def sse_messages(lines: AsyncIterator[str]) -> AsyncIterator[tuple[str, str, str]]:
    """``(event, id, data)`` of each Server-Sent Events message; comments skipped."""
    event, message_id = "message", ""
    data: list[str] = []
    async for line in lines:
        if not line:
            if data:
                yield event, message_id, "\n".join(data)
            event, message_id, data = "message", "", []
            continue
        if line.startswith(":"):
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            data.append(value)
        elif field == "id":
            message_id = value
        elif field == "event":
            event = value
