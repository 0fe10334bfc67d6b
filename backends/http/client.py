"""``HttpSource``: the DataSource contract over ``driftdeck serve``'s HTTP API.

A thin adapter on httpx (async): every method is one GET of the operation
table. Idempotent requests are retried on connection errors and 5xx with
exponential backoff and jitter; streams that break mid-way resume where they
stopped (``skip``), within one budget of retries per operation; errors come
back as the same typed errors the local source raises. ``state`` tells the UI
whether the server is reachable.

Nothing a server sends can take unbounded memory or time (see ``body``):
bodies are decoded here, a bounded piece at a time, and capped once decoded
(``max_body``); stream lines and events are capped (``max_line``); a response,
or a line once begun, must complete within ``deadline`` seconds (a byte drip
ends in ``StalledError``); a live stream silent for ``idle_timeout`` seconds
(the server sends heartbeats) is taken for dead and resumed.
"""

from __future__ import annotations

import asyncio
import math
import os
import random
import ssl
import time
from typing import Any, AsyncIterator, Awaitable, Callable, TypeVar
from urllib.parse import quote, urlencode

import httpx
import orjson

from backends import errors
from backends.http import wire
from backends.http.body import Body, size_text
from backends.http.operations import MAX_LIMIT, OPERATIONS, Operation, encode_params
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
    httpx.WriteError,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.PoolTimeout,
)
MAX_BODY = 64 << 20
"""Largest JSON or bytes response accepted, decoded (a read range is at most 16 MiB)."""
MAX_LINE = 32 << 20
"""Largest NDJSON item or Server-Sent Events message accepted."""
DEADLINE = 120.0
"""Seconds a response (JSON), or a stream's headers and then each of its lines, may take."""
IDLE_TIMEOUT = 35.0
"""Seconds without a byte before a live stream is taken for dead (the server's heartbeat is 10 s)."""
HEALTHY_SECONDS = 5.0
"""A live stream connection that lasted this long resets the reconnection backoff."""


class HttpSource:
    """A remote workspace served by ``driftdeck serve``.

    Args:
        spec: ``http(s)://host:port`` (a trailing ``/api/v1`` is accepted).
        token: Bearer token; default: the ``DRIFTDECK_TOKEN`` environment variable.
        retries: Attempts after the first for an idempotent request; for a
            stream, how many times in all it may break and be resumed.
        backoff: First retry delay in seconds (doubles each time, with jitter).

    Attributes:
        max_body: Bytes a JSON or bytes response may hold once decoded.
        max_line: Bytes an NDJSON item or a Server-Sent Events message may hold.
        deadline: Seconds a JSON response may take in all, and a stream's
            headers or any line of it once its first byte arrived.
        idle_timeout: Seconds without a byte (the server sends heartbeats)
            before a live stream reconnects.
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
        self.max_body = MAX_BODY
        self.max_line = MAX_LINE
        self.deadline = DEADLINE
        self.idle_timeout = IDLE_TIMEOUT
        self._state = "connecting"
        self._retry_at = 0.0
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __repr__(self) -> str:
        return f"HttpSource({self.base!r})"

    @property
    def state(self) -> str:
        """``connecting``, ``connected``, ``retrying in Ns`` (counting down), ``reconnecting`` or ``offline``."""
        if self._state == "retrying":
            left = self._retry_at - time.monotonic()
            return f"retrying in {math.ceil(left)}s" if left > 0 else "reconnecting"
        return self._state

    @state.setter
    def state(self, value: str) -> None:
        self._state = value

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
            # Only codings ``body.Decoder`` undoes in bounded pieces are asked for.
            headers = {"accept": "application/json", "accept-encoding": "gzip, deflate"}
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
        self._state, self._retry_at = "retrying", time.monotonic() + delay
        await asyncio.sleep(delay)

    def _where(self, op: Operation) -> str:
        return f"{self.base}/api/v1/{op.path}"

    async def _within(self, work: Awaitable[T], seconds: float, what: str) -> T:
        """``await work``, or ``StalledError`` saying ``what`` took longer than ``seconds``."""
        timer = asyncio.timeout(seconds)
        try:
            async with timer:
                return await work
        except TimeoutError:
            if not timer.expired():
                raise
            raise errors.StalledError(f"{what} took more than {seconds:g} s (the server sends too slowly); gave up") from None

    async def _open(
        self, op: Operation, params: list[tuple[str, Any]], *, headers: dict[str, str] | None = None, read: float | None = None
    ) -> httpx.Response:
        """Send a GET and return once its headers arrived (body not read), within the deadline."""
        client = self._http()
        extra: dict[str, Any] = {}
        if read is not None:
            extra["timeout"] = httpx.Timeout(connect=5.0, read=read, write=10.0, pool=10.0)
        request = client.build_request("GET", **_target(op, params), headers=headers, **extra)
        seconds = self.deadline if read is None else min(self.deadline, read)
        return await self._within(client.send(request, stream=True), seconds, f"{self._where(op)}: the response headers")

    async def _read(self, response: httpx.Response, where: str) -> bytes:
        """A whole (decoded, capped) body."""
        return await Body(response, where).read(self.max_body)

    def _raise_for(self, status: int, body: bytes) -> None:
        try:
            info = wire.decode_json(body)["error"]
            if not isinstance(info, dict):
                raise TypeError
        except (orjson.JSONDecodeError, KeyError, TypeError):
            info = {"type": "", "message": f"{self.base}: HTTP {status}"}
        raise rebuild_error(info, status, self.base)

    async def _get(self, name: str, kwargs: dict[str, Any]) -> bytes:
        op = OPERATIONS[name]
        params = encode_params(op, kwargs)
        where = self._where(op)
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            try:
                status, body = await self._within(self._fetch(op, params), self.deadline, f"{where}: the response")
            except RETRYABLE as exc:
                last = exc
            else:
                if status < 500:
                    self.state = "connected"
                    if status >= 400:
                        self._raise_for(status, body)
                    return body
                last = errors.UnavailableError(f"{self.base}: HTTP {status}")
            if attempt < self.retries:
                await self._pause(attempt)
        self.state = "offline"
        raise errors.UnavailableError(f"{self.base}: unreachable after {self.retries + 1} attempts ({_describe(last)})")

    async def _fetch(self, op: Operation, params: list[tuple[str, Any]]) -> tuple[int, bytes]:
        """One GET: its status and its decoded body (none for a 5xx)."""
        client = self._http()
        response = await client.send(client.build_request("GET", **_target(op, params)), stream=True)
        try:
            if response.status_code >= 500:
                return response.status_code, b""
            return response.status_code, await self._read(response, self._where(op))
        finally:
            await response.aclose()

    async def _call(self, operation: str, /, **kwargs: Any) -> Any:
        return _loads(await self._get(operation, kwargs), self._where(OPERATIONS[operation]))

    async def _call_as(self, kind: type[T], operation: str, /, **kwargs: Any) -> T:
        """``_call`` for an operation that answers a ``kind``; another answer is a malformed response."""
        value = await self._call(operation, **kwargs)
        if not isinstance(value, kind):
            path = f"{self.base}/api/v1/{OPERATIONS[operation].path}"
            raise errors.MalformedError(path, None, f"expected {kind.__name__} from the server, got {type(value).__name__}")
        return value

    async def _stream(self, operation: str, /, **kwargs: Any) -> AsyncIterator[Any]:
        """Items of an NDJSON stream; a broken connection resumes after the last item.

        The retries are a budget for the whole operation: a server that sends
        an item and then breaks the connection, again and again, exhausts it.
        """
        op = OPERATIONS[operation]
        where = self._where(op)
        delivered = 0
        last_key: str | None = None  # of the last item delivered, for ``op.resume_after``
        broken = 0
        answered = False  # whether any connection got as far as a response
        while True:
            params = encode_params(op, kwargs)
            if delivered:  # resume after the last item's key where the operation allows, else after a count
                params += [(op.resume_after, last_key)] if op.resume_after and last_key else [("skip", str(delivered))]
            try:
                response = await self._open(op, params)
                answered = True
                try:
                    if response.status_code >= 500:
                        raise errors.UnavailableError(f"HTTP {response.status_code}")
                    if response.status_code >= 400:
                        body = await self._within(self._read(response, where), self.deadline, f"{where}: the error response")
                        self._raise_for(response.status_code, body)
                    self.state = "connected"
                    async for line in Body(response, where).lines(self.max_line, self.deadline):
                        if not line:
                            continue
                        try:
                            raw = wire.decode_json(line)
                        except orjson.JSONDecodeError as exc:
                            raise errors.MalformedError(where, delivered + 1, f"invalid NDJSON from server: {exc}") from None
                        if isinstance(raw, dict) and raw.get("end") is True:
                            return
                        if isinstance(raw, dict) and "error" in raw and set(raw) == {"error"} and isinstance(raw["error"], dict):
                            raise rebuild_error(raw["error"], 200, self.base)
                        delivered += 1
                        item = wire.untag(raw)
                        last_key = _item_key(item) or last_key
                        yield item
                finally:
                    await response.aclose()
                raise errors.UnavailableError("the stream ended without its end marker")
            except errors.StalledError:
                self.state = "offline"
                raise
            except (*RETRYABLE, errors.UnavailableError) as exc:
                broken += 1
                if delivered and not op.resumable:
                    self.state = "offline"
                    raise errors.UnavailableError(
                        f"{where}: the stream broke after {delivered:,} items; run it again ({_describe(exc)})"
                    ) from None
                if broken > self.retries:
                    self.state = "offline"
                    if not answered:
                        raise errors.UnavailableError(f"{self.base}: unreachable after {broken} attempts ({_describe(exc)})") from None
                    raise errors.UnavailableError(
                        f"{where}: the stream broke {broken} times ({delivered:,} items received); gave up ({_describe(exc)})"
                    ) from None
                await self._pause(broken - 1)

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
        the last event received (``Last-Event-ID``), so nothing arrives twice.

        ``state`` is ``connected`` only while bytes arrive: a connection silent
        for ``idle_timeout`` seconds (no event, no heartbeat) is dropped and
        resumed. What the server says about the gap on resuming (events that
        left its buffer, or its restart) comes first in the next batch, as a
        marker with ``seq`` 0.
        """
        op = OPERATIONS["watch"]
        where = self._where(op)
        params = encode_params(op, {"path": path, "filters": filters})
        last_id: str | None = None
        epoch, last_seq, attempt = "", 0, 0
        loop = asyncio.get_running_loop()

        def alive() -> None:
            self.state = "connected"

        while True:
            headers = {"accept": "text/event-stream", **({"last-event-id": last_id} if last_id else {})}
            opened = loop.time()
            try:
                response = await self._open(op, params, headers=headers, read=self.idle_timeout)
                try:
                    if 400 <= response.status_code < 500:
                        body = await self._within(self._read(response, where), self.deadline, f"{where}: the error response")
                        self._raise_for(response.status_code, body)
                    if response.status_code >= 500:
                        raise errors.UnavailableError(f"{self.base}: HTTP {response.status_code}")
                    lines = Body(response, where).lines(self.max_line, self.idle_timeout)
                    async for event, message_id, data in sse_messages(lines, self.max_line, where, alive):
                        if event == "error":
                            raise _sse_error(data, where, self.base)
                        batch = _loads(data, where)
                        if not isinstance(batch, list) or not all(hasattr(e, "seq") for e in batch):
                            raise errors.MalformedError(where, None, "the server sent an event batch that is not a list of events")
                        if message_id:
                            last_id = message_id
                        new_epoch = (message_id or "").rpartition(":")[0]
                        if new_epoch and new_epoch != epoch:
                            epoch, last_seq = new_epoch, 0
                        fresh = [e for e in batch if not (0 < e.seq <= last_seq)]
                        last_seq = max([last_seq, *(e.seq for e in fresh)])
                        if fresh:
                            yield fresh
                finally:
                    await response.aclose()
            except (*RETRYABLE, errors.UnavailableError):
                pass  # StalledError included: a stalled stream is a dead one
            if loop.time() - opened >= HEALTHY_SECONDS:
                attempt = 0  # a connection that lived resets the backoff; one that breaks at once does not
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


def _target(op: Operation, params: list[tuple[str, Any]]) -> dict[str, Any]:
    """The ``url`` and ``params`` of a request (for ``build_request``).

    A value naming a file whose name is not UTF-8 (a string with surrogate
    escapes, as the server sent it) is sent as those bytes, percent-escaped
    (httpx would refuse to encode it), so that the server opens that file.
    """
    if not any(isinstance(value, str) and not value.isascii() and _has_surrogates(value) for _, value in params):
        return {"url": op.path, "params": params}
    return {"url": f"{op.path}?{urlencode(params, quote_via=quote, encoding='utf-8', errors='surrogateescape')}"}


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _loads(data: bytes | str, where: str) -> Any:
    """``wire.loads``, its errors naming the URL."""
    try:
        return wire.loads(data)
    except errors.MalformedError as exc:
        if exc.path != "response":
            raise
        raise errors.MalformedError(where, None, exc.reason) from None


def _sse_error(data: str, where: str, base: str) -> errors.DriftdeckError:
    """The error an ``event: error`` message describes."""
    try:
        info = wire.decode_json(data)["error"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return errors.MalformedError(where, None, "the server sent an unreadable error event")
    if not isinstance(info, dict):
        return errors.MalformedError(where, None, "the server sent an unreadable error event")
    return rebuild_error(info, 200, base)


async def sse_messages(
    lines: AsyncIterator[bytes], max_message: int, where: str, on_line: Callable[[], None] | None = None
) -> AsyncIterator[tuple[str, str, str]]:
    """``(event, id, data)`` of each Server-Sent Events message; comments skipped.

    Args:
        lines: The stream's lines, without their line ends.
        max_message: Most bytes of ``data`` one message may gather.
        where: The URL, for error messages.
        on_line: Called for every line (heartbeats included): the stream is alive.
    """
    event, message_id, size = "message", "", 0
    data: list[str] = []
    async for raw in lines:
        if on_line is not None:
            on_line()
        if not raw:
            if data:
                yield event, message_id, "\n".join(data)
            event, message_id, data, size = "message", "", [], 0
            continue
        if raw.startswith(b":"):
            continue
        line = raw.decode("utf-8", errors="replace")
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "data":
            size += len(raw) + 1
            if size > max_message:
                raise errors.MalformedError(where, None, f"the server sent an event larger than {size_text(max_message)}; refused")
            data.append(value)
        elif field == "id":
            message_id = value
        elif field == "event":
            event = value
