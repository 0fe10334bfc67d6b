"""``driftdeck serve`` under attack: what is actually opened stays inside the root and is a regular file.

Each case failed before the fix it names (issue: "serve and the HTTP client under attack").
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Iterator

import httpx
import orjson
import pytest

from backends.errors import ForbiddenError, UnreadableError
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource
from tests.conftest import tree_fingerprint

TOKEN = "attack-token-for-tests"
AUTH = {"authorization": f"Bearer {TOKEN}"}
SECRET = "TOP-SECRET-OUTSIDE-THE-ROOT"


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.mktemp("attack")
    root = base / "ws"
    (root / "hostile").mkdir(parents=True)
    (root / "hostile" / "self").symlink_to(".")  # a link to its own directory
    (root / "out").symlink_to(base)  # a link to a directory outside
    (base / "secret.txt").write_text(f"{SECRET}\nsecond line\n")
    (root / "notes.txt").write_text("api-key=hunter2\nnothing like a checksum\n")
    for name, text in (("a", "x\n" + "a" * 40 + "\n"), ("b", "y\n" + "a" * 40 + "\n")):
        (root / "history" / "snapshots" / name).mkdir(parents=True)
        (root / "history" / "snapshots" / name / "x.txt").write_text(text)
        (root / "history" / "snapshots" / name / "y.txt").write_text(f"{name}\n" + "a" * 80 + "!\n")
    os.mkfifo(root / "pipe")
    os.mkfifo(root / "SHA256SUMS")  # a FIFO where a manifest is expected
    return root


@pytest.fixture(scope="module")
def attacked(hostile_root: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(LocalSource(str(hostile_root)), token=TOKEN)) as running:
        yield running


def get(server: BackgroundServer, route: str, **params: object) -> httpx.Response:
    return httpx.get(f"{server.url}{route}", params=params, headers=AUTH, timeout=20)  # type: ignore[arg-type]


def escape(selfs: int, ups: int, target: str) -> str:
    """``hostile/self/.../..``: with more ``self`` than ``..`` lexically inside, really ``ups - 1`` levels above the root."""
    return "hostile/" + "self/" * selfs + "../" * ups + target


CLIMBS = [
    escape(4, 2, "secret.txt"),
    escape(40, 40, "etc/passwd"),
    "out/secret.txt",
    "hostile/self/../out/secret.txt",
]


@pytest.mark.parametrize("path", CLIMBS)
def test_a_symlink_followed_by_dotdot_never_reads_outside(attacked: BackgroundServer, path: str) -> None:
    for endpoint, params in (
        ("/api/v1/checksums/verify", {"manifest": path}),
        ("/api/v1/files/range", {"path": path, "offset": 0, "length": 100}),
        ("/api/v1/artifact/preview", {"path": path}),
        ("/api/v1/wal/validate", {"path": path}),
    ):
        response = get(attacked, endpoint, **params)
        assert SECRET.encode() not in response.content, (endpoint, response.text[:300])
        assert b"root:x:0:0" not in response.content, (endpoint, response.text[:300])
        assert response.status_code in (200, 403, 404), (endpoint, response.status_code, response.text[:300])


@pytest.mark.parametrize("path", CLIMBS)
def test_the_local_source_refuses_the_same_climbs(hostile_root: Path, path: str) -> None:
    source = LocalSource(str(hostile_root))
    with pytest.raises(ForbiddenError, match="resolves outside the source root"):
        source._resolve(path)


def test_a_file_that_is_not_a_manifest_is_never_echoed(attacked: BackgroundServer) -> None:
    body = get(attacked, "/api/v1/checksums/verify", manifest="notes.txt").content
    assert b"hunter2" not in body and b"nothing like a checksum" not in body
    items = [orjson.loads(line).get("d") or {} for line in body.splitlines() if line.strip()]
    malformed = [i for i in items if i.get("category") == "malformed"]
    assert [m["line"] for m in malformed] == [1, 2]  # still reported, by number


def test_fifos_are_refused_at_once_and_never_pin_a_worker(attacked: BackgroundServer) -> None:
    results: list[int] = []

    def read_pipe() -> None:
        results.append(get(attacked, "/api/v1/files/range", path="pipe", offset=0, length=10).status_code)

    threads = [threading.Thread(target=read_pipe) for _ in range(12)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not any(t.is_alive() for t in threads), "a FIFO read is still blocked"
    assert results == [422] * 12 or set(results) <= {403, 404, 422}, results
    verify = get(attacked, "/api/v1/checksums/verify", manifest="SHA256SUMS").text
    assert "a FIFO, not a regular file" in verify
    assert get(attacked, "/api/v1/describe").status_code == 200  # the server still answers
    assert time.monotonic() - started < 30


def test_the_local_source_refuses_a_fifo_without_waiting(hostile_root: Path) -> None:
    with pytest.raises(UnreadableError, match="pipe: unreadable: a FIFO, not a regular file"):
        LocalSource(str(hostile_root))._open("pipe")


def test_nothing_was_written_under_the_root(hostile_root: Path, attacked: BackgroundServer) -> None:
    before = tree_fingerprint(hostile_root)
    for path in CLIMBS:
        get(attacked, "/api/v1/checksums/verify", manifest=path)
    assert tree_fingerprint(hostile_root) == before


def snap_rules(*patterns: str) -> str:
    return orjson.dumps({"t": "backends.snapshots.models:SnapshotRules", "d": {"ignore_lines": list(patterns)}}).decode()


def test_a_pathological_pattern_neither_freezes_the_server_nor_fails(attacked: BackgroundServer) -> None:
    # On a backtracking engine "(.+)+Z" against 40 "a"s runs for ages holding the GIL: every endpoint froze.
    answered: list[int] = []

    def other_client() -> None:
        time.sleep(0.2)
        answered.append(get(attacked, "/api/v1/describe").status_code)

    thread = threading.Thread(target=other_client)
    thread.start()
    response = get(attacked, "/api/v1/snapshots/entry", a="a", b="b", path="x.txt", rules=snap_rules("(.+)+Z"))
    thread.join(20)
    assert response.status_code == 200, response.text[:300]
    assert answered == [200]


@pytest.mark.parametrize(
    ("route", "params", "needle"),
    [
        ("/api/v1/snapshots/entry", {"a": "a", "b": "b", "path": "x.txt", "rules": snap_rules("(")}, "invalid regex"),
        ("/api/v1/snapshots/entry", {"a": "a", "b": "b", "path": "y.txt", "rules": snap_rules("(a|aa)+$")}, "took longer than"),
        ("/api/v1/snapshots/entry", {"a": "a", "b": "b", "path": "x.txt", "rules": '{"t": "backends.demo:build_demo", "d": {}}'}, "expected a tagged SnapshotRules"),
        ("/api/v1/snapshots/entry", {"a": "a", "b": "b", "path": "x.txt", "rules": '{"t": "backends.snapshots.models:SnapshotRules", "d": {"ignore_lines": 5}}'}, "invalid value"),
        ("/api/v1/snapshots/diff", {"a": "a", "b": "b", "rules": snap_rules("[")}, "invalid regex"),
        ("/api/v1/files/range", {"path": "notes.txt", "offset": 2**63, "length": 10}, "out of range"),
        ("/api/v1/run/events", {"run": "x", "cursor": "9" * 5000}, "longer than"),
        ("/api/v1/checksums/verify", {"manifest": "notes.txt", "scope": '{"t": "backends.snapshots.models:SnapshotRules", "d": {}}'}, "expected a tagged Scope"),
    ],
    ids=["unbalanced", "too-slow", "foreign-type", "wrong-field-type", "diff-pattern", "offset-2^63", "huge-cursor", "scope-of-wrong-type"],
)
def test_malformed_parameters_are_a_400_with_a_message(attacked: BackgroundServer, route: str, params: dict, needle: str) -> None:
    response = get(attacked, route, **params)
    assert response.status_code == 400, (response.status_code, response.text[:300])
    assert needle in response.json()["error"]["message"] + str(response.json()["error"].get("reason")), response.text[:300]
    assert "Traceback" not in response.text


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:80", "127.0.0.1.nip.io", "", "[::2]:1"])
def test_a_request_for_another_host_name_is_refused(attacked: BackgroundServer, host: str) -> None:
    # DNS rebinding: a page on attacker.example resolves its name to 127.0.0.1; the Host header still says so.
    response = httpx.get(f"{attacked.url}/api/v1/describe", headers={**AUTH, "host": host}, timeout=10)
    assert response.status_code == 421, response.text
    assert "Host" in response.json()["error"]["message"]


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost:1234", "LOCALHOST.", "[::1]:8765"])
def test_loopback_host_names_are_answered(attacked: BackgroundServer, host: str) -> None:
    assert httpx.get(f"{attacked.url}/api/v1/describe", headers={**AUTH, "host": host}, timeout=10).status_code == 200


def test_the_absolute_root_is_never_revealed(attacked: BackgroundServer, hostile_root: Path) -> None:
    bodies = [
        get(attacked, "/api/v1/describe").content,
        get(attacked, "/api/v1/run", run="no-such-run").content,
        get(attacked, "/api/v1/files/range", path="nope.txt", offset=0, length=1).content,
    ]
    for body in bodies:
        assert str(hostile_root).encode() not in body and os.path.realpath(hostile_root).encode() not in body, body[:300]
    assert get(attacked, "/api/v1/describe").json()["d"]["root"] == "ws"


def test_serve_refuses_a_short_token(tmp_path: Path) -> None:
    from backends.errors import ForbiddenError
    from backends.http.server import serve

    with pytest.raises(ForbiddenError, match="at least 16"):
        serve(str(tmp_path), token="x")


def test_serve_over_tls_with_a_self_signed_certificate(tmp_path: Path) -> None:
    import asyncio
    import shutil
    import socket
    import ssl
    import subprocess
    import sys

    from backends.errors import DriftdeckError
    from backends.http.client import HttpSource

    openssl = shutil.which("openssl")
    assert openssl, "openssl(1) generates the test certificate"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    (tmp_path / "ws").mkdir()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "SERVE_TOKEN": TOKEN}
    process = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "serve", str(tmp_path / "ws"), "--port", str(port), "--token-env", "SERVE_TOKEN",
         "--certfile", str(cert), "--keyfile", str(key)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=Path(__file__).resolve().parents[2],
    )
    url = f"https://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/api/v1/health", verify=ssl.create_default_context(cafile=cert), timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError("driftdeck serve --certfile did not come up")
        with pytest.raises(httpx.TransportError):  # plain HTTP to a TLS port is not answered as HTTP
            httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)

        async def describe(bundle: str | None) -> str:
            source = HttpSource(url, token=TOKEN, retries=0, ca_bundle=bundle)
            try:
                return (await source.describe()).kind
            finally:
                await source.aclose()

        assert asyncio.run(describe(str(cert))) == "local"
        with pytest.raises(DriftdeckError):  # an unknown certificate is refused, not silently trusted
            asyncio.run(describe(None))
    finally:
        process.terminate()
        process.wait(15)


def test_a_page_of_huge_wal_lines_is_bounded_in_bytes(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "runs" / "r1" / "wal").mkdir(parents=True)
    line = orjson.dumps({"v": 2, "id": 1, "ts_ms": 1, "run_id": "r1", "kind": "k", "payload": {"blob": "x" * (1 << 20)}})
    with open(root / "runs" / "r1" / "wal" / "record.jsonl", "wb") as handle:
        for _ in range(48):
            handle.write(line + b"\n")
    with BackgroundServer(create_app(LocalSource(str(root)), token=TOKEN)) as server:
        response = get(server, "/api/v1/wal/lines", path="runs/r1/wal/record.jsonl", start=1, count=48, max_chars=1 << 20)
    assert response.status_code == 200
    assert len(response.content) < 8 << 20, f"{len(response.content):,} bytes for one page"  # was ~50 MB (48 x 1 MiB)
    lines = orjson.loads(response.content)["d"]
    assert len(lines) == 48  # every line asked for is there, cut shorter


def test_distinct_watches_are_capped_and_shared_filters_share_one(tmp_path: Path) -> None:
    from backends.events.model import WatchFilter
    from backends.http import wire
    from backends.http.live import MAX_WATCHES

    root = tmp_path / "ws"
    root.mkdir()
    for i in range(MAX_WATCHES + 3):
        (root / f"d{i}").mkdir()
    statuses: list[int] = []
    with BackgroundServer(create_app(LocalSource(str(root)), token=TOKEN)) as server:
        with httpx.Client(headers=AUTH, timeout=20) as client:
            streams = []
            try:
                for i in range(MAX_WATCHES + 3):
                    filters = wire.tag_json(WatchFilter(include=(f"f{i}/*",)))
                    request = client.build_request(
                        "GET", f"{server.url}/api/v1/events/watch", params={"path": f"d{i}", "filters": orjson.dumps(filters).decode()}
                    )
                    response = client.send(request, stream=True)
                    statuses.append(response.status_code)
                    streams.append(response)
                    if response.status_code != 200:
                        assert "distinct watches" in response.read().decode()
                other = wire.tag_json(WatchFilter(include=("g/*",)))  # other globs on a watched path share its watch
                request = client.build_request(
                    "GET", f"{server.url}/api/v1/events/watch", params={"path": "d0", "filters": orjson.dumps(other).decode()}
                )
                shared = client.send(request, stream=True)
                streams.append(shared)
                assert shared.status_code == 200
            finally:
                for response in streams:
                    response.close()
    assert statuses == [200] * MAX_WATCHES + [503] * 3


async def test_concurrent_reaps_do_not_race(tmp_path: Path) -> None:
    import asyncio

    from backends.events.model import WatchFilter
    from backends.http.live import WatchHubs

    hubs = WatchHubs(LocalSource(str(tmp_path)))
    await hubs.hub("", WatchFilter())
    await hubs.hub("", WatchFilter(include=("x",)))
    await asyncio.gather(hubs.reap(everything=True), hubs.reap(everything=True), hubs.reap(everything=True))
    assert hubs.hubs == {}


def test_a_resumed_run_listing_goes_on_after_the_last_key_whatever_changed(tmp_path: Path) -> None:
    import shutil

    from backends.models import RunQuery

    root = tmp_path / "ws"
    for i in range(1, 11):
        run = root / "runs" / f"r{i:02d}"
        run.mkdir(parents=True)
        (run / "run_status.json").write_text(orjson.dumps({"run_id": f"r{i:02d}", "state": "READY"}).decode())
    query = orjson.dumps(RunQuery(states=frozenset()).to_json()).decode()

    def listing(server: BackgroundServer, after: str) -> list[str]:
        body = get(server, "/api/v1/runs/stream", query=query, after=after).content
        return [run["d"]["run_id"] for line in body.splitlines() if b'"t"' in line for run in orjson.loads(line)["d"]]

    with BackgroundServer(create_app(LocalSource(str(root)), token=TOKEN)) as server:
        assert listing(server, "runs/r03") == [f"r{i:02d}" for i in range(4, 11)]
        shutil.rmtree(root / "runs" / "r02")  # released while the client was away: a count-based skip now missed r04
        (root / "runs" / "r00").mkdir()  # and one added before the cursor: a skip would have repeated r03
        assert listing(server, "runs/r03") == [f"r{i:02d}" for i in range(4, 11)]


async def test_directory_listings_are_paged_and_the_client_gets_every_entry(tmp_path: Path) -> None:
    from backends.http.client import HttpSource
    from backends.http.operations import MAX_LIMIT

    root = tmp_path / "ws"
    (root / "big").mkdir(parents=True)
    for i in range(MAX_LIMIT + 7):
        (root / "big" / f"f{i:05d}").touch()
    with BackgroundServer(create_app(LocalSource(str(root)), token=TOKEN)) as server:
        raw = get(server, "/api/v1/files/list", path="big")
        assert len(orjson.loads(raw.content)["d"]) == MAX_LIMIT  # one bounded page per request
        source = HttpSource(server.url, token=TOKEN, retries=0)
        try:
            entries = await source.list_dir("big")
        finally:
            await source.aclose()
    assert [e.path for e in entries] == [f"big/f{i:05d}" for i in range(MAX_LIMIT + 7)]


def test_where_a_link_out_of_the_root_points_is_not_said(attacked: BackgroundServer, hostile_root: Path) -> None:
    stat = get(attacked, "/api/v1/files/stat", path="out").json()["d"]
    assert stat["kind"] == "symlink" and stat["target"] == "(outside the source root)"
    listed = {e["d"]["path"]: e["d"] for e in get(attacked, "/api/v1/files/list").json()["d"]}
    assert listed["out"]["target"] == "(outside the source root)"
    assert listed["hostile"]["kind"] == "dir"
    inner = get(attacked, "/api/v1/files/stat", path="hostile/self").json()["d"]
    assert inner["target"] == "."  # a link inside the root still says where it points


def test_sigterm_with_a_client_attached_ends_the_server_promptly(tmp_path: Path) -> None:
    import signal

    from tests.contract.conftest import ServeProcess

    (tmp_path / "ws").mkdir()
    serve = ServeProcess(tmp_path / "ws").start()
    assert serve.process is not None
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", f"{serve.url}/api/v1/events/watch") as stream:
            assert stream.status_code == 200
            serve.process.send_signal(signal.SIGTERM)
            try:
                serve.process.wait(20)  # was: "Waiting for connections to close" for over a minute
            except Exception:
                serve.kill()
                raise
    assert serve.process.returncode is not None


async def test_clients_differing_only_in_globs_share_one_watch_and_see_only_theirs(tmp_path: Path) -> None:
    import asyncio

    from backends.events.model import WatchFilter
    from backends.http.live import WatchHubs, client_view

    root = tmp_path / "ws"
    root.mkdir()
    hubs = WatchHubs(LocalSource(str(root)))
    try:
        subscribers = []
        for i in range(20):
            filters = WatchFilter(types=frozenset({"created"}), include=(f"f{i}.txt",))
            hub = await hubs.hub("", filters)
            subscribers.append(hub.subscribe(None, client_view("", filters)).__aiter__())
        assert len(hubs.hubs) == 1  # one watcher for twenty clients
        await asyncio.sleep(0.5)  # let the watch start
        for i in range(20):
            (root / f"f{i}.txt").write_text("x")

        async def first_change(stream) -> list[str]:  # type: ignore[no-untyped-def]
            while True:
                batch = await stream.__anext__()
                changes = [e.path for e in batch if not e.is_marker]
                if changes:
                    return changes

        seen = await asyncio.wait_for(asyncio.gather(*(first_change(s) for s in subscribers)), 30)
        assert seen == [[f"f{i}.txt"] for i in range(20)]
    finally:
        await hubs.reap(everything=True)
