"""``HelpScreen``: the keys that work on the current pane, and the global ones."""

from __future__ import annotations

import re
from typing import ClassVar, Iterable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

KeyRows = list[tuple[str, list[tuple[str, str]]]]


def key_label(key: str) -> str:
    """``question_mark`` -> ``?``, ``slash`` -> ``/``; keys joined by ``/``."""
    names = {"question_mark": "?", "slash": "/", "escape": "esc", "enter": "enter", "ctrl+p": "ctrl+p"}
    return " ".join(names.get(k.strip(), k.strip()) for k in key.split(","))


def class_words(name: str, drop: str = "") -> str:
    """A class name as words for people: ``RunDetailScreen`` -> ``Run detail`` (with ``drop="Screen"``),
    ``KeyedOptionList`` -> ``Keyed option list``."""
    words = re.findall(r"[A-Z]+(?![a-z])|[A-Z][a-z0-9]*|[a-z0-9]+", name.removesuffix(drop) if drop else name)
    return " ".join([words[0], *(w if w.isupper() and len(w) > 1 else w.lower() for w in words[1:])]) if words else name


def binding_rows(bindings: Iterable[BindingType]) -> list[tuple[str, str]]:
    """``(keys, description)`` rows for the bindings that have a description.

    A binding whose footer label is short says it in full in its ``tooltip``: help shows that.
    """
    rows = []
    for item in bindings:
        binding = item if isinstance(item, Binding) else Binding(*item)
        if binding.description:
            rows.append((key_label(binding.key), binding.tooltip or binding.description))
    return rows


class HelpScreen(ModalScreen[None]):
    """A modal listing keys by where they apply; any of esc, q, ? closes it."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("j,down", "scroll('down')", "Down", show=False),
        Binding("k,up", "scroll('up')", "Up", show=False),
        Binding("g,home", "scroll('home')", "Top", show=False),
        Binding("G,end", "scroll('end')", "Bottom", show=False),
        Binding("pagedown,space", "scroll('page_down')", "Page down", show=False),
        Binding("pageup", "scroll('page_up')", "Page up", show=False),
    ]

    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > VerticalScroll {
        width: 76;
        max-height: 90%;
        height: auto;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    """

    def __init__(self, title: str, summary: str, sections: KeyRows) -> None:
        super().__init__()
        self.title_text = title
        self.summary = summary
        self.sections = sections

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(self._help_table())

    def action_scroll(self, where: str) -> None:
        """j/k/g/G/page keys move the list of keys (it scrolls when the terminal is short)."""
        scroll = self.query_one(VerticalScroll)
        {"down": scroll.scroll_down, "up": scroll.scroll_up, "home": scroll.scroll_home, "end": scroll.scroll_end,
         "page_down": scroll.scroll_page_down, "page_up": scroll.scroll_page_up}[where](animate=False)

    def _help_table(self) -> Group:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold", no_wrap=True, min_width=10)
        table.add_column()
        for heading, rows in self.sections:
            table.add_row("", "")
            table.add_row(Text(heading, style="bold reverse"), "")
            for keys, description in rows:
                table.add_row(keys, description)
        return Group(Text(self.title_text, style="bold underline"), Text(self.summary, style="italic"), table)
