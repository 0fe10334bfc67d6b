"""Checksum verification of a manifest in a bucket: the directory's verdicts, from concurrent streamed GETs."""

from __future__ import annotations

import asyncio
import hashlib
import os
from pathlib import Path
from typing import Callable, Iterator

import obstore
import pytest

from backends.checksums.models import ChecksumEntry, ChecksumProgress, ChecksumSummary
from backends.checksums.scope import Scope
from backends.checksums.storage_verify import verify_in_storage
from backends.checksums.verify import verify_manifest
from backends.s3.source import S3Source
from backends.storage.base import Stat
from backends.storage.bucket import BucketStorage
from tests.s3.conftest import local_writes
from tests.seaweed import SeaweedFS, make_marker, upload_tree


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def split(items: list) -> tuple[list[ChecksumEntry], ChecksumSummary]:
    entries = [i for i in items if isinstance(i, ChecksumEntry)]
    [summary] = [i for i in items if isinstance(i, ChecksumSummary)]
    assert all(isinstance(i, (ChecksumEntry, ChecksumProgress, ChecksumSummary)) for i in items)
    return entries, summary


def key(e: ChecksumEntry) -> tuple:
    return (e.line is None, e.line or 0, e.path, e.category)


HOSTILE = ("with space.csv", "ünïcödé.txt", "-dash.txt", "per%cent #hash?.txt", "quote's \"q\".txt", "日本.csv")
"""Names a bucket can hold (obstore refuses control characters in a key: a name with a newline is only listed)."""


def build(root: Path) -> None:
    """A manifest with every category, hostile names, a listed directory and a marker, in a sub-tree."""
    base = root / "sets" / "s1"
    (base / "sub" / "deep").mkdir(parents=True)
    (base / "moved-to").mkdir()
    (base / "listed-dir").mkdir()
    (base / "listed-dir" / "inside.txt").write_bytes(b"inside a listed directory\n")
    (base / "empty").mkdir()  # an empty directory: a "dir/" marker in the bucket
    (root / "sets" / "up.txt").write_bytes(b"one level up\n")
    files = {
        "ok.txt": b"fine\n", "sub/deep/ok2.txt": b"fine too\n" * 1000, "changed.txt": b"new content\n",
        "moved-to/now.txt": b"i moved\n", "unlisted.txt": b"nobody lists me\n", "sub/unlisted2.txt": b"me neither\n",
        "big.bin": os.urandom(3 << 20),
    }
    files.update({name: name.encode() * 3 for name in HOSTILE})
    for rel, data in files.items():
        (base / rel).write_bytes(data)
    lines = [
        f"{sha(b'fine' + bytes([10]))}  ok.txt",
        f"{sha(files['sub/deep/ok2.txt'])}  ./sub//deep/ok2.txt",
        f"{sha(b'old content' + bytes([10]))}  changed.txt",
        f"{sha(b'gone' + bytes([10]))}  missing.txt",
        f"{sha(b'i moved' + bytes([10]))}  was-here.txt",
        f"{sha(b'x')}  listed-dir",
        f"{sha(b'y')}  empty",
        f"{sha(b'one level up' + bytes([10]))}  ../up.txt",
        f"{sha(b'z')}  ../../../../outside.txt",
        f"{sha(b'z')}  /etc/passwd",
        f"{sha(files['big.bin'])}  big.bin",
        f"{sha(b'fine' + bytes([10]))}  ok.txt",
        f"{sha(b'other')}  ./ok.txt",
        "this is not a checksum line",
        f"\\{sha(b'nl')}  new\\nline.txt",  # GNU escaping: a name with a newline (missing on both sides)
    ]
    lines += [f"{sha(files[name])}  {name}" for name in HOSTILE]
    (base / "SHA256SUMS").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def golden(seaweed: SeaweedFS, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BucketStorage]:
    root = tmp_path_factory.mktemp("golden-checksums") / "ws"
    build(root)
    upload_tree(seaweed, "driftdeck", root, "golden-sums")
    for d in (root / "sets" / "s1" / "listed-dir", root / "sets" / "s1" / "empty"):
        os.utime(d, (0, 0))  # a bucket keeps no time for a directory
    return root, BucketStorage(seaweed.store(), "golden-sums", "s3://driftdeck/golden-sums")


MANIFEST = "sets/s1/SHA256SUMS"


@pytest.mark.parametrize("options", [
    {}, {"emit_ok": False}, {"include_new": False}, {"scope": Scope(recursive=False)}, {"scope": Scope(exclude=("sub",))},
], ids=["default", "counted-ok", "no-new", "flat", "exclude"])
def test_the_bucket_gives_the_directorys_entries_and_summary(golden: tuple[Path, BucketStorage], options: dict) -> None:
    root, storage = golden
    here, mine = split(list(verify_manifest(str(root), MANIFEST, allow_fork=False, **options)))
    there, theirs = split(list(verify_in_storage(storage, MANIFEST, **options)))
    assert sorted(there, key=key) == sorted(here, key=key)
    # entries decided after hashing come in one order on both (missing, moved, new, repeats)
    assert [e for e in there if e.line is None or e.category in ("missing", "moved", "duplicate", "alias")] == [
        e for e in here if e.line is None or e.category in ("missing", "moved", "duplicate", "alias")]
    assert theirs._replace(elapsed=0) == mine._replace(elapsed=0)
    if not options:
        categories = {e.category for e in there}
        assert categories == {"ok", "changed", "missing", "moved", "unreadable", "new", "duplicate", "alias", "malformed"}
        by_name = {e.name: e for e in there if e.line}
        assert by_name["listed-dir"].reason == by_name["empty"].reason == "is a directory"  # a prefix, a marker
        assert by_name["../../../../outside.txt"].reason == "outside the source root (refused)"
        assert by_name["new\nline.txt"].category == "missing" and by_name["big.bin"].category == "ok"
        assert all(by_name[name].category == "ok" for name in HOSTILE)
        assert {e.path for e in there if e.category == "new"} >= {"sets/s1/unlisted.txt", "sets/s1/listed-dir/inside.txt"}


class VanishingStorage(BucketStorage):
    """A bucket prefix that deletes one object right after listing it: gone between the listing and its GET."""

    def __init__(self, store: object, prefix: str, label: str, victim: str) -> None:
        super().__init__(store, prefix, label)
        self.victim = victim

    def walk(self, path: str = "") -> Iterator[Stat]:
        listed = list(super().walk(path))
        obstore.delete(self.store, self.key(self.victim))
        return iter(listed)


def put_manifest(store: object, prefix: str, files: dict[str, bytes], extra: str = "") -> None:
    for rel, data in files.items():
        obstore.put(store, f"{prefix}/{rel}", data)
    lines = "".join(f"{sha(data)}  {rel}\n" for rel, data in files.items()) + extra
    obstore.put(store, f"{prefix}/SHA256SUMS", lines.encode())


def test_an_object_that_vanishes_between_listing_and_get_is_one_line_and_the_rest_verified(seaweed: SeaweedFS) -> None:
    store = seaweed.store()
    files = {f"f{n}.txt": f"file {n}\n".encode() for n in range(40)}
    put_manifest(store, "vanish-sums", files)
    storage = VanishingStorage(store, "vanish-sums", "s3://driftdeck/vanish-sums", "f7.txt")
    entries, summary = split(list(verify_in_storage(storage, "SHA256SUMS")))
    [gone] = [e for e in entries if e.category != "ok"]
    assert (gone.category, gone.path, gone.reason) == ("unreadable", "f7.txt", "vanished between listing and reading")
    assert summary.counts == {"ok": 39, "unreadable": 1} and summary.drift


def test_mismatch_missing_unlisted_and_a_marker_key_through_the_source(seaweed: SeaweedFS) -> None:
    store = seaweed.store()
    files = {"a.txt": b"a\n", "b/c.txt": b"c\n"}
    put_manifest(store, "small-sums", files, f"{sha(b'q')}  gone.txt\n{sha(b'r')}  marker\n")
    obstore.put(store, "small-sums/a.txt", b"changed\n")
    obstore.put(store, "small-sums/b/new.txt", b"unlisted\n")
    make_marker(seaweed, "driftdeck", "small-sums/marker/")
    make_marker(seaweed, "driftdeck", "small-sums/other-marker/")  # an empty directory is not a "new" file

    async def run() -> list:
        source = S3Source("s3://driftdeck/small-sums")
        try:
            return [item async for item in source.verify_checksums("SHA256SUMS")]
        finally:
            await source.aclose()

    items = asyncio.run(run())
    entries, summary = split(items)
    assert sorted((e.category, e.path, e.reason) for e in entries) == [
        ("changed", "a.txt", None), ("missing", "gone.txt", "no such file"), ("new", "b/new.txt", "not listed in the manifest"),
        ("ok", "b/c.txt", None), ("unreadable", "marker", "is a directory"),
    ]
    assert summary.files_hashed == 3 and summary.drift


def test_a_marker_or_nothing_where_the_manifest_should_be_is_a_one_line_problem(seaweed: SeaweedFS) -> None:
    make_marker(seaweed, "driftdeck", "marker-sums/SHA256SUMS/")
    storage = BucketStorage(seaweed.store(), "marker-sums", "s3://driftdeck/marker-sums")
    [summary] = list(verify_in_storage(storage, "SHA256SUMS"))
    assert summary.problem.kind == "unreadable" and summary.problem.message == "SHA256SUMS: unreadable: is a directory"
    [summary] = list(verify_in_storage(storage, "nothing/SHA256SUMS"))
    assert (summary.problem.kind, summary.problem.message) == ("missing", "nothing/SHA256SUMS: no such manifest")


def test_verifying_writes_nothing_on_this_machine(s3_demo: str) -> None:
    async def run(written: Callable[[], list[str]]) -> tuple[ChecksumSummary, list[str]]:
        source = S3Source(s3_demo)
        try:
            items = [item async for item in source.verify_checksums("fixtures/golden/SHA256SUMS")]
            return items[-1], written()
        finally:
            await source.aclose()

    with local_writes() as written:
        summary, files = asyncio.run(run(written))
    assert summary.files_hashed > 5 and files == []


def test_a_manifest_too_big_to_hold_is_parsed_as_its_get_streams(seaweed: SeaweedFS, tmp_path: Path) -> None:
    from backends.checksums.early import PLAIN_MAX

    store = seaweed.store()
    files = {"a.txt": b"a\n", "b.txt": b"b\n"}
    extra = "# " + "x" * (PLAIN_MAX + 10) + "\n" + f"{sha(b'q')}  gone.txt\n"
    put_manifest(store, "huge-sums", files, extra)
    for rel, data in files.items():
        (tmp_path / rel).write_bytes(data)
    (tmp_path / "SHA256SUMS").write_bytes(bytes(obstore.get(store, "huge-sums/SHA256SUMS").bytes()))
    storage = BucketStorage(store, "huge-sums", "s3://driftdeck/huge-sums")
    entries, summary = split(list(verify_in_storage(storage, "SHA256SUMS")))
    here, mine = split(list(verify_manifest(str(tmp_path), "SHA256SUMS", allow_fork=False)))
    strip = lambda e: e._replace(mtime=None)  # noqa: E731  # the local copies were written now
    assert sorted(map(strip, entries), key=key) == sorted(map(strip, here), key=key)
    assert [(e.category, e.path) for e in sorted(entries, key=key)] == [
        ("ok", "a.txt"), ("ok", "b.txt"), ("malformed", "SHA256SUMS"), ("missing", "gone.txt")]
    assert summary._replace(elapsed=0) == mine._replace(elapsed=0)
