"""``BucketStorage`` against the session's real SeaweedFS."""

from __future__ import annotations

import threading

import pytest

from backends.errors import ForbiddenError, NotFoundError
from backends.storage.base import Storage
from backends.storage.bucket import BucketStorage
from tests.seaweed import SeaweedFS

PREFIX = "storage-tests"


@pytest.fixture(scope="module")
def bucket(seaweed: SeaweedFS) -> BucketStorage:
    import asyncio

    import obstore

    store = seaweed.store()
    jobs = {f"{PREFIX}/many/k{i:04d}": f"{i}\n".encode() for i in range(1105)}  # more than one 1,000-key page
    jobs.update({f"{PREFIX}/many/sub{i}/x": b"x" for i in range(3)})
    jobs[f"{PREFIX}/wal/record.jsonl"] = b"".join(b'{"id": %d}\n' % i for i in range(1, 5001))
    jobs[f"{PREFIX}/odd name\\with back"] = b"odd"

    async def put_all() -> None:
        gate = asyncio.Semaphore(32)

        async def put(key: str, data: bytes) -> None:
            async with gate:
                await obstore.put_async(store, key, data)

        await asyncio.gather(*(put(k, v) for k, v in jobs.items()))

    asyncio.run(put_all())
    return BucketStorage(store, PREFIX, f"s3://driftdeck/{PREFIX}")


def test_is_a_storage(bucket: BucketStorage) -> None:
    assert isinstance(bucket, Storage)


def test_list_with_delimiter_across_store_pages(bucket: BucketStorage) -> None:
    listing = bucket.list("many", limit=10_000)  # obstore follows the store's 1,000-key pages
    assert listing.dirs == ("many/sub0", "many/sub1", "many/sub2")
    assert len(listing.files) == 1105 and listing.cursor is None
    assert listing.files[0].path == "many/k0000" and listing.files[-1].path == "many/k1104"


def test_list_in_our_own_pages(bucket: BucketStorage) -> None:
    seen: list[str] = []
    after = None
    while True:
        page = bucket.list("many", after=after, limit=400)
        seen += [*(f.path for f in page.files), *page.dirs]
        if page.cursor is None:
            break
        after = page.cursor
    assert len(seen) == 1108 and len(set(seen)) == 1108


def test_stat_range_and_stream(bucket: BucketStorage) -> None:
    whole = b"".join(b'{"id": %d}\n' % i for i in range(1, 5001))
    entry = bucket.stat("wal/record.jsonl")
    assert (entry.kind, entry.size) == ("file", len(whole)) and entry.version
    assert bucket.read_range("wal/record.jsonl", 10, 11) == whole[10:21]
    assert bucket.read_range("wal/record.jsonl", len(whole) - 5, 100) == whole[-5:]
    assert bucket.read_range("wal/record.jsonl", len(whole) + 10, 100) == b""
    assert b"".join(bucket.stream("wal/record.jsonl", chunk_size=1000)) == whole
    assert b"".join(bucket.stream("wal/record.jsonl")).split(b"\n")[4999] == b'{"id": 5000}'
    assert bucket.stat("many").kind == "dir"
    assert bucket.read_range("odd name\\with back", 0, 10) == b"odd"


def test_sub_directories_list_their_own_objects(bucket: BucketStorage) -> None:
    assert [(f.path, f.size) for f in bucket.list("many/sub1").files] == [("many/sub1/x", 1)]


def test_missing_and_refused_paths(bucket: BucketStorage) -> None:
    with pytest.raises(NotFoundError, match="^nope: no such file$"):
        bucket.stat("nope")
    with pytest.raises(ForbiddenError):
        bucket.read_range("../other", 0, 1)
    with pytest.raises(NotFoundError):
        list(bucket.stream("nope"))


def test_an_object_that_vanishes_between_list_and_get(seaweed: SeaweedFS, bucket: BucketStorage) -> None:
    import obstore

    store = seaweed.store()
    obstore.put(store, f"{PREFIX}/gone/v.jsonl", b"a\nb\n")
    listed = bucket.list("gone").files
    assert [f.path for f in listed] == ["gone/v.jsonl"]
    obstore.delete(store, f"{PREFIX}/gone/v.jsonl")
    for read in (lambda: bucket.read_range("gone/v.jsonl", 0, 4), lambda: list(bucket.stream("gone/v.jsonl"))):
        with pytest.raises(NotFoundError) as caught:
            read()
        assert str(caught.value) == "gone/v.jsonl: no such object (gone from the bucket)"


def test_streams_from_threads(bucket: BucketStorage) -> None:
    results: list[int] = []

    def count() -> None:
        results.append(sum(chunk.count(b"\n") for chunk in bucket.stream("wal/record.jsonl", chunk_size=4096)))

    threads = [threading.Thread(target=count) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert results == [5000] * 4
