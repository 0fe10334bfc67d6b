"""The click-free fast path (``tui.cli.fast``) against click, the reference parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.cli.conftest import driftdeck_command
from tui.cli.checksums_verify import VerifyOptions
from tui.cli.click_options import options_from_click
from tui.cli.fast import FAST, parse
from tui.cli.group import cli
from tui.cli.options import ARGUMENT, FLAG, MULTIPLE, AtLeast, IntRange, Options, Spec
from tui.cli.snapshots_diff import DiffOptions

CLASSES: dict[tuple[str, str], type[Options]] = {("checksums", "verify"): VerifyOptions, ("snapshots", "diff"): DiffOptions}


def click_command(path: tuple[str, str]) -> click.Command:
    group = cli.get_command(click.Context(cli), path[0])
    assert isinstance(group, click.Group)
    command = group.get_command(click.Context(group), path[1])
    assert command is not None
    return command


def click_parse(path: tuple[str, str], argv: list[str]) -> Options | None:
    """What the click command hands its runner for ``argv``, or ``None`` when click refuses it (or shows help)."""
    try:
        context = click_command(path).make_context("driftdeck", list(argv))
    except (click.ClickException, click.exceptions.Exit):
        return None
    try:
        return options_from_click(CLASSES[path], context.params)
    except click.ClickException:
        return None


def test_every_fast_command_has_its_options_class() -> None:
    import importlib

    for path, (module, name, runner) in FAST.items():
        loaded = importlib.import_module(module)
        assert getattr(loaded, name) is CLASSES[path] and callable(getattr(loaded, runner))


words = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=6)
plain_words = words.filter(lambda w: not w.startswith("-"))


def valid_text(spec: Spec) -> st.SearchStrategy[str]:
    if isinstance(spec.type, IntRange):
        return st.integers(spec.type.low, spec.type.high).map(str)
    if isinstance(spec.type, AtLeast):
        return st.floats(min_value=spec.type.low, allow_nan=False).map(repr)
    return words


def invalid_text(spec: Spec) -> st.SearchStrategy[str]:
    if isinstance(spec.type, IntRange):
        return st.one_of(st.integers().filter(lambda n: not spec.type.low <= n <= spec.type.high).map(str),  # type: ignore[union-attr]
                         st.sampled_from(["x", "", "1.5", "0x10"]))
    if isinstance(spec.type, AtLeast):
        return st.one_of(st.floats(max_value=spec.type.low, exclude_max=True).map(repr), st.sampled_from(["x", "", "1e"]))
    return words


def occurrence(spec: Spec, text: st.SearchStrategy[str]) -> st.SearchStrategy[list[str]]:
    """One use of an option: a flag, ``--name VALUE`` or ``--name=VALUE``."""
    name = st.sampled_from(spec.names)
    if spec.kind == FLAG:
        return name.map(lambda n: [n])
    long = [n for n in spec.names if n.startswith("--")]
    separate = st.tuples(name, text).map(list)
    inline = st.tuples(st.sampled_from(long), text).map(lambda p: [f"{p[0]}={p[1]}"])
    return st.one_of(separate, inline)


@st.composite
def argv(draw: st.DrawFn, cls: type[Options], plain: bool) -> list[str]:
    """A command line for ``cls`` drawn from its declaration.

    ``plain``: only what the fast path takes (valid values, no option only
    click may parse); otherwise also invalid values, click-only options,
    unknown options, help, bundled flags, a missing value, any number of
    positional arguments.
    """
    groups: list[list[str]] = []
    options = [s for s in cls.SPECS if s.kind != ARGUMENT and (not plain or not s.click_only)]
    for spec in options:
        count = draw(st.integers(0, 3 if spec.kind == MULTIPLE else 1))
        for _ in range(count):
            bad = not plain and draw(st.booleans()) and spec.kind != FLAG
            groups.append(draw(occurrence(spec, invalid_text(spec) if bad else valid_text(spec))))
    arguments = [s for s in cls.SPECS if s.kind == ARGUMENT]
    count = draw(st.integers(0, 3)) if not plain or arguments[0].nargs == -1 else len(arguments)
    if not plain:
        groups.extend(draw(st.lists(st.sampled_from(
            [["--help"], ["-h"], ["-wq"], ["--json=1"], ["--nope"], ["-x"], ["--junit"], ["--source"]]), max_size=2)))
    positional = draw(st.lists(plain_words, min_size=count, max_size=count))
    groups = draw(st.permutations(groups))
    line: list[str] = []
    for group in groups:  # the positionals go between the options, in their order
        line.extend(group)
        if positional and draw(st.booleans()):
            line.append(positional.pop(0))
    if positional and draw(st.booleans()):
        line.append("--")
    line.extend(positional)
    return line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # timing only: CI machines stall
@given(st.data())
def test_the_fast_parser_and_click_give_the_same_options(data: st.DataObject) -> None:
    """Plain command lines, drawn from each declaration: the fast path takes them and builds what click builds."""
    path = data.draw(st.sampled_from(sorted(FAST)))
    line = data.draw(argv(CLASSES[path], plain=True))
    fast = parse(CLASSES[path], line)
    assert fast is not None
    assert fast == click_parse(path, line)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])  # timing only: CI machines stall
@given(st.data())
def test_the_fast_parser_leaves_to_click_what_it_would_parse_differently(data: st.DataObject) -> None:
    """Any command line: the fast path either builds what click builds or hands the line to click."""
    path = data.draw(st.sampled_from(sorted(FAST)))
    line = data.draw(argv(CLASSES[path], plain=False))
    fast = parse(CLASSES[path], line)
    if fast is not None:
        assert fast == click_parse(path, line)


def test_parse_takes_plain_arguments_and_leaves_the_rest_to_click() -> None:
    got = parse(VerifyOptions, ["a", "--source=ws", "--exclude", "x", "--exclude", "y", "--workers", "3", "--", "--json"])
    assert isinstance(got, VerifyOptions)
    assert got.manifests == ("a", "--json") and got.source == "ws"
    assert got.exclude == ("x", "y") and got.workers == 3 and got.as_json is False
    for args in (["--help"], ["-h"], ["--workers", "0"], ["--workers", "x"], ["--source"], ["-sws"], ["--json=1"], ["--nope"],
                 ["--junit", "r.xml"]):
        assert parse(VerifyOptions, args) is None, args
    assert parse(DiffOptions, ["a"]) is None and parse(DiffOptions, ["a", "b", "c"]) is None
    assert parse(DiffOptions, ["a", "b", "--tolerance", "-1"]) is None  # click words "must be >= 0"
    assert parse(DiffOptions, ["a", "b", "-o", "r.md"]) is None  # click checks the path is writable


def test_options_are_frozen_records() -> None:
    options = DiffOptions(a="x", b="y", keys=("id",))
    assert options == DiffOptions(a="x", b="y", keys=("id",)) and options != DiffOptions(a="x", b="z", keys=("id",))
    assert options.context == 3 and options.ignore_order is None and options.apply is True
    with pytest.raises(AttributeError):
        options.a = "z"  # type: ignore[misc]
    with pytest.raises(TypeError, match="b is required"):
        DiffOptions(a="x")
    with pytest.raises(TypeError, match="unknown options nope"):
        VerifyOptions(nope=1)


def strip(text: str) -> list:
    """Output lines without the time each run took."""
    out: list = []
    if text.startswith("{\n"):  # one indented document
        body = json.loads(text)
        body.get("summary", {}).pop("elapsed", None)
        return [body]
    for line in text.splitlines():
        if line.startswith("{"):
            body = json.loads(line)
            body.pop("elapsed", None)
            out.append(body)
        else:
            out.append(line.split("; ")[0] if "hashed in" in line else line)
    return out


def run(args: list[str], cwd: Path, *, fast: bool) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "DRIFTDECK_NO_FAST_PATH"}
    if not fast:
        env["DRIFTDECK_NO_FAST_PATH"] = "1"
    return subprocess.run([*driftdeck_command(), *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from backends.demo import build_demo

    root = tmp_path_factory.mktemp("fast-path") / "workspace"
    build_demo(root, seed=7)
    return root


@pytest.mark.parametrize(
    "args",
    [
        ["checksums", "verify", "--source", "{root}"],
        ["checksums", "verify", "-s", "{root}", "--json", "--no-new"],
        ["checksums", "verify", "-s", "{root}", "fixtures/golden/SHA256SUMS", "--exclude", "*.tmp", "--top-only"],
        ["checksums", "verify", "-s", "{root}", "no/such/SHA256SUMS"],
        ["checksums", "verify", "-s", "{root}", "--workers", "0"],
        ["snapshots", "diff", "baseline-2026-11-01", "candidate-2026-11-08", "-s", "{root}"],
        ["snapshots", "diff", "baseline-2026-11-01", "candidate-2026-11-15", "-s", "{root}", "-q", "--all", "--json"],
        ["snapshots", "diff", "baseline-2026-11-01", "candidate-2026-11-08", "-s", "{root}", "--ignore-path", "rules/**",
         "--ignore-line", "ts=\\d+", "--exclude-field", "meta.*", "--tolerance", "0.5", "-w", "--ignore-eol", "-U", "1"],
        ["snapshots", "diff", "baseline-2026-11-01", "nope", "-s", "{root}"],
        ["snapshots", "diff", "baseline-2026-11-01", "candidate-2026-11-08", "-s", "{root}", "--tolerance", "-1"],
        ["snapshots", "diff", "baseline-2026-11-01", "-s", "{root}"],
    ],
    ids=["all", "json", "one", "missing", "bad-workers", "snap", "snap-json", "snap-rules", "snap-missing",
         "snap-bad-tolerance", "snap-one-argument"],
)
def test_fast_path_prints_what_click_prints(demo: Path, args: list[str]) -> None:
    args = [a.replace("{root}", str(demo)) for a in args]
    fast, slow = run(args, demo, fast=True), run(args, demo, fast=False)
    assert (fast.returncode, strip(fast.stdout), fast.stderr) == (slow.returncode, strip(slow.stdout), slow.stderr)


def test_fast_path_imports_no_click(demo: Path) -> None:
    code = (
        "import sys; from tui.cli import main\n"
        "try:\n    main(['checksums', 'verify', '-s', sys.argv[1], 'fixtures/bsd/SHA256SUMS'])\n"
        "except SystemExit as exc:\n    code = exc.code\n"
        "print(code, 'click' in sys.modules, 'asyncio' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code, str(demo)], capture_output=True, text=True)
    assert result.stdout.strip().splitlines()[-1] == "0 False False", result.stderr


def test_merge_rules_takes_the_diff_options_as_they_are() -> None:
    from backends.snapshots.models import SnapshotRules
    from backends.snapshots.rules import merge_rules

    base = SnapshotRules(ignore_paths=("a/**",), tolerance=0.25, keys=("k",), ignore_eol=True)
    options = DiffOptions(a="x", b="y", ignore_paths=("b/**",), exclude_fields=("ts",), ignore_order=True, no_rules=True)
    merged = merge_rules(base, options)
    assert merged.ignore_paths == ("a/**", "b/**") and merged.exclude_fields == ("ts",)
    assert merged.tolerance == 0.25 and merged.keys == ("k",) and merged.ignore_eol is True  # not given: as configured
    assert merged.ignore_order is True and merged.apply is False
    assert merge_rules(base, DiffOptions(a="x", b="y", keys=("id",), tolerance=0.0)).keys == ("id",)  # keys replace
    assert merge_rules(base, DiffOptions(a="x", b="y", tolerance=0.0)).tolerance == 0.0
