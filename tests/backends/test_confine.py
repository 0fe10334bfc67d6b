"""``confined_path`` over the hostile workspace's symlinks, for any relative path made of its names.

Two oracles: ``os.path.realpath`` (what the docstring promises) and, where the
path exists, the kernel itself (``O_PATH`` open, then ``/proc/self/fd``): a
path the kernel resolves outside the root is never returned.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from backends.confine import confined_path, inside
from backends.errors import ForbiddenError
from tests.hostile_workspace import HOSTILE_RUN, build_hostile, restore_modes

NAMES = [
    "..", ".", "", "self", "up", "a", "b", "outside", "passwd", "secret.txt", "runs", HOSTILE_RUN, "alias", "loop-a",
    "wal", "replay.jsonl", "quarantine", "history", "snapshots", "zz-hostile", "notes", "fixtures", "hostile", "data",
    "%2e%2e", "%2e", "new\nline", "back\\slash", "no-such-name", "etc",
]
paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=8).map("/".join)


@pytest.fixture(scope="module")
def hostile_root(tmp_path_factory: pytest.TempPathFactory):
    ws = build_hostile(tmp_path_factory.mktemp("confine"))
    yield str(ws.root)
    restore_modes(ws)


def kernel_real(path: str) -> str | None:
    """Where the kernel resolves ``path`` (``None`` when it does not)."""
    try:
        fd = os.open(path, os.O_PATH)
    except OSError:
        return None
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    finally:
        os.close(fd)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths)
@example(path="a/../outside")  # realpath stops at the loop a -> b -> a, then drops "a/..": ROOT/outside was returned
def test_confined_path_never_leaves_the_root(hostile_root: str, path: str) -> None:
    real_root = os.path.realpath(hostile_root)
    joined = os.path.join(hostile_root, path)
    oracle = os.path.realpath(joined)
    through_loop = os.path.realpath(oracle) != oracle  # realpath gave up at a loop: the oracle is not where the kernel goes
    try:
        real = confined_path(hostile_root, path)
    except ForbiddenError:
        assert through_loop or not inside(real_root, oracle), (path, oracle)
    else:
        assert real == oracle and inside(real_root, real), (path, real)
        opened = kernel_real(real)  # callers open the returned path: the kernel must keep that inside too
        assert opened is None or inside(real_root, opened), (path, real, opened)
    kernel = kernel_real(joined)
    if kernel is not None and not inside(real_root, kernel):
        with pytest.raises(ForbiddenError):
            confined_path(hostile_root, path)
    elif kernel is not None:
        assert confined_path(hostile_root, path) == kernel


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=paths)
@example(path="a/../up/self")  # found by a seed CI had not drawn: ROOT/up/self was kept, up -> .. outside
def test_a_kept_final_component_sits_in_a_real_directory_inside_the_root(hostile_root: str, path: str) -> None:
    real_root = os.path.realpath(hostile_root)
    try:
        real = confined_path(hostile_root, path, follow=False)
    except ForbiddenError:
        return
    assert inside(real_root, real), (path, real)
    assert real == real_root or inside(real_root, os.path.realpath(os.path.dirname(real))), (path, real)


@pytest.mark.parametrize("path", ["/etc/passwd", "runs/\x00/x", "self/up/outside/secret.txt", "up", "passwd", "runs/up/outside"])
def test_absolute_nul_and_climbing_paths_are_refused(hostile_root: str, path: str) -> None:
    with pytest.raises(ForbiddenError):
        confined_path(hostile_root, path)


def test_percent_escapes_are_names_not_dots(hostile_root: str) -> None:
    assert confined_path(hostile_root, "runs/%2e%2e") == os.path.join(os.path.realpath(hostile_root), "runs", "%2e%2e")
    assert Path(confined_path(hostile_root, "runs/%2e%2e/run_status.json")).is_file()
