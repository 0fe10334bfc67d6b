"""``BucketAio``: the asynchronous reads of a ``BucketStorage`` a bucket source makes many of at once.

Run discovery lists one level per request and fetches hundreds of status
objects; a worker thread per request would cost a thread each (and the
default executor has ``cores + 4``). These calls use obstore's ``*_async``
functions on the event loop, at most ``CONCURRENCY`` requests (GETs, HEADs,
listings) in flight per loop; no request is made while holding the gate for
another, so none waits on itself.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, AsyncIterator, Callable

from backends.errors import NotFoundError
from backends.storage.base import Stat
from backends.storage.bucket import checked, store_error

if TYPE_CHECKING:
    from backends.storage.bucket import BucketStorage

CONCURRENCY = 32
"""Concurrent GETs; the issue's measurement on 2 cores: obstore peaks around 32 requests in flight."""
STREAM_CHUNK = 1 << 20
"""Chunk size when only an object's head is wanted (obstore's default, 10 MiB, would read that much first)."""
MARKER = "a directory marker key, not an object"
"""The one-line problem for a ``dir/`` marker where an object should be."""


class BucketAio:
    """Listings, small reads and HEADs of a bucket prefix, on the event loop.

    Args:
        storage: The bucket prefix (keys, names and errors exactly as it makes them).
    """

    def __init__(self, storage: BucketStorage) -> None:
        self.storage = storage
        self._gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}

    @property
    def gate(self) -> asyncio.Semaphore:
        """The running loop's limit on requests in flight (a CLI command may run several ``asyncio.run``)."""
        loop = asyncio.get_running_loop()
        if loop not in self._gates:
            self._gates = {loop: asyncio.Semaphore(CONCURRENCY)}
        return self._gates[loop]

    def _stat(self, meta: dict[str, object]) -> Stat:
        return Stat(self.storage.rel(str(meta["path"])), "file", meta["size"], meta["last_modified"].timestamp(),  # type: ignore[arg-type, attr-defined]
                    meta["e_tag"])  # type: ignore[arg-type]

    async def listing(self, rel_dir: str) -> list[Stat]:
        """Every object under a root-relative directory (recursive), sorted by path segments.

        Raises:
            DriftdeckError: When the store refuses or cannot be reached.
        """
        import obstore

        base = self.storage.key(rel_dir)
        found: list[Stat] = []
        try:
            async with self.gate:
                async for chunk in obstore.list(self.storage.store, base + "/" if base else None, chunk_size=1000):
                    found.extend(self._stat(meta) for meta in chunk)  # type: ignore[arg-type]
        except Exception as exc:
            raise store_error(exc, self.storage.name(rel_dir)) from None
        found.sort(key=lambda item: item.path.split("/"))
        return found

    async def children(self, rel_dir: str) -> tuple[list[str], list[Stat]]:
        """Sub-directory names and objects directly under ``rel_dir`` (one delimiter listing)."""
        import obstore

        rel = checked(rel_dir)
        base = self.storage.key(rel)
        try:
            async with self.gate:
                result = await obstore.list_with_delimiter_async(self.storage.store, base + "/" if base else None)
        except Exception as exc:
            raise store_error(exc, self.storage.name(rel)) from None
        dirs = sorted(p.rstrip("/").rsplit("/", 1)[-1] for p in result["common_prefixes"])
        objects = [self._stat(m) for m in result["objects"]]  # type: ignore[arg-type]
        return dirs, sorted((o for o in objects if o.path and o.path != rel), key=lambda o: o.path)

    async def is_marker(self, rel: str) -> bool:
        """Whether ``rel`` is a directory (a ``rel/`` marker or a prefix): the parent's delimiter listing says so."""
        parent, _, name = checked(rel).rpartition("/")
        dirs, _ = await self.children(parent)
        return name in dirs

    async def head(self, rel: str) -> Stat | None:
        """The object ``rel`` as a HEAD sees it; ``None`` when there is none."""
        import obstore

        key = self.storage.key(rel)  # a path leaving the root raises ForbiddenError as itself, not a store error
        try:
            async with self.gate:
                meta = await obstore.head_async(self.storage.store, key)
            return self._stat(meta)  # type: ignore[arg-type]
        except Exception as exc:
            error = store_error(exc, rel)
            if not isinstance(error, NotFoundError):
                raise error from None
        return None

    async def get_small(self, rel: str, limit: int) -> tuple[bytes, int] | str | None:
        """The first ``limit`` bytes of an object and its size, in memory, by one GET (a larger object's body
        is read until ``limit`` and then dropped); ``None`` when it is not there, ``MARKER`` when it is a
        directory marker."""
        import obstore

        store, key = self.storage.store, self.storage.key(rel)
        async with self.gate:
            try:
                response = await obstore.get_async(store, key)
                size = response.meta["size"]
                if size < limit:
                    return bytes(await response.bytes_async()), size
                return await _first_bytes(response.stream(min_chunk_size=min(limit, STREAM_CHUNK)), limit), size
            except Exception as exc:
                error = store_error(exc, rel)
                if not isinstance(error, NotFoundError):
                    raise error from None
        return MARKER if await self.is_marker(rel) else None

    async def get_head(self, rel: str, want: Callable[[int], int]) -> tuple[bytes, int] | str | None:
        """The first ``want(size)`` bytes of an object and its size by one HEAD and one ranged GET, never
        more (a preview of a large artifact); ``None`` / ``MARKER`` as for ``get_small``."""
        import obstore

        found = await self.head(rel)
        if found is None:
            return MARKER if await self.is_marker(rel) else None
        length = min(want(found.size), found.size)
        if length <= 0:
            return b"", found.size
        try:
            async with self.gate:
                data = await obstore.get_range_async(self.storage.store, self.storage.key(rel), start=0, length=length)
        except Exception as exc:
            raise store_error(exc, rel) from None
        return bytes(data), found.size


async def _first_bytes(stream: AsyncIterator[bytes], limit: int) -> bytes:
    """The first ``limit`` bytes of a body; the rest is never read (the stream is dropped with its connection)."""
    head = bytearray()
    async for chunk in stream:
        head += chunk
        if len(head) >= limit:
            break
    return bytes(head[:limit])
