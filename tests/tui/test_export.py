"""Reports the TUI exports go where the user says, never under the data root."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.errors import ForbiddenError
from backends.local import LocalSource
from tui.export import export_path


def test_paths_under_the_root_are_refused_even_through_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    (tmp_path / "alias").symlink_to(root)
    source = LocalSource(str(root))
    for typed in (str(root / "report.md"), str(root / "sub" / "r.json"), str(tmp_path / "alias" / "r.md"), str(root)):
        with pytest.raises(ForbiddenError, match="read-only source root"):
            export_path(source, typed)


def test_paths_elsewhere_are_absolute_and_allowed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "root"
    root.mkdir()
    monkeypatch.chdir(tmp_path)
    assert export_path(LocalSource(str(root)), "out/report.md") == str(tmp_path / "out" / "report.md")
    assert export_path(LocalSource(str(root)), str(tmp_path / "rootish.md")) == str(tmp_path / "rootish.md")
