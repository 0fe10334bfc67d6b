"""``driftdeck serve`` through a real subprocess: how it fails before it binds."""

from __future__ import annotations

import os
from pathlib import Path


def test_serve_on_a_workspace_it_cannot_open_fails_in_one_line_without_claiming_to_serve(run_cli, tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "driftdeck.yaml")  # read with O_NONBLOCK: refused at once, never waited on
    result = run_cli("serve", str(tmp_path), "--port", "0")
    assert result.returncode == 2
    assert result.stderr.splitlines() == ["driftdeck: driftdeck.yaml: cannot read: a FIFO, not a regular file"]
