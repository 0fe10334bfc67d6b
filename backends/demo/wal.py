"""Demo WAL v2 pairs: ``runs/<run_id>/wal/record.jsonl`` and ``replay.jsonl``.

Four pairs, one per situation the WAL pane must handle:

* ``parity``: 300 events, identical except ``ts_ms``.
* ``diverges``: 400 events; the replay's id 37 (ExternalIOFinished) has
  ``payload.status`` 503 instead of 200, id 233 has a changed
  ``payload.decision``, and the replay ends with an extra event id 401.
* ``torn tail``: 200 events; the replay's last line is cut mid-JSON with no
  trailing newline, and a few replay floats differ by less than 1e-9.
* ``id goes backwards``: 250 events; replay line 122 re-delivers id 119
  after id 121.
"""

from __future__ import annotations

import copy
import random
from pathlib import Path
from typing import Any

import orjson

DIVERGE_ID = 37
"""First divergent event id of the ``diverges`` pair (ExternalIOFinished)."""
SECOND_DIVERGE_ID = 233
"""Event id whose ``payload.decision`` differs in the ``diverges`` pair."""
EXTRA_ID = 401
"""Id of the extra event at the end of the ``diverges`` replay."""
BACKWARDS_LINE = 122
"""Replay line of the ``id goes backwards`` pair that holds id 119 after 121."""

PAIRS: tuple[tuple[str, int, str], ...] = (
    ("parity", 300, "parity"),
    ("diverges", 400, f"diverges at id {DIVERGE_ID}"),
    ("torn", 200, "torn tail"),
    ("backwards", 250, "id goes backwards"),
)
"""(key, event count, description) of each pair, in summary order."""

_MERCHANTS = ("mch-4411-grocer", "mch-5812-bistro", "mch-5999-market", "mch-4121-rides", "mch-7011-hotel")


def _token(rng: random.Random, prefix: str, bits: int = 192) -> str:
    return f"{prefix}{rng.getrandbits(bits):0{bits // 4}x}"


def _decision(rng: random.Random) -> dict[str, Any]:
    score = round(rng.random(), 6)
    return {
        "txn_id": _token(rng, "txn-", 40),
        "decision": "decline" if score >= 0.97 else "review" if score >= 0.85 else "approve",
        "score": score,
        "amount": round(rng.uniform(2, 4_800), 2),
        "currency": rng.choice(("EUR", "EUR", "GBP", "USD")),
        "features": {
            "velocity_1h": rng.randint(0, 14),
            "geo_distance_km": round(rng.expovariate(1 / 40), 3),
            "device_age_days": rng.randint(0, 900),
            "merchant": rng.choice(_MERCHANTS),
        },
        "model": {"name": "fraud-gbm", "version": "2026.11.1", "threshold": 0.85},
    }


def events(rng: random.Random, run_id: str, count: int, start_ms: int) -> list[dict[str, Any]]:
    """A recorded WAL of ``count`` events.

    Ids 1-4 set the run up; from id 5 on, blocks of five events fetch a page
    (ActivityScheduled, ExternalIOStarted, ExternalIOFinished), decide on a
    transaction (DecisionMade) and arm a timer or take a signal. So every
    ExternalIOFinished has an id of the form 7 + 5k (id 37 is one).

    Args:
        rng: The WAL random stream.
        run_id: Run the WAL belongs to.
        count: Number of events.
        start_ms: ``ts_ms`` of the first event.

    Returns:
        Event objects in id order.
    """
    payloads: list[tuple[str, dict[str, Any]]] = [
        ("TimerStarted", {"timer_id": "run-deadline", "fire_after_ms": 3_600_000}),
        ("SignalReceived", {"signal": "start", "source": "scheduler", "secret": _token(rng, "whsec_")}),
        ("ActivityScheduled", {"activity": "load-config", "attempt": 1,
                               "input": {"config": "pipelines/score-transactions.yaml"}}),
        ("DecisionMade", {"decision": "plan", "partitions": 64, "model": {"name": "planner", "version": "1.4.0"}}),
    ]
    page = 0
    while len(payloads) < count:
        page += 1
        io_id = f"io-{page:05d}"
        latency = round(rng.uniform(12, 480), 3)
        payloads += [
            ("ActivityScheduled", {"activity": "fetch-ledger-page", "attempt": 1,
                                   "input": {"page": page, "cursor": _token(rng, "c_", 64)}}),
            ("ExternalIOStarted", {"io_id": io_id, "method": "GET",
                                   "url": f"https://ledger-api.internal/v3/entries?page={page}",
                                   "authorization": _token(rng, "Bearer eyJhbGciOiJIUzI1NiJ9.", 256),
                                   "headers": {"x-request-id": _token(rng, "req-", 64)}}),
            ("ExternalIOFinished", {"io_id": io_id, "status": 200, "latency_ms": latency,
                                    "bytes": rng.randint(2_000, 900_000), "body_sha256": _token(rng, "", 256)}),
            ("DecisionMade", _decision(rng)),
            rng.choice((
                ("TimerStarted", {"timer_id": f"page-{page}-sla", "fire_after_ms": 30_000}),
                ("SignalReceived", {"signal": "heartbeat", "source": "worker-07"}),
                ("SignalReceived", {"signal": "ledger-page-ready", "source": "ledger-api",
                                    "secret": _token(rng, "whsec_")}),
            )),
        ]
    now = start_ms
    out = []
    for number, (kind, payload) in enumerate(payloads[:count], start=1):
        now += int(payload["latency_ms"]) if kind == "ExternalIOFinished" else rng.randint(2, 60)
        out.append({"v": 2, "id": number, "ts_ms": now, "run_id": run_id, "kind": kind, "payload": payload})
    return out


def _retimed(rng: random.Random, recorded: list[dict[str, Any]], start_ms: int) -> list[dict[str, Any]]:
    """Deep copies of ``recorded`` with the replay's own ``ts_ms``."""
    now = start_ms
    replay = []
    for event in recorded:
        now += rng.randint(1, 40)
        replay.append(dict(copy.deepcopy(event), ts_ms=now))
    return replay


def _lines(items: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(item) + b"\n" for item in items]


def build_pair(rng: random.Random, key: str, run_id: str, record_ms: int, replay_ms: int) -> tuple[bytes, bytes]:
    """The bytes of one pair's record and replay files.

    Args:
        rng: The WAL random stream.
        key: One of ``parity``, ``diverges``, ``torn``, ``backwards``.
        run_id: The run's id.
        record_ms: ``ts_ms`` at which the recording starts.
        replay_ms: ``ts_ms`` at which the replay starts.

    Returns:
        ``(record bytes, replay bytes)``.
    """
    count = next(n for k, n, _ in PAIRS if k == key)
    recorded = events(rng, run_id, count, record_ms)
    if key == "diverges":
        recorded[SECOND_DIVERGE_ID - 1]["payload"].update(decision="approve", score=0.412731)
    replay = _retimed(rng, recorded, replay_ms)
    record_lines = _lines(recorded)
    if key == "diverges":
        replay[DIVERGE_ID - 1]["payload"]["status"] = 503
        replay[SECOND_DIVERGE_ID - 1]["payload"]["decision"] = "review"
        extra = {"activity": "compensate-ledger-hold", "attempt": 1, "input": {"hold_id": "hold-7731"}}
        replay.append({"v": 2, "id": EXTRA_ID, "ts_ms": replay[-1]["ts_ms"] + 17, "run_id": run_id,
                       "kind": "ActivityScheduled", "payload": extra})
    elif key == "torn":
        decisions = [e for e in replay if e["kind"] == "DecisionMade" and "score" in e["payload"]]
        for event in decisions[1::7]:
            event["payload"]["score"] += 4e-10
            event["payload"]["amount"] += 3e-10
    elif key == "backwards":
        again = dict(copy.deepcopy(replay[118]), ts_ms=replay[120]["ts_ms"] + 5)
        replay.insert(BACKWARDS_LINE - 1, again)
    replay_lines = _lines(replay)
    if key == "torn":
        last = replay_lines[-1]
        replay_lines[-1] = last[: int(len(last) * 0.6)]
    return b"".join(record_lines), b"".join(replay_lines)


def write_wal_pairs(root: Path, rng: random.Random, targets: dict[str, tuple[str, int, int]]) -> list[tuple[str, str]]:
    """Write the four WAL pairs.

    Args:
        root: Workspace root.
        rng: The WAL random stream.
        targets: Pair key -> (run id, record start ms, replay start ms).

    Returns:
        ``(run_id, description)`` per pair, in :data:`PAIRS` order.
    """
    written = []
    for key, _count, description in PAIRS:
        run_id, record_ms, replay_ms = targets[key]
        record, replay = build_pair(rng, key, run_id, record_ms, replay_ms)
        folder = root / "runs" / run_id / "wal"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "record.jsonl").write_bytes(record)
        (folder / "replay.jsonl").write_bytes(replay)
        written.append((run_id, description))
    return written
