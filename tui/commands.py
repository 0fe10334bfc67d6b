"""Command palette provider: switch panes, switch themes, reload."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Callable, cast

from textual.command import DiscoveryHit, Hit, Hits, Provider

from tui.panes import PANES

if TYPE_CHECKING:
    from tui.app import DriftdeckApp


class DeckCommands(Provider):
    """Pane switching and theme switching from ``ctrl+p``."""

    def _commands(self) -> list[tuple[str, Callable[[], object], str]]:
        app = cast("DriftdeckApp", self.app)  # the provider is registered by DriftdeckApp only (COMMANDS)
        commands: list[tuple[str, Callable[[], object], str]] = []
        for pane in PANES:
            commands.append(
                (f"Pane {pane.PANE_KEY}: {pane.PANE_TITLE}", partial(app.action_show_pane, pane.PANE_ID), pane.PANE_SUMMARY)
            )
        for name in app.deck_theme_names:
            commands.append((f"Theme: {name}", partial(setattr, app, "theme", name), f"Switch to the {name} theme"))
        commands.append(("Reload runs", app.action_reload_runs, "Scan the source for runs again"))
        commands.append(("Go to…", app.action_goto_line, "Open the : line (run, wal, line, path, manifest, snap)"))
        commands.append(("Export marks", app.action_export_marks, "Write the marked rows to a JSON or Markdown file"))
        commands.append(("Toggle side panels", app.action_toggle_side_panels, "Show or hide the panes' side panels (key \\)"))
        return commands

    async def discover(self) -> Hits:
        for name, callback, help_text in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, callback, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
