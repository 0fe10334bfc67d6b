"""``driftdeck snapshots diff``: compare two trace snapshots without the TUI.

The options (``DiffOptions``), the comparison and its report are in
``tui.cli.snapshots_diff`` (shared with the click-free fast path of
``tui.cli.fast``). Exit codes follow diff(1): 0 when no difference remains
after the rules, 1 when some do, 2 on a usage or input error (and when
entries could not be read: the report is still printed in full first).
"""

from __future__ import annotations

import click

from tui.cli.click_options import click_command
from tui.cli.snapshots_diff import DiffOptions, run_diff


@click.group()
def snapshots() -> None:
    """Trace snapshots: what differs between two trees of files."""


@snapshots.command("diff")
@click_command(DiffOptions)
def diff_command(options: DiffOptions) -> int:
    """Compare snapshot A (baseline) with snapshot B (candidate).

    A and B are snapshot names of the source, directories relative to its
    root, or any directories on disk.
    """
    return run_diff(options)
