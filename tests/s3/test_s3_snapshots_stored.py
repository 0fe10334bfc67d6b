"""Snapshot diffs on a bucket, read through the Storage interface (no local copy), against the directory engine."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace
from pathlib import Path
from typing import Callable, Iterator

import pytest

from backends.errors import NotFoundError, UnreadableError
from backends.local import LocalSource
from backends.s3.source import S3Source
from backends.snapshots.models import DiffSummary, EntryDiff
from backends.snapshots.stored import diff_stored
from backends.s3.snapshots import StoredSnapshotsService
from backends.snapshots.tree import diff_trees
from backends.storage.base import Listing, Stat
from backends.storage.bucket import BucketStorage
from backends.storage.directory import DirStorage
from tests.s3.conftest import local_writes
from tests.seaweed import SeaweedFS, bucket_copy, make_marker, upload_tree

SNAPS = "history/snapshots"
TEXT_A = "".join(f"line {i}: steady value\n" for i in range(60))
TEXT_B = TEXT_A.replace("line 7: steady value", "line 7: CHANGED value").replace("line 40: steady value\n", "")


class Recording:
    """A real ``BucketStorage`` that records which paths were read, and can act just before a read."""

    def __init__(self, inner: BucketStorage, before_read: Callable[[str], None] | None = None) -> None:
        self.inner = inner
        self.label = inner.label
        self.reads: list[str] = []
        self.before_read = before_read
        self._lock = threading.Lock()

    def _read(self, path: str) -> None:
        with self._lock:
            self.reads.append(path)
        if self.before_read is not None:
            self.before_read(path)

    def list(self, path: str = "", *, after: str | None = None, limit: int = 1000) -> Listing:
        return self.inner.list(path, after=after, limit=limit)

    def stat(self, path: str) -> Stat:
        return self.inner.stat(path)

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        self._read(path)
        return self.inner.read_range(path, offset, length)

    def stream(self, path: str, *, chunk_size: int = 1 << 21) -> Iterator[bytes]:
        self._read(path)
        return self.inner.stream(path, chunk_size=chunk_size)


def build(root: Path) -> Path:
    """Two snapshots with every kind of difference a bucket can hold, and hostile names."""
    a, b = root / SNAPS / "a", root / SNAPS / "b"
    files = {
        "same.txt": ("kept\n" * 500, "kept\n" * 500),
        "deep/er/same.json": ('{"k": [1, 2, 3]}\n', '{"k": [1, 2, 3]}\n'),
        "notes.txt": (TEXT_A, TEXT_B),
        "conf/settings.json": ('{"retries": 3, "mode": "fast", "id": 1}\n', '{"retries": 5, "mode": "fast", "id": 1}\n'),
        "blob.bin": ("\x00\x01binary\x00" * 100, "\x00\x01binary\x00" * 99 + "\x00\x02binary\x00"),
        "with space.txt": ("a b\n", "a  b\n"),
        "ŝnap 数据.txt": ("ünïcode\n", "ünïcode!\n"),
        "back\\slash.txt": ("one\n", "two\n"),
        "moved/old-name.txt": ("renamed content\n" * 40, None),
        "moved/new-name.txt": (None, "renamed content\n" * 40),
        "gone.txt": ("removed\n", None),
        "fresh.txt": (None, "added\n"),
    }
    for rel, (old, new) in files.items():
        for side, text in ((a, old), (b, new)):
            if text is not None:
                (side / rel).parent.mkdir(parents=True, exist_ok=True)
                (side / rel).write_bytes(text.encode("utf-8", "surrogateescape"))
    (b / "empty-dir").mkdir()  # a "dir/" marker in the bucket
    return root


@pytest.fixture(scope="module")
def twin_and_bucket(seaweed: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    built = build(tmp_path_factory.mktemp("stored") / "built")
    twin = bucket_copy(built, built.parent / "twin")
    upload_tree(seaweed, "driftdeck", twin, "stored-snaps")
    return twin, "s3://driftdeck/stored-snaps"


async def drain(stream) -> list:
    return [item async for item in stream]


def split(items: list) -> tuple[list[EntryDiff], DiffSummary]:
    entries = [i for i in items if isinstance(i, EntryDiff)]
    [summary] = [i for i in items if isinstance(i, DiffSummary)]
    return entries, summary


def test_a_bucket_diff_equals_the_directory_diff_entry_for_entry(twin_and_bucket: tuple[Path, str]) -> None:
    twin, spec = twin_and_bucket

    async def run() -> None:
        source, local = S3Source(spec), LocalSource(str(twin))
        try:
            got, got_summary = split(await drain(source.diff_snapshots("a", "b")))
            want, want_summary = split(await drain(local.diff_snapshots("a", "b")))
            assert got == want  # same entries, same order
            assert replace(got_summary, bytes_read=0) == replace(want_summary, bytes_read=0)
            unread = sum(e.size_a + e.size_b for e in got if e.category == "unchanged")  # equal ETag and size
            assert unread > 0 and got_summary.bytes_read == want_summary.bytes_read - unread
            categories = {e.path: e.category for e in got}
            assert categories["empty-dir"] == "added" and categories["moved/new-name.txt"] == "renamed"
            assert categories["back/slash.txt"] == categories["with space.txt"] == categories["ŝnap 数据.txt"] == "changed"
            for path, mode in (("notes.txt", "unified"), ("notes.txt", "side"), ("conf/settings.json", "auto"),
                               ("blob.bin", "auto"), ("ŝnap 数据.txt", "unified"), ("empty-dir", "auto")):
                assert await source.diff_entry("a", "b", path, mode=mode) == await local.diff_entry("a", "b", path, mode=mode)
            notes = await source.diff_entry("a", "b", "notes.txt", mode="unified")
            assert [line.text for line in notes.lines if line.tag in ("-", "+")] == [
                "line 7: steady value", "line 7: CHANGED value", "line 40: steady value"]
            texts = [f"{SNAPS}/a/notes.txt", f"{SNAPS}/b/notes.txt"]
            assert await source.diff_file(*texts) == await local.diff_file(*texts)
            assert "+line 7: CHANGED value" in (await source.diff_file(*texts)).splitlines()
            assert written() == []  # nothing of the snapshots was copied to disk
        finally:
            await source.aclose()

    with local_writes() as written:
        asyncio.run(run())


def test_pairs_with_equal_etag_and_size_are_never_fetched(seaweed: SeaweedFS, twin_and_bucket: tuple[Path, str]) -> None:
    twin, spec = twin_and_bucket
    recording = Recording(BucketStorage(seaweed.store(), "stored-snaps", spec))

    async def run() -> list:
        source = S3Source(spec)
        try:
            service = StoredSnapshotsService(recording, source.layout, source.snapshot_rules)
            return await drain(service.diff_snapshots("a", "b"))
        finally:
            await source.aclose()

    entries, summary = split(asyncio.run(run()))
    unchanged = {e.path for e in entries if e.category == "unchanged"}
    assert unchanged == {"same.txt", "deep/er/same.json"}
    read = {path.split("/", 3)[3] for path in recording.reads}  # history/snapshots/<side>/<entry>
    assert not read & unchanged, read
    assert {"notes.txt", "conf/settings.json", "blob.bin"} <= read


def test_a_vanished_object_and_a_new_marker_are_one_line_and_the_rest_is_listed(seaweed: SeaweedFS) -> None:
    import obstore

    store = seaweed.store()
    prefix = "stored-vanish"
    for side, extra in (("a", b""), ("b", b" and more")):
        for name in ("keep.txt", "gone.txt", "marker.txt", "plain.txt"):
            obstore.put(store, f"{prefix}/{SNAPS}/{side}/{name}", name.encode() + (extra if name != "keep.txt" else b""))

    def act(path: str) -> None:  # between the listing and the read, the store changes
        if path.endswith("b/gone.txt"):
            obstore.delete(store, f"{prefix}/{path}")
        elif path.endswith("b/marker.txt"):
            obstore.delete(store, f"{prefix}/{path}")
            make_marker(seaweed, "driftdeck", f"{prefix}/{path}")

    recording = Recording(BucketStorage(store, prefix, f"s3://driftdeck/{prefix}"), act)
    items = list(diff_stored(recording, f"{SNAPS}/a", f"{SNAPS}/b"))
    entries, summary = split([i for batch in items for i in (batch if isinstance(batch, list) else [batch])])
    by_path = {e.path: (e.category, e.error) for e in entries}
    assert by_path == {
        "gone.txt": ("unreadable", "candidate: vanished between listing and reading"),
        "keep.txt": ("unchanged", None),
        "marker.txt": ("unreadable", "candidate: a directory marker key, not an object"),
        "plain.txt": ("changed", None),
    }
    assert summary.categories["unreadable"] == 2
    with pytest.raises(UnreadableError, match=r"^history/snapshots/b/marker.txt: a directory marker key or prefix, not an object$"):
        asyncio.run(StoredSnapshotsService(recording, None, _no_rules).diff_file(f"{SNAPS}/a/marker.txt", f"{SNAPS}/b/marker.txt"))
    with pytest.raises(NotFoundError, match=r"^history/snapshots/b/gone.txt: no such file$"):
        asyncio.run(StoredSnapshotsService(recording, None, _no_rules).diff_file(f"{SNAPS}/a/gone.txt", f"{SNAPS}/b/gone.txt"))


async def _no_rules():
    raise AssertionError("rules are not needed here")


def test_the_storage_diff_on_a_directory_equals_the_directory_engine(tmp_path: Path) -> None:
    root = build(tmp_path / "ws")
    storage = DirStorage(str(root))
    stored = [item for item in diff_stored(storage, f"{SNAPS}/a", f"{SNAPS}/b") if not type(item).__name__ == "DiffProgress"]
    direct = [item for item in diff_trees(str(root / SNAPS / "a"), str(root / SNAPS / "b"))
              if not type(item).__name__ == "DiffProgress"]
    assert stored == direct
