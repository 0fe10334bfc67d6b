"""The WAL v2 validator: every problem with its line number and a stable code.

One pass over the file, bounded in memory: the previous id, the largest
timestamp and the first run id are all it keeps. The hot loop parses each line
once with orjson; a line that re-serialises to its own bytes cannot hold a
duplicate key, so only lines that do not (other formatting, escapes, or a real
duplicate) are parsed a second time, by the standard library, to find
duplicates exactly.
"""

from __future__ import annotations

import json
import sys
import threading
from collections import Counter
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generator, Iterator

import orjson

from backends.wal.halves import LINE_OFFSET, SPLIT_BYTES, Half, shift_lines
from backends.wal.progress import WalProgress
from backends.wal.reader import UTF8_BOM, Cancelled, LineReader, Stored

ERROR, WARNING = "error", "warning"

CODES: dict[str, tuple[str, str]] = {
    "not-json": (ERROR, "the line is not valid JSON"),
    "invalid-utf8": (ERROR, "the line is not valid UTF-8"),
    "not-object": (ERROR, "the line is JSON but not an object"),
    "blank-line": (WARNING, "an empty or whitespace-only line"),
    "bom": (WARNING, "a UTF-8 byte-order mark before the first event"),
    "crlf": (WARNING, "lines end with CRLF (reported once, at the first)"),
    "missing-field": (ERROR, "a required field (v, id, ts_ms, kind) is absent"),
    "mistyped-field": (ERROR, "a required field has the wrong type"),
    "unsupported-version": (ERROR, "v is not 2"),
    "duplicate-key": (ERROR, "an object names the same key twice"),
    "id-gap": (WARNING, "id jumps by more than one"),
    "id-repeat": (ERROR, "id equals the previous id"),
    "id-backwards": (ERROR, "id is smaller than an earlier id"),
    "ts-backwards": (WARNING, "ts_ms is smaller than an earlier ts_ms"),
    "mixed-run-id": (ERROR, "run_id differs from the first event's"),
    "torn-tail": (WARNING, "the last line is cut (no newline, or cut mid-JSON): a torn tail, not corruption"),
    "empty-file": (WARNING, "the file holds no lines"),
}
"""Every problem code: severity and what it means. Codes are stable (scripts match on them)."""

STEP = 1 << 16
"""Lines between two progress reports."""
MAX_PROBLEMS = 10_000
"""Problems streamed at most by default; beyond, they are only counted."""
MIN_TS = -(1 << 63)
"""Below any ``ts_ms`` orjson can read: the starting maximum."""
REQUIRED = (("v", "an integer"), ("id", "an integer"), ("ts_ms", "an integer"), ("kind", "a non-empty string"))


@dataclass(frozen=True, slots=True)
class WalProblem:
    """A validation finding.

    Attributes:
        path: The file, relative to the source root.
        line: 1-based line number.
        code: One of :data:`CODES`.
        severity: ``error`` or ``warning``.
        message: What is wrong, without the location.
    """

    path: str
    line: int
    code: str
    severity: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.code} ({self.severity}): {self.message}"

    def to_json(self) -> dict[str, Any]:
        return {"type": "problem", "path": self.path, "line": self.line, "code": self.code,
                "severity": self.severity, "message": self.message}


@dataclass(frozen=True, slots=True)
class WalValidation:
    """The last item of a validation: totals.

    Attributes:
        path: The file, relative to the source root.
        lines: Lines read.
        events: Lines that are well-formed events.
        size: Bytes read.
        errors: Problems of severity ``error``.
        warnings: Problems of severity ``warning``.
        by_code: Problem count per code (all of them, even past the cap).
        shown: Problems streamed (at most the cap).
        torn_tail: Line number of a torn tail, if there is one.
        first_id: First event id seen.
        last_id: Largest event id seen.
        run_id: The run id of the first event that has one.
        complete: ``False`` when cancelled before the end.
    """

    path: str
    lines: int
    events: int
    size: int
    errors: int
    warnings: int
    by_code: dict[str, int] = field(default_factory=dict)
    shown: int = 0
    torn_tail: int | None = None
    first_id: int | None = None
    last_id: int | None = None
    run_id: str | None = None
    complete: bool = True

    @property
    def problems(self) -> int:
        return self.errors + self.warnings

    def to_json(self) -> dict[str, Any]:
        return {"type": "summary", "path": self.path, "lines": self.lines, "events": self.events, "size": self.size,
                "errors": self.errors, "warnings": self.warnings, "problems": self.problems,
                "by_code": dict(sorted(self.by_code.items())), "shown": self.shown, "torn_tail": self.torn_tail,
                "first_id": self.first_id, "last_id": self.last_id, "run_id": self.run_id, "complete": self.complete}


def _type_name(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null",
            int: "integer", float: "float"}.get(type(value), type(value).__name__)


class _Validator:
    """State of one validation pass; ``run`` is the generator."""

    def __init__(self, path: str | Stored, name: str, stop: threading.Event, max_problems: int,
                 split_bytes: int | None = None) -> None:
        self.path = path
        self.split_bytes = None if isinstance(path, Stored) else split_bytes  # a second process needs a local file
        self.begin = 0  # byte where validation starts (a second half starts past the first)
        self.first_number = 0  # the number before the first line's
        self.name = name
        self.stop = stop
        self.max_problems = max_problems
        self.counts: Counter[str] = Counter()
        self.out: list[WalProblem] = []
        self.not_events = 0
        self.expected: int | None = None  # the id the next event should have
        self.id_line = 0  # line of the last event
        self.first_id: int | None = None
        self.max_ts = MIN_TS
        self.run_id: str | None = None
        self.run_id_line = 0
        self.crlf = False
        self.torn: int | None = None
        self.tail_reported = False

    def problem(self, line: int, code: str, message: str) -> None:
        self.counts[code] += 1
        if sum(self.counts.values()) <= self.max_problems:
            self.out.append(WalProblem(self.name, line, code, CODES[code][0], message))

    def run(self) -> Iterator[WalProblem | WalProgress | WalValidation]:
        complete = True
        reader = LineReader(self.path, self.name, self.stop)
        number = self.first_number
        part: Half | None = None
        try:
            if self.begin:  # the second half of a split file, in its own process
                reader.file.seek(self.begin)
            elif reader.size == 0:
                self.problem(1, "empty-file", "the file is empty")
            if reader.bom and not self.begin:
                self.problem(1, "bom", "the file starts with a UTF-8 byte-order mark")
            lines = reader.lines()
            part = None if self.split_bytes is None or isinstance(self.path, Stored) else Half.start(
                self.path, reader, self.split_bytes, self.max_problems)
            if part is not None:
                number = yield from self._loop(reader, islice(lines, part.first_lines), number)
                if self._take(part, number):
                    number += part.lines
                else:  # the second half assumed a state this half did not end in: read it here, in order
                    number = yield from self._loop(reader, lines, number)
            else:
                number = yield from self._loop(reader, lines, number)
            if part is None or not part.taken:
                self._tail(reader, number)
        except Cancelled:
            complete = False
        finally:
            if part is not None:
                part.close()
            reader.close()
        yield from self._flush()
        errors = sum(n for code, n in self.counts.items() if CODES[code][0] == ERROR)
        yield WalValidation(
            self.name, number, number - self.not_events,
            (reader.size if part is not None and part.taken else reader.position) if complete else 0, errors,
            sum(self.counts.values()) - errors, dict(self.counts), min(sum(self.counts.values()), self.max_problems),
            self.torn, self.first_id, None if self.expected is None else self.expected - 1, self.run_id, complete,
        )

    def _tail(self, reader: LineReader, number: int) -> None:
        if self.torn is None and not self.tail_reported and not reader.ends_with_newline():
            self.torn = number
            self.problem(number, "torn-tail", "the last line has no newline (the writer stopped before ending it)")

    def _loop(self, reader: LineReader, lines: Iterator[bytes], number: int) -> Generator[WalProblem | WalProgress, None, int]:
        """Validate ``lines`` (numbered from ``number + 1``); returns the last line's number."""
        loads, dumps = orjson.loads, orjson.dumps
        newline = orjson.OPT_APPEND_NEWLINE
        decode_error = orjson.JSONDecodeError
        while True:
            reader.check()
            start = number
            expected, max_ts, run_id, id_line = self.expected, self.max_ts, self.run_id, self.id_line
            for number, raw in enumerate(islice(lines, STEP), start + 1):
                try:
                    event = loads(raw)
                except decode_error as exc:
                    self._unparsable(reader, number, raw, exc)
                    continue
                if dumps(event, option=newline) != raw:
                    self._formatting(number, raw, event)
                try:
                    event_id = event["id"]
                    ts = event["ts_ms"]
                    kind = event["kind"]
                    version = event["v"]
                except (KeyError, TypeError, IndexError):
                    self._fields(number, event)
                    continue
                if not (type(event_id) is int is type(ts) is type(version) and version == 2
                        and type(kind) is str and kind):
                    if self._fields(number, event):
                        continue
                if event_id != expected:
                    expected = self._id_order(number, event_id, expected, id_line)
                else:
                    expected = event_id + 1
                id_line = number
                if ts >= max_ts:
                    max_ts = ts
                else:
                    self.problem(number, "ts-backwards", f"ts_ms {ts} is {max_ts - ts} ms before an earlier event's {max_ts}")
                if event.get("run_id") != run_id:
                    run_id = self._run_id(number, event.get("run_id"), run_id)
            self.expected, self.max_ts, self.run_id, self.id_line = expected, max_ts, run_id, id_line
            yield from self._flush()
            yield WalProgress("validate", number, reader.position, reader.size)
            if number - start < STEP:
                return number

    def state(self) -> list[Any]:
        """What the next line's checks depend on (compared with what the second half assumed)."""
        return [self.expected, self.max_ts, self.run_id]

    def _take(self, part: Half, number: int) -> bool:
        """Merge the second half's findings when it started from this half's end state; False to read it here."""
        result = part.result()
        if result is None or result["assumed"] != self.state() or self.id_line != number:
            return False
        if result["counts"].get("mixed-run-id"):  # its messages name the line of the first run id, which it does not know
            return False
        part.taken = True
        room = max(0, self.max_problems - sum(self.counts.values()))
        problems, counts = result["problems"], Counter(result["counts"])
        if self.crlf and counts["crlf"]:  # CRLF is reported once, at the first: this half had it already
            counts["crlf"] -= 1
            problems = [p for p in problems if p[1] != "crlf"]
        for line, code, message in problems[:room]:
            self.out.append(WalProblem(self.name, number + line, code, CODES[code][0], shift_lines(message, number)))
        self.counts.update(+counts)
        self.not_events += result["not_events"]
        self.expected, self.max_ts, self.run_id = result["state"][:3]
        self.torn = None if result["torn"] is None else number + result["torn"]
        return True

    def _flush(self) -> Iterator[WalProblem]:
        out, self.out = self.out, []
        out.sort(key=lambda p: p.line)
        yield from out

    # Slow paths, taken only by lines that are not plain, well-formed events. ----------

    def _unparsable(self, reader: LineReader, number: int, raw: bytes, exc: orjson.JSONDecodeError) -> None:
        self.not_events += 1
        last = reader.at_end()
        if raw.startswith(UTF8_BOM):
            self.problem(number, "bom", "a UTF-8 byte-order mark starts the line (the line is not read as an event)")
            return
        if not raw.strip():
            self.problem(number, "blank-line", "blank line")
            self.tail_reported = last  # whitespace after the final newline: blank, not torn
            return
        if last:
            self.torn = number
            self.tail_reported = True
            ending = "cut mid-JSON" if raw.endswith(b"\n") else "no newline"
            self.problem(number, "torn-tail", f"the last line is incomplete ({ending}): a torn tail, not corruption")
            return
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as bad:
            self.problem(number, "invalid-utf8", f"invalid UTF-8 (byte 0x{raw[bad.start]:02x} at column {bad.start + 1})")
            return
        self.problem(number, "not-json", f"invalid JSON at column {exc.pos + 1}: {exc.msg}")

    def _formatting(self, number: int, raw: bytes, event: Any) -> None:
        if raw.endswith(b"\r\n"):
            if not self.crlf:
                self.crlf = True
                self.problem(number, "crlf", "the line ends with CRLF (further CRLF lines are not reported)")
        if orjson.dumps(event) == raw.rstrip(b"\r\n"):
            return
        duplicates: list[str] = []

        def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
            seen: set[str] = set()
            for key, _ in pairs:
                if key in seen:
                    duplicates.append(key)
                seen.add(key)
            return dict(pairs)

        try:
            json.loads(raw.decode("utf-8"), object_pairs_hook=pairs_hook)
        except ValueError:
            return  # orjson accepted it; the standard library's stricter number rules do not matter here
        for key in dict.fromkeys(duplicates):
            self.problem(number, "duplicate-key", f"key {key!r} appears more than once in an object (the last one wins)")

    def _fields(self, number: int, event: Any) -> bool:
        """Report problems of the required fields; True when the line is not an event."""
        if not isinstance(event, dict):
            self.problem(number, "not-object", f"expected a JSON object, found {_type_name(event)}")
            self.not_events += 1
            return True
        bad = False
        for name, wanted in REQUIRED:
            if name not in event:
                self.problem(number, "missing-field", f"required field {name!r} is missing")
                bad = True
                continue
            value = event[name]
            ok = (type(value) is int) if wanted == "an integer" else (isinstance(value, str) and bool(value))
            if not ok:
                self.problem(number, "mistyped-field", f"field {name!r} should be {wanted}, found {_type_name(value)} {_short(value)}")
                bad = True
            elif name == "v" and value != 2:
                self.problem(number, "unsupported-version", f"v is {value}, expected 2")
        self.not_events += bad
        return bad

    def _id_order(self, number: int, event_id: int, expected: int | None, id_line: int) -> int:
        """Report an id that is not the previous one plus one; return the next expected id."""
        if expected is None:  # the first event
            self.first_id = event_id
            return event_id + 1
        prev = expected - 1
        if event_id > prev:
            self.problem(number, "id-gap", f"id jumps from {prev} to {event_id} ({event_id - prev - 1:,} ids missing)")
            return event_id + 1
        if event_id == prev:
            self.problem(number, "id-repeat", f"id {event_id} repeats the id of line {id_line}")
        else:
            self.problem(number, "id-backwards", f"id {event_id} comes after id {prev} (line {id_line})")
        return expected

    def _run_id(self, number: int, event_run: Any, run_id: str | None) -> str | None:
        if event_run is None:
            return run_id
        if run_id is None:
            self.run_id_line = number
            return event_run if isinstance(event_run, str) else str(event_run)
        self.problem(number, "mixed-run-id", f"run_id {_short(event_run)} differs from {run_id!r} (line {self.run_id_line})")
        return run_id


def _short(value: Any, limit: int = 60) -> str:
    text = orjson.dumps(value).decode("utf-8", errors="replace") if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def validate_wal_file(
    path: str | Stored, name: str, stop: threading.Event | None = None, *, max_problems: int = MAX_PROBLEMS,
    split_bytes: int | None = SPLIT_BYTES,
) -> Iterator[WalProblem | WalProgress | WalValidation]:
    """Validate one WAL v2 file.

    Args:
        path: Filesystem path of the file (or the file in a storage: give ``split_bytes=None``).
        name: The file as the user knows it (relative to the source root).
        stop: Set to cancel; the summary then says ``complete=False``.
        max_problems: Problems yielded at most (all are counted).
        split_bytes: Files at least this large are validated in two processes
            (see :mod:`backends.wal.halves`); ``None`` never splits.

    Yields:
        Problems in line order (per block of lines), progress after each
        block, and one :class:`WalValidation` last.

    Raises:
        NotFoundError: The file does not exist.
        UnreadableError: The file cannot be read.
    """
    return _Validator(path, name, stop or threading.Event(), max_problems, split_bytes).run()


def _second_half(argv: list[str]) -> int:
    """``python -m backends.wal.validate PATH START STATE MAX``: validate from byte START, print findings as JSON."""
    path, begin, state, max_problems = argv[0], int(argv[1]), json.loads(argv[2]), int(argv[3])
    validator = _Validator(path, path, threading.Event(), max_problems)
    validator.begin = begin
    validator.expected, validator.max_ts, validator.run_id = state
    validator.id_line = validator.first_number = LINE_OFFSET
    summary = None
    problems = []
    for item in validator.run():
        if isinstance(item, WalProblem):
            problems.append((item.line, item.code, item.message))
        elif isinstance(item, WalValidation):
            summary = item
    if summary is None or not summary.complete:
        return 1
    sys.stdout.buffer.write(orjson.dumps({
        "assumed": state, "lines": summary.lines - LINE_OFFSET, "problems": [(n - LINE_OFFSET, c, m) for n, c, m in problems],
        "counts": summary.by_code, "not_events": validator.not_events, "state": validator.state(),
        "torn": None if validator.torn is None else validator.torn - LINE_OFFSET,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(_second_half(sys.argv[1:]))
