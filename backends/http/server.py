"""``driftdeck serve``: a read-only Starlette app exposing a local source.

The server is a thin adapter: every route calls one DataSource method (see
``operations.OPERATIONS``) and sends its result as tagged JSON, NDJSON or
bytes. Engines run here, next to the data; results stream as produced.

Security: GET only; bearer token (compared in constant time over bytes) on
every route except ``/api/v1/health``; 401 with ``WWW-Authenticate: Bearer``;
query strings, page sizes and byte ranges capped; paths resolved by the
source, which refuses anything outside its root.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hmac
import ipaddress
import os
import threading
from typing import Any, AsyncIterator, Callable
from urllib.parse import parse_qsl

import orjson
from starlette.applications import Starlette
from starlette.datastructures import QueryParams
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from backends import errors
from backends.http import wire
from backends.http.operations import OPERATIONS, Operation, openapi, parse_params

MAX_QUERY_BYTES = 16 * 1024
MAX_RESPONSE_BYTES = 64 << 20
"""Largest JSON answer sent; a bigger one is refused (ask for a smaller page)."""
MAX_ITEM_BYTES = 8 << 20
"""Largest single NDJSON item of a stream; a bigger one ends the stream with an error line."""
MAX_BODY_BYTES = 0
"""Every route is GET; a request carrying a body is refused."""

STATUS_OF: tuple[tuple[type[errors.DriftdeckError], int], ...] = (
    (errors.AuthError, 401),
    (errors.NotFoundError, 404),
    (errors.ForbiddenError, 403),
    (errors.MalformedError, 400),
    (errors.SourceSpecError, 400),
    (errors.UnsupportedError, 501),
    (errors.UnreadableError, 422),
    (errors.UnavailableError, 503),
)


def status_of(exc: errors.DriftdeckError) -> int:
    for cls, status in STATUS_OF:
        if isinstance(exc, cls):
            return status
    return 400


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` only exposes this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
"""Host names every server answers to."""
MIN_TOKEN_CHARS = 16
"""Shortest bearer token ``serve`` accepts (a short one is guessed)."""


def host_name(value: bytes) -> str | None:
    """The host name of a ``Host`` header, lower-cased, without port or trailing dot (``None`` if malformed)."""
    try:
        text = value.decode("ascii").strip().lower()
    except UnicodeDecodeError:
        return None
    if text.startswith("["):
        inner, sep, rest = text[1:].partition("]")
        return inner if sep and (not rest or (rest.startswith(":") and rest[1:].isdigit())) else None
    name, sep, port = text.partition(":")
    if sep and not port.isdigit():
        return None
    return name.rstrip(".") or None


class Guard:
    """Pure ASGI middleware: host, method, size and bearer-token checks before any route.

    Args:
        app: The app behind the guard.
        token: Bearer token required on every route but health.
        allowed_hosts: Host names (``Host`` header, port ignored) answered;
            anything else is refused, so a web page that rebinds its own DNS
            name to this address cannot read the workspace through a browser.
    """

    def __init__(self, app: ASGIApp, token: str | None, allowed_hosts: frozenset[str] = LOOPBACK_NAMES) -> None:
        self.app = app
        self.token = token.encode("utf-8") if token else None
        self.allowed_hosts = frozenset(h.lower().strip("[]").rstrip(".") for h in allowed_hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if host_name(headers.get(b"host", b"")) not in self.allowed_hosts:
            await _plain(send, 421, "this server does not answer to that Host name (driftdeck serve --allow-host NAME)")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, "read-only API: only GET is allowed", {b"allow": b"GET"})
            return
        length = headers.get(b"content-length", b"0") or b"0"
        if not length.isdigit():
            await _plain(send, 400, "invalid Content-Length")
            return
        if int(length) > MAX_BODY_BYTES or b"transfer-encoding" in headers:
            await _plain(send, 413, "request bodies are refused")
            return
        if len(scope.get("query_string", b"")) > MAX_QUERY_BYTES:
            await _plain(send, 414, "query string too long")
            return
        if self.token is not None and scope["path"] != "/api/v1/health":
            supplied = headers.get(b"authorization", b"")
            scheme, _, value = supplied.partition(b" ")
            if scheme.lower() != b"bearer" or not hmac.compare_digest(value.strip(), self.token):
                await _plain(send, 401, "missing or wrong bearer token", {b"www-authenticate": b'Bearer realm="driftdeck"'})
                return
        await self.app(scope, receive, send)


async def _plain(send: Send, status: int, message: str, extra: dict[bytes, bytes] | None = None) -> None:
    body = orjson.dumps({"error": {"type": "HttpError", "message": message, "path": None, "line": None, "reason": None}})
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += list((extra or {}).items())
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def create_app(
    source: Any, *, token: str | None = None, heartbeat: float = 10.0, allowed_hosts: frozenset[str] = LOOPBACK_NAMES
) -> ASGIApp:
    """The ASGI app serving ``source`` read-only.

    Args:
        source: A DataSource (normally a ``LocalSource``).
        token: Bearer token required on every route but health; ``None`` for none.
        heartbeat: Seconds of silence after which an event stream sends a comment line.
        allowed_hosts: Host names the server answers to (loopback names by default).
    """
    from backends.http.live import WatchHubs

    hubs = WatchHubs(source)
    hide = _root_strings(source)

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def spec(_: Request) -> Response:
        return Response(orjson.dumps(openapi()), media_type="application/json")

    routes = [Route("/api/v1/health", health), Route("/api/v1/openapi.json", spec)]
    routes += [
        Route(f"/api/v1/{op.path}", _sse_handler(hubs, op, heartbeat, hide) if op.kind == "sse" else _handler(source, op, hide), methods=["GET"])
        for op in OPERATIONS.values()
    ]
    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        yield
        await hubs.reap(everything=True)  # stop every watch (observers, threads) on shutdown
        await source.aclose()  # here, not after uvicorn.run: uvicorn re-raises SIGTERM, so nothing after it runs

    return Guard(Starlette(routes=routes, lifespan=lifespan), token, allowed_hosts)


def _root_strings(source: Any) -> tuple[str, ...]:
    """The absolute root of ``source`` as it may appear in messages (longest first), never sent to clients."""
    root = getattr(source, "root", None)
    if not isinstance(root, str) or not root.startswith("/"):
        return ()
    return tuple(sorted({root, os.path.realpath(root)}, key=len, reverse=True))


def _handler(source: Any, op: Operation, hide: tuple[str, ...]) -> Any:
    async def handle(request: Request) -> Response:
        query = _query_params(request)
        skip = 0
        try:
            if op.kind == "stream" and op.resumable and "skip" in query:
                if not (query["skip"].isascii() and query["skip"].isdigit()):  # int() refuses "²", a digit
                    raise errors.MalformedError("?skip", None, "expected a count of items")
                skip = int(query["skip"])
                query = _without(query, "skip")
            kwargs = parse_params(op, query)
            method = getattr(source, op.name)
            if op.kind == "stream":
                iterator = method(**kwargs)
                try:
                    first = await _first(iterator, skip)
                except BaseException:
                    closer = getattr(iterator, "aclose", None)
                    if closer is not None:
                        await closer()
                    raise
                return StreamingResponse(_ndjson(first, iterator, hide), media_type="application/x-ndjson")
            result = await method(**kwargs)
            if op.name == "describe" and hide:
                name = os.path.basename(hide[-1]) or "."
                result = dataclasses.replace(result, root=name, spec=name)  # never the absolute root
        except errors.DriftdeckError as exc:
            return Response(wire.encode_json(wire.error_body(exc, hide)), status_code=status_of(exc), media_type="application/json")
        if op.kind == "bytes":
            return Response(result, media_type="application/octet-stream")
        body = wire.dumps(result)
        if len(body) > MAX_RESPONSE_BYTES:
            too_big = errors.UnreadableError(f"{op.path}: the answer would be {len(body):,} bytes (at most {MAX_RESPONSE_BYTES:,}): ask for less")
            return Response(wire.encode_json(wire.error_body(too_big, hide)), status_code=413, media_type="application/json")
        return Response(body, media_type="application/json")

    return handle


def _sse_handler(hubs: Any, op: Operation, heartbeat: float, hide: tuple[str, ...]) -> Any:
    from backends.events.model import WatchFilter
    from backends.http.live import client_view, parse_last_event_id, sse_stream

    async def handle(request: Request) -> Response:
        try:
            kwargs = parse_params(op, _query_params(request))
            path = kwargs.get("path", "")
            filters = kwargs.get("filters") or WatchFilter()
            if not isinstance(filters, WatchFilter):
                raise errors.MalformedError("?filters", None, "expected a WatchFilter")
            hub = await hubs.hub(path, filters)
            batches = hub.subscribe(parse_last_event_id(request.headers.get("last-event-id")), client_view(path, filters))
        except errors.DriftdeckError as exc:
            return Response(wire.encode_json(wire.error_body(exc, hide)), status_code=status_of(exc), media_type="application/json")
        headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
        return StreamingResponse(sse_stream(batches, hub.epoch, heartbeat), media_type="text/event-stream", headers=headers)

    return handle


def _query_params(request: Request) -> QueryParams:
    """The query parameters; percent-escaped bytes that are not UTF-8 kept as surrogate escapes.

    File names need not be UTF-8: a client sends the bytes of such a name
    percent-escaped (``HttpSource`` does), and the name given back to the
    filesystem must be those bytes, not U+FFFD (Starlette's decoding).
    """
    raw = request.scope.get("query_string", b"").decode("latin-1")
    return QueryParams(parse_qsl(raw, keep_blank_values=True, encoding="utf-8", errors="surrogateescape"))


def _without(query: Any, name: str) -> Any:
    from starlette.datastructures import QueryParams

    return QueryParams([(k, v) for k, v in query.multi_items() if k != name])


async def _first(iterator: AsyncIterator[Any], skip: int) -> list[Any]:
    """Pull the first item (after skipping ``skip``) so that errors become statuses."""
    for _ in range(skip):
        try:
            await iterator.__anext__()
        except StopAsyncIteration:
            return []
    try:
        return [await iterator.__anext__()]
    except StopAsyncIteration:
        return []


def _item_line(item: Any) -> bytes:
    """One NDJSON line; an item over ``MAX_ITEM_BYTES`` is an error (the stream ends with it)."""
    line = wire.dumps(item)
    if len(line) > MAX_ITEM_BYTES:
        raise errors.UnreadableError(f"an item of {len(line):,} bytes exceeds the stream's cap of {MAX_ITEM_BYTES:,} bytes")
    return line + b"\n"


async def _ndjson(first: list[Any], iterator: AsyncIterator[Any], hide: tuple[str, ...] = ()) -> AsyncIterator[bytes]:
    try:
        for item in first:
            yield _item_line(item)
        if first:
            async for item in iterator:
                yield _item_line(item)
        yield b'{"end":true}\n'
    except errors.DriftdeckError as exc:
        yield wire.encode_json(wire.error_body(exc, hide)) + b"\n"
    finally:
        closer = getattr(iterator, "aclose", None)
        if closer is not None:
            await closer()


class BackgroundServer:
    """Run the app on a real uvicorn server in a thread (tests, benchmarks, embedding).

    Args:
        app: The ASGI app.
        host: Address to bind.
        port: Port; 0 picks a free one (see ``url`` once started).
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(self.config)
        self.thread = threading.Thread(target=self.server.run, name="driftdeck-serve", daemon=True)

    @property
    def url(self) -> str:
        sock = self.server.servers[0].sockets[0]
        host, port = sock.getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> "BackgroundServer":
        self.thread.start()
        for _ in range(1000):
            if self.server.started:
                return self
            if not self.thread.is_alive():
                break
            threading.Event().wait(0.01)
        raise errors.UnavailableError("the HTTP server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)

    def __enter__(self) -> "BackgroundServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


SHUTDOWN_SECONDS = 3
"""Longest graceful shutdown: open event streams are cut after this on SIGTERM."""
MAX_CONNECTIONS = 256
"""Connections (and so requests and event streams) served at once."""
HEADER_TIMEOUT_SECONDS = 10
"""An idle kept-alive connection (or one that never finishes its request head) is closed after this."""


def serving_hosts(host: str, extra: tuple[str, ...] = ()) -> frozenset[str]:
    """The Host names a server bound to ``host`` answers to: loopback names, ``host``, ``extra``,
    and for a wildcard bind (``0.0.0.0``, ``::``) this machine's own names."""
    import socket

    names = set(LOOPBACK_NAMES) | {host.lower()} | {h.lower() for h in extra}
    if host in ("0.0.0.0", "::", ""):
        names |= {socket.gethostname().lower(), socket.getfqdn().lower()}
    return frozenset(names)


def serve(
    root: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8765,
    token: str | None = None,
    allow_hosts: tuple[str, ...] = (),
    certfile: str | None = None,
    keyfile: str | None = None,
    on_ready: Callable[[], None] | None = None,
) -> None:
    """Serve ``root`` (a directory path, or a source the caller opened) until interrupted (the body of ``driftdeck serve``).

    ``on_ready`` runs once the workspace is open, before the server binds
    (``driftdeck serve`` announces itself there, not before a broken
    ``driftdeck.yaml`` has had its say).

    Raises:
        ForbiddenError: A non-loopback bind without a token, or a token shorter than ``MIN_TOKEN_CHARS``.
    """
    import uvicorn

    from backends.local import LocalSource

    if not is_loopback(host) and not token:
        raise errors.ForbiddenError(f"{host}: refusing to bind a non-loopback address without a token (--token-file or --token-env)")
    if token is not None and len(token) < MIN_TOKEN_CHARS:
        raise errors.ForbiddenError(f"the token has {len(token)} characters; at least {MIN_TOKEN_CHARS} are required")
    if bool(certfile) != bool(keyfile):
        raise errors.SourceSpecError("give both --certfile and --keyfile for TLS")
    source: Any = LocalSource(root) if isinstance(root, str) else root  # a source the caller opened: a bucket, say
    if on_ready is not None:
        on_ready()
    app = create_app(source, token=token, allowed_hosts=serving_hosts(host, allow_hosts))
    uvicorn.run(
        app, host=host, port=port, log_level="info", access_log=False,
        ssl_certfile=certfile, ssl_keyfile=keyfile,
        timeout_keep_alive=HEADER_TIMEOUT_SECONDS, timeout_graceful_shutdown=SHUTDOWN_SECONDS,
        limit_concurrency=MAX_CONNECTIONS,  # slow or idle clients hold at most this many connections; past it a 503
    )
    asyncio.run(source.aclose())
