"""One contract, three implementations: the same tests run on LocalSource, HttpSource and S3Source.

The HTTP source talks to a real ``driftdeck serve`` app on uvicorn, bound to
127.0.0.1 on an ephemeral port, serving the same demo workspace. The S3 source
reads the same workspace uploaded to a real SeaweedFS (``tests/seaweed.py``),
one per session; a bucket has no symlinks, so its workspace is the demo with
symlinks left out (a dangling one becomes an empty directory: a ``dir/`` marker).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from backends.demo import build_demo
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource
from tests.seaweed import SeaweedFS, bucket_copy, upload_tree

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract") / "workspace"
    build_demo(root, seed=7)
    (root.parent / "outside.txt").write_text("never served")
    (root / "escape-link").symlink_to(root.parent / "outside.txt")
    return root


@pytest.fixture(scope="session")
def bucket_root(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo as the bucket holds it (``tests.seaweed.bucket_copy``)."""
    root = tmp_path_factory.mktemp("bucket") / "workspace"
    bucket_copy(demo_root, root)
    return root


@pytest.fixture
def contract_root(request: pytest.FixtureRequest, demo_root: Path) -> Path:
    """The workspace the source under test holds (the bucket's copy for the s3 source)."""
    params = getattr(request.node, "callspec", None)
    if params is not None and params.params.get("source") == "s3":
        return request.getfixturevalue("bucket_root")
    return demo_root


@pytest.fixture(scope="session")
def bucket_url(seaweed: SeaweedFS, bucket_root: Path) -> str:
    upload_tree(seaweed, "contract", bucket_root, "workspace")
    return "s3://contract/workspace"


@pytest.fixture(scope="session")
def server(demo_root: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(LocalSource(str(demo_root)), token=TOKEN)) as running:
        yield running


@pytest.fixture(params=["local", "http", "s3"])
def source(request: pytest.FixtureRequest, contract_root: Path):
    if request.param == "local":
        return LocalSource(str(contract_root))
    if request.param == "s3":
        from backends.s3.source import S3Source

        return S3Source(request.getfixturevalue("bucket_url"))
    running = request.getfixturevalue("server")
    return HttpSource(running.url, token=TOKEN, retries=1, backoff=0.05)


class ServeProcess:
    """A real ``driftdeck serve`` process that a test can kill -9 and start again on the same port."""

    def __init__(self, root: Path, token: str | None = None) -> None:
        self.root = root
        self.token = token
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> "ServeProcess":
        script = Path(sys.executable).parent / "driftdeck"
        command = [str(script)] if script.exists() else [sys.executable, "-m", "tui.cli"]
        env = dict(os.environ)
        extra = []
        if self.token:
            env["SERVE_TOKEN"] = self.token
            extra = ["--token-env", "SERVE_TOKEN"]
        self.process = subprocess.Popen(
            [*command, "serve", str(self.root), "--port", str(self.port), *extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/health", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                time.sleep(0.05)
        raise RuntimeError("driftdeck serve did not come up")

    def kill(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
            self.process = None
