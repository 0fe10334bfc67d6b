"""Live events over Server-Sent Events: same events as local, heartbeats, resume without duplicates."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import orjson

from backends.events.model import WatchFilter
from backends.http import wire
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource
from tests.contract.conftest import ServeProcess

FILTER = WatchFilter(types=frozenset({"created", "deleted", "moved"}))


async def created_paths(stream, want: int, timeout: float = 15.0) -> list:
    seen: list = []

    async def pull() -> None:
        async for batch in stream:
            seen.extend(batch)
            if sum(e.type == "created" for e in seen) >= want:
                return

    await asyncio.wait_for(pull(), timeout)
    return seen


async def write_files(root: Path, names: list[str], delay: float = 0.3) -> None:
    await asyncio.sleep(delay)
    for name in names:
        (root / name).write_text(name)
        await asyncio.sleep(0.01)


async def test_http_watch_sees_what_local_watch_sees(tmp_path: Path) -> None:
    (tmp_path / "live").mkdir()
    names = [f"live/f{i}.txt" for i in range(20)]
    with BackgroundServer(create_app(LocalSource(str(tmp_path)))) as server:
        for source in (LocalSource(str(tmp_path)), HttpSource(server.url)):
            for path in names:
                (tmp_path / path).unlink(missing_ok=True)
            stream = source.watch("live", FILTER)
            writer = asyncio.create_task(write_files(tmp_path, names))
            events = await created_paths(stream, len(names))
            await writer
            await stream.aclose()
            assert sorted(e.path for e in events if e.type == "created") == sorted(names), type(source).__name__
            assert [e.seq for e in events] == sorted({e.seq for e in events})


async def test_heartbeats_and_last_event_id_replay(tmp_path: Path) -> None:
    with BackgroundServer(create_app(LocalSource(str(tmp_path)), heartbeat=0.2)) as server:
        params = {"path": "", "filters": orjson.dumps(wire.tag_json(FILTER)).decode()}
        url = f"{server.url}/api/v1/events/watch"
        async with httpx.AsyncClient(timeout=10) as client:
            first_ids: list[str] = []
            heartbeats = 0
            async with client.stream("GET", url, params=params) as response:
                assert response.headers["content-type"].startswith("text/event-stream")
                writer = asyncio.create_task(write_files(tmp_path, [f"a{i}" for i in range(5)], 0.1))
                async for line in response.aiter_lines():
                    heartbeats += line == ": heartbeat"
                    if line.startswith("id: "):
                        first_ids.append(line[4:])
                    if heartbeats >= 1 and first_ids and writer.done():
                        break
            assert heartbeats >= 1
            resume_from = first_ids[0]
            (tmp_path / "after").write_text("x")
            async with client.stream("GET", url, params=params, headers={"last-event-id": resume_from}) as response:
                async for line in response.aiter_lines():
                    if line.startswith("data: "):
                        batch = wire.loads(line[6:])
                        assert all(e.seq > int(resume_from.rsplit(":", 1)[1]) for e in batch)
                        if any(e.path == "after" for e in batch):
                            break


async def test_client_resumes_after_the_server_is_killed_without_duplicates(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path).start()
    source = HttpSource(server.url, backoff=0.05)
    stream = source.watch("", FILTER)
    try:
        writer = asyncio.create_task(write_files(tmp_path, ["one", "two"]))
        before = await created_paths(stream, 2)
        await writer
        server.kill()
        await asyncio.sleep(0.3)
        server.start()
        writer = asyncio.create_task(write_files(tmp_path, ["three"], 2.0))
        after = await created_paths(stream, 1, timeout=30)
        await writer
    finally:
        await stream.aclose()
        server.kill()
    assert [e.path for e in before if e.type == "created"] == ["one", "two"]
    assert any(e.type == "notice" and "restarted" in (e.detail or "") for e in after)
    assert [e.path for e in after if e.type == "created"] == ["three"]
    assert source.state == "connected"


async def test_watch_outside_the_root_is_refused_over_http(tmp_path: Path) -> None:
    with BackgroundServer(create_app(LocalSource(str(tmp_path)))) as server:
        response = httpx.get(f"{server.url}/api/v1/events/watch", params={"path": "../"})
        assert response.status_code == 403
