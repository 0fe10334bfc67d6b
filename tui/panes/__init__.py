"""The five panes, one ``TabPane`` subclass per module."""

from tui.panes.checksums import ChecksumsPane
from tui.panes.live import LivePane
from tui.panes.runs import RunsPane
from tui.panes.snapshots import SnapshotsPane
from tui.panes.wal import WalPane

PANES = (RunsPane, LivePane, WalPane, SnapshotsPane, ChecksumsPane)
"""Pane classes in key order: pane ``n`` is ``PANES[n - 1]``."""

__all__ = ["PANES", "ChecksumsPane", "LivePane", "RunsPane", "SnapshotsPane", "WalPane"]
