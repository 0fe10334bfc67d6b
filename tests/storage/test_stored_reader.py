"""The WAL engines read a file through its storage's stream (``reader.Stored``) exactly as they read it locally."""

from __future__ import annotations

import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backends.storage.directory import DirStorage
from backends.wal.diff import diff_wal_files
from backends.wal.reader import LineReader, Stored
from backends.wal.search import search_wal_file
from backends.wal.validate import validate_wal_file


def _event(i: int, status: int = 200) -> bytes:
    return b'{"v": 2, "id": %d, "ts_ms": %d, "run_id": "r", "kind": "k", "payload": {"status": %d}}\n' % (i, 1000 + i, status)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=30).map(lambda b: b.replace(b"\n", b"")), max_size=20), st.booleans(), st.booleans())
def test_lines_position_and_tail_are_the_same(lines: list[bytes], bom: bool, newline: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as name:  # one per example, removed after it (mkdtemp left 60 a run in /tmp)
        root = Path(name)
        data = (b"\xef\xbb\xbf" if bom else b"") + b"\n".join(lines) + (b"\n" if newline and lines else b"")
        (root / "w.jsonl").write_bytes(data)
        local = LineReader(str(root / "w.jsonl"), "w.jsonl")
        stored = LineReader(Stored(DirStorage(str(root)), "w.jsonl"), "w.jsonl")
        with local, stored:
            assert (stored.bom, stored.size, stored.ends_with_newline()) == (local.bom, local.size, local.ends_with_newline())
            for a, b in zip(local.lines(), stored.lines(), strict=True):
                assert a == b and local.position == stored.position and local.at_end() == stored.at_end()
            assert stored.before(stored.position, 3) == local.before(local.position, 3)


def test_validate_diff_and_search_through_the_stream(tmp_path: Path) -> None:
    (tmp_path / "record.jsonl").write_bytes(b"".join(_event(i) for i in range(1, 300)))
    (tmp_path / "replay.jsonl").write_bytes(b"".join(_event(i, 503 if i == 77 else 200) for i in range(1, 300)) + b'{"torn')
    storage = DirStorage(str(tmp_path))

    def stored(name: str) -> Stored:
        return Stored(storage, name)

    def local(name: str) -> str:
        return str(tmp_path / name)

    validated = [list(validate_wal_file(w("replay.jsonl"), "replay.jsonl", split_bytes=None)) for w in (local, stored)]
    assert validated[0] == validated[1] and validated[1][-1].torn_tail == 300
    diffs = [list(diff_wal_files(w("record.jsonl"), w("replay.jsonl"), "record.jsonl", "replay.jsonl", stop=threading.Event()))
             for w in (local, stored)]
    assert diffs[0] == diffs[1]
    assert [d.event_id for d in diffs[1] if type(d).__name__ == "WalDivergence"][:1] == [77]
    searched = [list(search_wal_file(w("replay.jsonl"), "replay.jsonl", "503")) for w in (local, stored)]
    assert searched[0] == searched[1] and [77] in searched[1]
