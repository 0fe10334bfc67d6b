"""Record/replay parity: align two WALs and report every divergence.

Alignment is by event id where both lines carry an integer id (a merge join:
ids are meant to increase), and by position otherwise (a line that is not an
event, or files without ids). Each aligned row is one of:

* matched: byte-identical (the fast path: such lines are never parsed), byte
  for byte equal around the values of ignored top-level fields (found without
  parsing, see :mod:`backends.wal.mask`), or equal once parsed and the ignored
  fields dropped (floats within the tolerance);
* ``changed``: same id, different fields (with a field-level diff);
* ``missing``: in the record, not in the replay;
* ``extra``: in the replay, not in the record;
* ``malformed``: a line on either side is not an event (position-aligned);
* ``torn``: a file's last line is cut (a torn tail), aligned with the other
  side's line at the same place.

Memory stays flat: the two current blocks of lines, the events being compared
and the 64 lines before them. Parsed events are dropped as soon as compared.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any, Generator, Iterator

import orjson

from backends.wal.compare import FieldChange, field_changes
from backends.wal.lines import describe_line
from backends.wal.mask import key_token, masked_equal
from backends.wal.progress import WalProgress
from backends.wal.reader import Cancelled, LineReader, Stored
from backends.wal.rules import CompiledRules, WalRules

STEP = 1 << 16
"""Rows compared between two progress reports."""
CONTEXT = 5
"""Events shown before the first divergence by default."""
EVENT_CHARS = 16_000
"""Characters of each event's text kept in a divergence."""

KINDS = ("changed", "missing", "extra", "malformed", "torn")


@dataclass(frozen=True, slots=True)
class WalContextEvent:
    """An event before the first divergence (matched on both sides).

    Attributes:
        record_line: Line in the record.
        replay_line: Line in the replay.
        event_id: Its id, if it has an integer one.
        kind: Its kind, if it has one.
        text: Canonical, redacted JSON of the recorded event.
    """

    record_line: int
    replay_line: int
    event_id: int | None
    kind: str | None
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"record_line": self.record_line, "replay_line": self.replay_line, "event_id": self.event_id,
                "kind": self.kind, "text": self.text}


@dataclass(frozen=True, slots=True)
class WalDivergence:
    """One aligned row that differs between record and replay.

    Attributes:
        index: 1-based ordinal among the divergences.
        kind: One of :data:`KINDS`.
        row: 0-based row of the aligned view (matched rows included).
        record_line: Line in the record, ``None`` for an ``extra`` row.
        replay_line: Line in the replay, ``None`` for a ``missing`` row.
        event_id: Id of the event, where one side has an integer id.
        event_kind: ``kind`` of the event, where known.
        changes: Field-level differences (``changed`` rows).
        record: Canonical, redacted text of the record line, if any.
        replay: Canonical, redacted text of the replay line, if any.
        note: What is wrong with a ``malformed`` or ``torn`` row.
        context: For the first divergence, the events just before it.
    """

    index: int
    kind: str
    row: int
    record_line: int | None
    replay_line: int | None
    event_id: int | None = None
    event_kind: str | None = None
    changes: tuple[FieldChange, ...] = ()
    record: str | None = None
    replay: str | None = None
    note: str | None = None
    context: tuple[WalContextEvent, ...] = ()

    @property
    def line(self) -> int:
        """The line to name in a message: the record's, else the replay's."""
        return self.record_line if self.record_line is not None else self.replay_line or 0

    def where(self) -> str:
        """``line 37 (id 37, kind ExternalIOFinished)``; replay-only rows say ``replay line``."""
        side = "line" if self.record_line is not None else "replay line"
        facts = []
        if self.event_id is not None:
            facts.append(f"id {self.event_id}")
        if self.event_kind:
            facts.append(f"kind {self.event_kind}")
        return f"{side} {self.line}" + (f" ({', '.join(facts)})" if facts else "")

    def what(self) -> str:
        """The difference in a few words: the first changed field, or the kind of row."""
        if self.kind == "changed" and self.changes:
            more = len(self.changes) - 1
            return self.changes[0].describe() + (f" (+{more} more field{'s' if more > 1 else ''})" if more else "")
        if self.kind == "missing":
            return "missing in replay"
        if self.kind == "extra":
            return "extra in replay"
        return self.note or self.kind

    def headline(self) -> str:
        """``line 37 (id 37, kind ExternalIOFinished): payload.status expected 200, found 503``."""
        return f"{self.where()}: {self.what()}"

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "divergence", "index": self.index, "kind": self.kind, "row": self.row,
            "record_line": self.record_line, "replay_line": self.replay_line, "event_id": self.event_id,
            "event_kind": self.event_kind, "changes": [c.to_json() for c in self.changes],
            "record": self.record, "replay": self.replay, "note": self.note,
            "context": [c.to_json() for c in self.context], "headline": self.headline(),
        }


@dataclass(frozen=True, slots=True)
class WalDiffSummary:
    """The last item of a diff.

    Attributes:
        record: Record file, relative to the root.
        replay: Replay file, relative to the root.
        rules: The rules applied.
        record_lines: Lines of the record read.
        replay_lines: Lines of the replay read.
        rows: Aligned rows examined.
        matched: Rows that match (identical, or equal under the rules).
        identical: Of those, rows whose lines are byte-identical (never parsed).
        counts: Divergences per kind (``changed``, ``missing`` ...).
        divergences: Divergences in all.
        first: The first divergence, if any.
        truncated: Stopped at ``max_divergences``: later rows were not examined.
        complete: ``False`` when cancelled or truncated.
        record_torn: Line of the record's torn tail, if any.
        replay_torn: Line of the replay's torn tail, if any.
    """

    record: str
    replay: str
    rules: WalRules
    record_lines: int
    replay_lines: int
    rows: int
    matched: int
    identical: int
    counts: dict[str, int] = field(default_factory=dict)
    divergences: int = 0
    first: WalDivergence | None = None
    truncated: bool = False
    complete: bool = True
    record_torn: int | None = None
    replay_torn: int | None = None

    @property
    def parity(self) -> bool:
        return self.divergences == 0 and self.complete

    def describe(self) -> str:
        """One line of totals."""
        kinds = ", ".join(f"{self.counts.get(k, 0):,} {k}" for k in KINDS if self.counts.get(k))
        head = (f"{self.record_lines:,} record lines, {self.replay_lines:,} replay lines: "
                f"{self.matched:,} matched ({self.identical:,} byte-identical)")
        return head + (f", {kinds}" if kinds else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "summary", "record": self.record, "replay": self.replay, "rules": self.rules.to_json(),
            "parity": self.parity, "record_lines": self.record_lines, "replay_lines": self.replay_lines,
            "rows": self.rows, "matched": self.matched, "identical": self.identical,
            "counts": {k: self.counts.get(k, 0) for k in KINDS}, "divergences": self.divergences,
            "first": None if self.first is None else self.first.to_json(), "truncated": self.truncated,
            "complete": self.complete, "record_torn": self.record_torn, "replay_torn": self.replay_torn,
        }


class _Limit(Exception):
    """``max_divergences`` reached."""


def _parse(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None


def _int_id(event: Any) -> int | None:
    if type(event) is dict:
        value = event.get("id")
        if type(value) is int:
            return value
    return None


class _Diff:
    """State of one diff; :meth:`run` is the generator."""

    def __init__(self, record: LineReader, replay: LineReader, rules: WalRules, max_divergences: int, context: int) -> None:
        self.a = record
        self.b = replay
        self.rules = rules
        self.compiled = CompiledRules(rules)
        self.max = max_divergences
        self.context = context
        self.counts: dict[str, int] = {}
        self.emitted = 0
        self.first: WalDivergence | None = None
        self.a_only = 0
        self.b_only = 0
        self.parsed_matched = 0
        self.pending: list[WalDivergence] = []
        self.na = 0  # record lines consumed
        self.nb = 0  # replay lines consumed
        self.torn_a: int | None = None
        self.torn_b: int | None = None

    # Emitting ------------------------------------------------------------------------

    def _add(self, divergence: WalDivergence) -> None:
        self.counts[divergence.kind] = self.counts.get(divergence.kind, 0) + 1
        self.emitted += 1
        if self.first is None:
            self.first = divergence
        self.pending.append(divergence)

    def _text(self, line: int, raw: bytes) -> str:
        return describe_line(line, 0, raw, len(raw), self.compiled, max_chars=EVENT_CHARS).text

    def _context(self, row: int, reader: LineReader, raw: bytes) -> tuple[WalContextEvent, ...]:
        """The events before the first divergence, read back from the side of the line just read.

        Rows before the first divergence are matched in lockstep, so row ``r``
        holds line ``r + 1`` of both files, and ``line == row + 1`` here.
        """
        if self.first is not None or self.context <= 0 or row <= 0:
            return ()
        back = reader.before(reader.position - len(raw), min(self.context, row))
        out = []
        for number, text in zip(range(row - len(back) + 1, row + 1), back, strict=True):
            event = _parse(text)
            kind = event.get("kind") if type(event) is dict else None
            out.append(WalContextEvent(number, number, _int_id(event), kind if isinstance(kind, str) else None,
                                       self._text(number, text)))
        return tuple(out)

    def _next_index(self) -> int:
        return self.emitted + 1

    def paired(self, la: bytes, lb: bytes, ea: Any, eb: Any, line_a: int, line_b: int) -> None:
        """A row holding one line of each side that did not match at a glance."""
        if type(ea) is dict and type(eb) is dict:
            compiled = self.compiled
            compiled.drop_ignored(ea)
            compiled.drop_ignored(eb)
            if ea == eb:
                self.parsed_matched += 1
                return
            changes = field_changes(compiled.redact_in_place(ea), compiled.redact_in_place(eb), compiled.tolerance)
            if not changes:
                self.parsed_matched += 1
                return
            kind = "changed"
            note = None
        else:
            changes = []
            kind, note = self._bad_pair(la, lb, ea, eb, line_a, line_b)
        row = line_a - 1 + self.b_only
        index = self._next_index()
        source = ea if type(ea) is dict else eb
        event_kind = source.get("kind") if type(source) is dict else None
        self._add(WalDivergence(
            index, kind, row, line_a, line_b, _int_id(ea) if _int_id(ea) is not None else _int_id(eb),
            event_kind if isinstance(event_kind, str) else None, tuple(changes),
            self._text(line_a, la), self._text(line_b, lb), note, self._context(row, self.a, la),
        ))

    def _bad_pair(self, la: bytes, lb: bytes, ea: Any, eb: Any, line_a: int, line_b: int) -> tuple[str, str]:
        torn_a = type(ea) is not dict and self.a.at_end()
        torn_b = type(eb) is not dict and self.b.at_end()
        if torn_a:
            self.torn_a = line_a
        if torn_b:
            self.torn_b = line_b
        if torn_a or torn_b:
            sides = [f"{name} line {line} is a torn tail (cut short, the writer stopped mid-event)"
                     for name, line, torn in (("record", line_a, torn_a), ("replay", line_b, torn_b)) if torn]
            return "torn", "; ".join(sides)
        notes = []
        for name, line, event, raw in (("record", line_a, ea, la), ("replay", line_b, eb, lb)):
            if type(event) is not dict:
                notes.append(f"{name} line {line} is not an event ({describe_line(line, 0, raw, len(raw), self.compiled).problem})")
        return "malformed", "; ".join(notes)

    def one_sided(self, reader: LineReader, raw: bytes, event: Any, line: int, record_side: bool) -> None:
        """A row that only one side has: missing (record only) or extra (replay only)."""
        if record_side:
            row = line - 1 + self.b_only
            self.a_only += 1
        else:
            row = line - 1 + self.a_only
            self.b_only += 1
        index = self._next_index()
        kind = "missing" if record_side else "extra"
        note = None
        if type(event) is not dict and reader.at_end():
            if record_side:
                self.torn_a = line
            else:
                self.torn_b = line
            kind, note = "torn", f"{'record' if record_side else 'replay'} line {line} is a torn tail (cut short, the writer stopped mid-event)"
        event_kind = event.get("kind") if type(event) is dict else None
        text = self._text(line, raw)
        self._add(WalDivergence(
            index, kind, row, line if record_side else None, None if record_side else line, _int_id(event),
            event_kind if isinstance(event_kind, str) else None, (), text if record_side else None,
            None if record_side else text, note, self._context(row, reader, raw),
        ))

    # The walk ---------------------------------------------------------------------------

    def run(self) -> Iterator[WalDivergence | WalProgress | WalDiffSummary]:
        a, b = self.a, self.b
        truncated = False
        complete = True
        try:
            yield from self._walk()
        except _Limit:
            truncated = True
            complete = False
        except Cancelled:
            complete = False
        finally:
            a.close()
            b.close()
        yield from self.pending
        self.pending = []
        rows = self.na + self.b_only
        divergences = sum(self.counts.values())
        matched = max(0, rows - divergences)
        yield WalDiffSummary(
            a.name, b.name, self.rules, self.na, self.nb, rows, matched, max(0, matched - self.parsed_matched),
            dict(self.counts), divergences, self.first, truncated, complete, self.torn_a, self.torn_b,
        )

    def _drain(self) -> Iterator[WalDivergence]:
        """Hand over the divergences found; stop once ``max_divergences`` are out."""
        out, self.pending = self.pending, []
        yield from out
        if self.max and self.emitted >= self.max:
            raise _Limit()

    def _progress(self) -> WalProgress:
        return WalProgress("diff", self.na + self.nb, self.a.position + self.b.position, self.a.size + self.b.size)

    def _walk(self) -> Iterator[WalDivergence | WalProgress]:
        loads = orjson.loads
        decode_error = orjson.JSONDecodeError
        ita = self.a.lines()
        itb = chain(self.b.lines(), (None,))
        paired, one_sided = self.paired, self.one_sided
        top_ignore = self.compiled.top_ignore
        shallow = not self.compiled.deep_ignore
        # "id" aligns the two files even when it is ignored, so its value is never masked away.
        tokens = tuple(key_token(key) for key in top_ignore if key != "id")
        while True:
            # Lockstep: both sides advance together; no line is held.
            na, nb = self.na, self.nb
            k = 0
            matched = 0  # pairs parsed and found equal in this slice
            held_a: tuple[bytes, Any] | None = None
            held_b: tuple[bytes, Any] | None = None
            for k, (la, lb) in enumerate(zip(islice(ita, STEP), itb, strict=False), 1):
                if la == lb:
                    continue
                if lb is None:
                    break
                if tokens and masked_equal(la, lb, tokens):  # equal bytes around the ignored values: not parsed
                    matched += 1
                    continue
                try:
                    ea = loads(la)
                except decode_error:
                    ea = None
                try:
                    eb = loads(lb)
                except decode_error:
                    eb = None
                if type(ea) is dict and type(eb) is dict:
                    ida = ea.get("id")
                    idb = eb.get("id")
                    if ida != idb and type(ida) is int and type(idb) is int:
                        break
                    if shallow:  # the common case, inline: drop top-level ignored fields and compare
                        for key in top_ignore:
                            ea.pop(key, None)
                            eb.pop(key, None)
                        if ea == eb:
                            matched += 1
                            continue
                paired(la, lb, ea, eb, na + k, nb + k)
                if self.pending:
                    self.na, self.nb = na + k, nb + k
                    yield from self._drain()
            else:
                self.na, self.nb = na + k, nb + k
                self.parsed_matched += matched
                if k == STEP:
                    yield self._progress()
                    continue
                # The record ended: every remaining replay line is extra.
                for lb in itb:
                    if lb is None:
                        break
                    self.nb += 1
                    one_sided(self.b, lb, _parse(lb), self.nb, False)
                    yield from self._drain()
                return
            self.na, self.nb = na + k, nb + k
            self.parsed_matched += matched
            if lb is None:  # the replay ended: this and every remaining record line are missing
                self.nb -= 1
                one_sided(self.a, la, _parse(la), self.na, True)
                yield from self._drain()
                for la in ita:
                    self.na += 1
                    one_sided(self.a, la, _parse(la), self.na, True)
                    yield from self._drain()
                return
            # Ids differ: the smaller id is the side that has an event the other lacks.
            assert type(ida) is int and type(idb) is int  # the lockstep loop broke on two different integer ids
            if ida < idb:
                one_sided(self.a, la, ea, self.na, True)
                held_b = (lb, eb)
            else:
                one_sided(self.b, lb, eb, self.nb, False)
                held_a = (la, ea)
            yield from self._drain()
            if (yield from self._realign(ita, itb, held_a, held_b)):
                return

    def _realign(self, ita: Iterator[bytes], itb: Iterator[bytes | None], held_a: tuple[bytes, Any] | None,
                 held_b: tuple[bytes, Any] | None) -> Generator[WalDivergence | WalProgress, None, bool]:
        """Advance one side at a time until a pair of lines is consumed together.

        Returns:
            True when both files have been read to the end.
        """
        steps = 0
        while True:
            steps += 1
            if steps % STEP == 0:
                yield self._progress()
            if held_b is not None:
                lb, eb = held_b
                next_a = next(ita, None)
                if next_a is None:  # the record ended: the held line and the rest of the replay are extra
                    self.one_sided(self.b, lb, eb, self.nb, False)
                    yield from self._drain()
                    for extra in itb:
                        if extra is None:
                            break
                        self.nb += 1
                        self.one_sided(self.b, extra, _parse(extra), self.nb, False)
                        yield from self._drain()
                    return True
                la = next_a
                self.na += 1
                ea = None if la == lb else _parse(la)
            else:
                assert held_a is not None
                la, ea = held_a
                next_b = next(itb, None)
                if next_b is None:  # the replay ended: the held line and the rest of the record are missing
                    self.one_sided(self.a, la, ea, self.na, True)
                    yield from self._drain()
                    for la in ita:
                        self.na += 1
                        self.one_sided(self.a, la, _parse(la), self.na, True)
                        yield from self._drain()
                    return True
                lb = next_b
                self.nb += 1
                eb = None if la == lb else _parse(lb)
            if la == lb:
                return False  # identical lines: matched, back in lockstep
            ida, idb = _int_id(ea), _int_id(eb)
            if ida is None or idb is None or ida == idb:
                self.paired(la, lb, ea, eb, self.na, self.nb)
                yield from self._drain()
                return False
            if ida < idb:
                self.one_sided(self.a, la, ea, self.na, True)
                held_a, held_b = None, (lb, eb)
            else:
                self.one_sided(self.b, lb, eb, self.nb, False)
                held_a, held_b = (la, ea), None
            yield from self._drain()


def diff_wal_files(
    record_path: str | Stored,
    replay_path: str | Stored,
    record_name: str,
    replay_name: str,
    rules: WalRules = WalRules(),
    stop: threading.Event | None = None,
    *,
    max_divergences: int = 0,
    context: int = CONTEXT,
) -> Iterator[WalDivergence | WalProgress | WalDiffSummary]:
    """Diff a recorded WAL against its replay.

    Args:
        record_path: Filesystem path of the record (or the record in a storage).
        replay_path: Filesystem path of the replay (or the replay in a storage).
        record_name: The record as the user knows it.
        replay_name: The replay as the user knows it.
        rules: Parity rules.
        stop: Set to cancel; the summary then says ``complete=False``.
        max_divergences: Stop after this many divergences (0: no limit).
        context: Events shown before the first divergence.

    Yields:
        Divergences in row order, progress now and then, one summary last.

    Raises:
        NotFoundError: A file does not exist.
        UnreadableError: A file cannot be read.
    """
    record = LineReader(record_path, record_name, stop)
    try:
        replay = LineReader(replay_path, replay_name, stop)
    except BaseException:
        record.close()
        raise
    return _Diff(record, replay, rules, max(0, max_divergences), max(0, context)).run()
