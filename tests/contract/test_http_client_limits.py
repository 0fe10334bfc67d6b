"""The HTTP client against hostile servers: memory and time stay bounded, each bound is a one-line error.

Every server here is real (a socket on 127.0.0.1, see ``hostile.py``); each
case failed before the fix (issue: "serve and the HTTP client under attack",
finding 8): the client read an endless line or a gzip bomb into memory,
looped for ever on a stream that sends one item and ends, waited for ever on a
byte drip, and called a silent event stream ``connected``.
"""

from __future__ import annotations

import dataclasses

import asyncio
import time
from pathlib import Path
from typing import Any, AsyncIterator

import httpx
import pytest
from starlette.middleware.gzip import GZipMiddleware

from backends.errors import MalformedError, StalledError, UnavailableError
from backends.http import wire
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource
from tests.contract import hostile

MiB = 1 << 20


async def drain(stream: AsyncIterator[Any], seconds: float = 20.0) -> list[Any]:
    """Every item of ``stream``; fails the test (instead of hanging) after ``seconds``."""

    async def pull() -> list[Any]:
        return [item async for item in stream]

    return await asyncio.wait_for(pull(), seconds)


def client(server: hostile.HostileServer, **limits: float) -> HttpSource:
    source = HttpSource(server.url, retries=2, backoff=0.01)
    for name, value in limits.items():
        setattr(source, name, value)
    return source


async def test_an_endless_ndjson_line_is_refused_at_the_line_cap() -> None:
    with hostile.HostileServer(hostile.endless_line(limit=64 * MiB)) as server:
        source = client(server, max_line=MiB)
        with pytest.raises(MalformedError, match=r"runs/stream: the server sent a line longer than 1 MiB; refused"):
            await drain(source.iter_runs())
        assert server.connections == 1  # a refused line is not asked for again
    assert server.sent < 8 * MiB  # the client stopped reading soon after the cap


async def test_an_endless_event_stream_line_ends_the_watch() -> None:
    with hostile.HostileServer(hostile.endless_sse_line(limit=64 * MiB)) as server:
        source = client(server, max_line=MiB)
        with pytest.raises(MalformedError, match=r"events/watch: the server sent a line longer than 1 MiB; refused"):
            await drain(source.watch(""))
    assert server.sent < 8 * MiB


async def test_an_event_stream_message_of_endless_data_lines_is_refused() -> None:
    async def many_data_lines(conn: hostile.Connection) -> None:
        await conn.send_head(hostile.SSE)
        while conn.server.sent < 64 * MiB:
            await conn.send_chunk(b"data: " + b"x" * 4000 + b"\n")

    with hostile.HostileServer(many_data_lines) as server:
        source = client(server, max_line=MiB)
        with pytest.raises(MalformedError, match=r"the server sent an event larger than 1 MiB; refused"):
            await drain(source.watch(""))
    assert server.sent < 8 * MiB


async def test_a_gzip_bomb_is_refused_once_decoded_past_the_body_cap() -> None:
    with hostile.HostileServer(hostile.gzip_bomb(16 * MiB)) as server:
        source = client(server, max_body=MiB)
        started = time.monotonic()
        with pytest.raises(MalformedError, match=r"/api/v1/describe: the server sent a response larger than 1 MiB \(decoded\); refused"):
            await asyncio.wait_for(source.describe(), 20)
        assert time.monotonic() - started < 5
        assert server.connections == 1


async def test_a_gzip_bomb_on_a_stream_is_refused_at_the_line_cap() -> None:
    with hostile.HostileServer(hostile.gzip_bomb(16 * MiB, "application/x-ndjson")) as server:
        source = client(server, max_line=MiB)
        with pytest.raises(MalformedError, match=r"runs/stream: the server sent a line longer than 1 MiB; refused"):
            await drain(source.iter_runs())


async def test_an_item_then_eof_on_every_connection_exhausts_one_retry_budget() -> None:
    with hostile.HostileServer(hostile.item_then_eof(wire.dumps([]))) as server:
        source = client(server)  # retries=2: three connections in all
        started = time.monotonic()
        with pytest.raises(UnavailableError, match=r"runs/stream: the stream broke 3 times \(3 items received\); gave up "
                                                   r"\(the stream ended without its end marker\)"):
            await drain(source.iter_runs())
        assert time.monotonic() - started < 5
        assert server.connections == 3
        assert source.state == "offline"


@pytest.mark.parametrize("where", ["body", "stream", "headers"])
async def test_a_byte_drip_ends_at_the_deadline(where: str) -> None:
    script = hostile.drip_headers(0.05) if where == "headers" else hostile.drip(0.05, "application/x-ndjson" if where == "stream" else "application/json")
    with hostile.HostileServer(script) as server:
        source = client(server, deadline=1.0)
        started = time.monotonic()
        with pytest.raises(StalledError, match=r"took more than 1 s \(the server sends too slowly\); gave up"):
            if where == "stream":
                await drain(source.iter_runs())
            else:
                await asyncio.wait_for(source.describe(), 20)
        assert time.monotonic() - started < 3
        assert server.connections == 1


async def test_a_silent_event_stream_is_never_connected_and_is_resumed() -> None:
    with hostile.HostileServer(hostile.silent_sse()) as server:
        source = client(server, idle_timeout=0.3)
        stream = source.watch("")
        pull = asyncio.ensure_future(drain(stream, 30))
        states = set()
        started = time.monotonic()
        try:
            while time.monotonic() - started < 2.5:
                states.add(source.state.split(" in ")[0])
                await asyncio.sleep(0.01)
        finally:
            pull.cancel()
            with pytest.raises(asyncio.CancelledError):
                await pull
        assert "connected" not in states, states
        assert "retrying" in states
        assert server.connections >= 3  # each silence is taken for a dead connection and the stream resumed


async def test_a_gzip_compressing_proxy_is_read_as_before(contract_root: Path) -> None:
    local = LocalSource(str(contract_root))
    app = GZipMiddleware(create_app(LocalSource(str(contract_root))), minimum_size=0)
    with BackgroundServer(app) as server:
        assert httpx.get(f"{server.url}/api/v1/describe", headers={"accept-encoding": "gzip"}).headers["content-encoding"] == "gzip"
        source = HttpSource(server.url, retries=0)
        source.max_line = source.max_body = MiB
        remote_info, local_info = await source.describe(), await local.describe()
        assert remote_info.root == contract_root.name  # a server names its root by its last component only
        assert dataclasses.replace(remote_info, spec=local_info.spec, root=local_info.root) == local_info
        remote_runs = [run for batch in await drain(source.iter_runs(batch=7)) for run in batch]
        local_runs = [run async for batch in local.iter_runs(batch=7) for run in batch]
        assert remote_runs == local_runs
        record = remote_runs[0].key + "/run_status.json"
        assert await source.read_range(record, 0, 4096) == await local.read_range(record, 0, 4096)
