"""The CLI and the TUI pointed at a real ``driftdeck serve`` behave as they do locally."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from backends.errors import MalformedError
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer
from tests.contract.conftest import TOKEN
from tests.tui.conftest import screen_text, wait_for_runs
from tui.app import DriftdeckApp


def cli(*args: str, token: str | None = TOKEN) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "driftdeck"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    env = {k: v for k, v in os.environ.items() if k != "DRIFTDECK_TOKEN"}
    if token:
        env["DRIFTDECK_TOKEN"] = token
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=120, env=env)


def test_quarantine_list_over_http_equals_local(server: BackgroundServer, contract_root: Path) -> None:
    remote = cli("quarantine", "list", "--json", "--source", server.url)
    local = cli("quarantine", "list", "--json", "--source", str(contract_root))
    assert remote.returncode == 0, remote.stderr
    assert remote.stdout == local.stdout
    header, *runs = [json.loads(line) for line in remote.stdout.splitlines()]
    assert header["type"] == "header" and len(runs) == 14


def test_cli_without_token_is_one_line_exit_2(server: BackgroundServer) -> None:
    result = cli("quarantine", "show", "run-20261104-0905-dd6511", "--source", server.url, token=None)
    assert result.returncode == 2
    assert result.stderr.strip() == f"driftdeck: {server.url}: missing or wrong bearer token"


async def test_tui_over_http_shows_runs_and_connection_state(server: BackgroundServer) -> None:
    app = DriftdeckApp(HttpSource(server.url, token=TOKEN), source_label="remote", cursor_blink=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for_runs(pilot)
        await pilot.pause(0.6)
        text = screen_text(pilot)
        assert "12 of 58 runs · QUARANTINED +2 unreadable" in text
        assert "● connected" in text
        await pilot.press("enter")
        await pilot.pause(0.6)
        assert "Record timeline:" in screen_text(pilot)


async def test_live_pane_over_http_shows_events_written_on_the_server(tmp_path: Path) -> None:
    from backends.http.server import create_app
    from backends.local import LocalSource

    (tmp_path / "live").mkdir()
    with BackgroundServer(create_app(LocalSource(str(tmp_path)))) as running:
        app = DriftdeckApp(HttpSource(running.url), source_label="remote", cursor_blink=False)
        async with app.run_test(size=(120, 36)) as pilot:
            await wait_for_runs(pilot)
            await pilot.press("2")
            await pilot.pause(1.0)
            for index in range(3):
                (tmp_path / "live" / f"remote-{index}.txt").write_text("x")
            for _ in range(100):
                await pilot.pause(0.05)
                if "live/remote-2.txt" in screen_text(pilot):
                    break
            text = screen_text(pilot)
            assert "live/remote-0.txt" in text and "live/remote-2.txt" in text
            assert "● connected" in text


async def test_an_answer_of_the_wrong_type_is_a_malformed_response(monkeypatch) -> None:
    source = HttpSource("http://127.0.0.1:9", retries=0)

    async def wrong(self, operation: str, /, **kwargs: object) -> object:
        return {"not": "a list"}

    monkeypatch.setattr(HttpSource, "_call", wrong)
    with pytest.raises(MalformedError, match=r"snapshots/path: expected str from the server, got dict"):
        await source.snapshot_path("baseline")
    with pytest.raises(MalformedError, match="expected list from the server, got dict"):
        await source.list_manifests()
