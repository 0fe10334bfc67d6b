"""``driftdeck checksums verify|update``: SHA-256 manifest drift, without the TUI.

The verification itself is ``tui.cli.checksums_verify.run_verify`` (shared
with the click-free fast path of ``tui.cli.fast``).
"""

from __future__ import annotations

import sys

import click

from backends.checksums.scope import Scope
from tui.cli.checksums_verify import VerifyOptions, one_line, run_verify
from tui.cli.click_options import click_command


@click.group()
def checksums() -> None:
    """SHA-256 manifests: which files drifted, and how; write new manifests."""


@checksums.command("verify")
@click_command(VerifyOptions)
def verify_command(options: VerifyOptions) -> int:
    """Verify MANIFEST(s) (default: every manifest the source holds).

    Paths are relative to the source root, or real paths. Exit 0: all ok;
    1: drift; 2: usage error, or a manifest missing or unreadable.
    """
    return run_verify(options)


@checksums.command("update")
@click.argument("directory", type=click.Path(file_okay=False, dir_okay=True, exists=True))
@click.option("--output", "-o", required=True, metavar="MANIFEST", help="Manifest to write (replaced atomically).")
@click.option("--exclude", multiple=True, metavar="GLOB", help="Leave files matching GLOB out (repeatable).")
@click.option("--json", "as_json", is_flag=True, help="One JSON object describing what was written.")
@click.option("--workers", type=click.IntRange(1, 256), default=None, help="Hashing parallelism (default: the cores).")
def update_command(directory: str, output: str, exclude: tuple[str, ...], as_json: bool, workers: int | None) -> int:
    """Write a GNU-format manifest of every file under DIRECTORY to MANIFEST.

    Names are relative to MANIFEST's directory, sorted, escaped like
    sha256sum, so `sha256sum -c` accepts the result. Exit 1 when some files
    could not be read (they are left out and listed on stderr).
    """
    from backends.checksums.update import update_manifest

    result = update_manifest(directory, output, scope=Scope(exclude=exclude), workers=workers)
    if as_json:
        import orjson

        from tui.cli.json_output import dumps

        from backends.reports.schemas import schema_id

        body = {"schema": schema_id("checksums-update"), **result.to_json()}
        sys.stdout.buffer.write(dumps(body, option=orjson.OPT_APPEND_NEWLINE))
    else:
        click.echo(f"wrote {result.entries:,} entries ({result.bytes_hashed:,} bytes hashed) to {result.output}")
    for path, reason in result.skipped:
        click.echo(f"driftdeck: skipped {one_line(path)}: {reason}", err=True)
    return 1 if result.skipped else 0
