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
