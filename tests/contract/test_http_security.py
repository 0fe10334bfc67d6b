"""The HTTP server as an attacker and as curl see it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from backends.errors import AuthError, UnavailableError
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer
from backends.local import LocalSource
from tests.conftest import tree_fingerprint
from tests.contract.conftest import TOKEN, ServeProcess

AUTH = {"authorization": f"Bearer {TOKEN}"}


def get(server: BackgroundServer, path: str, headers: dict[str, str] | None = None, **kwargs) -> httpx.Response:
    return httpx.get(f"{server.url}{path}", headers=AUTH if headers is None else headers, timeout=10, **kwargs)


@pytest.mark.parametrize(
    "raw_path",
    [
        "/api/v1/files/range?path=../outside.txt&offset=0&length=5",
        "/api/v1/files/range?path=%2e%2e/outside.txt&offset=0&length=5",
        "/api/v1/files/range?path=%2e%2e%2foutside.txt&offset=0&length=5",
        "/api/v1/files/range?path=/etc/passwd&offset=0&length=5",
        "/api/v1/files/range?path=escape-link&offset=0&length=5",
        "/api/v1/files/list?path=..",
        "/api/v1/artifact/preview?path=../outside.txt",
    ],
)
def test_traversal_is_refused(server: BackgroundServer, raw_path: str) -> None:
    response = get(server, raw_path)
    assert response.status_code in (403, 404), response.text
    assert b"never served" not in response.content


def test_double_encoded_traversal_reads_nothing(server: BackgroundServer) -> None:
    response = get(server, "/api/v1/files/range?path=%252e%252e%252foutside.txt&offset=0&length=5")
    assert response.status_code == 404 and b"never served" not in response.content


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": "Bearer " + "x" * len(TOKEN)}, {"authorization": TOKEN}, {"authorization": "Basic " + TOKEN}],
    ids=["missing", "wrong", "same-length", "no-scheme", "basic"],
)
def test_bad_tokens_get_401_with_bearer_challenge(server: BackgroundServer, headers: dict[str, str]) -> None:
    response = get(server, "/api/v1/describe", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert get(server, "/api/v1/health", headers={}).status_code == 200


def test_writes_bodies_and_huge_queries_are_refused(server: BackgroundServer) -> None:
    assert httpx.post(f"{server.url}/api/v1/describe", headers=AUTH, content=b"x").status_code == 405
    assert httpx.request("GET", f"{server.url}/api/v1/describe", headers=AUTH, content=b"x" * 100).status_code == 413
    assert get(server, "/api/v1/run?run=" + "a" * 20000).status_code == 414
    assert get(server, "/api/v1/run/events?run=x&limit=999999").status_code == 400
    assert get(server, "/api/v1/files/range?path=README.txt&offset=0&length=999999999").status_code == 400
    assert get(server, "/api/v1/describe?bogus=1").status_code == 400


def test_openapi_lists_every_operation(server: BackgroundServer) -> None:
    spec = get(server, "/api/v1/openapi.json").json()
    assert "/api/v1/runs/stream" in spec["paths"] and "/api/v1/files/range" in spec["paths"]


async def test_client_reports_wrong_token(server: BackgroundServer) -> None:
    with pytest.raises(AuthError, match="bearer token"):
        await HttpSource(server.url, token="nope", retries=0).describe()


async def test_client_reports_unreachable_server() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    source = HttpSource(f"http://127.0.0.1:{port}", retries=2, backoff=0.01)
    with pytest.raises(UnavailableError, match="unreachable after 3 attempts"):
        await source.describe()
    assert source.state == "offline"


async def test_stream_resumes_when_the_server_is_killed_mid_stream(contract_root: Path) -> None:
    server = ServeProcess(contract_root, TOKEN).start()
    client = HttpSource(server.url, token=TOKEN, retries=8, backoff=0.2)
    seen = []
    try:
        async for batch in client.iter_runs(batch=1):
            seen.extend(r.key for r in batch)
            if len(seen) == 5:
                server.kill()  # SIGKILL: the connection dies under the client
                server.start()
    finally:
        server.kill()
    expected = [r.key async for b in LocalSource(str(contract_root)).iter_runs(batch=1) for r in b]
    assert seen == expected


def test_serving_writes_nothing(server: BackgroundServer, contract_root: Path) -> None:
    before = tree_fingerprint(contract_root)
    for path in ("/api/v1/runs/stream", "/api/v1/run?run=run-20261104-0905-dd6511", "/api/v1/files/list?path=runs", "/api/v1/manifests"):
        assert get(server, path).status_code == 200
    assert tree_fingerprint(contract_root) == before


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_curl_as_a_user_would(server: BackgroundServer) -> None:
    out = subprocess.run(
        ["curl", "-sf", "-H", f"Authorization: Bearer {TOKEN}", f"{server.url}/api/v1/runs/stream?batch=100"],
        capture_output=True, text=True, timeout=30,
    )
    assert out.returncode == 0 and out.stdout.rstrip().endswith('{"end":true}')
    assert "run-20261104-0905-dd6511" in out.stdout
    denied = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", f"{server.url}/api/v1/describe"], capture_output=True, text=True)
    assert denied.stdout == "401"


def test_non_loopback_bind_without_token_is_refused(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "driftdeck"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
    result = subprocess.run([*command, "serve", str(tmp_path), "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "refusing to bind a non-loopback address without a token" in result.stderr


@pytest.mark.parametrize("skip", ["%C2%B2", "-1", "1.0", "x"])  # "²" is a digit to str.isdigit, and int() refused it: a 500
def test_a_skip_that_is_not_a_count_is_a_400(server: BackgroundServer, skip: str) -> None:
    response = get(server, f"/api/v1/runs/stream?skip={skip}")
    assert response.status_code == 400 and "expected a count of items" in response.text, response.text
