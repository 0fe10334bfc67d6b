"""Demo quarantine artifacts: ``runs/<run_id>/quarantine/*.json``.

One builder per reason code tells why a quarantined run was quarantined: a
human ``detail``, ``evidence`` references (some deliberately dangling) and a
structured ``context``. :func:`write_quarantine` adds the evidence every
artifact shares and writes each one as pretty-printed JSON.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any, Callable

import orjson

from backends.demo.runs import MALFORMED_LINE, PIPELINES, RunPlan, hex_digest
from backends.demo.wal import BACKWARDS_LINE, DIVERGE_ID, EXTRA_ID, SECOND_DIVERGE_ID

Artifact = tuple[str, str, list[dict[str, str]], dict[str, Any]]
"""One quarantine artifact: file name, detail, evidence, context."""

Builder = Callable[[random.Random, RunPlan, dict[str, Any]], list[Artifact]]


def _ev(kind: str, ref: str, note: str) -> dict[str, str]:
    return {"kind": kind, "ref": ref, "note": note}


def write_quarantine(root: Path, rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[str]:
    """Write a quarantined run's artifacts under ``runs/<run_id>/quarantine/``.

    Args:
        root: Workspace root.
        rng: The runs' random stream.
        plan: A QUARANTINED run.
        facts: Cross-references: ``wal`` (run id -> WAL pair kind), ``golden_line``,
            ``ledger_expected``, ``ledger_actual`` (from the golden manifest).

    Returns:
        The artifact file names written.
    """
    folder = root / "runs" / plan.run_id / "quarantine"
    folder.mkdir(parents=True, exist_ok=True)
    record = f"runs/{plan.run_id}/run_record.jsonl"
    base_evidence = [
        _ev("file", f"{record}#L{plan.line_of('CheckFailed')}", "the check that failed"),
        _ev("url", f"https://ci.example.internal/pipelines/{plan.platform_run_id}/logs", "orchestrator logs"),
    ]
    names = []
    for name, detail, evidence, context in _BUILDERS[plan.reason_code or ""](rng, plan, facts):
        body = {
            "reason_code": plan.reason_code,
            "quarantined_at": plan.ts_of("Quarantined"),
            "detail": detail,
            "evidence": evidence + base_evidence,
            "context": context,
        }
        (folder / name).write_bytes(orjson.dumps(body, option=orjson.OPT_INDENT_2) + b"\n")
        names.append(name)
    return names


def _receipt(rng: random.Random, plan: RunPlan, rows: int) -> dict[str, Any]:
    return {
        "receipt_id": f"rcpt-{hex_digest(rng, 48)}",
        "sha256": hex_digest(rng),
        "rows": rows,
        "columns": 42,
        "sealed_at": plan.ts_of("ReceiptWritten"),
    }


def _replay_divergence(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    record = f"runs/{plan.run_id}/run_record.jsonl"
    if facts["wal"].get(plan.run_id) == "diverges":
        wal = f"runs/{plan.run_id}/wal"
        detail = (
            f"Replaying the recorded WAL did not reproduce the run. The first divergence is at event id {DIVERGE_ID}: "
            "the recorded ExternalIOFinished has status 200 but the replay saw 503 from ledger-api. "
            f"Two more divergences follow (a changed decision at id {SECOND_DIVERGE_ID} and an extra event "
            f"id {EXTRA_ID} at the end of the replay). Timestamps (ts_ms) were ignored."
        )
        evidence = [
            _ev("wal_event", f"{wal}/record.jsonl#L{DIVERGE_ID}", "recorded event, status 200"),
            _ev("wal_event", f"{wal}/replay.jsonl#L{DIVERGE_ID}", "replayed event, status 503"),
            _ev("wal_event", f"{wal}/replay.jsonl#L{SECOND_DIVERGE_ID}", "decision approve -> review"),
            _ev("receipt", f"{record}#L{plan.line_of('ReceiptWritten')}", "receipt of the recorded run"),
        ]
        context = {
            "wal": {"record": f"{wal}/record.jsonl", "replay": f"{wal}/replay.jsonl"},
            "rules": {"ignore": ["ts_ms"], "float_tolerance": 1e-9, "redact": ["authorization", "secret"]},
            "first_divergence": {"id": DIVERGE_ID, "kind": "ExternalIOFinished", "field": "payload.status",
                                 "record": 200, "replay": 503},
            "divergences": [
                {"id": DIVERGE_ID, "type": "changed", "fields": ["payload.status"]},
                {"id": SECOND_DIVERGE_ID, "type": "changed", "fields": ["payload.decision"]},
                {"id": EXTRA_ID, "type": "extra_in_replay", "kind": "ActivityScheduled"},
            ],
            "counts": {"record": 400, "replay": 401, "equal": 397},
        }
    else:
        step = PIPELINES[plan.pipeline][-1]
        detail = (
            f"The replay of step {step} produced a different output receipt than the recorded run. "
            "No WAL was retained for this run, so only the receipts can be compared. "
            "Re-run with WAL capture enabled to locate the first divergent event."
        )
        evidence = [_ev("receipt", f"{record}#L{plan.line_of('ReceiptWritten')}", "recorded receipt")]
        context = {"expected": _receipt(rng, plan, 48_211), "actual": _receipt(rng, plan, 48_209),
                   "wal_retained": False}
    return [("replay-divergence.json", detail, evidence, context)]


def _receipt_drift(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    rows = rng.randint(100_000, 400_000)
    instance = {"id": f"i-{hex_digest(rng, 68)[:17]}", "zone": rng.choice(("eu-west-1a", "eu-west-1b")),
                "image": "driftdeck-worker:2026.11.2", "kernel": "6.8.0-1019-aws"}
    detail = (
        f"The receipt written by instance {instance['id']} differs from the receipt sealed for the same inputs. "
        "Row counts differ by 3 and the content hash changed. "
        "The validator report of candidate-2026-11-08 shows the same drift on the null-rate check."
    )
    evidence = [
        _ev("receipt", f"runs/{plan.run_id}/run_record.jsonl#L{plan.line_of('ReceiptWritten')}", "receipt as written"),
        _ev("file", "history/snapshots/candidate-2026-11-08/validator/report.json", "validator findings"),
    ]
    context = {"instance": instance, "expected_receipt": _receipt(rng, plan, rows),
               "actual_receipt": _receipt(rng, plan, rows - 3), "delta": {"rows": -3, "columns": 0}}
    out: list[Artifact] = [("receipt-drift.json", detail, evidence, context)]
    if plan.attempt > 1 or rng.random() < 0.5:
        receipts = [{"instance": f"i-{hex_digest(rng, 68)[:17]}", "sha256": hex_digest(rng), "rows": rows - d}
                    for d in (0, 0, 3)]
        out.append(("instance-receipts.json",
                    "Receipts from all three instances that processed the sealed inputs. Two agree; one drifted.",
                    [], {"receipts": receipts, "agreeing": 2, "drifting": 1}))
    return out


def _engine_mismatch(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    samples = []
    for row in range(1_040):
        score = round(rng.random(), 6)
        samples.append({
            "row": row * 37 + rng.randrange(37),
            "txn_id": f"txn-{hex_digest(rng, 40)}",
            "amount": round(rng.uniform(1, 4_000), 2),
            "expected": {"score": score, "decision": "approve" if score < 0.8 else "review"},
            "actual": {"score": round(score + rng.uniform(-0.02, 0.02), 6), "decision": "approve"},
        })
    detail = (
        "The scoring engine that produced this run's receipt is not the engine pinned by the pipeline. "
        "Expected scorer 4.12.0 (build 7c1e9a2) but the receipt names scorer 4.12.1. "
        "Scores moved on 1,040 of 41,880 rows; a sample of every mismatch is attached under context.samples."
    )
    evidence = [
        _ev("receipt", f"runs/{plan.run_id}/run_record.jsonl#L{plan.line_of('ReceiptWritten')}", "engine receipt"),
        _ev("file", f"runs/{plan.run_id}/quarantine/receipt-drift.json", "the resulting receipt drift"),
    ]
    context = {
        "engine": {"expected": {"name": "scorer", "version": "4.12.0", "build": "7c1e9a2"},
                   "actual": {"name": "scorer", "version": "4.12.1", "build": "b40f0d3"}},
        "counts": {"compared": 41_880, "mismatched": len(samples)},
        "samples": samples,
    }
    drift: Artifact = ("receipt-drift.json",
             "The output receipt drifted because of the engine mismatch. Rows agree; hashes differ.",
             [], {"expected_receipt": _receipt(rng, plan, 41_880), "actual_receipt": _receipt(rng, plan, 41_880)})
    return [("engine-mismatch.json", detail, evidence, context), drift]


def _attempt_limit(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    attempts = [{"attempt": e["attempt"], "step": e["step"], "error": e["error"]}
                for e in plan.events if e["kind"] == "StepFailed"]
    detail = (
        f"The run failed {len(attempts)} times and reached the attempt limit of {plan.attempt}. "
        "The final attempt processed every partition but its check failed again. "
        "The record is long; page through it to see each partition's progress."
    )
    evidence = [_ev("file", f"runs/{plan.run_id}/run_record.jsonl#L{plan.line_of('Retried')}", "last retry")]
    context = {"limit": plan.attempt, "attempts": attempts,
               "backoff_policy": {"kind": "exponential", "base_ms": 2000, "max_ms": 60000}}
    return [("attempt-limit.json", detail, evidence, context)]


def _schema_skew(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    detail = (
        "Inputs were written with ledger_entry schema 3.4 but the pipeline is pinned to 3.2. "
        "Two columns are unknown to the pipeline and one changed type. "
        f"Note: line {MALFORMED_LINE} of this run's record was truncated by the same writer."
    )
    evidence = [
        _ev("file", f"runs/{plan.run_id}/run_record.jsonl#L{MALFORMED_LINE}", "truncated record line"),
        _ev("file", "history/snapshots/candidate-2026-11-08/rules/velocity.yaml", "rule reading the new column"),
    ]
    context = {
        "expected_schema": {"name": "ledger_entry", "version": "3.2", "fields": 27},
        "actual_schema": {"name": "ledger_entry", "version": "3.4", "fields": 29,
                          "added": ["merchant_mcc", "settlement_currency"],
                          "changed": [{"field": "amount", "from": "decimal(18,2)", "to": "double"}]},
    }
    diff: Artifact = ("schema-diff.json", "Field-by-field diff of the two schema versions. Only additions and one type change.",
            [], {"fields": [{"name": f"f{i:02d}", "same": True} for i in range(27)]})
    return [("schema-skew.json", detail, evidence, context), diff]


def _checksum_drift(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    detail = (
        "Verifying fixtures/golden/SHA256SUMS before the run found drift. "
        "data/ledger.csv no longer matches its listed hash and data/missing.csv is gone. "
        "The run was quarantined because it read both files."
    )
    evidence = [
        _ev("manifest_entry", f"fixtures/golden/SHA256SUMS#L{facts['golden_line']}", "listed hash of data/ledger.csv"),
        _ev("file", "fixtures/golden/data/ledger.csv", "the drifted file"),
        _ev("file", "fixtures/golden/data/missing.csv", "listed in the manifest, not on disk"),
    ]
    context = {
        "manifest": "fixtures/golden/SHA256SUMS",
        "changed": [{"path": "data/ledger.csv", "expected": facts["ledger_expected"],
                     "actual": facts["ledger_actual"]}],
        "missing": ["data/missing.csv"],
    }
    return [("checksum-drift.json", detail, evidence, context)]


def _evidence_missing(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    detail = (
        "The run finished but two pieces of required evidence were never written. "
        "The engine receipt and the engine telemetry spans are missing. "
        "Without them the run cannot be certified."
    )
    evidence = [
        _ev("receipt", f"runs/{plan.run_id}/receipts/engine-receipt.json", "expected engine receipt (missing)"),
        _ev("file", "history/snapshots/candidate-2026-11-08/telemetry/spans-engine.jsonl", "expected spans (missing)"),
    ]
    context = {"required": ["engine-receipt", "engine-spans", "output-receipt"], "found": ["output-receipt"],
               "missing": ["engine-receipt", "engine-spans"]}
    return [("evidence-missing.json", detail, evidence, context)]


def _clock_skew(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    hosts = [{"host": f"worker-{n:02d}", "offset_ms": round(rng.uniform(-40, 40), 1), "ntp": "169.254.169.123"}
             for n in (2, 5, 9)]
    hosts[1]["offset_ms"] = 4123.5
    detail = (
        "Event timestamps from worker-05 run 4.1 s ahead of the other workers. "
        "Ordering by time disagrees with ordering by event id for 14 events. "
        "The tolerance is 500 ms."
    )
    context = {"hosts": hosts, "tolerance_ms": 500, "reordered_events": 14}
    return [("clock-skew.json", detail, [], context)]


def _sealed_output(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    detail = (
        "A sealed output changed after it was sealed. "
        "blobs/feature-index.bin differs between the baseline and candidate-2026-11-08 snapshots. "
        "Sealed outputs are immutable by contract."
    )
    evidence = [
        _ev("file", "history/snapshots/baseline-2026-11-01/blobs/feature-index.bin", "as sealed"),
        _ev("file", "history/snapshots/candidate-2026-11-08/blobs/feature-index.bin", "as observed"),
    ]
    context = {"sealed": {"path": "blobs/feature-index.bin", "sha256": hex_digest(rng), "size": 16384},
               "observed": {"path": "blobs/feature-index.bin", "sha256": hex_digest(rng), "size": 16384,
                            "differing_bytes": 24}}
    entry = ("manifest-entry.json",
             "The manifest entry of the sealed output, as recorded at sealing time. Compare it with the observed hash.",
             [_ev("manifest_entry", f"fixtures/golden/SHA256SUMS#L{facts['golden_line']}", "similar drift")],
             {"entry": {"path": "blobs/feature-index.bin", "algo": "sha256", "sealed_by": plan.owner}})
    return [("sealed-output.json", detail, evidence, context), entry]


def _wal_sequence(rng: random.Random, plan: RunPlan, facts: dict[str, Any]) -> list[Artifact]:
    wal = f"runs/{plan.run_id}/wal/replay.jsonl"
    detail = (
        f"The replay WAL is not strictly increasing: line {BACKWARDS_LINE} has id 119 after id 121. "
        "The replay re-delivered an event it had already applied. "
        "Parity cannot be decided on a WAL that breaks the ordering contract."
    )
    evidence = [_ev("wal_event", f"{wal}#L{BACKWARDS_LINE}", "id goes backwards here")]
    context = {"wal": wal, "line": BACKWARDS_LINE, "previous_id": 121, "id": 119}
    return [("wal-sequence.json", detail, evidence, context)]


_BUILDERS: dict[str, Builder] = {
    "REPLAY_DIVERGENCE": _replay_divergence,
    "INSTANCE_RECEIPT_DRIFT": _receipt_drift,
    "ENGINE_RECEIPT_MISMATCH": _engine_mismatch,
    "ATTEMPT_LIMIT_EXCEEDED": _attempt_limit,
    "SCHEMA_VERSION_SKEW": _schema_skew,
    "CHECKSUM_DRIFT": _checksum_drift,
    "EVIDENCE_MISSING": _evidence_missing,
    "CLOCK_SKEW_DETECTED": _clock_skew,
    "SEALED_OUTPUT_MUTATED": _sealed_output,
    "WAL_SEQUENCE_VIOLATION": _wal_sequence,
}
