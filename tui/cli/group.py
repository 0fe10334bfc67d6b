"""The click command group: every ``driftdeck`` subcommand, loaded lazily.

Start-up stays light: this module imports only click; each subcommand module
is imported when that subcommand runs (``quarantine list`` never loads Textual).
"""

from __future__ import annotations

import importlib
import importlib.util

import click

_SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "open": ("tui.cli.tui_commands", "open_command"),
    "demo": ("tui.cli.tui_commands", "demo_command"),
    "quarantine": ("tui.cli.quarantine", "quarantine"),
    "checksums": ("tui.cli.checksums", "checksums"),
    "wal": ("tui.cli.wal", "wal"),
    "snapshots": ("tui.cli.snapshots", "snapshots"),
    "events": ("tui.cli.events", "events"),
    "serve": ("tui.cli.serve", "serve_command"),
    "schema": ("tui.cli.schema", "schema_command"),
}


class DeckGroup(click.Group):
    """A group whose subcommands load lazily and whose bare argument is a source.

    ``driftdeck PATH`` means ``driftdeck open PATH``; ``driftdeck`` alone opens ``.``.
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name, (module, _) in _SUBCOMMANDS.items() if importlib.util.find_spec(module))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _SUBCOMMANDS or importlib.util.find_spec(_SUBCOMMANDS[name][0]) is None:
            return None
        module, attribute = _SUBCOMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attribute)
        return command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or (args[0] not in _SUBCOMMANDS and not args[0].startswith("-")):
            args = ["open", *args]
        elif args[0] in ("--theme", "--goto") or args[0].startswith(("--theme=", "--goto=")):
            args = ["open", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DeckGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="driftdeck")
def cli() -> None:
    """Inspect runs, quarantines, WAL replays, trace snapshots, checksums and
    live filesystem events.

    \b
    driftdeck [SOURCE]            open the TUI (SOURCE: a path or http(s) URL; default .)
    driftdeck SOURCE --goto ITEM  open it on ITEM: run:ID wal:RUN line:N path:P manifest:M snap:A..B
    driftdeck serve ROOT          expose ROOT read-only over HTTP
    driftdeck demo                build the demo workspace and open it
    driftdeck quarantine list     quarantined runs of a source
    driftdeck quarantine show ID  one run: status, reason, artifacts, record
    driftdeck checksums verify    drift against SHA-256 manifests (update writes one)
    driftdeck wal validate|diff   WAL v2 validation and record/replay parity
    driftdeck snapshots diff A B  what differs between two trace snapshots
    driftdeck events record|verify  record live filesystem events, check a recording
    driftdeck schema [NAME]       the JSON Schema of a --json output (list without NAME)
    """
