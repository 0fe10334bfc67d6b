"""``DriftdeckApp``: the shell that holds the five panes."""

from __future__ import annotations

import asyncio
import gc
import time
from typing import TYPE_CHECKING, Callable, ClassVar, Protocol

from textual import work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer, Input, TabbedContent

from backends.errors import UnavailableError
from themes import DEFAULT_THEME, bundled_themes
from tui.commands import DeckCommands
from tui.errors import error_message
from tui.panes import PANES
from tui.panes.base import DeckPane
from tui.panes.runs import RunsPane
from tui.screens.help import HelpScreen, binding_rows
from tui.widgets.outage_line import OutageLine, show_outage
from tui.widgets.source_bar import SourceBar

if TYPE_CHECKING:
    from backends.source import DataSource


OUTAGE_SETTLE = 10.0
"""Seconds after an outage ended during which a new failure counts as the same outage."""


class Stoppable(Protocol):
    """Background activity the app owns for its lifetime (the demo writer)."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class DriftdeckApp(App[None]):
    """Five panes over one data source; opens on Runs & Quarantine."""

    CSS_PATH = "app.tcss"
    TITLE = "driftdeck"
    COMMANDS = App.COMMANDS | {DeckCommands}

    BINDINGS: ClassVar[list[BindingType]] = [
        *(Binding(p.PANE_KEY, f"show_pane('{p.PANE_ID}')", p.PANE_TITLE, show=False) for p in PANES),
        Binding("question_mark", "help", "Help"),
        Binding("q", "quit", "Quit"),
        Binding("backslash", "toggle_side_panels", "Side panels", show=False),
    ]

    SIDE_PANELS_MIN_WIDTH = 100
    """Below this many columns the panes' side panels start collapsed (``\\`` shows them)."""

    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (SIDE_PANELS_MIN_WIDTH, "-wide")]

    def __init__(
        self,
        source: "DataSource",
        *,
        source_label: str | None = None,
        theme: str = DEFAULT_THEME,
        cursor_blink: bool = True,
        activity: Stoppable | None = None,
    ) -> None:
        """Args:
            source: The data source every pane reads from.
            source_label: How the header names the source (default: its spec).
            theme: Name of a bundled theme or a Textual built-in one.
            cursor_blink: Whether text cursors blink (off for snapshots).
            activity: Something to start on mount and stop on exit.
        """
        super().__init__()
        self.source = source
        self.source_label = source_label or source.spec
        self.cursor_blink = cursor_blink
        self._activity = activity
        self._unmounting = False
        self._outage = False
        """Whether the source was found unreachable and has not answered since."""
        self._outage_ended = -OUTAGE_SETTLE
        self._outage_until = 0.0
        self._deck_themes = bundled_themes()
        for deck_theme in self._deck_themes.values():
            self.register_theme(deck_theme)
        if theme not in self.available_themes:
            raise ValueError(f"unknown theme {theme!r} (available: {', '.join(sorted(self.available_themes))})")
        self.theme = theme

    @property
    def deck_theme_names(self) -> list[str]:
        """Names of the themes bundled with driftdeck."""
        return sorted(self._deck_themes)

    def compose(self) -> ComposeResult:
        yield SourceBar()
        with TabbedContent(initial=PANES[0].PANE_ID, id="panes"):
            for pane in PANES:
                yield pane()
        yield Footer()

    def on_mount(self) -> None:
        if not self.cursor_blink:
            for widget in self.query(Input):
                widget.cursor_blink = False
        if self._activity is not None:
            self._activity.start()
        self.call_after_refresh(self.active_pane.focus_main)
        # What exists once the first screen is drawn (Textual's widgets, styles and CSS:
        # ~100k objects) lives as long as the app. Frozen out of the collector, a full
        # collection no longer scans it: measured in the Live pane under 10k events/s,
        # such collections took 80-180 ms each (the view stalls meanwhile) before, ~20 ms after.
        self.call_after_refresh(self._freeze_collector)
        if hasattr(self.source, "state"):
            self.set_interval(0.5, self._check_connection)

    def _freeze_collector(self) -> None:
        if not self._unmounting:
            gc.freeze()

    async def on_unmount(self) -> None:
        self._unmounting = True
        gc.unfreeze()  # an embedding process (tests run many apps) gets its collector back
        if self._activity is not None:
            self._activity.stop()
        await self.source.aclose()

    # Errors and outages ------------------------------------------------------------------

    def report_error(
        self,
        error: BaseException,
        where: Widget,
        *,
        title: str | None = None,
        retry: Callable[[], None] | None = None,
        after: Widget | None = None,
    ) -> None:
        """Show an error in one line, never a traceback.

        An unreachable source is said in place, in ``where`` (and ``retry`` runs
        once the source answers again), and notified once per outage, however
        many panes and requests it fails; the header's badge shows the
        connection. Any other error is a notification.

        Args:
            error: What went wrong.
            where: The pane or screen whose request failed.
            title: Title of the notification.
            retry: What to run again once the source is back.
            after: Where in ``where`` the in-place line goes (default: first).
        """
        if not isinstance(error, UnavailableError):
            self.notify(error_message(error), title=title or "", severity="error", timeout=8)
            return
        show_outage(where, error_message(error), retry, after=after)
        if not self._outage:
            self._outage = True
            now = time.monotonic()
            flapping = now - self._outage_ended < OUTAGE_SETTLE
            # An outage that begins right after the last one ended is the same one (a request that
            # keeps failing while others succeed): no second notification, and a pause before retrying.
            self._outage_until = now + OUTAGE_SETTLE if flapping else now
            if not flapping:
                self.notify(
                    f"{error_message(error)}. What could not be loaded says so in place and loads again once the source is back.",
                    title="Source unreachable", severity="error", timeout=10,
                )
            self._probe()

    @work(exclusive=True, group="outage-probe", exit_on_error=False)
    async def _probe(self) -> None:
        """Ask the source until it answers (its retries show in the header's badge), then end the outage."""
        while self._outage:
            try:
                await self.source.describe()
            except UnavailableError:
                await asyncio.sleep(1.0)
                continue
            except Exception:
                pass  # it answered, if only with an error
            wait = self._outage_until - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
                continue
            self._source_back()
            return

    def _check_connection(self) -> None:
        if self._outage and getattr(self.source, "state", "") == "connected":
            self._source_back()

    def _source_back(self) -> None:
        """The source answers again: end the outage and retry what it made fail."""
        if not self._outage or time.monotonic() < self._outage_until:
            return
        self._outage = False
        self._outage_ended = time.monotonic()
        for screen in self.screen_stack:
            for line in screen.query(OutageLine):
                line.source_back()

    @property
    def active_pane(self) -> DeckPane:
        """The pane currently shown."""
        tabs = self.query_one("#panes", TabbedContent)
        pane = tabs.get_pane(tabs.active)
        if not isinstance(pane, DeckPane):  # every tab of the deck is a DeckPane
            raise TypeError(f"tab {tabs.active!r} holds a {type(pane).__name__}, not a pane")
        return pane

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        pane = event.pane
        if isinstance(pane, DeckPane):
            pane.focus_main()

    def action_toggle_side_panels(self) -> None:
        """Show the side panels if they are hidden (by width or by hand), else hide them."""
        shown = self.has_class("-side-on") or (not self.has_class("-side-off") and self.size.width >= self.SIDE_PANELS_MIN_WIDTH)
        self.set_class(not shown, "-side-on")
        self.set_class(shown, "-side-off")
        self.notify("side panels shown" if not shown else "side panels hidden", timeout=2)

    def action_show_pane(self, pane_id: str) -> None:
        """Show the pane with this id and focus its main widget."""
        if self.screen is not self.screen_stack[0]:
            return
        tabs = self.query_one("#panes", TabbedContent)
        tabs.active = pane_id
        self.active_pane.focus_main()

    def action_reload_runs(self) -> None:
        self.query_one(RunsPane).reload()

    def action_help(self) -> None:
        """Show the keys of the current pane (or screen), its focused widget, and global keys."""
        screen = self.screen
        focused = self.focused
        sections = []
        if screen is self.screen_stack[0]:
            pane = self.active_pane
            title, summary = f"{pane.PANE_KEY}  {pane.PANE_TITLE}", pane.PANE_SUMMARY
            sections.append((pane.PANE_TITLE, binding_rows(pane.BINDINGS)))
        else:
            title, summary = type(screen).__name__, (screen.__doc__ or "").strip().splitlines()[0]
            sections.append(("This screen", binding_rows(screen.BINDINGS)))
        if focused is not None and focused.BINDINGS:
            sections.append((f"In the {type(focused).__name__}", binding_rows(focused.BINDINGS)))
        sections.append(
            (
                "Everywhere",
                [
                    ("1 … 5", "switch pane: " + ", ".join(f"{p.PANE_KEY} {p.PANE_TITLE}" for p in PANES)),
                    ("?", "this help"),
                    ("\\", f"show or hide side panels (hidden below {self.SIDE_PANELS_MIN_WIDTH} columns)"),
                    ("ctrl+p", "command palette (panes, themes, reload)"),
                    ("q", "quit"),
                ],
            )
        )
        self.push_screen(HelpScreen(title, summary, sections))
