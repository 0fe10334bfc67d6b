"""``driftdeck schema [NAME]``: the JSON Schema of a ``--json`` output, or the list of them."""

from __future__ import annotations

import click

from backends.reports.schemas import STREAMS, VERSIONS, schema_id, schema_text


@click.command("schema")
@click.argument("name", required=False, metavar="[NAME]")
def schema_command(name: str | None) -> int:
    """Print the JSON Schema (draft 2020-12) of NAME's --json output; without NAME, list the schemas.

    Every output names its schema in a "schema" field (an NDJSON stream in its
    first line): driftdeck/NAME/vN.
    """
    if name is None:
        for known in VERSIONS:
            shape = "one NDJSON line" if known in STREAMS else "document"
            click.echo(f"{schema_id(known):<34} {shape}")
        return 0
    base, _, version = name.removeprefix("driftdeck/").partition("/")
    try:
        text = schema_text(base, int(version[1:]) if version.startswith("v") and version[1:].isascii() and version[1:].isdigit() else None)
    except KeyError:
        raise click.BadParameter(f"no schema {name!r} (one of {', '.join(VERSIONS)})", param_hint="NAME") from None
    if version and not version.startswith("v"):
        raise click.BadParameter(f"no schema {name!r} (one of {', '.join(VERSIONS)})", param_hint="NAME")
    click.echo(text, nl=False)
    return 0
