"""``DeckPane``: what every pane shares (frogmouth-style pane base class)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Callable, ClassVar

from textual.app import ComposeResult
from textual.widget import Widget
from textual.widgets import Input, TabbedContent, TabPane
from textual.worker import Worker, WorkerState

from backends.errors import DriftdeckError
from tui.errors import error_message
from tui.goto import GotoError, GotoTarget
from tui.host import deck_host
from tui.widgets.not_offered import NotOffered

if TYPE_CHECKING:
    from backends.source import DataSource
    from tui.state.offered import Offered
    from tui.selection import Selection
    from tui.widgets.virtual_list import VirtualList

GOTO_WAIT_SECONDS = 0.05
"""How often a go-to waiting for a pane's data (a scan, a diff) looks again."""
GOTO_PATIENCE = 120.0
"""Seconds a go-to waits for that data at most."""


class DeckPane(TabPane):
    """A pane of the deck: a tab with a number key, a title and a data source.

    Subclasses set ``PANE_KEY`` (``"1"`` … ``"5"``), ``PANE_ID``, ``PANE_TITLE``
    and ``PANE_SUMMARY`` (one line for the help screen).
    """

    PANE_KEY: ClassVar[str] = ""
    PANE_ID: ClassVar[str] = ""
    PANE_TITLE: ClassVar[str] = ""
    PANE_SUMMARY: ClassVar[str] = ""
    ACTION_NEEDS: ClassVar[dict[str, str]] = {}
    """Actions of the pane that need a capability beyond what the whole pane needs (hidden without it)."""

    def __init__(self, *, build: bool = True) -> None:
        super().__init__(f"{self.PANE_KEY} {self.PANE_TITLE}", id=self.PANE_ID)
        self.not_offered_text: str | None = None
        """The placeholder's text once the source was found not to offer what this pane needs."""
        self.built = build
        """Whether the pane's content is composed (or being composed): a pane not shown first is
        composed when first shown or first asked for (``on_show``, ``ready``)."""
        self._ready = asyncio.Event()
        self._focus_when_ready = False
        self._show_when_ready = False

    # Content, composed when first shown ------------------------------------------------

    def compose(self) -> ComposeResult:
        # Panes not shown at start-up are empty until first shown: Textual restyles every node of
        # the screen when it is first drawn and on each resize, and 60 of the deck's 124 nodes
        # were panes 3-5's; measured on 100,000 runs, the first screen came 0.1 s sooner without them.
        if self.built:
            yield from self.compose_content()

    def compose_content(self) -> ComposeResult:
        """The pane's widgets (what ``compose`` would yield); default: none."""
        return iter(())

    def content_mounted(self) -> None:
        """Called once the pane's content is mounted (what ``on_mount`` would do); default: nothing."""

    def pane_shown(self) -> None:
        """Called each time the pane is shown, its content mounted (what ``on_show`` would do); default: nothing."""

    def content_resized(self) -> None:
        """Called when the pane's size changes, its content mounted (what ``on_resize`` would do); default: nothing."""

    @property
    def content_ready(self) -> bool:
        """Whether the pane's content is mounted (queries for its widgets succeed)."""
        return self._ready.is_set()

    async def ready(self) -> None:
        """Return once the pane's content is mounted: compose it now if it is still empty."""
        if not self.built:
            await self._build()
        await self._ready.wait()

    def on_mount(self) -> None:
        if self.built:
            self._content_in()

    async def on_show(self) -> None:
        if self.content_ready:
            self.pane_shown()
            return
        self._show_when_ready = True  # shown while (or before) composing: once the content is in
        if not self.built:
            await self._build()

    def on_resize(self) -> None:
        if self.content_ready:
            self.content_resized()

    async def _build(self) -> None:
        self.built = True
        await self.recompose()
        self._content_in()

    def _content_in(self) -> None:
        if not getattr(self.app, "cursor_blink", True):  # a blink-free app (snapshot tests): its new inputs too
            for field in self.query(Input):
                field.cursor_blink = False
        self.content_mounted()
        self._ready.set()
        if self._show_when_ready:
            self._show_when_ready = False
            self.pane_shown()
        if self._focus_when_ready:
            self._focus_when_ready = False
            tabs = self.app.query_one("#panes", TabbedContent)
            if tabs.active == self.PANE_ID:
                # At once, not with ``focus()`` (which waits its turn in the app's queue): a key typed right
                # after the pane's number is next in that queue and must find this pane's widget focused.
                self.screen.set_focus(self._focus_target())

    @property
    def source(self) -> "DataSource":
        """The app's data source: the only thing a pane reads from."""
        return deck_host(self.app).source

    def report(self, error: BaseException) -> None:
        """Show an error in one line, never a traceback: a notification, or, when the
        source is unreachable, a line in the pane (and one notification per outage)."""
        report_error = getattr(self.app, "report_error", None)
        if report_error is None:  # a pane tested on its own, outside the deck
            self.notify(error_message(error), title=self.PANE_TITLE, severity="error", timeout=8)
            return
        retries = type(self).retry_after_outage is not DeckPane.retry_after_outage
        report_error(error, self, title=self.PANE_TITLE, retry=self.retry_after_outage if retries else None)

    # What the source offers -----------------------------------------------------------

    async def offered(self) -> "Offered | None":
        """What the source offers (asked once per app); ``None`` for a pane tested outside the deck or
        while the source cannot say (the pane then reads as if everything were offered)."""
        learn = getattr(self.app, "offered", None)
        if learn is None:
            return None
        try:
            offered: Offered = await learn()
        except DriftdeckError:
            # Not known yet (a server that does not answer): the pane reads as it would without
            # capabilities, and its own request reports the failure in place (with the outage's retry).
            return None
        return offered

    async def require(self) -> bool:
        """Whether the source offers what this pane needs; if not, the pane shows a placeholder saying so.

        Panes call this before their first read, so nothing is asked of a source
        that has said it does not offer it.
        """
        offered = await self.offered()
        if offered is None:
            return True
        panes = [f"{p.PANE_KEY} {p.PANE_TITLE}" for p in self.app.query(DeckPane) if offered.pane_not_offered(p.PANE_ID) is None]
        text = offered.placeholder(self.PANE_ID, self.PANE_KEY, panes)
        if text is None:
            return True
        if self.not_offered_text is None:
            self.show_placeholder(text)
        return False

    def show_placeholder(self, text: str) -> None:
        """Replace the pane's content by ``text`` (what is not offered) and hide its keys."""
        self.not_offered_text = text
        for child in self.children:
            child.display = False
        placeholder = NotOffered.placeholder(text, id=f"{self.PANE_ID}-not-offered")
        self.mount(placeholder)
        self.refresh_bindings()
        if self.app.query_one("#panes", TabbedContent).active == self.PANE_ID:
            placeholder.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The pane's keys are hidden (and do nothing) when the source does not offer what they need."""
        if self.not_offered_text is not None:
            return False
        needs = self.ACTION_NEEDS.get(action)
        known = getattr(self.app, "known_offered", None)
        if needs is not None and known is not None and not known.offers(needs):
            return False
        return True

    def focus_pane(self) -> None:
        """Focus the pane's main widget, or its placeholder when the source does not offer the pane
        (once the content is mounted, if it is still being composed)."""
        if not self.content_ready:
            self._focus_when_ready = True
        else:
            self._focus_target().focus()

    def _focus_target(self) -> Widget:
        if self.not_offered_text is not None:
            return self.query_one(f"#{self.PANE_ID}-not-offered", NotOffered)
        return self.main_widget()

    def retry_after_outage(self) -> None:
        """Load again what an unreachable source made fail (called once it answers); default: nothing."""

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            self.report(event.worker.error)

    def settled(self, *groups: str) -> bool:
        """Whether the pane has read what the worker ``groups`` read: it has started reading (panes
        read once first shown) and no worker of those groups is pending or running."""
        started = getattr(getattr(self, "state", None), "started", True)
        return bool(started) and not any(w.group in groups and not w.is_finished for w in self.workers)

    def back_to_origin(self) -> bool:
        """Escape with nothing left to close here, after a run's evidence led here: back to that run."""
        back = getattr(self.app, "return_to_origin", None)
        return bool(back is not None and back())

    def main_widget(self) -> Widget:
        """The widget that takes the focus when the pane is shown; default: the pane."""
        return self

    def focus_main(self) -> None:
        """Focus the pane's main widget."""
        self.main_widget().focus()

    # Selection, go-to and marks: what the app-level keys y, Y, :, m, ', " and O ask of a pane --------

    def selected_item(self) -> "Selection | None":
        """What is under the cursor (``y`` copies it, ``O`` opens its file); default: nothing."""
        return None

    def mark_list(self) -> "VirtualList | None":
        """The list whose rows ``m`` marks; default: none (the pane has no marks)."""
        return None

    def goto_candidates(self) -> dict[str, list[str]]:
        """Values the ``:`` line completes, per target kind (``run`` -> run ids ...); default: none."""
        return {}

    async def source_candidates(self) -> dict[str, list[str]]:
        """What the ``:`` line completes while the pane has not been shown (it has read nothing yet):
        the values its source lists cheaply, asked when the line opens; default: none.

        Raises:
            DriftdeckError: When the source cannot list them (the line then completes less).
        """
        return {}

    async def goto(self, target: GotoTarget) -> str:
        """Select what ``target`` names (the pane is shown already); what was selected, in words.

        Raises:
            GotoError: When the pane does not hold what the target names.
        """
        raise GotoError(f"{self.PANE_TITLE} cannot go to {target}")

    async def wait_for(self, ready: Callable[[], bool], what: str) -> None:
        """Return once ``ready()`` holds (data a go-to needs is still streaming in).

        Raises:
            GotoError: When it does not hold within ``GOTO_PATIENCE`` seconds (``what`` says what was awaited).
        """
        deadline = asyncio.get_running_loop().time() + GOTO_PATIENCE
        while not ready():
            if asyncio.get_running_loop().time() > deadline:
                raise GotoError(f"gave up waiting for {what} after {GOTO_PATIENCE:.0f} s")
            await asyncio.sleep(GOTO_WAIT_SECONDS)
