"""``DriftdeckApp``: the shell that holds the five panes."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Callable, ClassVar, Protocol

from textual import work
from textual.app import App, ComposeResult, SuspendNotSupported
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer, Input, TabbedContent

from backends.errors import DriftdeckError, UnavailableError, UnsupportedError
from backends.models import CAP_FILES
from themes import DEFAULT_THEME, bundled_themes
from tui.commands import DeckCommands
from tui.errors import error_message
from tui.export import export_path
from tui.goto import GotoError, GotoTarget, parse_goto
from tui.marks import MarkBook
from tui.panes import PANES
from tui.panes.base import DeckPane
from tui.panes.runs import RunsPane
from tui.screens.help import HelpScreen, binding_rows, class_words
from tui.selection import Selection, shorten
from tui.state.offered import Offered
from tui.widgets.goto_line import GotoLine
from tui.widgets.not_offered import show_not_offered_line
from tui.widgets.outage_line import OutageLine, show_outage
from tui.widgets.source_bar import SourceBar

if TYPE_CHECKING:
    from backends.models import RunSummary
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
        Binding("y", "copy", "Copy"),
        Binding("Y", "copy_detail", "Copy as JSON", show=False),
        Binding("colon", "goto_line", "Go to"),
        Binding("m,b", "mark", "Mark", show=False),
        Binding("apostrophe", "jump_mark(1)", "Next mark", show=False),
        Binding("quotation_mark", "jump_mark(-1)", "Prev mark", show=False),
        Binding("O", "open_file('editor')", "Open in $EDITOR", show=False),
        Binding("V", "open_file('pager')", "Open in $PAGER", show=False),
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
        goto: Sequence[GotoTarget] = (),
    ) -> None:
        """Args:
            source: The data source every pane reads from.
            source_label: How the header names the source (default: its spec).
            theme: Name of a bundled theme or a Textual built-in one.
            cursor_blink: Whether text cursors blink (off for snapshots).
            activity: Something to start on mount and stop on exit.
            goto: Where to go once the panes are up, in order (``--goto``).
        """
        super().__init__()
        self.source = source
        self.marks = MarkBook()
        self._goto_order = asyncio.Lock()
        self.pivot_origin: tuple[RunSummary, str] | None = None
        """The run whose evidence was followed and the pane it led to: escape there goes back to the run."""
        """Rows marked with ``m``, for every list of the deck."""
        self._goto = list(goto)
        self._listed_for_goto: dict[str, dict[str, list[str]]] = {}
        """What panes not shown yet would complete on the ``:`` line, from their source's lists."""
        self._copies: str | None = None
        """The temporary directory holding copies of remote files opened with ``O`` / ``V``."""
        self.source_label = source_label or source.spec
        self.cursor_blink = cursor_blink
        self._activity = activity
        self._unmounting = False
        self._outage = False
        """Whether the source was found unreachable and has not answered since."""
        self._outage_ended = -OUTAGE_SETTLE
        self._outage_until = 0.0
        self.known_offered: Offered | None = None
        """What the source offers, once ``describe()`` has answered (``offered()`` asks)."""
        self._describing = asyncio.Lock()
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
        # A go-to's pane is the initial one (switched to later, the tabs' own start-up activation would win).
        initial = _pane_for(self._goto[0], PANES[0].PANE_ID) if self._goto else PANES[0].PANE_ID
        with TabbedContent(initial=initial, id="panes"):
            for pane in PANES:
                yield pane(build=pane.PANE_ID == initial)
        yield GotoLine(self.goto_candidates, id="goto-line")
        yield Footer()

    def on_mount(self) -> None:
        if not self.cursor_blink:
            for widget in self.query(Input):
                widget.cursor_blink = False
        if self._activity is not None:
            self._activity.start()
        self.call_after_refresh(self.active_pane.focus_pane)
        # What exists once the first screen is drawn (Textual's widgets, styles and CSS:
        # ~100k objects) lives as long as the app. Frozen out of the collector, a full
        # collection no longer scans it: measured in the Live pane under 10k events/s,
        # such collections took 80-180 ms each (the view stalls meanwhile) before, ~20 ms after.
        self.call_after_refresh(self._freeze_collector)
        if hasattr(self.source, "state"):
            self.set_interval(0.5, self._check_connection)
        if self._goto:
            self.call_after_refresh(self._go_to_all, list(self._goto))

    def _freeze_collector(self) -> None:
        if not self._unmounting:
            gc.freeze()

    async def on_unmount(self) -> None:
        self._unmounting = True
        gc.unfreeze()  # an embedding process (tests run many apps) gets its collector back
        if self._activity is not None:
            self._activity.stop()
        if self._copies is not None:
            shutil.rmtree(self._copies, ignore_errors=True)  # our own temporary copies, never the source's files
        await self.source.aclose()

    # What the source offers ------------------------------------------------------------

    async def offered(self) -> Offered:
        """What the source offers: ``describe()`` asked once (again after a failure, such as an outage)."""
        async with self._describing:
            if self.known_offered is None:
                self.known_offered = Offered(await self.source.describe())
                self.refresh_bindings()
        return self.known_offered

    async def target_not_offered(self, target: str) -> str | None:
        """Why the pane a go-to target (command-line form) leads to is not offered, or ``None`` if it is."""
        pane_id = _pane_for(parse_goto(target), self.active_pane.PANE_ID)
        missing = (await self.offered()).pane_not_offered(pane_id)
        return None if missing is None else f"{_pane_name(pane_id)}: {missing}"

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
        if isinstance(error, UnsupportedError):
            # A capability the source listed, refused when asked: said in place; the rest keeps working.
            show_not_offered_line(where, error_message(error), after=after)
            return
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
        focused = self.focused
        # Not when the focus is in the pane already: a key typed right after the pane's number (handled
        # before this message arrives) may have focused one of its widgets, such as its filter line.
        if isinstance(pane, DeckPane) and (focused is None or pane not in focused.ancestors_with_self):
            pane.focus_pane()

    def action_toggle_side_panels(self) -> None:
        """Show the side panels if they are hidden (by width or by hand), else hide them."""
        shown = self.has_class("-side-on") or (not self.has_class("-side-off") and self.size.width >= self.SIDE_PANELS_MIN_WIDTH)
        self.set_class(not shown, "-side-on")
        self.set_class(shown, "-side-off")
        self.notify("side panels shown" if not shown else "side panels hidden", timeout=2)

    async def action_show_pane(self, pane_id: str) -> None:
        """Show the pane with this id and focus its main widget (from a screen over the deck too).

        Returns once the pane's content is mounted (composed now if the pane was not shown yet):
        as a key's action the app handles no other key meanwhile, so keys typed right after the
        pane's number reach the pane's widgets, in order.
        """
        pane = self.query_one(f"#{pane_id}", DeckPane)
        self.show_pane(pane_id)
        await pane.ready()

    def show_pane(self, pane_id: str) -> None:
        """Show the pane with this id; its main widget takes the focus once its content is mounted."""
        while len(self.screen_stack) > 1:
            self.pop_screen()
        tabs = self.query_one("#panes", TabbedContent)
        tabs.active = pane_id
        self.active_pane.focus_pane()

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Save the screen as SVG (palette: Screenshot) to ``path``, else ``~/Downloads`` if it exists, else
        the working directory; never under the source root. The notice names the file, or says why not."""
        from backends.atomic import atomic_write
        from backends.errors import DriftdeckError

        folder = path or next((d for d in (os.path.expanduser("~/Downloads"),) if os.path.isdir(d)), os.getcwd())
        name = filename or f"driftdeck-{time.strftime('%Y%m%d-%H%M%S')}.svg"
        try:
            target = export_path(self.source, os.path.join(folder, name))
            written = atomic_write(target, self.export_screenshot().encode("utf-8"))
        except (OSError, DriftdeckError) as exc:
            self.notify(f"screenshot not saved: {error_message(exc)}", title="Screenshot", severity="error", timeout=8)
            return
        self.notify(f"screenshot saved to {written}", title="Screenshot", timeout=6)

    def action_reload_runs(self) -> None:
        runs = self.query_one(RunsPane)
        if runs.content_ready:  # else it reads its runs when first shown
            runs.reload()

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
            title, summary = class_words(type(screen).__name__, drop="Screen"), (screen.__doc__ or "").strip().splitlines()[0]
            sections.append(("This screen", binding_rows(screen.BINDINGS)))
        if focused is not None and focused.BINDINGS:
            sections.append((f"In the {class_words(type(focused).__name__).lower()}", binding_rows(focused.BINDINGS)))
        sections.append(
            (
                "Everywhere",
                [
                    ("1 … 5", "switch pane: " + ", ".join(f"{p.PANE_KEY} {p.PANE_TITLE}" for p in PANES)),
                    ("?", "this help"),
                    ("\\", f"show or hide side panels (hidden below {self.SIDE_PANELS_MIN_WIDTH} columns)"),
                    ("ctrl+p", "command palette (panes, themes, reload, go to, export marks)"),
                    ("q", "quit"),
                    ("y", "copy the selected run id, path, hash or divergence (works over SSH: OSC 52)"),
                    ("Y", "copy everything about the selected item as JSON"),
                    (":", "go to: run ID, wal RUN, line N, path P, manifest M, snap A B (tab completes)"),
                    ("m (or b)", "mark / unmark the row (runs, live events, WAL rows, timeline; b where m is taken)"),
                    ("' / \"", "next / previous marked row"),
                    ("O / V", "open the file under the cursor in $EDITOR / $PAGER (a remote file: a temporary copy)"),
                ],
            )
        )
        self.push_screen(HelpScreen(title, summary, sections))

    # Selection, go-to, marks and external programs (keys declared once, here) --------------

    def _selection_host(self) -> object:
        """Who answers ``selected_item()``: the pane shown, or the screen on top of it."""
        return self.active_pane if self.screen is self.screen_stack[0] else self.screen

    def _selected(self) -> Selection | None:
        selected = getattr(self._selection_host(), "selected_item", None)
        item = selected() if callable(selected) else None
        if item is None:
            self.notify("nothing selected to copy, mark or open here", timeout=3)
        return item if isinstance(item, Selection) else None

    def action_copy(self) -> None:
        """``y``: copy the selected item's one value (run id, path, hash, divergence) to the clipboard."""
        item = self._selected()
        if item is not None:
            self.copy_to_clipboard(item.value)
            self.notify(f"copied {item.kind}: {shorten(item.value)}", title="Copied", timeout=4)

    def action_copy_detail(self) -> None:
        """``Y``: copy everything about the selected item, as JSON."""
        item = self._selected()
        if item is not None:
            text = item.detail_json()
            self.copy_to_clipboard(text)
            self.notify(f"copied {item.title or item.kind} as JSON ({len(text):,} characters)", title="Copied", timeout=4)

    def action_mark(self) -> None:
        """``m``: mark the row under the cursor, or unmark it."""
        host = self._selection_host()
        mark_list = getattr(host, "mark_list", None)
        rows = mark_list() if callable(mark_list) else None
        if rows is None or rows.MARK_SCOPE is None:
            self.notify("rows cannot be marked here (marks: runs, live events, WAL rows, the record timeline)", timeout=4)
            return
        row = rows.current
        item = self._selected()
        if row is None or item is None:
            return
        marked = self.marks.toggle(rows.MARK_SCOPE, rows.mark_key(row), item)
        rows.refresh_line(rows.cursor)
        count = len(self.marks.scope(rows.MARK_SCOPE))
        self.notify(f"{'marked' if marked else 'unmarked'} {shorten(item.title or item.value)} ({count} marked here)", timeout=3)

    def action_jump_mark(self, step: int) -> None:
        """``'`` / ``"``: the next / previous marked row of the list shown."""
        host = self._selection_host()
        mark_list = getattr(host, "mark_list", None)
        rows = mark_list() if callable(mark_list) else None
        if rows is None or not rows.jump_mark(step):
            self.notify("no marked row here (m marks one)", timeout=3)

    def action_export_marks(self) -> None:
        """Write every mark (runs, live events, WAL rows, timeline events) to a file the user names."""
        from tui.screens.live_prompt import LivePrompt

        if not len(self.marks):
            self.notify("nothing is marked yet (m marks the row under the cursor)", timeout=4)
            return
        self.push_screen(
            LivePrompt("Export the marks to (.json for JSON, anything else Markdown):", "driftdeck-marks.md",
                       "never under the read-only source root"),
            self._marks_target_chosen,
        )

    def _marks_target_chosen(self, typed: str | None) -> None:
        if typed is not None:
            self._export_marks(typed)

    @work(exclusive=True, group="export-marks", exit_on_error=False)
    async def _export_marks(self, typed: str) -> None:
        from backends.atomic import atomic_write
        from tui.export import export_path, render_marks

        try:
            path = export_path(self.source, typed)
            as_json = path.lower().endswith(".json")
            written = await asyncio.to_thread(atomic_write, path, render_marks(self.marks.items(), as_json=as_json))
        except (OSError, DriftdeckError) as exc:
            self.notify(f"cannot write the marks: {error_message(exc)}", title="Marks", severity="error", timeout=8)
            return
        self.notify(f"{len(self.marks)} marks written to {written}", title="Marks", timeout=6)

    def goto_candidates(self) -> dict[str, list[str]]:
        """What the ``:`` line completes: every pane's known values per target kind."""
        merged: dict[str, list[str]] = {}
        for pane in self.query(DeckPane):
            # a pane not shown yet has read nothing: what its source listed when the line opened stands in
            known = pane.goto_candidates() if pane.content_ready else self._listed_for_goto.get(pane.PANE_ID, {})
            for kind, values in known.items():
                merged.setdefault(kind, []).extend(values)
        return merged

    @work(group="goto-lists", exit_on_error=False)
    async def _list_for_goto(self) -> None:
        """Ask the source for what the panes not shown yet would complete (once per pane, at the same time)."""
        panes = [p for p in self.query(DeckPane) if not p.content_ready and p.PANE_ID not in self._listed_for_goto]
        for pane in panes:
            self._listed_for_goto[pane.PANE_ID] = {}  # asked: the next ":" does not ask again meanwhile
        found = await asyncio.gather(*(pane.source_candidates() for pane in panes), return_exceptions=True)
        for pane, listed in zip(panes, found, strict=True):
            if isinstance(listed, DriftdeckError):
                # not offered, or unreachable: that pane reports it when shown; the line completes less
                # until a later ":" asks again
                del self._listed_for_goto[pane.PANE_ID]
            elif isinstance(listed, BaseException):
                raise listed
            else:
                self._listed_for_goto[pane.PANE_ID] = listed

    def action_goto_line(self) -> None:
        """``:``: open the go-to line (from a screen over the deck, back to the deck first)."""
        while self.screen is not self.screen_stack[0]:
            self.pop_screen()
        line = self.query_one(GotoLine)
        line.cursor_blink = self.cursor_blink
        line.open()
        self._list_for_goto()

    def on_input_submitted(self, event: GotoLine.Submitted) -> None:
        if not isinstance(event.input, GotoLine):
            return
        event.stop()
        event.input.close()
        try:
            target = parse_goto(event.value)
        except GotoError as exc:
            self.notify(str(exc), title="Go to", severity="warning", timeout=6)
            self.active_pane.focus_pane()
            return
        self._go_to_all([target])

    def on_goto_line_closed(self) -> None:
        self.active_pane.focus_pane()

    @work(group="goto", exit_on_error=False)
    async def _go_to_all(self, targets: list[GotoTarget]) -> None:
        """Go to each target in turn (``--goto wal:RUN --goto line:N``); a miss says why and stops.

        Go-tos typed one after the other run in order: a pane that reads its source only once shown
        may still be loading for the first when the second is typed, which must wait, not cancel it.
        """
        async with self._goto_order:
            await self._go_to_each(targets)

    async def _go_to_each(self, targets: list[GotoTarget]) -> None:
        for target in targets:
            try:
                where = await self.go_to(target)
            except (GotoError, DriftdeckError) as exc:
                self.notify(f"{target}: {exc}", title="Go to", severity="warning", timeout=8)
                return
            self.notify(f"went to {where}", title="Go to", timeout=3)

    def follow(self, targets: Sequence[str], origin: RunSummary) -> None:
        """Follow a quarantined run's reason or evidence to the pane that shows it (go-to targets in
        their command-line form); escape there comes back to the run."""
        parsed = [parse_goto(target) for target in targets]
        pane_id = _pane_for(parsed[0], self.active_pane.PANE_ID)
        self.pivot_origin = (origin, pane_id)
        self._go_to_all(parsed)

    def return_to_origin(self) -> bool:
        """Back to the run whose evidence led here, if escape was pressed in the pane it led to."""
        if self.pivot_origin is None:
            return False
        (run, pane_id), self.pivot_origin = self.pivot_origin, None
        if self.active_pane.PANE_ID != pane_id:  # the user has moved on since
            return False
        from tui.screens.run_detail import RunDetailScreen

        self.show_pane("runs")
        self.push_screen(RunDetailScreen(run))
        return True

    async def go_to(self, target: GotoTarget) -> str:
        """Show the pane for ``target`` and select what it names; what was selected, in words.

        Raises:
            GotoError: When nothing matches (the message says what was looked for).
        """
        pane_id = _pane_for(target, self.active_pane.PANE_ID)
        missing = (await self.offered()).pane_not_offered(pane_id)
        if missing is not None:
            raise GotoError(f"{_pane_name(pane_id)}: {missing}")
        while self.screen is not self.screen_stack[0]:
            self.pop_screen()
        pane = self.query_one(f"#{pane_id}", DeckPane)
        self.show_pane(pane_id)
        await pane.ready()  # a pane shown for the first time is composed meanwhile; keys are still handled
        if self.active_pane is not pane:
            raise GotoError(f"not followed: another pane was chosen while {_pane_name(pane_id)} was opening")
        return await pane.goto(target)

    def action_open_file(self, purpose: str) -> None:
        """``O`` / ``V``: the selected item's file in ``$EDITOR`` / ``$PAGER`` (a remote file as a temporary copy)."""
        item = self._selected()
        if item is not None:
            self._open_file(item, purpose)

    @work(exclusive=True, group="open-file", exit_on_error=False)
    async def _open_file(self, item: Selection, purpose: str) -> None:
        from tui import external

        path, line = item.path, item.line
        if path is None and item.kind == "run id":  # a run: its status file
            path = (await self.source.get_run(str(item.detail.get("key", "")))).status_path
        if not path:
            self.notify(f"the selected {item.kind} is not a file", timeout=4)
            return
        try:
            local = external.local_file(self.source, path)
            if local is not None:
                opened = external.Opened(local)
            elif (missing := (await self.offered()).not_offered(CAP_FILES)) is not None:
                self.notify(f"cannot open {path}: {missing}", title="Not offered", timeout=6)
                return
            else:
                if self._copies is None:
                    self._copies = tempfile.mkdtemp(prefix="driftdeck-open-")
                opened = await external.remote_copy(self.source, path, self._copies)
        except (OSError, DriftdeckError) as exc:
            self.notify(f"cannot open {path}: {error_message(exc)}", severity="error", timeout=8)
            return
        argv = external.argv(external.command(purpose), opened.path, line)
        if opened.copy:
            note = " (first 64 MiB)" if opened.truncated else ""
            self.notify(f"{path} is on a remote source: opening a read-only temporary copy{note}, {opened.path}", timeout=8)
        self._run_program(argv)

    def _run_program(self, argv: list[str]) -> None:
        """Run an external program on the terminal, the app suspended meanwhile."""
        try:
            with self.suspend():
                outcome = _spawn(argv, terminal=True)
        except SuspendNotSupported:
            if not self.is_headless:
                self.notify(f"this terminal cannot be handed to another program; run: {' '.join(argv)}", severity="warning", timeout=10)
                return
            # Headless (tests, scripts): there is no terminal to hand over; the program runs without one.
            outcome = _spawn(argv, terminal=False)
        if isinstance(outcome, OSError):
            self.notify(f"cannot run {argv[0]}: {outcome.strerror or outcome} (set $EDITOR / $PAGER)", severity="error", timeout=8)
        elif outcome:
            self.notify(f"{argv[0]} exited with status {outcome}", severity="warning", timeout=5)


def _pane_for(target: GotoTarget, shown: str) -> str:
    """The id of the pane a target is in (``path``: the pane ``shown`` if it lists paths, else the snapshots)."""
    pane_id = {"run": "runs", "wal": "wal", "line": "wal", "manifest": "checksums", "snap": "snapshots"}.get(target.kind)
    if pane_id is None:
        pane_id = shown if shown in ("live", "snapshots", "checksums") else "snapshots"
    return pane_id


def _pane_name(pane_id: str) -> str:
    """``pane 3, WAL / replay``: how messages name a pane."""
    pane = next(p for p in PANES if p.PANE_ID == pane_id)
    return f"pane {pane.PANE_KEY}, {pane.PANE_TITLE}"


def _spawn(argv: list[str], *, terminal: bool) -> int | OSError:
    """Run ``argv`` to its end: its exit status, or why it could not start (never raised: the app must resume)."""
    try:
        if terminal:
            return subprocess.run(argv, check=False).returncode
        return subprocess.run(argv, check=False, stdin=subprocess.DEVNULL, capture_output=True).returncode
    except OSError as exc:
        return exc
