"""``DirStorage``: the directory behind the storage interface, confined to its root."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from backends.errors import ForbiddenError, NotFoundError, UnreadableError
from backends.storage.base import Storage
from backends.storage.directory import DirStorage


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    (root / "runs" / "r1" / "wal").mkdir(parents=True)
    (root / "runs" / "r1" / "wal" / "record.jsonl").write_bytes(b'{"id": 1}\n{"id": 2}\n')
    (root / "a b").write_bytes(b"spaces")
    (root / "new\nline").write_bytes(b"newline")
    (root / "back\\slash").write_bytes(b"backslash")
    (tmp_path / "secret").write_bytes(b"outside")
    (root / "out").symlink_to(tmp_path / "secret")
    (root / "in").symlink_to("a b")
    (root / "loop").symlink_to("loop")
    os.mkfifo(root / "fifo")
    return root


def test_is_a_storage(tree: Path) -> None:
    assert isinstance(DirStorage(str(tree)), Storage)


def test_reads_names_with_spaces_newlines_and_backslashes(tree: Path) -> None:
    storage = DirStorage(str(tree))
    assert storage.read_range("a b", 0, 100) == b"spaces"
    assert storage.read_range("new\nline", 3, 4) == b"line"
    assert b"".join(storage.stream("back\\slash", chunk_size=3)) == b"backslash"
    assert storage.stat("back\\slash").size == len(b"backslash")


def test_symlink_out_of_the_root_is_refused(tree: Path) -> None:
    storage = DirStorage(str(tree))
    for read in (lambda: storage.read_range("out", 0, 10), lambda: list(storage.stream("out")), lambda: storage.stat("out")):
        with pytest.raises(ForbiddenError, match="out: resolves outside the source root"):
            read()


def test_dotdot_and_absolute_paths_are_refused(tree: Path) -> None:
    storage = DirStorage(str(tree))
    with pytest.raises(ForbiddenError):
        storage.read_range("../secret", 0, 10)
    with pytest.raises(ForbiddenError):
        storage.read_range("runs/../../secret", 0, 10)
    with pytest.raises(ForbiddenError):
        storage.stat(str(tree.parent / "secret"))
    with pytest.raises(ForbiddenError):
        storage.list("..")


def test_a_fifo_is_refused_not_waited_on(tree: Path) -> None:
    storage = DirStorage(str(tree))
    with pytest.raises(UnreadableError, match="fifo: unreadable: a FIFO, not a regular file"):
        storage.read_range("fifo", 0, 10)
    with pytest.raises(UnreadableError, match="FIFO"):
        list(storage.stream("fifo"))
    assert storage.stat("fifo").kind == "other"


def test_a_symlink_loop_is_unreadable(tree: Path) -> None:
    storage = DirStorage(str(tree))
    with pytest.raises(UnreadableError, match="loop: unreadable"):
        storage.read_range("loop", 0, 10)
    with pytest.raises(UnreadableError, match="loop"):
        storage.stat("loop")


def test_a_link_inside_the_root_is_read(tree: Path) -> None:
    assert DirStorage(str(tree)).read_range("in", 0, 100) == b"spaces"


def test_missing_file_and_directory(tree: Path) -> None:
    storage = DirStorage(str(tree))
    with pytest.raises(NotFoundError, match="nope: no such file"):
        storage.read_range("nope", 0, 1)
    with pytest.raises(NotFoundError, match="nope: no such directory"):
        storage.list("nope")
    with pytest.raises(UnreadableError, match="is a directory"):
        storage.read_range("runs", 0, 1)


def test_list_pages_and_kinds(tree: Path) -> None:
    storage = DirStorage(str(tree))
    first = storage.list("", limit=3)
    assert first.cursor is not None
    names: list[str] = [*first.dirs, *(f.path for f in first.files)]
    after = first.cursor
    while after is not None:
        page = storage.list("", after=after, limit=3)
        names += [*page.dirs, *(f.path for f in page.files)]
        after = page.cursor
    assert sorted(names) == sorted(os.listdir(tree))
    full = storage.list("")
    assert full.dirs == ("runs",)
    kinds = {f.path: f.kind for f in full.files}
    assert kinds["out"] == "symlink" and kinds["fifo"] == "other" and kinds["a b"] == "file"


def test_nested_listing_and_version(tree: Path) -> None:
    storage = DirStorage(str(tree))
    assert storage.list("runs/r1").dirs == ("runs/r1/wal",)
    assert [f.path for f in storage.list("runs/r1/wal").files] == ["runs/r1/wal/record.jsonl"]
    before = storage.stat("a b").version
    (tree / "a b").write_bytes(b"spaces, longer")
    assert storage.stat("a b").version != before


def test_stream_reads_what_was_there_at_open(tree: Path) -> None:
    storage = DirStorage(str(tree))
    record = tree / "runs" / "r1" / "wal" / "record.jsonl"
    chunks = storage.stream("runs/r1/wal/record.jsonl", chunk_size=4)
    first = next(chunks)
    with record.open("ab") as handle:
        handle.write(b'{"id": 3}\n')  # appended after the stream opened: not part of it
    assert first + b"".join(chunks) == b'{"id": 1}\n{"id": 2}\n'
    assert b"".join(storage.stream("runs/r1/wal/record.jsonl", chunk_size=7)).count(b"\n") == 3
