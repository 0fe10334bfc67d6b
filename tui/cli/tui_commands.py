"""``driftdeck [SOURCE]`` and ``driftdeck demo``: the commands that open the TUI."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tui.app import Stoppable
    from tui.goto import GotoTarget

THEME_OPTION = click.option(
    "--theme",
    default="driftdeck-dark",
    show_default=True,
    metavar="NAME",
    help="driftdeck-dark, driftdeck-light, driftdeck-high-contrast, or any Textual theme.",
)


GOTO_OPTION = click.option(
    "--goto",
    "goto",
    multiple=True,
    metavar="ITEM",
    help="Open on ITEM: run:ID, wal:RUN, line:N, path:P, manifest:M or snap:A..B; repeat to chain (--goto wal:RUN --goto line:42).",
)


def parse_gotos(items: tuple[str, ...]) -> list[GotoTarget]:
    """``--goto`` values as targets; a bad one is a usage error (exit 2) naming it."""
    from tui.goto import GotoError, parse_goto

    try:
        return [parse_goto(item) for item in items]
    except GotoError as exc:
        raise click.BadParameter(str(exc), param_hint="--goto") from None


def run_app(
    spec: str, theme: str, *, label: str | None = None, activity: Stoppable | None = None, goto: list[GotoTarget] | None = None
) -> int:
    """Open ``spec`` and run the TUI on it until the user quits."""
    from backends.local import LocalSource
    from backends.source import open_source

    source = open_source(spec)
    if isinstance(source, LocalSource):
        source.start_scan_early()  # the scan's first batch is ready while Textual imports and composes
    from tui.app import DriftdeckApp

    try:
        app = DriftdeckApp(source, source_label=label, theme=theme, activity=activity, goto=goto or ())
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--theme") from None
    app.run()
    return 0 if app.return_code in (None, 0) else 2


@click.command("open")
@click.argument("source", default=".", metavar="[SOURCE]")
@THEME_OPTION
@GOTO_OPTION
def open_command(source: str, theme: str, goto: tuple[str, ...]) -> int:
    """Open the TUI on SOURCE (a workspace path; default: the current directory)."""
    return run_app(source, theme, goto=parse_gotos(goto))


def default_demo_dir() -> Path:
    """Where ``driftdeck demo`` builds its workspace unless told otherwise."""
    return Path(tempfile.gettempdir()) / f"driftdeck-demo-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


@click.command("demo")
@click.option("--dir", "directory", type=click.Path(path_type=Path), default=None, help="Where to build the demo workspace (default: a per-user temporary directory).")
@click.option("--no-tui", is_flag=True, help="Only write the workspace, then exit.")
@click.option("--seed", default=7, show_default=True, help="Seed of the deterministic demo data.")
@THEME_OPTION
def demo_command(directory: Path | None, no_tui: bool, seed: int, theme: str) -> int:
    """Build the demo workspace and open the TUI on it, with live activity."""
    from backends.demo import ActivityWriter, build_demo

    root = directory or default_demo_dir()
    summary = build_demo(root, seed=seed)
    if no_tui:
        click.echo(
            f"demo workspace written to {root}: {summary.runs} runs ({summary.quarantined} quarantined), "
            f"{len(summary.wal_pairs)} WAL pairs, {len(summary.snapshots)} snapshots, {len(summary.manifests)} manifests"
        )
        return 0
    return run_app(str(root), theme, activity=ActivityWriter(root))
