"""``Half``: the second half of a large WAL file, validated by a second process while this one reads the first.

Validation is one ordered pass (each id is checked against the previous one),
but almost all of its work is per line. A file of at least ``SPLIT_BYTES`` is
cut at the first line start past its middle; a new interpreter (spawned, not
forked: the engine runs on a thread of the CLI or the TUI, and forking a
process with threads is unsafe) validates the second half assuming the state
the last line of the first half implies (its id + 1 next, its ``ts_ms`` the
largest, the run id it carries). This process validates the first half as
usual; when it ends in exactly that state, the second half's findings are
merged (line numbers shifted), else the second half is read here after all,
in order. Either way the report is the one a single pass gives.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from typing import Any

import orjson

from backends.wal.reader import BLOCK, LineReader

SPLIT_BYTES = 64 << 20
"""Files at least this large are validated in two processes (measured: below it, starting the second
interpreter, ~0.1 s on a busy 2-vCPU machine, costs more than half the file's parse saves)."""
LINE_OFFSET = 10**15
"""The second half numbers its lines from here (its "line 0" is the first half's last line), so the line
numbers in its messages (``repeats the id of line N``) can be told apart and shifted on merge."""
_LINE_REF = re.compile(r"line (\d{16,})")


def shift_lines(message: str, first_lines: int) -> str:
    """``message`` of the second half with its line numbers made the file's."""
    return _LINE_REF.sub(lambda m: f"line {int(m[1]) - LINE_OFFSET + first_lines}", message)


def assumed_state(line: bytes) -> list[Any] | None:
    """``[next id, largest ts_ms, run id]`` after ``line``, if it is a well-formed event (else do not split)."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    if type(event) is not dict:
        return None
    event_id, ts, version, kind = event.get("id"), event.get("ts_ms"), event.get("v"), event.get("kind")
    if not (type(event_id) is int is type(ts) is type(version) and version == 2 and type(kind) is str and kind):
        return None
    run_id = event.get("run_id")
    return [event_id + 1, ts, run_id if run_id is None or isinstance(run_id, str) else str(run_id)]


class Half:
    """The second process and what it found.

    Attributes:
        first_lines: Lines of the first half (this process reads exactly these).
        taken: Whether its findings were merged.
    """

    def __init__(self, proc: subprocess.Popen[bytes], first_lines: int) -> None:
        self.proc = proc
        self.first_lines = first_lines
        self.lines = 0
        self.taken = False

    @classmethod
    def start(cls, path: str, reader: LineReader, split_bytes: int, max_problems: int) -> "Half | None":
        """Start the second process for a file of at least ``split_bytes``; ``None`` when not worth it or not possible."""
        size = reader.size
        if size < max(split_bytes, 2):
            return None
        middle = size // 2
        try:
            after = os.pread(reader.fileno, 1 << 16, middle)
        except OSError:
            return None
        cut = after.find(b"\n")
        if cut < 0 or middle + cut + 1 >= size:
            return None
        boundary = middle + cut + 1
        last = reader.before(boundary, 1)
        state = assumed_state(last[0]) if last else None
        if state is None:
            return None
        first_lines = 0
        try:
            for offset in range(0, boundary, BLOCK):
                first_lines += os.pread(reader.fileno, min(BLOCK, boundary - offset), offset).count(b"\n")
        except OSError:
            return None
        package_root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, (package_root, os.environ.get("PYTHONPATH")))))
        argv = [sys.executable, "-m", "backends.wal.validate", path, str(boundary), json.dumps(state), str(max_problems + 1)]
        try:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        except OSError:
            return None
        return cls(proc, first_lines)

    def result(self) -> dict[str, Any] | None:
        """What the second process found (``None`` if it failed: the caller reads the half itself)."""
        out, _ = self.proc.communicate()
        if self.proc.returncode != 0:
            return None
        try:
            body: dict[str, Any] = orjson.loads(out)
        except orjson.JSONDecodeError:
            return None
        self.lines = body["lines"]
        return body

    def close(self) -> None:
        """Stop the second process if it still runs; always reap it."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()
