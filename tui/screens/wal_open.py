"""``WalOpenScreen``: pick any two WAL files of the source to compare."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from backends.models import WalPair


class WalOpenScreen(ModalScreen[WalPair | None]):
    """Two paths relative to the source root; enter in the second compares them, escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    DEFAULT_CSS = """
    WalOpenScreen { align: center middle; }
    WalOpenScreen > Vertical {
        width: 90; height: auto; border: thick $primary; background: $surface; padding: 0 1;
    }
    WalOpenScreen Label { margin-top: 1; }
    """

    def __init__(self, record: str = "", replay: str = "") -> None:
        super().__init__()
        self.record = record
        self.replay = replay

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Compare two WAL files (paths relative to the source root)")
            yield Input(self.record, placeholder="record, e.g. runs/<run>/wal/record.jsonl", id="wal-open-record")
            yield Input(self.replay, placeholder="replay (leave empty to only read the record)", id="wal-open-replay")

    def on_mount(self) -> None:
        for field in self.query(Input):
            field.cursor_blink = getattr(self.app, "cursor_blink", True)
        self.query_one("#wal-open-record", Input).focus()

    @on(Input.Submitted, "#wal-open-record")
    def _next_field(self) -> None:
        self.query_one("#wal-open-replay", Input).focus()

    @on(Input.Submitted, "#wal-open-replay")
    def _done(self) -> None:
        record = self.query_one("#wal-open-record", Input).value.strip()
        replay = self.query_one("#wal-open-replay", Input).value.strip()
        if not record:
            self.query_one("#wal-open-record", Input).focus()
            return
        self.dismiss(WalPair("(chosen)", record, replay or None))

    def action_cancel(self) -> None:
        self.dismiss(None)
