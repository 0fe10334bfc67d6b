"""One contract, two implementations: the same tests run on LocalSource and HttpSource.

The HTTP source talks to a real ``driftdeck serve`` app on uvicorn, bound to
127.0.0.1 on an ephemeral port, serving the same demo workspace.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from backends.demo import build_demo
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource

TOKEN = "s3cret-token-for-tests"


@pytest.fixture(scope="session")
def contract_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("contract") / "workspace"
    build_demo(root, seed=7)
    (root.parent / "outside.txt").write_text("never served")
    (root / "escape-link").symlink_to(root.parent / "outside.txt")
    return root


@pytest.fixture(scope="session")
def server(contract_root: Path) -> Iterator[BackgroundServer]:
    with BackgroundServer(create_app(LocalSource(str(contract_root)), token=TOKEN)) as running:
        yield running


@pytest.fixture(params=["local", "http"])
def source(request: pytest.FixtureRequest, contract_root: Path):
    if request.param == "local":
        return LocalSource(str(contract_root))
    running = request.getfixturevalue("server")
    return HttpSource(running.url, token=TOKEN, retries=1, backoff=0.05)
