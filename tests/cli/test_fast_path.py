"""The click-free fast path (``tui.cli.fast``) against click, the reference parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click
import pytest

from tests.cli.conftest import driftdeck_command
from tui.cli.fast import FAST, FLAG, MULTIPLE, VALUE, parse
from tui.cli.group import cli


def click_command(path: tuple[str, str]) -> click.Command:
    group = cli.get_command(click.Context(cli), path[0])
    assert isinstance(group, click.Group)
    command = group.get_command(click.Context(group), path[1])
    assert command is not None
    return command


@pytest.mark.parametrize("path", sorted(FAST), ids=" ".join)
def test_fast_options_mirror_the_click_declaration(path: tuple[str, str]) -> None:
    command = click_command(path)
    fast = FAST[path]
    declared = {}
    for param in command.params:
        if isinstance(param, click.Option) and param.name != "help":
            kind = FLAG if param.is_flag else MULTIPLE if param.multiple else VALUE
            declared[param.name] = (kind, set(param.opts))
    described = {}
    for option in fast.options.values():
        described[option.dest] = (option.kind, set(option.names))
    # Options the fast path leaves to click (they need click's own checks) are allowed to be absent.
    missing = set(declared) - set(described)
    assert missing <= set(fast.click_only), missing
    assert {name: declared[name] for name in described} == described
    arguments = [p.name for p in command.params if isinstance(p, click.Argument)]
    assert tuple(arguments) == fast.positional
    parsed = command.make_context("driftdeck", [], resilient_parsing=True).params
    assert {name: parsed[name] for name in fast.defaults} == fast.defaults


def test_parse_takes_plain_arguments_and_leaves_the_rest_to_click() -> None:
    verify = FAST[("checksums", "verify")]
    got = parse(verify, ["a", "--source=ws", "--exclude", "x", "--exclude", "y", "--workers", "3", "--", "--json"])
    assert got is not None
    assert got["manifests"] == ("a", "--json") and got["source"] == "ws"
    assert got["exclude"] == ("x", "y") and got["workers"] == 3 and got["as_json"] is False
    for args in (["--help"], ["-h"], ["--workers", "0"], ["--workers", "x"], ["--source"], ["-sws"], ["--json=1"], ["--nope"]):
        assert parse(verify, args) is None, args


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
