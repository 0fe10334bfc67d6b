"""``driftdeck serve ROOT``: expose a workspace read-only over HTTP."""

from __future__ import annotations

import os
from pathlib import Path

import click

from backends.errors import DriftdeckError


@click.command("serve")
@click.argument("root", metavar="SOURCE")  # a directory or s3://bucket/prefix (a Path would fold the '//')
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; anything but loopback needs a token.")
@click.option("--port", default=8765, show_default=True, type=click.IntRange(0, 65535))
@click.option("--token-file", type=click.Path(dir_okay=False, path_type=Path), help="File whose first line is the bearer token.")
@click.option("--token-env", metavar="VAR", help="Environment variable holding the bearer token.")
@click.option("--allow-host", "allow_hosts", multiple=True, metavar="NAME",
              help="Also answer requests for this Host name (repeatable); loopback names and --host always are.")
@click.option("--certfile", type=click.Path(dir_okay=False, exists=True), help="TLS certificate (PEM): serve HTTPS.")
@click.option("--keyfile", type=click.Path(dir_okay=False, exists=True), help="TLS private key (PEM) of --certfile.")
def serve_command(
    root: str,
    host: str,
    port: int,
    token_file: Path | None,
    token_env: str | None,
    allow_hosts: tuple[str, ...],
    certfile: str | None,
    keyfile: str | None,
) -> int:
    """Serve SOURCE (a directory or s3://bucket/prefix) read-only at http://HOST:PORT/api/v1/ (OpenAPI at /api/v1/openapi.json).

    Clients use it as a source: `driftdeck http://HOST:PORT`, or `--source
    http://HOST:PORT` on any subcommand, with the token in DRIFTDECK_TOKEN.
    """
    from backends.http.server import serve

    token = read_token(token_file, token_env)
    source: object = root
    if "://" in root and not root.startswith("file://"):  # a bucket (or a plugin's scheme): a server next to the data
        from backends.errors import SourceSpecError
        from backends.source import open_source

        if root.split("://", 1)[0].lower() in ("http", "https"):
            raise SourceSpecError(f"{root}: serve a directory or a bucket, not another server")
        source = open_source(root)
    scheme = "https" if certfile else "http"
    announce = f"serving {root} read-only on {scheme}://{host}:{port}/api/v1/ ({'token required' if token else 'no token'})"
    serve(source, host=host, port=port, token=token, allow_hosts=allow_hosts, certfile=certfile, keyfile=keyfile,
          on_ready=lambda: click.echo(announce, err=True))
    return 0


def read_token(token_file: Path | None, token_env: str | None) -> str | None:
    """The bearer token from a file or an environment variable (never both)."""
    if token_file and token_env:
        raise click.UsageError("give --token-file or --token-env, not both")
    if token_file:
        try:
            lines = token_file.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise DriftdeckError(f"{token_file}: cannot read token: {exc.strerror or exc}") from None
        token = lines[0].strip() if lines else ""
        if not token:
            raise DriftdeckError(f"{token_file}:1: empty token")
        return token
    if token_env:
        token = os.environ.get(token_env, "").strip()
        if not token:
            raise DriftdeckError(f"${token_env}: environment variable is unset or empty")
        return token
    return None
