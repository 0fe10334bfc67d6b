"""Hostile HTTP servers: real sockets on 127.0.0.1 that misbehave on purpose.

Each server answers every connection with one scripted misbehaviour (an
endless line, a gzip bomb, an item then EOF, a byte drip, a silent event
stream). They speak just enough HTTP/1.1 for a real client to get past the
status line; they run on their own event loop in a thread, so a client under
test (or a client process being measured) talks to them over the loopback.
"""

from __future__ import annotations

import asyncio
import threading
import zlib
from typing import Awaitable, Callable

Script = Callable[["Connection"], Awaitable[None]]


class Connection:
    """One accepted connection: the request head, and a writer that counts what was sent.

    Attributes:
        head: The request line and headers, as received.
        index: 0 for the server's first connection, 1 for the second...
    """

    def __init__(self, server: "HostileServer", reader: asyncio.StreamReader, writer: asyncio.StreamWriter, head: bytes, index: int) -> None:
        self.server = server
        self._reader = reader
        self._writer = writer
        self.head = head
        self.index = index

    async def send(self, data: bytes) -> None:
        """Send ``data`` and wait until the kernel took it (raises once the client is gone)."""
        self._writer.write(data)
        await self._writer.drain()
        self.server.sent += len(data)

    async def send_head(self, headers: dict[str, str], status: str = "200 OK") -> None:
        """Send a status line and headers."""
        lines = [f"HTTP/1.1 {status}", *(f"{name}: {value}" for name, value in headers.items()), "", ""]
        await self.send("\r\n".join(lines).encode())

    async def send_chunk(self, data: bytes) -> None:
        """Send ``data`` as one chunk of a ``Transfer-Encoding: chunked`` body."""
        await self.send(f"{len(data):x}\r\n".encode() + data + b"\r\n")


class HostileServer:
    """A TCP server on 127.0.0.1 running ``script`` for every connection.

    Args:
        script: Coroutine function called with each ``Connection``; the
            connection is closed when it returns.

    Attributes:
        connections: How many connections were accepted.
        sent: Bytes written to clients so far (all connections).
    """

    def __init__(self, script: Script) -> None:
        self.script = script
        self.connections = 0
        self.sent = 0
        self.url = ""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="hostile-server", daemon=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            index = self.connections
            self.connections += 1
            try:
                head = await reader.readuntil(b"\r\n\r\n")
                await self.script(Connection(self, reader, writer, head, index))
            except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
                pass
            finally:
                tasks.discard(task)
                writer.close()

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    def __enter__(self) -> "HostileServer":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the hostile server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


NDJSON = {"content-type": "application/x-ndjson", "transfer-encoding": "chunked"}
SSE = {"content-type": "text/event-stream", "transfer-encoding": "chunked", "cache-control": "no-store"}


def endless_line(limit: int = 1 << 40, chunk: int = 1 << 16) -> Script:
    """An NDJSON stream whose first line never ends (the server stops after ``limit`` bytes)."""

    async def script(conn: Connection) -> None:
        await conn.send_head(NDJSON)
        await conn.send_chunk(b'{"t":"[]","d":["')
        block = b"x" * chunk
        while conn.server.sent < limit:
            await conn.send_chunk(block)

    return script


def endless_sse_line(limit: int = 1 << 40, chunk: int = 1 << 16) -> Script:
    """An event stream whose first ``data:`` line never ends."""

    async def script(conn: Connection) -> None:
        await conn.send_head(SSE)
        await conn.send_chunk(b"retry: 1000\n\ndata: ")
        block = b"x" * chunk
        while conn.server.sent < limit:
            await conn.send_chunk(block)

    return script


def gzip_bomb(expanded: int, content_type: str = "application/json") -> Script:
    """A body of ``expanded`` zero bytes, gzip-compressed (about 1,000 to 1), with ``Content-Encoding: gzip``."""
    body = _zeros_gzip(expanded)

    async def script(conn: Connection) -> None:
        await conn.send_head({"content-type": content_type, "content-encoding": "gzip", "content-length": str(len(body))})
        for start in range(0, len(body), 1 << 16):
            await conn.send(body[start : start + (1 << 16)])

    return script


def _zeros_gzip(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = []
    left = size
    while left > 0:
        parts.append(packer.compress(block[: min(left, len(block))]))
        left -= len(block)
    parts.append(packer.flush())
    return b"".join(parts)


def item_then_eof(item: bytes) -> Script:
    """An NDJSON stream that sends one item and ends cleanly, without the end marker."""

    async def script(conn: Connection) -> None:
        await conn.send_head(NDJSON)
        await conn.send_chunk(item + b"\n")
        await conn.send(b"0\r\n\r\n")

    return script


def drip(interval: float, content_type: str = "application/json") -> Script:
    """A response announcing a megabyte and sending one byte every ``interval`` seconds."""

    async def script(conn: Connection) -> None:
        await conn.send_head({"content-type": content_type, "content-length": str(1 << 20)})
        while True:
            await conn.send(b" ")
            await asyncio.sleep(interval)

    return script


def drip_headers(interval: float) -> Script:
    """A status line, then the headers one byte every ``interval`` seconds, never finished."""

    async def script(conn: Connection) -> None:
        await conn.send(b"HTTP/1.1 200 OK\r\n")
        while True:
            await conn.send(b"x")
            await asyncio.sleep(interval)

    return script


def silent_sse(preamble: bytes = b"") -> Script:
    """An event stream that sends its headers (and ``preamble``) and then nothing, ever."""

    async def script(conn: Connection) -> None:
        await conn.send_head(SSE)
        if preamble:
            await conn.send_chunk(preamble)
        await asyncio.Event().wait()

    return script
