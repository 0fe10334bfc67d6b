"""Demo runs: ``runs/<run_id>/run_status.json`` and ``run_record.jsonl``.

Plans a fixed population of runs (every state, twelve quarantined), tells each
one's lifecycle as an append-only event record consistent with its state, and
writes the two deliberately bad runs. The quarantine artifacts of quarantined
runs are written by :mod:`backends.demo.quarantine`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import orjson

STATE_COUNTS: dict[str, int] = {
    "PENDING": 6,
    "RUNNING": 7,
    "WAITING": 6,
    "READY": 17,
    "FAILED": 8,
    "QUARANTINED": 12,
}
"""How many runs of each state the demo holds (56 in all)."""

IN_FLIGHT = ("PENDING", "RUNNING", "WAITING")

QUARANTINE_CODES: tuple[str, ...] = (
    "REPLAY_DIVERGENCE",
    "INSTANCE_RECEIPT_DRIFT",
    "ENGINE_RECEIPT_MISMATCH",
    "ATTEMPT_LIMIT_EXCEEDED",
    "SCHEMA_VERSION_SKEW",
    "CHECKSUM_DRIFT",
    "EVIDENCE_MISSING",
    "CLOCK_SKEW_DETECTED",
    "SEALED_OUTPUT_MUTATED",
    "WAL_SEQUENCE_VIOLATION",
    "INSTANCE_RECEIPT_DRIFT",
    "REPLAY_DIVERGENCE",
)
"""Reason codes of the quarantined runs, in order of creation."""

FAILED_CODES: tuple[str, ...] = (
    "REPLAY_WAL_TRUNCATED",
    "UPSTREAM_TIMEOUT",
    "ATTEMPT_LIMIT_EXCEEDED",
    "UPSTREAM_TIMEOUT",
    "DEPENDENCY_UNAVAILABLE",
    "ATTEMPT_LIMIT_EXCEEDED",
    "OOM_KILLED",
    "UPSTREAM_TIMEOUT",
)
"""Reason codes of the failed runs, in order of creation."""

PIPELINES: dict[str, tuple[str, ...]] = {
    "ingest-ledger": ("fetch-ledger", "normalize", "dedupe", "seal-output"),
    "score-transactions": ("load-features", "score", "calibrate", "publish-scores"),
    "sr-snapshot": ("collect-state", "snapshot", "verify-snapshot", "upload"),
    "reconcile-payouts": ("load-payouts", "match", "report"),
    "build-features": ("extract", "aggregate", "materialize"),
}

OWNERS = ("team-ledger", "team-risk", "a.okafor", "m.lindqvist", "s.tanaka", "platform-oncall")

STEP_ERRORS = {
    "UPSTREAM_TIMEOUT": "upstream ledger-api did not answer within 30000 ms",
    "DEPENDENCY_UNAVAILABLE": "feature-store returned 503 Service Unavailable (3 consecutive)",
    "OOM_KILLED": "worker killed by the kernel: memory cgroup limit 8 GiB exceeded",
    "ATTEMPT_LIMIT_EXCEEDED": "partition 17 failed validation: 3 rows with negative amount",
}

LONG_RECORD_EVENTS = 2500
MALFORMED_LINE = 7


@dataclass
class RunPlan:
    """One demo run before and after its record is told.

    Attributes:
        run_id: The run id.
        state: Its state.
        reason_code: Reason for FAILED/QUARANTINED runs, else ``None``.
        created: Creation time.
        pipeline: Pipeline name.
        owner: Owner.
        platform_run_id: Id on the orchestrating platform.
        attempt: Current attempt number (0 while pending).
        events: The record events, stamped.
    """

    run_id: str
    state: str
    reason_code: str | None
    created: datetime
    pipeline: str
    owner: str
    platform_run_id: str
    attempt: int
    events: list[dict[str, Any]] = field(default_factory=list)

    @property
    def updated_at(self) -> str:
        """``updated_at``: the last event's time, to the second."""
        return str(self.events[-1]["ts"])[:19] + "Z"

    def line_of(self, kind: str) -> int:
        """1-based record line of the last event of ``kind`` (1 if none)."""
        for index in range(len(self.events) - 1, -1, -1):
            if self.events[index]["kind"] == kind:
                return index + 1
        return 1

    def ts_of(self, kind: str) -> str:
        """Timestamp of the last event of ``kind`` (the last event if none)."""
        return str(self.events[self.line_of(kind) - 1]["ts"])

    def set_replayed_events(self, count: int) -> None:
        """Make ``ReplayFinished.events`` agree with the run's WAL of ``count`` events."""
        for event in self.events:
            if event["kind"] == "ReplayFinished":
                event["events"] = count

    def status(self) -> dict[str, Any]:
        """The ``run_status.json`` object."""
        return {
            "run_id": self.run_id,
            "state": self.state,
            "reason_code": self.reason_code,
            "created_at": iso(self.created, ms=False),
            "updated_at": self.updated_at,
            "attempt": self.attempt,
            "pipeline": self.pipeline,
            "platform_run_id": self.platform_run_id,
            "owner": self.owner,
        }


def iso(moment: datetime, *, ms: bool = True) -> str:
    """Format a UTC time as ISO 8601 with a ``Z`` suffix.

    Args:
        moment: An aware UTC datetime.
        ms: Include milliseconds.

    Returns:
        For example ``2026-11-03T08:15:00.120Z``.
    """
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if ms:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def hex_digest(rng: random.Random, bits: int = 256) -> str:
    """A random lowercase hex string that looks like a digest."""
    return f"{rng.getrandbits(bits):0{bits // 4}x}"


def plan_runs(rng: random.Random, base: datetime) -> list[RunPlan]:
    """Plan every demo run, oldest first, with its record told.

    Args:
        rng: The runs' random stream.
        base: Base time (2026-11-01T00:00:00Z).

    Returns:
        The plans in creation order.
    """
    total = sum(STATE_COUNTS.values())
    slots = sorted(rng.sample(range(0, 19 * 24 * 60, 5), total))
    terminal = [s for s, n in STATE_COUNTS.items() if s not in IN_FLIGHT for _ in range(n)]
    in_flight = [s for s in IN_FLIGHT for _ in range(STATE_COUNTS[s])]
    rng.shuffle(terminal)
    newest = terminal[:7] + in_flight
    rng.shuffle(newest)
    states = terminal[7:] + newest
    codes = {"QUARANTINED": iter(QUARANTINE_CODES), "FAILED": iter(FAILED_CODES)}
    plans, seen = [], set()
    for minute, state in zip(slots, states, strict=True):
        created = base + timedelta(minutes=minute)
        suffix = hex_digest(rng, 24)
        while suffix in seen:
            suffix = hex_digest(rng, 24)
        seen.add(suffix)
        code = next(codes[state]) if state in codes else None
        plan = RunPlan(
            run_id=f"run-{created:%Y%m%d-%H%M}-{suffix}",
            state=state,
            reason_code=code,
            created=created,
            pipeline=rng.choice(sorted(PIPELINES)),
            owner=rng.choice(OWNERS),
            platform_run_id=f"fp-{created:%Y%m%d}-{rng.randrange(10000):04d}",
            attempt=_attempts(rng, state, code),
        )
        target = LONG_RECORD_EVENTS if (state, code) == ("QUARANTINED", "ATTEMPT_LIMIT_EXCEEDED") else 0
        plan.events = _stamp(rng, plan, _story(rng, plan, target))
        plans.append(plan)
    return plans


def _attempts(rng: random.Random, state: str, code: str | None) -> int:
    if state == "PENDING":
        return 0
    if code == "ATTEMPT_LIMIT_EXCEEDED":
        return 5 if state == "QUARANTINED" else 3
    return rng.choice((1, 1, 1, 2))


def _story(rng: random.Random, plan: RunPlan, target: int) -> list[dict[str, Any]]:
    """The run's events (kind + fields, no ids or times), consistent with its state."""
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        events.append({"kind": kind, **fields})

    steps = PIPELINES[plan.pipeline]
    add("RunCreated", pipeline=plan.pipeline, owner=plan.owner,
        platform_run_id=plan.platform_run_id, trigger=rng.choice(("schedule", "manual", "upstream")))
    inputs = [f"ledger/2026-11-{plan.created.day:02d}/part-{i:03d}.parquet" for i in range(rng.randint(2, 4))]
    add("InputsDeclared", inputs=inputs)
    if plan.state == "PENDING":
        add("Queued", queue="batch-default", position=rng.randint(3, 40))
        add("SchedulerDeferred", reason="capacity", running=rng.randint(16, 24), limit=16)
        add("SchedulerDeferred", reason="upstream window not closed", upstream="ledger-close")
        add("Queued", queue="batch-default", position=rng.randint(1, 3))
        return events

    def run_steps(upto: int) -> None:
        for step in steps[:upto]:
            add("StepStarted", step=step)
            add("StepFinished", step=step, rows=rng.randint(1_000, 250_000))

    for attempt in range(1, plan.attempt + 1):
        add("AttemptStarted", attempt=attempt, worker=f"worker-{rng.randint(1, 12):02d}")
        if attempt == 1:
            add("InputsSealed", inputs=len(inputs), manifest_sha256=hex_digest(rng))
        if attempt < plan.attempt:
            fail_at = rng.randrange(len(steps))
            run_steps(fail_at)
            add("StepStarted", step=steps[fail_at])
            add("StepFailed", step=steps[fail_at], attempt=attempt,
                error=STEP_ERRORS.get(plan.reason_code or "", "worker lost heartbeat for 90 s"))
            add("Retried", attempt=attempt + 1, backoff_ms=2000 * 2 ** (attempt - 1))
            continue
        _final(rng, plan, steps, add, run_steps)
    if target:
        _pad_with_progress(rng, events, target)
    return events


def _final(rng: random.Random, plan: RunPlan, steps: tuple[str, ...], add: Any, run_steps: Any) -> None:
    """The last attempt's events, by state."""
    state, code = plan.state, plan.reason_code
    if state in ("RUNNING", "WAITING"):
        done = rng.randrange(1, len(steps))
        run_steps(done)
        if state == "RUNNING":
            add("StepStarted", step=steps[done])
        else:
            add("WaitingOnSignal", signal=rng.choice(("ledger-close", "fx-rates-published", "operator-approval")),
                timeout_s=rng.choice((900, 3600, 14400)))
        return
    if state == "FAILED" and code != "REPLAY_WAL_TRUNCATED":
        fail_at = rng.randrange(len(steps))
        run_steps(fail_at)
        add("StepStarted", step=steps[fail_at])
        add("StepFailed", step=steps[fail_at], attempt=plan.attempt, error=STEP_ERRORS[code or "UPSTREAM_TIMEOUT"])
        add("Failed", reason_code=code, attempt=plan.attempt)
        return
    run_steps(len(steps))
    add("ReceiptWritten", receipt_id=f"rcpt-{hex_digest(rng, 48)}", sha256=hex_digest(rng),
        rows=rng.randint(10_000, 900_000))
    add("ReplayStarted", wal="wal/record.jsonl", mode="strict")
    if state == "READY":
        add("ReplayFinished", parity=True, events=rng.randint(200, 400), divergences=0)
        add("Completed", outputs=rng.randint(1, 6), attempt=plan.attempt)
    elif state == "FAILED":
        add("ReplayAborted", error="replay writer terminated mid-line; wal/replay.jsonl has a torn tail")
        add("Failed", reason_code=code, attempt=plan.attempt)
    else:
        assert code is not None, "a quarantined run is planned with a reason code"
        parity = code not in ("REPLAY_DIVERGENCE", "WAL_SEQUENCE_VIOLATION")
        add("ReplayFinished", parity=parity, events=rng.randint(200, 400), divergences=0 if parity else 3)
        add("CheckFailed", check=code.lower().replace("_", "-"), reason_code=code)
        add("Quarantined", reason_code=code, attempt=plan.attempt)


def _pad_with_progress(rng: random.Random, events: list[dict[str, Any]], target: int) -> None:
    """Insert ``StepProgress`` events after each ``StepStarted`` until ``target`` events."""
    starts = [i for i, e in enumerate(events) if e["kind"] == "StepStarted"]
    missing = target - len(events)
    share, extra = divmod(missing, len(starts))
    for rank, index in reversed(list(enumerate(starts))):
        count = share + (1 if rank < extra else 0)
        step = events[index]["step"]
        progress = [
            {"kind": "StepProgress", "step": step, "partition": p, "rows": rng.randint(500, 9_000)}
            for p in range(count)
        ]
        events[index + 1:index + 1] = progress


_GAPS_MS = {
    "StepFinished": (4_000, 900_000),
    "StepProgress": (200, 2_500),
    "SchedulerDeferred": (60_000, 600_000),
    "Retried": (30_000, 300_000),
    "WaitingOnSignal": (1_000, 20_000),
    "ReplayFinished": (20_000, 180_000),
}


def _stamp(rng: random.Random, plan: RunPlan, story: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Give every event an ``event_id`` and an increasing ``ts``; fill step durations."""
    now = plan.created + timedelta(milliseconds=rng.randint(0, 999))
    started: dict[str, datetime] = {}
    stamped = []
    for number, event in enumerate(story, start=1):
        low, high = _GAPS_MS.get(event["kind"], (40, 3_000))
        if number > 1:
            now += timedelta(milliseconds=rng.randint(low, high))
        fields = dict(event)
        kind = fields.pop("kind")
        if kind == "StepStarted":
            started[fields["step"]] = now
        elif kind == "StepFinished":
            fields["duration_ms"] = int((now - started[fields["step"]]).total_seconds() * 1000)
        stamped.append({"event_id": f"evt-{number:06d}", "ts": iso(now), "kind": kind, **fields})
    return stamped


def write_run(root: Path, plan: RunPlan, *, malformed_line: int | None = None) -> None:
    """Write one run's status and record.

    Args:
        root: Workspace root.
        plan: The run.
        malformed_line: 1-based record line to truncate mid-JSON, if any.
    """
    folder = root / "runs" / plan.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run_status.json").write_bytes(orjson.dumps(plan.status(), option=orjson.OPT_INDENT_2) + b"\n")
    lines = [orjson.dumps(event) for event in plan.events]
    if malformed_line is not None:
        bad = lines[malformed_line - 1]
        lines[malformed_line - 1] = bad[: len(bad) // 2]
    (folder / "run_record.jsonl").write_bytes(b"".join(line + b"\n" for line in lines))


def write_bad_runs(root: Path, rng: random.Random, base: datetime) -> None:
    """Write ``run-broken-status`` (syntax error on line 4) and ``run-orphan-no-status``.

    Args:
        root: Workspace root.
        rng: The runs' random stream.
        base: Base time.
    """
    broken = RunPlan("run-broken-status", "FAILED", "UPSTREAM_TIMEOUT", base + timedelta(days=9, hours=14, minutes=20),
                     "ingest-ledger", "team-ledger", "fp-20261110-0913", 1)
    broken.events = _stamp(rng, broken, _story(rng, broken, 0))
    write_run(root, broken)
    status = orjson.dumps(broken.status(), option=orjson.OPT_INDENT_2).decode().splitlines()
    status[3] = '  "reason_code": \'UPSTREAM_TIMEOUT\','
    (root / "runs" / broken.run_id / "run_status.json").write_bytes(("\n".join(status) + "\n").encode())

    orphan = RunPlan("run-orphan-no-status", "RUNNING", None, base + timedelta(days=12, hours=3, minutes=5),
                     "sr-snapshot", "platform-oncall", "fp-20261113-0277", 1)
    orphan.events = _stamp(rng, orphan, _story(rng, orphan, 0))
    folder = root / "runs" / orphan.run_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "run_record.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in orphan.events))
