"""``Sequencer``: numbers keep rising across watch restarts and sources that start over."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from backends.events.model import FsEvent
from backends.events.sequence import Sequencer


def stream(first: int, count: int, kind: str = "created") -> list[FsEvent]:
    return [FsEvent(seq, kind, f"f{seq}", seq, seq) for seq in range(first, first + count)]


def test_the_first_stream_passes_through_untouched() -> None:
    sequencer = Sequencer()
    batch = stream(1, 5)
    assert sequencer.number(batch) is batch
    assert sequencer.last == 5


def test_a_restart_is_a_notice_and_numbers_continue() -> None:
    sequencer = Sequencer()
    sequencer.number(stream(1, 3))
    sequencer.restart("watch restarted on . for created", "")
    out = sequencer.number(stream(1, 2))
    assert [(e.seq, e.type) for e in out] == [(4, "notice"), (5, "created"), (6, "created")]
    assert out[0].detail == "watch restarted on . for created; sequence numbers continue from 5"
    assert [e.path for e in out[1:]] == ["f1", "f2"]  # only the number changes


def test_a_source_that_starts_over_keeps_rising_and_gaps_stay_gaps() -> None:
    sequencer = Sequencer()
    sequencer.number(stream(1, 3))
    out = sequencer.number([FsEvent(0, "notice", "", 0, 0, detail="server restarted"), *stream(1, 2), *stream(7, 1)])
    assert [e.seq for e in out] == [4, 5, 6, 11]  # input 3..6 missed: output 7..10 missing too


def test_a_transport_marker_gets_the_next_number_and_the_gap_stays_a_gap() -> None:
    sequencer = Sequencer()
    sequencer.number(stream(1, 3))
    lost = FsEvent(0, "lost", "", 0, 0, lost=2, detail="events left the server's buffer while disconnected")
    out = sequencer.number([lost, *stream(6, 2)])  # input 4 and 5 left the buffer
    assert [(e.seq, e.type) for e in out] == [(4, "lost"), (7, "created"), (8, "created")]
    assert sequencer.number(stream(8, 1))[0].seq == 9


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 5), st.integers(0, 6)), max_size=30))
def test_numbers_strictly_increase_whatever_the_streams(steps: list[tuple[bool, int, int]]) -> None:
    sequencer = Sequencer()
    seen: list[int] = []
    for restart, first, count in steps:
        if restart:
            sequencer.restart("restarted")
        seen.extend(e.seq for e in sequencer.number(stream(first, count)))
    assert all(a < b for a, b in pairwise(seen))
    assert all(seq > 0 for seq in seen)


def test_monotonic_times_never_go_back_across_a_restart() -> None:
    sequencer = Sequencer()
    sequencer.number([FsEvent(1, "created", "a", 100, 100), FsEvent(2, "created", "b", 500, 500)])
    sequencer.restart("restarted")
    out = sequencer.number([FsEvent(1, "created", "c", 300, 300), FsEvent(2, "created", "d", 600, 600)])
    assert [e.mono_ns for e in out] == [500, 500, 600]  # the notice, then c held at 500
    assert [e.wall_ns for e in out[1:]] == [300, 600]  # wall times are kept as received
