"""The WAL offset index built from a stream equals the one built from the file."""

from __future__ import annotations

import os
import tempfile
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.wal.index import LineIndex, build_index, file_identity, index_chunks
from backends.wal.reader import Cancelled

LINE = st.one_of(
    st.just(b""),
    st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"x")),
    st.just(b'{"v": 2, "id": 1}'),
)


@st.composite
def contents_and_cuts(draw: st.DrawFn) -> tuple[bytes, list[int]]:
    lines = draw(st.lists(LINE, max_size=30))
    ending = draw(st.sampled_from([b"\n", b"\r\n"]))
    data = ending.join(lines)
    if draw(st.booleans()):
        data += ending  # or no trailing newline
    cuts = sorted(draw(st.lists(st.integers(0, len(data)), max_size=8)))
    return data, cuts


def _from_file(data: bytes) -> LineIndex:
    with tempfile.NamedTemporaryFile(delete=False) as handle:
        handle.write(data)
    fd = os.open(handle.name, os.O_RDONLY)
    try:
        index = LineIndex(file_identity(os.fstat(fd)))
        list(build_index(fd, index, threading.Event()))
    finally:
        os.close(fd)
        os.unlink(handle.name)
    return index


def _from_stream(data: bytes, cuts: list[int]) -> LineIndex:
    bounds = [0, *cuts, len(data)]
    chunks = [data[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]  # empty chunks included
    index = LineIndex(("etag", len(data)), len(data))
    list(index_chunks(iter(chunks), index, threading.Event()))
    return index


@settings(max_examples=300, deadline=None)
@given(contents_and_cuts())
def test_stream_index_equals_file_index(case: tuple[bytes, list[int]]) -> None:
    data, cuts = case
    by_file, by_stream = _from_file(data), _from_stream(data, cuts)
    assert list(by_stream.offsets) == list(by_file.offsets)
    assert (by_stream.size, by_stream.terminated_at_end, by_stream.complete) == (
        by_file.size, by_file.terminated_at_end, True)
    for line in range(1, by_file.known_lines + 2):
        assert by_stream.span(line) == by_file.span(line)
    # and the index says where each line is: the spans cut the content into its lines
    expected = data.split(b"\n")
    if expected and expected[-1] == b"":
        expected.pop()
    assert [data[s:e] for s, e in (by_stream.span(n) or (0, 0) for n in range(1, by_stream.known_lines + 1))] == expected


def test_a_stream_shorter_than_announced_is_indexed_as_it_was() -> None:
    index = LineIndex(("etag", 100), 100)
    list(index_chunks(iter([b"a\nb"]), index, threading.Event()))
    assert (list(index.offsets), index.size, index.terminated_at_end) == ([0, 2], 3, False)


def test_a_stopped_stream_raises_cancelled() -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        list(index_chunks(iter([b"a\n"]), LineIndex(("e", 2), 2), stop))
