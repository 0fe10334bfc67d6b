"""``atomic_write``: whole-file replacement, the usual new-file mode, no temporary left behind."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from backends import atomic
from backends.atomic import atomic_write, current_umask
from backends.errors import UnreadableError


def test_replaces_the_content_and_returns_the_absolute_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "report.md"
    target.write_bytes(b"old content, longer than the new one\n")
    monkeypatch.chdir(tmp_path)
    written = atomic_write("report.md", b"new\n")
    assert written == str(target) and os.path.isabs(written)
    assert target.read_bytes() == b"new\n"
    assert sorted(os.listdir(tmp_path)) == ["report.md"]


def test_a_missing_directory_raises_naming_the_path_and_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "report.md"
    with pytest.raises(UnreadableError) as caught:
        atomic_write(str(target), b"data")
    assert str(target) in str(caught.value) and caught.value.path == str(target)
    assert os.listdir(tmp_path) == []


def test_a_failed_replace_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.mkdir()  # os.replace cannot put a file over a directory
    (target / "inside").write_bytes(b"x")
    with pytest.raises(UnreadableError) as caught:
        atomic_write(str(target), b"data")
    assert str(target) in str(caught.value)
    assert sorted(os.listdir(tmp_path)) == ["taken"]


@pytest.mark.parametrize("mask", [0o022, 0o077, 0o002])
def test_new_file_mode_is_0o666_minus_the_umask(tmp_path: Path, mask: int) -> None:
    previous = os.umask(mask)
    try:
        assert current_umask() == mask or not os.path.exists("/proc/self/status")
        written = atomic_write(str(tmp_path / f"f{mask:o}"), b"data")
        assert stat.S_IMODE(os.stat(written).st_mode) == 0o666 & ~mask
        assert os.umask(mask) == mask  # writing did not change the umask
    finally:
        os.umask(previous)


def test_the_umask_is_read_without_setting_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    if atomic._umask_from_proc() is None:
        pytest.skip("no Umask: line in /proc/self/status here")

    def forbidden(mask: int) -> int:
        raise AssertionError(f"os.umask({mask:o}) called while writing")

    monkeypatch.setattr(os, "umask", forbidden)
    errors: list[BaseException] = []

    def write() -> None:  # as the TUI does: on a worker thread
        try:
            atomic_write(str(tmp_path / "from-thread"), b"data")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    thread = threading.Thread(target=write)
    thread.start()
    thread.join()
    assert errors == []
    assert (tmp_path / "from-thread").read_bytes() == b"data"
