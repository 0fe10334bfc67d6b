"""Worker processes for command-line runs: every item once, failures loud, children reaped."""

from __future__ import annotations

import os
import threading
import time

import pytest

from backends.forkpool import Claims, can_fork, fork_map

pytestmark = [
    pytest.mark.skipif(not hasattr(os, "fork") or not hasattr(os, "memfd_create"), reason="needs fork and memfd"),
    pytest.mark.usefixtures("single_threaded"),
]


def children_of_this_process() -> set[int]:
    me = str(os.getpid())
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == me:
                found.add(int(pid))
    return found


def test_every_item_is_computed_once_across_processes() -> None:
    assert can_fork()
    def work(i: int) -> tuple[int, int]:
        time.sleep(0.001)  # long enough that every process gets a share
        return i * i, os.getpid()

    results = list(fork_map(work, 500, workers=3))
    assert sorted(i for i, _ in results) == list(range(500))
    assert all(value[0] == i * i for i, value in results)
    assert len({value[1] for _, value in results}) >= 2  # the work really was shared
    assert not children_of_this_process()


def test_a_failing_worker_fails_the_call_and_nothing_is_left_running() -> None:
    parent = os.getpid()

    def work(i: int) -> int:
        if os.getpid() != parent:
            raise ValueError("boom")
        return i

    with pytest.raises(RuntimeError, match="worker process"):
        list(fork_map(work, 5000, workers=2))
    assert not children_of_this_process()


def test_stopping_early_kills_and_reaps_the_workers() -> None:
    stop = threading.Event()
    stream = fork_map(lambda i: i, 2000, workers=2, stop=stop)
    next(stream)
    stream.close()
    assert not children_of_this_process()


def test_claims_refuse_more_items_than_the_pipe_holds() -> None:
    with pytest.raises(ValueError):
        Claims(Claims.MAX + 1)
    claims = Claims(3)
    assert [claims.claim(), claims.claim(), claims.claim(), claims.claim()] == [0, 1, 2, None]
    claims.close()


def test_a_child_that_fails_is_noted_not_hidden() -> None:
    from backends.forkpool import Children

    children = Children()
    children.fork(lambda: os._exit(3))
    children.fork(lambda: os.kill(os.getpid(), 9))
    children.reap()
    assert sorted(children.failed) == ["exit status 3", "signal 9"]
    assert not children_of_this_process()
