"""Steady, real filesystem activity under ``<root>/live/`` for the live-events pane.

Unlike the rest of the demo this is not deterministic: it uses the clock, and
it exists to make the watcher show creates, modifies, moves and deletes.
"""

from __future__ import annotations

import collections
import random
import re
import threading
import time
from pathlib import Path
from typing import IO

LOG_LIMIT = 256 * 1024
"""``capture.log`` is rotated to ``capture.log.1`` once larger than this."""
MAX_FRAMES = 190
"""Frame files kept; with the logs, at most ~200 files exist under ``live/``."""
FRAMES_PER_CAPTURE = 20
"""Frames per ``capture-<n>/`` folder."""

_FRAME = re.compile(r"frame-(\d+)(?:\.done)?\.json$")


class ActivityWriter:
    """Writes, appends, renames and deletes files under ``root/live/`` on a daemon thread.

    Every ``interval`` seconds it creates ``live/capture-<n>/frame-<k>.json``,
    appends lines to ``live/capture.log`` (rotated by rename to
    ``capture.log.1`` past 256 KiB), renames every third frame to
    ``frame-<k>.done.json``, and deletes the oldest frames (and emptied
    capture folders) so that at most ~200 files exist. Nothing outside
    ``root/live/`` is ever touched.

    Args:
        root: Workspace root; activity happens in ``root/live/``.
        interval: Seconds between ticks.
    """

    def __init__(self, root: Path, interval: float = 0.25) -> None:
        self.live = Path(root) / "live"
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._log: IO[str] | None = None
        self._frames: collections.deque[Path] = collections.deque()
        self._next = 0
        self._random = random.Random()
        self.ticks = 0
        """Ticks completed since construction."""
        self.errors = 0
        """Ticks that hit an ``OSError`` (e.g. the folder was removed underneath)."""

    @property
    def running(self) -> bool:
        """Whether the thread is alive."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; does nothing if it is already running."""
        with self._lock:
            if self.running:
                return
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._run, name="driftdeck-demo-activity", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it; does nothing if it is not running.

        Args:
            timeout: Longest wait for the thread, in seconds.
        """
        with self._lock:
            thread, self._thread = self._thread, None
            self._stop.set()
        if thread is not None:
            thread.join(timeout)

    def __enter__(self) -> "ActivityWriter":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        try:
            self._adopt_existing()
            while not self._stop.is_set():
                try:
                    self._tick()
                    self.ticks += 1
                except OSError:
                    self.errors += 1
                    self._close_log()
                self._stop.wait(self.interval)
        finally:
            self._close_log()

    def _adopt_existing(self) -> None:
        """Continue numbering after, and eventually delete, frames left by an earlier writer."""
        found = []
        for path in self.live.glob("capture-*/frame-*.json"):
            match = _FRAME.match(path.name)
            if match:
                found.append((int(match.group(1)), path))
        found.sort()
        self._frames = collections.deque(path for _, path in found)
        self._next = found[-1][0] + 1 if found else 0

    def _tick(self) -> None:
        number = self._next
        self._next += 1
        folder = self.live / f"capture-{number // FRAMES_PER_CAPTURE:05d}"
        folder.mkdir(parents=True, exist_ok=True)
        latency = round(self._random.lognormvariate(2.5, 0.5), 3)
        frame = folder / f"frame-{number:06d}.json"
        frame.write_text(f'{{"frame": {number}, "captured_at": {time.time():.3f}, "latency_ms": {latency}}}\n')
        self._frames.append(frame)
        self._append_log(f"frame={number} bytes={frame.stat().st_size} latency_ms={latency}")
        if number % 3 == 2 and len(self._frames) >= 2:
            older = self._frames[-2]
            if older.exists() and not older.name.endswith(".done.json"):
                done = older.with_name(older.name.replace(".json", ".done.json"))
                older.rename(done)
                self._frames[-2] = done
                self._append_log(f"renamed {older.name} -> {done.name}")
        while len(self._frames) > MAX_FRAMES:
            oldest = self._frames.popleft()
            oldest.unlink(missing_ok=True)
            if oldest.parent != folder and not any(oldest.parent.iterdir()):
                oldest.parent.rmdir()

    def _append_log(self, message: str) -> None:
        log_path = self.live / "capture.log"
        if self._log is None:
            self._log = open(log_path, "a", encoding="utf-8")
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
        for level in ("INFO", "DEBUG"):
            self._log.write(f"{stamp}Z {level} capture {message}\n")
        self._log.flush()
        if self._log.tell() > LOG_LIMIT:
            self._close_log()
            log_path.replace(self.live / "capture.log.1")

    def _close_log(self) -> None:
        if self._log is not None:
            try:
                self._log.close()
            except OSError:
                pass
            self._log = None
