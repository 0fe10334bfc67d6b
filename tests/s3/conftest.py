"""A demo workspace in a bucket on the session's SeaweedFS, and its local twin (``bucket_copy``)."""

from __future__ import annotations

from pathlib import Path

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
