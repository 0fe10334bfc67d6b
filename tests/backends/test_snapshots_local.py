"""``LocalSource``'s snapshot calls on the demo workspace; rules from ``driftdeck.yaml``; globs."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backends.demo import build_demo
from backends.demo.snapshots import CHANGES_0108, CHANGES_0815
from backends.errors import ForbiddenError, MalformedError, NotFoundError
from backends.local import LocalSource
from backends.snapshots.globs import match_glob
from backends.snapshots.models import DiffSummary, EntryDiff, SnapshotRules
from backends.snapshots.rules import CompiledRules, merge_rules, rules_from_config, yaml_key_locator
from tests.conftest import tree_fingerprint


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("snapdemo") / "ws"
    build_demo(root, seed=7)
    return root


def collect(source: LocalSource, a: str, b: str, rules: SnapshotRules | None = None, unchanged: bool = True):
    async def go():
        entries, summary = [], None
        async for item in source.diff_snapshots(a, b, rules, unchanged=unchanged):
            if isinstance(item, EntryDiff):
                entries.append(item)
            elif isinstance(item, DiffSummary):
                summary = item
        return entries, summary

    return asyncio.run(go())


def expected_paths(changes: dict[str, str]) -> set[str]:
    return {key.split(" -> ")[-1] for key in changes}


def test_demo_0108_shows_every_kind_of_difference(demo: Path) -> None:
    before = tree_fingerprint(demo)
    source = LocalSource(str(demo))
    entries, summary = collect(source, "baseline-2026-11-01", "candidate-2026-11-08", unchanged=False)
    by_path = {e.path: e for e in entries}
    assert set(by_path) == expected_paths(CHANGES_0108)
    assert by_path["notes/ops/runbook.md"].category == "renamed"
    assert by_path["notes/ops/runbook.md"].old_path == "notes/runbook.md"
    assert by_path["blobs/feature-index.bin"].category == "binary_changed"
    assert by_path["notes/oncall.txt"].label == "whitespace-only"
    assert by_path["notes/hosts.txt"].label == "line-endings-only"
    assert summary.a == "history/snapshots/baseline-2026-11-01"
    assert summary.groups == {"other": 8, "rule drift": 3, "telemetry": 1, "validator": 3}
    assert tree_fingerprint(demo) == before


def test_demo_0815_and_rules_from_flags(demo: Path) -> None:
    source = LocalSource(str(demo))
    entries, summary = collect(source, "candidate-2026-11-08", "candidate-2026-11-15", unchanged=False)
    assert {e.path for e in entries} == expected_paths(CHANGES_0815)
    rules = SnapshotRules(exclude_fields=("attrs.retries",), ignore_paths=("notes/**",))
    entries, summary = collect(source, "candidate-2026-11-08", "candidate-2026-11-15", rules, unchanged=False)
    same = {e.path: e.rule for e in entries if e.same_after_rules}
    assert same == {
        "telemetry/spans-score.jsonl": "exclude attrs.retries",
        "notes/known-issues.md": "ignore path notes/**",
        "notes/postmortem-2026-11-13.md": "ignore path notes/**",
    }
    assert summary.differences == 4 and summary.same_after_rules == 3


def test_diff_entry_structured_and_side_by_side(demo: Path) -> None:
    source = LocalSource(str(demo))
    content = asyncio.run(source.diff_entry("candidate-2026-11-08", "candidate-2026-11-15", "telemetry/spans-score.jsonl"))
    assert content.mode == "structured" and content.records == (120, 120, 1)
    assert [(f.kind, f.path.split(" › ")[1], f.new) for f in content.fields] == [("added", "attrs.retries", "2")]
    side = asyncio.run(source.diff_entry("baseline-2026-11-01", "candidate-2026-11-08", "notes/ops/runbook.md",
                                         mode="side", old_path="notes/runbook.md"))
    assert side.mode == "side" and side.rows == () and "identical" in side.notes
    text = asyncio.run(source.diff_file("history/snapshots/baseline-2026-11-01/notes/known-issues.md",
                                        "history/snapshots/candidate-2026-11-08/notes/known-issues.md"))
    assert "+- KI-007: ledger schema 3.4 adds merchant_mcc" in text


def test_names_paths_and_refusals(demo: Path) -> None:
    source = LocalSource(str(demo))
    assert asyncio.run(source.snapshot_path("history/snapshots/baseline-2026-11-01/")) == "history/snapshots/baseline-2026-11-01"
    assert asyncio.run(source.snapshot_path("runs")) == "runs"
    with pytest.raises(NotFoundError, match="snapshots: baseline-2026-11-01, candidate"):
        asyncio.run(source.snapshot_path("nope"))
    with pytest.raises(ForbiddenError):
        asyncio.run(source.snapshot_path("../.."))
    with pytest.raises(ForbiddenError):
        asyncio.run(source.diff_entry("baseline-2026-11-01", "candidate-2026-11-08", "../../../etc/passwd"))
    with pytest.raises(NotFoundError, match="in neither"):
        asyncio.run(source.diff_entry("baseline-2026-11-01", "candidate-2026-11-08", "no/such.txt"))
    info = asyncio.run(source.describe())
    assert "snapshots" in info.capabilities


def test_rules_come_from_driftdeck_yaml(demo: Path, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    shutil.copytree(demo / "history", root / "history")
    (root / "driftdeck.yaml").write_text(
        "layout:\n  snapshots: history/snapshots/*\n"
        "snapshots:\n"
        "  ignore_lines: ['^\\S+Z ']\n"
        "  exclude_fields: [duration_ms, status]\n"
        "  groups:\n    'notes/**': notes\n"
    )
    source = LocalSource(str(root))
    rules = asyncio.run(source.snapshot_rules())
    assert rules.ignore_lines == (r"^\S+Z ",) and rules.groups == (("notes/**", "notes"),)
    entries, summary = collect(source, "baseline-2026-11-01", "candidate-2026-11-08", unchanged=False)
    same = {e.path for e in entries if e.same_after_rules}
    assert same == {"notes/timeline.log", "telemetry/spans-ingest.jsonl"}
    assert summary.groups["notes"] == 6


@pytest.mark.parametrize(("body", "line", "message"), [
    ("snapshots:\n  ignore_paths: [1]\n", 2, "snapshots.ignore_paths must be a string or a list"),
    ("snapshots:\n  colour: red\n", 2, "unknown snapshots key 'colour'"),
    ("snapshots:\n  tolerance: -1\n", 2, "snapshots.tolerance must be a number >= 0"),
    ("snapshots:\n  ignore_order: yes please\n", 2, "snapshots.ignore_order must be true or false"),
    ("layout: {}\nsnapshots:\n  ignore_lines: ['(']\n", 3, "invalid regex '('"),
    ("snapshots:\n  groups: [a]\n", 2, "snapshots.groups must map path globs"),
    ("snapshots: 3\n", 1, "`snapshots` must be a mapping"),
    ("snapshots:\n  ignore_paths: ['../x']\n", 2, "must stay inside the snapshot"),
])
def test_bad_config_names_file_and_line(tmp_path: Path, body: str, line: int, message: str) -> None:
    (tmp_path / "driftdeck.yaml").write_text(body)
    source = LocalSource(str(tmp_path))
    with pytest.raises(MalformedError) as info:
        asyncio.run(source.snapshot_rules())
    assert info.value.path == "driftdeck.yaml" and info.value.line == line
    assert message in str(info.value)


def test_merge_rules_from_flags_extends_and_overrides() -> None:
    base = SnapshotRules(ignore_paths=("a",), tolerance=0.1)
    merged = merge_rules(base, ignore_paths=("b",), tolerance=0.5, ignore_order=True, keys=("trace_id",))
    assert merged.ignore_paths == ("a", "b") and merged.tolerance == 0.5 and merged.ignore_order
    assert merged.keys == ("trace_id",)
    with pytest.raises(MalformedError, match="command line: invalid regex"):
        merge_rules(base, ignore_lines=("[",))
    assert SnapshotRules.from_json(orjson.loads(orjson.dumps(merged.to_json()))) == merged


def test_field_paths_and_globs() -> None:
    rules = CompiledRules(SnapshotRules(exclude_fields=("a.*.c", "**.ts", "list[0]")))
    assert rules.excluded(("a", "b", "c")) and rules.excluded(("a", 0, "c"))
    assert rules.excluded(("ts",)) and rules.excluded(("x", "y", "ts"))
    assert rules.excluded(("list", 0)) and not rules.excluded(("list", 1))
    assert not rules.excluded(("a", "b")) and not rules.excluded(("a", "b", "c", "d"))
    assert match_glob("rules/**", "rules/x/y.yaml") and not match_glob("rules/**", "rulesx/y")
    assert match_glob("*.log", "deep/dir/t.log") and match_glob("notes", "notes/a/b")
    assert match_glob("a/[!x]?.txt", "a/by.txt") and not match_glob("a/[!x]?.txt", "a/xy.txt")


def test_yaml_key_locator_finds_lines() -> None:
    locate = yaml_key_locator("layout:\n  runs: x\nsnapshots:\n  keys: [id]\n  tolerance: 1\n")
    assert locate("snapshots") == 3 and locate("keys") == 4 and locate("tolerance") == 5
    assert yaml_key_locator("{{{")("x") is None


@settings(max_examples=80, deadline=None)
@given(section=st.dictionaries(st.sampled_from(["ignore_paths", "ignore_lines", "tolerance", "groups", "keys",
                                                "ignore_order", "bogus", "structured_max_bytes"]),
                               st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
                                         st.lists(st.text(max_size=4), max_size=3),
                                         st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2))))
def test_config_parser_never_crashes(section: dict) -> None:
    try:
        rules = rules_from_config({"snapshots": section})
    except MalformedError as exc:
        assert str(exc).startswith("driftdeck.yaml")
    else:
        assert isinstance(rules, SnapshotRules)


@settings(max_examples=80, deadline=None)
@given(glob=st.text(alphabet="ab*?[]!/.\\", max_size=10), path=st.text(alphabet="ab/.", max_size=10))
def test_globs_never_crash(glob: str, path: str) -> None:
    assert match_glob(glob, path) in (True, False)


def test_where_a_symlink_out_of_the_root_points_is_never_said(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "ws"
    a = root / "history" / "snapshots" / "a"
    b = root / "history" / "snapshots" / "b"
    a.mkdir(parents=True)
    b.mkdir(parents=True)
    (a / "moved").symlink_to("/etc/passwd")
    (b / "moved").symlink_to(outside)
    (b / "passwd").symlink_to("/etc/passwd")
    (b / "climb").symlink_to("../../../..")
    (b / "inside").symlink_to("../a")
    source = LocalSource(str(root))
    entries, _ = collect(source, "a", "b")
    targets = {e.path: (e.target_a, e.target_b) for e in entries}
    hidden = "(outside the source root)"
    assert targets == {"moved": (hidden, hidden), "passwd": (None, hidden), "climb": (None, hidden), "inside": (None, "../a")}
    content = asyncio.run(source.diff_entry("a", "b", "passwd"))
    assert content.notes == ("baseline: absent", f"candidate: symlink -> {hidden}")
    assert "/etc/passwd" not in repr(entries) + repr(content) and str(outside) not in repr(entries)
    assert asyncio.run(source.diff_entry("a", "b", "inside")).notes[1] == "candidate: symlink -> ../a"
