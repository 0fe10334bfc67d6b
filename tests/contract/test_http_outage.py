"""The TUI on a remote source through an outage (issue: "serve and the HTTP client under attack", finding 11).

Against a real ``driftdeck serve`` process killed and restarted on the same
port, and behind a relay whose link is cut and restored: the connection
state is in the header badge, once; what failed is said in place in each
pane, with at most one notification per outage; the Live pane does not say
``following`` while offline, shows a gap notice when the server restarted,
and shows the events the server held for it after a cut.
"""

from __future__ import annotations

import re
from pathlib import Path

from textual.pilot import Pilot

from backends.demo import build_demo
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource
from tests.contract.conftest import ServeProcess
from tests.contract.relay import Relay
from tests.tui.conftest import screen_text, wait_for_runs, wait_until
from tui.app import DriftdeckApp

TOAST_TITLE = "Source unreachable"


def flat(pilot: Pilot) -> str:
    """The screen's text with every run of white space (line ends included) as one space."""
    return " ".join(screen_text(pilot).split())


def header(pilot: Pilot) -> str:
    return screen_text(pilot).splitlines()[0]


def badges(pilot: Pilot) -> list[str]:
    """The connection badges on the header line (``● connected``, ``● retrying in 2s`` ...)."""
    return re.findall(r"● (connected|connecting|retrying in \d+s|reconnecting|offline)", header(pilot))


async def show_live_and_wait_connected(pilot: Pilot) -> None:
    await pilot.press("2")
    await wait_until(pilot, lambda: badges(pilot) == ["connected"] and "· following" in screen_text(pilot), "a connected live pane")


def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    build_demo(root, seed=7)
    (root / "live").mkdir()
    return root


async def test_a_killed_server_is_one_badge_one_toast_and_says_in_place_what_failed(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    server = ServeProcess(root).start()
    app = DriftdeckApp(HttpSource(server.url, retries=1, backoff=0.05), source_label="remote", cursor_blink=False)
    try:
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for_runs(pilot)
            await show_live_and_wait_connected(pilot)
            server.kill()
            await wait_until(pilot, lambda: "following" not in screen_text(pilot), "the live pane to stop saying following", tries=800)
            assert re.search(r"· offline( · (retrying in \d+s|reconnecting))?\n", screen_text(pilot) + "\n") or "· offline" in screen_text(pilot)
            # Every other pane asks the dead server for something.
            for key in ("3", "4", "5"):
                await pilot.press(key)
                await pilot.press("R")
                await wait_until(pilot, lambda: "⚠ not loaded" in screen_text(pilot), f"pane {key} to say what failed", tries=800)
                assert "⚠ not loaded (loads again once the source is back): http://127.0.0.1:" in flat(pilot)
                assert "unreachable after 2 attempts (All connection attempts failed)" in flat(pilot)
            await pilot.press("1")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "⚠ not loaded" in screen_text(pilot), "the run detail to say what failed", tries=800)
            text = screen_text(pilot)
            assert text.count(TOAST_TITLE) <= 1
            assert len(badges(pilot)) == 1 and badges(pilot)[0] != "connected", header(pilot)
            await pilot.press("escape")

            server.start()
            await wait_until(pilot, lambda: badges(pilot) == ["connected"], "the badge to say connected", tries=1200)
            await pilot.press("2")
            restarted = "⚠ reconnected — the server restarted: events during the outage were not seen"
            await wait_until(pilot, lambda: restarted in screen_text(pilot), "the gap notice", tries=1200)
            # The restarted server starts watching when the client resubscribes: write until it sees.
            for index in range(40):
                (root / "live" / f"after-restart-{index}.txt").write_text("x")
                await pilot.pause(0.25)
                if "live/after-restart-" in screen_text(pilot):
                    break
            assert "live/after-restart-" in screen_text(pilot)
            assert "· following" in screen_text(pilot)
            for key in ("3", "4", "5"):
                await pilot.press(key)
                await wait_until(pilot, lambda: "⚠ not loaded" not in screen_text(pilot), f"pane {key} to load again", tries=800)
            await wait_until(pilot, lambda: "fixtures/bsd/SHA256SUMS · OK" in screen_text(pilot), "the manifests verified again", tries=800)
    finally:
        server.kill()
    assert sum(1 for n in app._notifications if n.title == TOAST_TITLE) <= 1


async def test_events_a_running_server_held_during_a_cut_arrive_after_it(tmp_path: Path) -> None:
    root = workspace(tmp_path)
    server = ServeProcess(root).start()
    try:
        with Relay(server.port) as relay:
            app = DriftdeckApp(HttpSource(relay.url, retries=1, backoff=0.05), source_label="remote", cursor_blink=False)
            async with app.run_test(size=(140, 40)) as pilot:
                await wait_for_runs(pilot)
                await show_live_and_wait_connected(pilot)
                (root / "live" / "before-cut.txt").write_text("x")
                await wait_until(pilot, lambda: "live/before-cut.txt" in screen_text(pilot), "an event before the cut")
                relay.cut()
                await wait_until(pilot, lambda: "· offline" in screen_text(pilot), "the live pane to say offline", tries=800)
                for index in range(3):
                    (root / "live" / f"during-cut-{index}.txt").write_text("x")
                await pilot.pause(0.5)
                assert "during-cut" not in screen_text(pilot)
                relay.restore()
                await wait_until(pilot, lambda: "live/during-cut-2.txt" in screen_text(pilot), "the events held by the server", tries=1200)
                text = screen_text(pilot)
                assert all(f"live/during-cut-{index}.txt" in text for index in range(3))
                assert "may have been missed" not in text and "restarted" not in text  # nothing was lost: no gap notice
                await wait_until(pilot, lambda: badges(pilot) == ["connected"], "the badge to say connected")
                assert "· following" in screen_text(pilot)
    finally:
        server.kill()


async def test_events_that_left_the_servers_buffer_during_a_cut_are_a_gap_notice(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import backends.http.live

    monkeypatch.setattr(backends.http.live, "BUFFER_EVENTS", 6)  # the server keeps 6 events for clients that come back
    root = workspace(tmp_path)
    with BackgroundServer(create_app(LocalSource(str(root)))) as server, Relay(int(server.url.rsplit(":", 1)[1])) as relay:
        app = DriftdeckApp(HttpSource(relay.url, retries=1, backoff=0.05), source_label="remote", cursor_blink=False)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for_runs(pilot)
            await show_live_and_wait_connected(pilot)
            relay.cut()
            await wait_until(pilot, lambda: "· offline" in screen_text(pilot), "the live pane to say offline", tries=800)
            for index in range(10):  # 30 events (created, modified, closed): 24 leave the buffer
                (root / "live" / f"during-cut-{index}.txt").write_text("x")
            await pilot.pause(0.5)
            relay.restore()
            notice = "⚠ reconnected: 24 events may have been missed while offline (events left the server's buffer while disconnected)"
            await wait_until(pilot, lambda: notice in flat(pilot), "the gap notice", tries=1200)
            await wait_until(pilot, lambda: "live/during-cut-9.txt" in screen_text(pilot), "what the buffer still held")
            assert "live/during-cut-0.txt" not in screen_text(pilot)


async def test_a_request_that_keeps_failing_while_others_succeed_is_retried_calmly(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import tui.app

    monkeypatch.setattr(tui.app, "OUTAGE_SETTLE", 1.0)
    root = workspace(tmp_path)
    hits = []
    inner = create_app(LocalSource(str(root)))

    async def failing_manifests(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"] == "/api/v1/manifests":
            hits.append(scope["path"])
            await send({"type": "http.response.start", "status": 503, "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await inner(scope, receive, send)

    with BackgroundServer(failing_manifests) as server:
        app = DriftdeckApp(HttpSource(server.url, retries=1, backoff=0.05), source_label="remote", cursor_blink=False)
        async with app.run_test(size=(140, 40)) as pilot:
            await wait_for_runs(pilot)
            await pilot.press("5")
            await wait_until(pilot, lambda: "⚠ not loaded" in screen_text(pilot), "the checksums pane to say what failed")
            assert "HTTP 503" in flat(pilot)
            await pilot.pause(4.0)
            await wait_until(pilot, lambda: "⚠ not loaded" in screen_text(pilot), "the line to stay (it goes only while retrying)")
    assert sum(1 for n in app._notifications if n.title == TOAST_TITLE) == 1
    assert len(hits) <= 2 * 6  # two attempts a retry, a retry a second at most (not a storm)
