"""``GotoLine``: the k9s-style ``:`` line at the bottom of the deck, with completion."""

from __future__ import annotations

from typing import Callable, ClassVar

from textual.binding import Binding, BindingType
from textual.message import Message
from textual.suggester import Suggester
from textual.widgets import Input

from tui.goto import SYNTAX, complete


class GotoSuggester(Suggester):
    """Completes target kinds, then the values the panes know (run ids, manifests, snapshots …)."""

    def __init__(self, candidates: Callable[[], dict[str, list[str]]]) -> None:
        # Not cached, and case-sensitive: the values change while panes load, and ids are case-sensitive.
        super().__init__(use_cache=False, case_sensitive=True)
        self._candidates = candidates

    async def get_suggestion(self, value: str) -> str | None:
        return complete(value, self._candidates())


class GotoLine(Input):
    """Where ``:`` puts the cursor: ``run ID``, ``wal RUN``, ``line N``, ``path P``, ``manifest M``, ``snap A B``.

    ``right`` (or ``tab``) takes the completion shown, ``enter`` goes, ``escape`` closes.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", show=False),
        Binding("tab", "cursor_right", "Complete", show=False),
    ]

    DEFAULT_CSS = """
    GotoLine {
        display: none;
        background: $panel;
    }
    GotoLine.-open { display: block; }
    """

    class Closed(Message):
        """The line was closed without going anywhere."""

    def __init__(self, candidates: Callable[[], dict[str, list[str]]], *, id: str | None = None) -> None:
        super().__init__(
            placeholder=f":{SYNTAX.replace(':', ' ')} (tab completes, enter goes, escape closes)",
            suggester=GotoSuggester(candidates),
            id=id,
            compact=True,
        )

    def open(self) -> None:
        """Show the line, empty, and put the cursor in it."""
        self.value = ""
        self.add_class("-open")
        self.focus()

    def close(self) -> None:
        """Hide the line."""
        self.remove_class("-open")

    def action_close(self) -> None:
        self.close()
        self.post_message(self.Closed())
