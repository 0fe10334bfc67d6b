"""``ChecksumDetailScreen``: one checksum entry: expected vs actual hash, size, mtime, paths."""

from __future__ import annotations

from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.widgets import Static

from backends.checksums.models import ChecksumEntry
from tui.units import human_size, utc
from tui.screens.detail import SCROLL_HINT, DetailScreen


def _hash_text(value: str | None, other: str | None, style: str) -> Text:
    """A hash, with the characters that differ from ``other`` highlighted."""
    if value is None:
        return Text("-")
    text = Text()
    for n, char in enumerate(value):
        differs = other is not None and (n >= len(other) or other[n] != char)
        text.append(char, style=style if differs else "")
    return text


def detail_table(entry: ChecksumEntry, manifest: str) -> Table:
    """The facts of one entry as a two-column grid."""
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column(overflow="fold")
    table.add_row("category", Text(entry.category.upper(), style="bold"))
    table.add_row("path", entry.path)
    if entry.category == "moved" and entry.other:
        table.add_row("now at", Text(entry.other, style="bold"))
    table.add_row("manifest", f"{manifest}" + (f", line {entry.line}" if entry.line is not None else " (not listed)"))
    if entry.name is not None and entry.name != entry.path.rsplit("/", 1)[-1]:
        table.add_row("listed as", repr(entry.name) if "\n" in entry.name or "\r" in entry.name else entry.name)
    changed = entry.expected is not None and entry.actual is not None and entry.expected != entry.actual
    table.add_row("expected", _hash_text(entry.expected, entry.actual if changed else None, "bold reverse"))
    table.add_row("actual", _hash_text(entry.actual, entry.expected if changed else None, "bold reverse"))
    if entry.expected is not None and entry.actual is not None:
        table.add_row("", Text("match" if not changed else "DIFFER", style="bold"))
    table.add_row("size", f"{human_size(entry.size)} ({entry.size:,} bytes)" if entry.size is not None else "-")
    table.add_row("modified", f"{utc(entry.mtime)} UTC" if entry.mtime else "-")
    if entry.other_line is not None:
        table.add_row("first listed", f"line {entry.other_line}" + (f" as {entry.other}" if entry.other else ""))
        table.add_row("conflict", "yes: the two lines list different hashes" if entry.conflict else "no")
    if entry.reason:
        table.add_row("why", entry.reason)
    return table


class ChecksumDetailScreen(DetailScreen):
    """Everything known about one entry; escape closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("enter", "dismiss", "Close")]

    def __init__(self, entry: ChecksumEntry, manifest: str) -> None:
        super().__init__()
        self.entry = entry
        self.manifest = manifest

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = f"Checksum entry: {self.entry.category}"
            scroll.border_subtitle = SCROLL_HINT
            yield Static(detail_table(self.entry, self.manifest), id="checksum-detail")
