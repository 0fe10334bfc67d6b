"""A private, read-through local copy of the objects an engine needs.

What still reads local files through it: the snapshot tree diff, with its
fast paths. The WAL engines, checksum verification and run details no longer
do: they read the bucket through ``backends.storage.bucket.BucketStorage``
(listings, HEADs and small GETs through ``bucket_async.BucketAio``).
A bucket source brings exactly the objects an operation touches into a
private temporary directory (mode 0700, removed on ``aclose``) and runs the
same engine there: a tree is compared by listing first (ETag and size), and
only objects whose ETag changed are downloaded again, streamed to disk.
Nothing is ever written to the bucket.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass
from typing import Any, Callable

from backends.errors import NotFoundError
from backends.models import Problem
from backends.s3.keys import checked
from backends.s3.store import store_error
from backends.storage.base import Stat
from backends.storage.bucket import BucketStorage
from backends.storage.bucket_async import CONCURRENCY, MARKER, BucketAio


@dataclass(frozen=True, slots=True)
class Listed:
    """One object as a listing shows it, by root-relative path."""

    rel: str
    size: int
    etag: str | None
    mtime: float


class Mirror:
    """The objects under one bucket prefix, copied on demand into a private directory.

    Args:
        store: An obstore store for the bucket.
        prefix: The workspace prefix inside the bucket (no slashes at the ends).
        label: How errors name the workspace (``s3://bucket/prefix``).
    """

    def __init__(self, store: Any, prefix: str, label: str) -> None:
        self.store = store
        self.prefix = prefix
        self.label = label
        self._names = BucketStorage(store, prefix, label)  # keys and names exactly as the storage layer makes them
        self._aio = BucketAio(self._names)
        self.dir = tempfile.mkdtemp(prefix="driftdeck-s3-")
        # removed on close(), or when the source is collected or the interpreter exits without one
        self._remove = weakref.finalize(self, shutil.rmtree, self.dir, ignore_errors=True)
        self._etags: dict[str, str | None] = {}
        self._stand_ins: dict[str, str | None] = {}  # rel -> ETag of a sparse stand-in (see sync_pair)
        self._gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    @property
    def _gate(self) -> asyncio.Semaphore:
        # one per event loop: a CLI command may run several asyncio.run() over one source
        loop = asyncio.get_running_loop()
        if loop not in self._gates:
            self._gates = {loop: asyncio.Semaphore(CONCURRENCY)}
            self._locks = {}
        return self._gates[loop]

    def _lock(self, rel: str) -> asyncio.Lock:
        """One download of a key at a time: panes ask for the same WAL from several workers at once."""
        _ = self._gate  # a new event loop starts a new set of locks
        return self._locks.setdefault(rel, asyncio.Lock())

    def key(self, rel: str) -> str:
        """The object key of a root-relative path."""
        return self._names.key(rel)

    def rel(self, key: str) -> str:
        """The root-relative path of an object key."""
        return self._names.rel(key)

    def local(self, rel: str) -> str:
        """Where ``rel`` lives in the mirror (checked: never outside it)."""
        return os.path.join(self.dir, *checked(rel).split("/"))

    def close(self) -> None:
        self._remove()

    # Listing -----------------------------------------------------------------

    async def listing(self, rel_dir: str) -> list[Listed]:
        """Every object under a root-relative directory (recursive), sorted by path (``BucketAio.listing``)."""
        return [_listed(o) for o in await self._aio.listing(rel_dir)]

    async def children(self, rel_dir: str) -> tuple[list[str], list[Listed]]:
        """Sub-directory names and objects directly under ``rel_dir`` (``BucketAio.children``)."""
        dirs, objects = await self._aio.children(rel_dir)
        return dirs, [_listed(o) for o in objects]

    # Copying -------------------------------------------------------------------

    async def fetch(self, rel: str, etag: str | None = None) -> Problem | None:
        """Bring one object into the mirror unless the copy there has ``etag``; a problem when it cannot.

        An object that vanished between listing and reading (``etag`` given:
        it was listed) is removed from the mirror and reported; a ``dir/``
        marker key becomes a directory and is reported; an unlisted key that
        is not there is simply absent.
        """
        async with self._lock(rel):
            return await self._fetch(rel, etag)

    async def _fetch(self, rel: str, etag: str | None) -> Problem | None:
        import obstore

        target = self.local(rel)
        if etag is not None and self._etags.get(rel) == etag and os.path.exists(target):
            return None
        async with self._gate:
            try:
                response = await obstore.get_async(self.store, self.key(rel))
                os.makedirs(os.path.dirname(target), exist_ok=True)
                partial = f"{target}.{os.getpid()}.part"
                with open(partial, "wb") as handle:
                    async for chunk in response.stream(min_chunk_size=1 << 20):
                        handle.write(chunk)
                if os.path.isdir(target):
                    shutil.rmtree(target)
                stamp = response.meta["last_modified"].timestamp()
                os.utime(partial, (stamp, stamp))  # engines report a file's mtime: the object's, not the download's
                os.replace(partial, target)
                self._etags[rel] = response.meta["e_tag"]
                self._stand_ins.pop(rel, None)
                return None
            except Exception as exc:
                error = store_error(exc, rel)
                if not isinstance(error, NotFoundError):
                    raise error from None
        self._forget(rel)
        if await self._is_marker(rel):
            self._make_dir(rel)
            return Problem(rel, None, MARKER)
        return None if etag is None else Problem(rel, None, "vanished between listing and reading")

    def _make_dir(self, rel: str) -> None:
        """A directory in the mirror for a bucket directory; a bucket keeps no time for it (mtime 0)."""
        path = self.local(rel)
        if not os.path.isdir(path):
            os.makedirs(path, exist_ok=True)
            os.utime(path, (0, 0))

    async def get_small(self, rel: str, limit: int) -> tuple[bytes, int] | Problem | None:
        """The first ``limit`` bytes of a small object and its size (``BucketAio.get_small``); a problem for a marker."""
        got = await self._aio.get_small(rel, limit)
        return Problem(rel, None, got) if isinstance(got, str) else got

    async def _is_marker(self, rel: str) -> bool:
        return await self._aio.is_marker(rel)

    async def _walk(self, rel_dir: str) -> list[Listed]:
        """Objects under ``rel_dir`` by delimiter listings, level by level; empty directories made in the mirror."""
        found: list[Listed] = []
        level = [checked(rel_dir)]
        while level:
            listings = await asyncio.gather(*(self.children(base) for base in level))
            nxt = []
            for base, (dirs, objects) in zip(level, listings, strict=False):
                found.extend(objects)
                for name in dirs:
                    nxt.append(f"{base}/{name}" if base else name)
                    self._make_dir(nxt[-1])
            level = nxt
        return sorted(found, key=lambda item: item.rel.split("/"))

    def _forget(self, rel: str) -> None:
        self._etags.pop(rel, None)
        self._stand_ins.pop(rel, None)
        target = self.local(rel)
        if os.path.isfile(target):
            os.unlink(target)

    async def fetch_file(self, rel: str) -> Problem | None:
        """Bring one object up to date (one HEAD, a GET only when its ETag changed)."""
        import obstore

        try:
            meta = await obstore.head_async(self.store, self.key(rel))
        except Exception as exc:
            error = store_error(exc, rel)
            if isinstance(error, NotFoundError):
                self._forget(rel)
                return None
            raise error from None
        return await self.fetch(rel, meta["e_tag"])

    async def sync_tree(
        self, rel_dir: str, *, empty_dirs: bool = False, stand_in: Callable[[str], bool] | None = None
    ) -> tuple[list[Listed], list[Problem]]:
        """Make the mirror's copy of a directory match the bucket: list, fetch what changed, drop what is gone.

        Args:
            rel_dir: Root-relative directory.
            empty_dirs: Also bring empty directories (``dir/`` markers) as
                directories: one delimiter listing per directory instead of
                one recursive listing per 1,000 keys (a checksum manifest
                naming a directory must find one).
            stand_in: Objects this says yes to are not fetched: a sparse file
                of their size and time stands in (they are read through the
                storage, or fetched when asked for).
        """
        if empty_dirs:
            listed = await self._walk(rel_dir)
        else:
            listed = await self.listing(rel_dir)
        fetched = [o for o in listed if stand_in is None or not stand_in(o.rel)]
        for other in (o for o in listed if stand_in is not None and stand_in(o.rel)):
            self._stand_in(other)
        problems = [p for p in await asyncio.gather(*(self.fetch(o.rel, o.etag) for o in fetched)) if p is not None]
        keep = {self.local(o.rel) for o in listed}
        top = self.local(rel_dir)
        for dirpath, _, filenames in os.walk(top):
            for name in filenames:
                path = os.path.join(dirpath, name)
                if path not in keep:
                    os.unlink(path)
                    self._forget(os.path.relpath(path, self.dir).replace(os.sep, "/"))
        os.makedirs(top, exist_ok=True)
        return listed, problems


    async def sync_pair(self, rel_a: str, rel_b: str) -> None:
        """Bring two trees for a diff, ETag and size before content.

        Both are listed first; a file whose ETag and size are the same on both
        sides is not downloaded: each copy is stood in by a sparse file of its
        size (equal bytes on both sides, so the tree diff counts the pair
        unchanged without a GET). Every other file is fetched (unless the
        mirror's copy has its ETag). A stand-in is replaced by the object when
        its content is asked for (``fetch_file``, ``fetch``).
        """
        listed_a, listed_b = await asyncio.gather(self.listing(rel_a), self.listing(rel_b))
        by_a = {_below(rel_a, o.rel): o for o in listed_a}
        by_b = {_below(rel_b, o.rel): o for o in listed_b}
        same = {name for name in by_a.keys() & by_b.keys()
                if by_a[name].etag is not None and (by_a[name].etag, by_a[name].size) == (by_b[name].etag, by_b[name].size)}
        wanted = {o.rel: o for side in (by_a, by_b) for name, o in side.items() if name not in same}
        await asyncio.gather(*(self.fetch(o.rel, o.etag) for o in wanted.values()))
        for name in same:
            for listed in (by_a[name], by_b[name]):
                self._stand_in(listed)
        keep = {self.local(o.rel) for o in (*listed_a, *listed_b)}
        for rel_dir in (rel_a, rel_b):
            for dirpath, _, filenames in os.walk(self.local(rel_dir)):
                for name in filenames:
                    path = os.path.join(dirpath, name)
                    if path not in keep:
                        os.unlink(path)
                        self._forget(os.path.relpath(path, self.dir).replace(os.sep, "/"))
            os.makedirs(self.local(rel_dir), exist_ok=True)

    def _stand_in(self, listed: Listed) -> None:
        """A sparse file of the object's size and time in place of its content (no GET)."""
        target = self.local(listed.rel)
        current = self._etags.get(listed.rel) == listed.etag or self._stand_ins.get(listed.rel) == listed.etag
        if current and os.path.isfile(target):
            return
        os.makedirs(os.path.dirname(target), exist_ok=True)
        partial = f"{target}.{os.getpid()}.part"
        with open(partial, "wb") as handle:
            handle.truncate(listed.size)
        os.utime(partial, (listed.mtime, listed.mtime))
        os.replace(partial, target)
        self._etags.pop(listed.rel, None)
        self._stand_ins[listed.rel] = listed.etag


def _listed(found: Stat) -> Listed:
    return Listed(found.path, found.size, found.version, found.mtime)


def _below(base: str, rel: str) -> str:
    return rel[len(base) + 1:] if base else rel
