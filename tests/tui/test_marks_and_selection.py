"""The models behind the app-level keys: marks, selections, the marks report, external programs."""

from __future__ import annotations

import json
from collections import namedtuple
from dataclasses import dataclass
from types import MappingProxyType

from hypothesis import given
from hypothesis import strategies as st

from tui import external
from tui.export import render_marks
from tui.marks import MarkBook
from tui.selection import Selection, as_detail, shorten


def test_marks_toggle_per_scope_and_export_in_the_order_made() -> None:
    book = MarkBook()
    runs = book.scope("runs")
    assert book.toggle("wal", ("pair", 3, 3), Selection("line", "w:3")) is True
    assert book.toggle("runs", "runs/a", Selection("run id", "a")) is True
    assert book.toggle("runs", "runs/b", Selection("run id", "b")) is True
    assert "runs/a" in runs and len(book) == 3
    assert book.toggle("runs", "runs/a", Selection("run id", "a")) is False
    assert "runs/a" not in runs
    assert [(scope, item.value) for scope, item in book.items()] == [("wal", "w:3"), ("runs", "b")]


@given(st.text(max_size=200), st.integers(min_value=8, max_value=80))
def test_shorten_fits_and_keeps_both_ends(text: str, width: int) -> None:
    short = shorten(text, width)
    flat = " ".join(text.split())
    assert len(short) <= width
    if len(flat) <= width:
        assert short == flat
    else:
        assert "…" in short and flat.startswith(short.split("…")[0]) and flat.endswith(short.rsplit("…", 1)[1])


def test_detail_json_takes_what_orjson_does_not() -> None:
    Entry = namedtuple("Entry", "path size")

    @dataclass(frozen=True)
    class Event:
        seq: int
        path: str

    item = Selection("path", "p", {"fields": MappingProxyType({"a": 1}), "tags": frozenset({"y", "x"}), "entry": Entry("p", 3)})
    assert json.loads(item.detail_json()) == {"fields": {"a": 1}, "tags": ["x", "y"], "entry": {"path": "p", "size": 3}}
    assert as_detail(Event(4, "live/x")) == {"seq": 4, "path": "live/x"}
    assert as_detail(Entry("q", 1)) == {"path": "q", "size": 1}


def test_marks_report_in_json_and_markdown() -> None:
    marks = [("runs", Selection("run id", "run-1", {"state": "QUARANTINED"}, title="run run-1")),
             ("wal", Selection("divergence", "line 3: x", {}, path="runs/r/wal/record.jsonl", line=3, title="changed at r:3"))]
    data = json.loads(render_marks(marks, as_json=True))
    assert data["version"] == 1 and [m["scope"] for m in data["marks"]] == ["runs", "wal"]
    assert data["marks"][0]["detail"] == {"state": "QUARANTINED"} and data["marks"][1]["line"] == 3
    text = render_marks(marks, as_json=False).decode()
    assert "## runs" in text and "- **run run-1** (run id: `run-1`)" in text
    assert "- **changed at r:3** (divergence: `line 3: x`) — `runs/r/wal/record.jsonl` line 3" in text
    assert "nothing is marked" in render_marks([], as_json=False).decode()


def test_editor_and_pager_commands_from_the_environment() -> None:
    assert external.command("editor", {"VISUAL": "code --wait", "EDITOR": "vi"}) == ["code", "--wait"]
    assert external.command("editor", {"EDITOR": "nano -v"}) == ["nano", "-v"]
    assert external.command("editor", {}) == ["vi"]
    assert external.command("pager", {"PAGER": "less -R"}) == ["less", "-R"]
    assert external.command("pager", {"PAGER": " "}) == ["less"]
    assert external.argv(["/usr/bin/vim"], "/w/f.jsonl", 12) == ["/usr/bin/vim", "+12", "/w/f.jsonl"]
    assert external.argv(["code", "--wait"], "/w/f.jsonl", 12) == ["code", "--wait", "/w/f.jsonl"]  # no +N for others
    assert external.argv(["less"], "/w/f", None) == ["less", "/w/f"]


def test_local_files_are_confined_existing_regular_files(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import os

    import pytest

    from backends.errors import ForbiddenError
    from backends.local import LocalSource

    root = tmp_path / "root"
    (root / "d").mkdir(parents=True)
    (root / "d" / "f.txt").write_text("x")
    (tmp_path / "outside.txt").write_text("y")
    (root / "out").symlink_to(tmp_path / "outside.txt")
    os.mkfifo(root / "fifo")
    source = LocalSource(str(root))
    assert external.local_file(source, "d/f.txt") == os.path.realpath(root / "d" / "f.txt")
    with pytest.raises(ForbiddenError):
        external.local_file(source, "out")
    with pytest.raises(FileNotFoundError):
        external.local_file(source, "d/gone.txt")
    with pytest.raises(OSError):
        external.local_file(source, "fifo")
