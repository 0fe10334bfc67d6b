"""A demo workspace in a bucket on the session's SeaweedFS, and its local twin (``bucket_copy``)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterator

import pytest

from backends.demo import build_demo
from tests.seaweed import SeaweedFS, bucket_copy, upload_tree


@pytest.fixture(scope="session")
def s3_twin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The local copy of what the ``s3_demo`` bucket prefix holds."""
    built = tmp_path_factory.mktemp("s3demo") / "built"
    build_demo(built, seed=7)
    return bucket_copy(built, built.parent / "demo")


@pytest.fixture(scope="session")
def s3_demo(seaweed: SeaweedFS, s3_twin: Path) -> str:
    upload_tree(seaweed, "driftdeck", s3_twin, "teams/demo")
    return "s3://driftdeck/teams/demo"


@contextlib.contextmanager
def local_writes() -> Iterator[Callable[[], list[str]]]:
    """What is written to temporary files meanwhile: ``tempfile`` points at a fresh directory, and the
    callable lists the files in it (a bucket source reads through its storage, into memory, and writes none)."""
    saved = tempfile.tempdir
    with tempfile.TemporaryDirectory(prefix="driftdeck-writes-") as fresh:
        tempfile.tempdir = fresh
        try:
            yield lambda: [os.path.join(d, f) for d, _, files in os.walk(fresh) for f in files]
        finally:
            tempfile.tempdir = saved
