"""Our watcher against ``inotifywait`` on the same scripted workload, side by side."""

from __future__ import annotations

import json
import os
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from backends.events.model import WatchFilter
from tests.backends.test_events_harness import Collector, implied_tree, real_tree

INOTIFYWAIT = shutil.which("inotifywait")
pytestmark = pytest.mark.skipif(
    INOTIFYWAIT is None,
    reason="inotifywait is not installed (apt-get install inotify-tools): the peer comparison needs it",
)

FILES = 1000
DIRS = ("alpha", "alpha/one", "alpha/one/deep", "beta", "beta/two", "gamma with space")


class Peer:
    """``inotifywait -m -r --format '%e %w%f'`` writing to a file, until stopped."""

    def __init__(self, top: Path, out: Path) -> None:
        self.out = out
        self._handle = open(out, "wb")
        line_buffered = ["stdbuf", "-oL"] if shutil.which("stdbuf") else []
        self.proc = subprocess.Popen(
            [*line_buffered, INOTIFYWAIT, "-m", "-r", "-q", "--format", "%e %w%f", str(top)],  # type: ignore[list-item]
            stdout=self._handle,
            stderr=subprocess.PIPE,
        )

    def wait_ready(self, top: Path) -> None:
        """Poke the tree until inotifywait reports the poke (its watches are set)."""
        poke = top / ".peer-ready"
        for _ in range(400):
            poke.touch()
            time.sleep(0.025)
            if b".peer-ready" in self.out.read_bytes():
                poke.unlink()
                return
        raise AssertionError("inotifywait never became ready")

    def lines(self) -> list[tuple[set[str], str]]:
        out = []
        for raw in self.out.read_bytes().decode("utf-8", "replace").splitlines():
            events, _, path = raw.partition(" ")
            out.append((set(events.split(",")), path))
        return out

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        self._handle.close()


def workload(top: Path) -> None:
    """Nested directories; create, write, rename, move across directories, delete."""
    for i in range(FILES):
        folder = top / DIRS[i % len(DIRS)]
        path = folder / f"file-{i:04d}.dat"
        with open(path, "wb") as handle:
            handle.write(os.urandom(64))
        if i % 5 == 1:
            os.rename(path, folder / f"renamed-{i:04d}.dat")
        elif i % 5 == 2:
            os.rename(path, top / DIRS[(i + 1) % len(DIRS)] / f"moved-{i:04d}.dat")
        elif i % 5 == 3:
            path.unlink()


def test_we_see_every_create_delete_and_move_inotifywait_sees(tmp_path: Path) -> None:
    top = tmp_path / "tree"
    top.mkdir()
    peer = Peer(top, tmp_path / "peer.log")
    try:
        peer.wait_ready(top)
        spec = WatchFilter(types=frozenset({"created", "deleted", "moved", "closed"}), baseline=True)
        with Collector(top, spec) as ours:
            for name in DIRS:
                (top / name).mkdir()
            # Let both set their watches on the new directories before the files come.
            ours.wait_for(lambda ev: {e.path for e in ev if e.type == "created"} >= set(DIRS))
            for _ in range(200):
                if all(f"{top}/{d}" in {p for _, p in peer.lines()} for d in DIRS):
                    break
                time.sleep(0.025)
            workload(top)
            os.rename(top / "beta" / "two", top / "alpha" / "two-moved")  # a directory move
            shutil.rmtree(top / "gamma with space")  # a tree delete
            events = ours.settle(quiet=1.5)
        time.sleep(0.5)
    finally:
        peer.stop()

    prefix = f"{top}/"
    theirs = [(kinds, path[len(prefix):]) for kinds, path in peer.lines() if path.startswith(prefix)]
    theirs = [(k, p) for k, p in theirs if ".peer-ready" not in p]
    assert not any("Q_OVERFLOW" in k for k, _ in theirs), "the peer itself overflowed; the comparison is void"
    their_created = {p for k, p in theirs if "CREATE" in k}
    their_deleted = {p for k, p in theirs if "DELETE" in k}
    their_from = [p for k, p in theirs if "MOVED_FROM" in k]
    their_to = [p for k, p in theirs if "MOVED_TO" in k]

    our_created = {e.path for e in events if e.type == "created"}
    our_deleted = {e.path for e in events if e.type == "deleted"}
    our_moves = {(e.path, e.dest) for e in events if e.type == "moved"}

    assert len(their_created) >= FILES  # the peer did see the workload
    assert their_created - our_created == set()
    assert their_deleted - our_deleted == set()
    # inotifywait prints no cookie, so its two halves of a rename are compared side by side, not paired by position
    assert set(their_from) - {src for src, _ in our_moves} == set()
    assert set(their_to) - {dest for _, dest in our_moves} == set()
    assert not [e for e in events if e.type == "lost"]
    assert implied_tree(events) == real_tree(top)


def inotify_watches(pid: int) -> int:
    """Inotify watches the process ``pid`` holds, as the kernel lists them (``/proc/PID/fdinfo``)."""
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fdinfo"):
        try:
            with open(f"/proc/{pid}/fdinfo/{fd}") as info:
                count += sum(1 for line in info if line.startswith("inotify wd:"))
        except OSError:
            continue
    return count


def test_events_record_sees_every_create_delete_and_move_inotifywait_sees(tmp_path: Path) -> None:
    """The same comparison through the command a user runs: ``driftdeck events record``."""
    top = tmp_path / "tree"
    top.mkdir()
    output = tmp_path / "rec.jsonl"
    peer = Peer(top, tmp_path / "peer.log")
    errors = open(tmp_path / "record.err", "w+b")
    recorder = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "events", "record", str(top), "--output", str(output),
         "--type", "created", "--type", "deleted", "--type", "moved", "--type", "closed", "--duration", "120"],
        stderr=errors, stdout=subprocess.DEVNULL, cwd=Path(__file__).resolve().parents[2],
    )
    try:
        peer.wait_ready(top)
        for _ in range(800):  # the command says on stderr how its watch started
            if b"events record: watching . with inotify" in (tmp_path / "record.err").read_bytes():
                break
            assert recorder.poll() is None, (tmp_path / "record.err").read_text()
            time.sleep(0.025)
        else:
            raise AssertionError(f"events record never said it was watching: {(tmp_path / 'record.err').read_text()}")
        for name in DIRS:
            (top / name).mkdir()
        for _ in range(400):  # both have watched the new directories (ours: as the kernel tells) before the files come
            if all(f"{top}/{d}" in {p for _, p in peer.lines()} for d in DIRS) and inotify_watches(recorder.pid) > len(DIRS):
                break
            time.sleep(0.025)
        workload(top)
        os.rename(top / "beta" / "two", top / "alpha" / "two-moved")
        shutil.rmtree(top / "gamma with space")
        time.sleep(1.5)
    finally:
        recorder.send_signal(signal.SIGINT)
        assert recorder.wait(30) == 0, (tmp_path / "record.err").read_text()
        errors.close()
        peer.stop()

    prefix = f"{top}/"
    theirs = [(kinds, path[len(prefix):]) for kinds, path in peer.lines() if path.startswith(prefix)]
    theirs = [(k, p) for k, p in theirs if ".peer-ready" not in p]
    assert not any("Q_OVERFLOW" in k for k, _ in theirs), "the peer itself overflowed; the comparison is void"
    records = [json.loads(line) for line in output.read_text().splitlines()[1:]]
    ours = [r for r in records if r["type"] in ("created", "deleted", "moved")]
    assert {p for k, p in theirs if "CREATE" in k} - {r["path"] for r in ours if r["type"] == "created"} == set()
    assert {p for k, p in theirs if "DELETE" in k} - {r["path"] for r in ours if r["type"] == "deleted"} == set()
    their_from = {p for k, p in theirs if "MOVED_FROM" in k}
    their_to = {p for k, p in theirs if "MOVED_TO" in k}
    our_moves = {(r["path"], r.get("dest")) for r in ours if r["type"] == "moved"}
    assert their_from - {src for src, _ in our_moves} == set()  # halves compared apart: inotifywait prints no cookie
    assert their_to - {dest for _, dest in our_moves} == set()
    assert len(their_from) > 300 and not [r for r in records if r["type"] == "lost"]
