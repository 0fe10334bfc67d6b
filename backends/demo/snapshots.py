"""Demo trace snapshots under ``history/snapshots/<name>/``.

Three trees (``rules/`` YAML, ``validator/`` JSON, ``telemetry/`` JSONL spans,
``notes/`` text, ``blobs/`` binary). ``candidate-2026-11-08`` differs from
``baseline-2026-11-01`` in every way the snapshot pane distinguishes (see
:data:`CHANGES_0108`); ``candidate-2026-11-15`` differs a little further.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import yaml

SNAPSHOTS = ("baseline-2026-11-01", "candidate-2026-11-08", "candidate-2026-11-15")

CHANGES_0108: dict[str, str] = {
    "notes/postmortem-2026-11-06.md": "added text",
    "validator/checks/drift-guard.json": "added JSON",
    "rules/merchant-risk.yaml": "added YAML",
    "notes/old-todo.txt": "removed text",
    "validator/checks/legacy-schema.json": "removed JSON",
    "rules/deprecated-bin-range.yaml": "removed YAML",
    "notes/known-issues.md": "changed text (a few lines)",
    "validator/report.json": "changed JSON (nested values)",
    "rules/velocity.yaml": "changed YAML (thresholds, severity)",
    "blobs/feature-index.bin": "changed binary",
    "notes/runbook.md -> notes/ops/runbook.md": "renamed, identical bytes",
    "notes/oncall.txt": "whitespace-only change",
    "notes/hosts.txt": "line endings LF -> CRLF",
    "notes/timeline.log": "only timestamps differ",
    "telemetry/spans-ingest.jsonl": "2 of 200 spans differ",
}
"""What differs between baseline-2026-11-01 and candidate-2026-11-08."""

CHANGES_0815: dict[str, str] = {
    "rules/velocity.yaml": "changed YAML (max_amount_eur)",
    "rules/card-testing.yaml": "removed YAML",
    "validator/report.json": "changed JSON (findings)",
    "notes/known-issues.md": "changed text",
    "notes/postmortem-2026-11-13.md": "added text",
    "blobs/model-shard-04.bin": "added binary",
    "telemetry/spans-score.jsonl": "1 of 120 spans differs",
}
"""What differs between candidate-2026-11-08 and candidate-2026-11-15."""

_RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "velocity": ("Too many transactions per card in a sliding window.",
                 {"window_minutes": 60, "max_transactions": 12, "max_amount_eur": 2500.0}),
    "amount-threshold": ("Single transaction above the per-segment ceiling.",
                         {"retail_eur": 5000.0, "business_eur": 25000.0}),
    "geo-distance": ("Two card-present transactions too far apart to travel between.",
                     {"max_kmh": 900, "min_distance_km": 150}),
    "device-fingerprint": ("New device with a risky fingerprint.", {"min_device_age_days": 2, "max_score": 0.7}),
    "merchant-category": ("High-risk merchant categories.", {"mcc": [4829, 6051, 7995], "max_amount_eur": 300.0}),
    "chargeback-history": ("Cards with recent chargebacks.", {"lookback_days": 90, "max_chargebacks": 1}),
    "deprecated-bin-range": ("Legacy BIN ranges retired in 2025.", {"bins": ["400011", "400012"]}),
    "night-activity": ("Unusual activity between 01:00 and 05:00 local.", {"max_transactions": 3}),
    "card-testing": ("Many small authorisations in a burst.", {"window_seconds": 120, "max_small_auths": 5}),
    "account-age": ("Young accounts with large transfers.", {"min_age_days": 14, "max_amount_eur": 1000.0}),
}

_CHECKS = ("null-rate", "row-count", "schema", "uniqueness", "freshness", "range", "referential", "legacy-schema")


def _yaml(data: Any) -> bytes:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False).encode()


def _json(data: Any) -> bytes:
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def _rule(index: int, name: str) -> dict[str, Any]:
    description, thresholds = _RULES[name]
    return {"rule": {
        "id": f"R-{101 + index:04d}", "name": name, "description": description, "enabled": True,
        "severity": ("high", "medium", "low")[index % 3], "owner": "team-risk",
        "thresholds": dict(thresholds), "actions": ["review", "notify"] if index % 2 else ["review"],
        "exemptions": {"merchants": ["mch-4411-grocer"], "countries": []},
    }}


def _report(name: str, failed: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "snapshot": name,
        "validator": {"name": "sr-validator", "version": "2.8.1"},
        "summary": {"checks": 7, "passed": 7 - len(failed), "failed": len(failed), "warnings": 1},
        "thresholds": {"null_rate": {"max": 0.02, "columns": {"amount": 0.0, "merchant_mcc": 0.05}},
                       "freshness": {"max_lag_minutes": 90}},
        "findings": failed + [{"check": "freshness", "severity": "warning", "message": "lag 71 min (max 90)",
                               "metrics": {"lag_minutes": 71}}],
    }


def _spans(rng: random.Random, service: str, count: int, start: datetime) -> list[dict[str, Any]]:
    trace = f"{rng.getrandbits(128):032x}"
    spans: list[dict[str, Any]] = []
    for index in range(count):
        start += timedelta(milliseconds=rng.randint(5, 400))
        spans.append({
            "trace_id": trace, "span_id": f"{rng.getrandbits(64):016x}",
            "parent_id": spans[0]["span_id"] if spans else None,
            "name": f"{service}.{('fetch', 'parse', 'write', 'commit')[index % 4]}", "service": service,
            "start": start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z",
            "duration_ms": round(rng.lognormvariate(3, 0.6), 3), "status": "ok",
            "attrs": {"partition": index % 16, "rows": rng.randint(100, 5000)},
        })
    return spans


def _jsonl(items: list[dict[str, Any]]) -> bytes:
    return b"".join(orjson.dumps(item) + b"\n" for item in items)


def _timeline(start: datetime, rng: random.Random) -> bytes:
    messages = ["ingest started partition=%d", "ingest finished partition=%d rows=1820",
                "validator passed check=null-rate partition=%d", "publish queued partition=%d"]
    lines, now = [], start
    for index in range(40):
        now += timedelta(seconds=rng.randint(3, 90), milliseconds=rng.randint(0, 999))
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        lines.append(f"{stamp} INFO {messages[index % 4] % (index // 4)}\n")
    return "".join(lines).encode()


def _notes(rng: random.Random) -> dict[str, bytes]:
    hosts = "".join(f"10.20.{n // 8}.{n % 8 + 10}\tworker-{n:02d}.eu-west-1.internal\n" for n in range(1, 13))
    oncall = "".join(f"{week}: {who}  (backup: {backup})\n" for week, who, backup in (
        ("2026-W44", "a.okafor", "s.tanaka"), ("2026-W45", "m.lindqvist", "a.okafor"),
        ("2026-W46", "s.tanaka", "m.lindqvist"), ("2026-W47", "a.okafor", "m.lindqvist")))
    issues = "\n".join(f"- KI-{n:03d}: {text}" for n, text in enumerate((
        "ledger-api returns 503 under load above 400 rps",
        "validator null-rate check flaky on partition 9",
        "replay ignores ts_ms by design; see parity rules",
        "feature-store cold start adds ~40 s to first partition",
        "sr-snapshot upload retries are not idempotent",
        "clock skew on worker-05 after kernel update",
    ), start=1))
    return {
        "notes/runbook.md": ("# Runbook: score-transactions\n\n" + "".join(
            f"## {n}. {step}\n\nCheck the dashboard, then run `driftdeck wal diff` on the pair.\n\n"
            for n, step in enumerate(("Triage", "Quarantine review", "Replay", "Release"), start=1))).encode(),
        "notes/known-issues.md": f"# Known issues\n\n{issues}\n".encode(),
        "notes/oncall.txt": oncall.encode(),
        "notes/hosts.txt": hosts.encode(),
        "notes/old-todo.txt": b"- retire BIN ranges 400011-400012\n- move runbook under notes/ops\n",
        "notes/release-notes.txt": b"2026.11.1: scorer 4.12.0, validator 2.8.1, ledger schema 3.2\n",
        "notes/glossary.md": b"# Glossary\n\n- receipt: hash + counts of a sealed output\n- WAL: write-ahead log\n",
    }


def baseline(rng: random.Random) -> dict[str, bytes]:
    """The baseline tree as ``{relative path: bytes}``."""
    start = datetime(2026, 11, 1, 2, 0, tzinfo=timezone.utc)
    tree: dict[str, bytes] = {}
    for index, name in enumerate(_RULES):
        tree[f"rules/{name}.yaml"] = _yaml(_rule(index, name))
    tree["validator/report.json"] = _json(_report(SNAPSHOTS[0], []))
    for check in _CHECKS:
        tree[f"validator/checks/{check}.json"] = _json({
            "check": check, "status": "pass",
            "observed": {"value": round(rng.uniform(0, 0.01), 5), "rows": rng.randint(10_000, 90_000)},
            "expected": {"max": 0.02}, "samples": [],
        })
    tree["telemetry/spans-ingest.jsonl"] = _jsonl(_spans(rng, "ingest", 200, start))
    tree["telemetry/spans-score.jsonl"] = _jsonl(_spans(rng, "score", 120, start + timedelta(hours=1)))
    tree["telemetry/spans-publish.jsonl"] = _jsonl(_spans(rng, "publish", 60, start + timedelta(hours=2)))
    tree["notes/timeline.log"] = _timeline(start, random.Random(rng.getrandbits(64)))
    tree.update(_notes(rng))
    for shard in range(4):
        tree[f"blobs/model-shard-{shard:02d}.bin"] = rng.randbytes(rng.randint(2048, 8192))
    tree["blobs/feature-index.bin"] = rng.randbytes(16384)
    tree["blobs/bloom-filter.bin"] = rng.randbytes(4096)
    return tree


def _edit_jsonl(data: bytes, indexes: list[int], change: Any) -> bytes:
    items = [orjson.loads(line) for line in data.splitlines()]
    for index in indexes:
        change(items[index])
    return _jsonl(items)


def candidate_0108(rng: random.Random, base: dict[str, bytes]) -> dict[str, bytes]:
    """candidate-2026-11-08: ``base`` with every change of :data:`CHANGES_0108`."""
    tree = dict(base)
    for path in ("notes/old-todo.txt", "validator/checks/legacy-schema.json", "rules/deprecated-bin-range.yaml"):
        del tree[path]
    tree["notes/postmortem-2026-11-06.md"] = (
        b"# Postmortem 2026-11-06: ledger-api 503s\n\nImpact: 37 replays diverged.\n"
        b"Root cause: connection pool exhausted after the 2026.11.1 deploy.\n")
    tree["validator/checks/drift-guard.json"] = _json({"check": "drift-guard", "status": "fail",
                                                       "observed": {"drifted_files": 2}, "expected": {"max": 0}})
    tree["rules/merchant-risk.yaml"] = _yaml({"rule": {"id": "R-0111", "name": "merchant-risk", "enabled": True,
                                                       "severity": "medium", "thresholds": {"max_score": 0.82}}})
    tree["notes/known-issues.md"] = (tree["notes/known-issues.md"]
                                     .replace(b"flaky on partition 9", b"fixed in validator 2.8.2")
                                     .replace(b"~40 s", b"~55 s")
                                     .replace(b"not idempotent\n", b"not idempotent\n- KI-007: ledger schema 3.4 "
                                              b"adds merchant_mcc\n"))
    tree["validator/report.json"] = _json(_report(SNAPSHOTS[1], [
        {"check": "null-rate", "severity": "error", "message": "merchant_mcc null rate 0.081 > 0.05",
         "metrics": {"null_rate": 0.081, "rows": 48211, "column": "merchant_mcc"}}]))
    velocity = yaml.safe_load(tree["rules/velocity.yaml"])
    velocity["rule"]["thresholds"]["max_transactions"] = 9
    velocity["rule"]["severity"] = "critical"
    tree["rules/velocity.yaml"] = _yaml(velocity)
    blob = bytearray(tree["blobs/feature-index.bin"])
    for offset in range(4096, 4096 + 24):
        blob[offset] ^= 0x5A
    tree["blobs/feature-index.bin"] = bytes(blob)
    tree["notes/ops/runbook.md"] = tree.pop("notes/runbook.md")
    tree["notes/oncall.txt"] = b"".join(
        line.replace(b": ", b":\t").rstrip() + b"   \n" for line in tree["notes/oncall.txt"].splitlines())
    tree["notes/hosts.txt"] = tree["notes/hosts.txt"].replace(b"\n", b"\r\n")
    tree["notes/timeline.log"] = _timeline(datetime(2026, 11, 8, 2, 0, tzinfo=timezone.utc),
                                           random.Random(rng.getrandbits(64)))

    def slower(span: dict[str, Any]) -> None:
        span["duration_ms"] = round(span["duration_ms"] * 7.5, 3)
        span["status"] = "error" if span["attrs"]["partition"] == 9 else "ok"

    tree["telemetry/spans-ingest.jsonl"] = _edit_jsonl(tree["telemetry/spans-ingest.jsonl"], [41, 137], slower)
    return tree


def candidate_0115(rng: random.Random, previous: dict[str, bytes]) -> dict[str, bytes]:
    """candidate-2026-11-15: ``previous`` with the changes of :data:`CHANGES_0815`."""
    tree = dict(previous)
    velocity = yaml.safe_load(tree["rules/velocity.yaml"])
    velocity["rule"]["thresholds"]["max_amount_eur"] = 1800.0
    tree["rules/velocity.yaml"] = _yaml(velocity)
    del tree["rules/card-testing.yaml"]
    tree["validator/report.json"] = _json(_report(SNAPSHOTS[2], [
        {"check": "row-count", "severity": "error", "message": "rows 48209 < expected 48211",
         "metrics": {"rows": 48209, "expected": 48211}}]))
    tree["notes/known-issues.md"] += b"- KI-008: scorer 4.12.1 shipped without pin; see ENGINE_RECEIPT_MISMATCH\n"
    tree["notes/postmortem-2026-11-13.md"] = (
        b"# Postmortem 2026-11-13: unpinned scorer\n\nImpact: 1,040 scores moved.\n"
        b"Root cause: image tag latest resolved to scorer 4.12.1.\n")
    tree["blobs/model-shard-04.bin"] = rng.randbytes(6000)

    def retried(span: dict[str, Any]) -> None:
        span["attrs"]["retries"] = 2

    tree["telemetry/spans-score.jsonl"] = _edit_jsonl(tree["telemetry/spans-score.jsonl"], [77], retried)
    return tree


def write_snapshots(root: Path, rng: random.Random) -> list[str]:
    """Write the three snapshot trees.

    Args:
        root: Workspace root.
        rng: The snapshots' random stream.

    Returns:
        Snapshot names, oldest first.
    """
    first = baseline(rng)
    second = candidate_0108(rng, first)
    third = candidate_0115(rng, second)
    for name, tree in zip(SNAPSHOTS, (first, second, third), strict=True):
        for relative, data in sorted(tree.items()):
            path = root / "history" / "snapshots" / name / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    return list(SNAPSHOTS)
