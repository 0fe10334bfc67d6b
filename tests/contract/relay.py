"""``Relay``: a TCP relay on 127.0.0.1 whose link can be cut and restored (a network outage).

While cut, every connection through it is closed and new ones are closed as
soon as they are accepted, so a client sees the server as unreachable while
the server itself keeps running (and keeps its live events' buffer).
"""

from __future__ import annotations

import asyncio
import threading


class Relay:
    """Forwards connections from its own port to ``127.0.0.1:target_port``.

    Args:
        target_port: Port of the real server.
    """

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.url = ""
        self._cut = False
        self.downstream = 0
        """Bytes the server has sent back through the relay."""
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._thread = threading.Thread(target=self._run, name="relay", daemon=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self._main())
        self._loop.close()

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        tasks: set[asyncio.Task[None]] = set()

        async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, down: bool = False) -> None:
            try:
                while data := await reader.read(1 << 16):
                    if down:
                        self.downstream += len(data)
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if self._cut:
                writer.close()
                return
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
            except OSError:
                writer.close()
                return
            self._writers |= {writer, up_writer}
            task = asyncio.current_task()
            assert task is not None
            tasks.add(task)
            try:
                await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer, down=True))
            except asyncio.CancelledError:
                pass  # the relay stops
            finally:
                tasks.discard(task)
                self._writers -= {writer, up_writer}

        server = await asyncio.start_server(accept, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        self._ready.set()
        await self._stop.wait()
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def cut(self) -> None:
        """Close every connection through the relay and refuse new ones."""

        def close_all() -> None:
            self._cut = True
            for writer in list(self._writers):
                writer.close()

        self._loop.call_soon_threadsafe(close_all)

    def restore(self) -> None:
        """Relay new connections again."""
        self._loop.call_soon_threadsafe(lambda: setattr(self, "_cut", False))

    def __enter__(self) -> "Relay":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the relay did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._stop is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)
