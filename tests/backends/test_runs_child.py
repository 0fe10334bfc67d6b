"""The Runs pane's scan in a child process lists exactly what the in-process scan lists."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from backends.local import LocalSource
from backends.models import Problem, RunSummary
from backends.runs_child import decode_batch, encode_batch
from tests.conftest import write_run


async def _in_thread(source: LocalSource) -> list[RunSummary]:
    return [run async for batch in source.iter_runs(batch=3) for run in batch]


async def _in_child(source: LocalSource) -> list[RunSummary]:
    return [run async for batch in source.scan_runs_isolated() for run in batch]


async def test_child_scan_equals_in_process_scan_with_broken_runs(tmp_path: Path) -> None:
    for index in range(150):  # more than the first batch of 64: several batches cross the pipe
        write_run(tmp_path, f"run-{index:03d}", state="READY" if index % 3 else "QUARANTINED",
                  updated=f"2026-11-02T10:{index % 60:02d}:00Z")
    write_run(tmp_path, "run-broken", status_bytes=b'{"state": "READY",\n  oops}')
    os.mkdir(tmp_path / "runs" / "run-nostatus")
    write_run(tmp_path, "run-\udcff-odd")  # a name that is not UTF-8 crosses the pipe intact
    source = LocalSource(str(tmp_path))
    expected = await _in_thread(source)
    got = await _in_child(source)
    assert got == expected
    assert len(got) == 153
    broken = next(run for run in got if run.run_id == "run-broken")
    assert broken.state is None and broken.problem is not None and broken.problem.line == 2


def _scan_children() -> list[int]:
    """Pids of this process's children that run the Runs scan (read from /proc)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                ppid = int(handle.read().rsplit(b")", 1)[1].split()[1])
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
        except OSError:
            continue  # exited meanwhile
        if ppid == os.getpid() and b"backends.runs_child" in argv:
            found.append(int(entry))
    return found


async def test_a_scan_started_early_is_the_one_read_and_lists_the_same(tmp_path: Path) -> None:
    for index in range(100):
        write_run(tmp_path, f"run-{index:03d}")
    source = LocalSource(str(tmp_path))
    expected = await _in_thread(source)
    source.start_scan_early()
    source.start_scan_early()  # twice: still one child
    assert len(_scan_children()) == 1
    write_run(tmp_path, "run-zzz-late")  # written after the early scan started: the early scan already passed it or not
    got = await _in_child(source)
    assert [run.run_id for run in got if run.run_id != "run-zzz-late"] == [run.run_id for run in expected]
    assert _scan_children() == []  # read to the end and reaped
    assert len(await _in_child(source)) == 101  # the next scan starts afresh and sees the late run


async def test_closing_the_source_stops_a_scan_started_early_and_never_read(tmp_path: Path) -> None:
    for index in range(5):
        write_run(tmp_path, f"run-{index:03d}")
    source = LocalSource(str(tmp_path))
    source.start_scan_early()
    assert len(_scan_children()) == 1
    await source.aclose()
    assert _scan_children() == []


text = st.text()
maybe = st.none() | text
runs = st.builds(
    RunSummary, text, text, maybe, maybe, maybe,
    st.floats(allow_nan=False, allow_infinity=False),
    st.none() | st.builds(Problem, text, st.none() | st.integers(1, 10**9), text),
)


@given(st.lists(runs, max_size=20))
def test_batches_round_trip(batch: list[RunSummary]) -> None:
    line = encode_batch(batch)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    assert decode_batch(line) == batch
