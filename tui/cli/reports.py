"""``--junit FILE`` and ``--html FILE`` of the checking commands, and GitHub Actions annotations.

``report_options`` declares both options once; every checking command is
decorated with it. ``write_reports`` renders a ``backends.reports`` report
to the files asked for (each written atomically, only where the user
points) and, under GitHub Actions (``GITHUB_ACTIONS=true``), prints one
``::error`` annotation per failing item that has a file and a line. The
annotations go to stderr, which the runner reads for workflow commands as
it reads stdout, so a ``--json`` output on stdout stays one clean document.

Neither click nor the renderers load unless asked: the fast path
(``tui.cli.fast``) calls ``write_reports`` with no files outside CI.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # the fast path keeps typing out of a command-line start
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    from backends.reports.model import Report

    F = TypeVar("F", bound=Callable[..., object])

REPORT_OPTIONS = ("junit", "html")
"""The keyword arguments ``report_options`` adds to a command."""


def report_options(command: F) -> F:
    """Add ``--junit FILE`` and ``--html FILE`` to a click command (keywords ``junit`` and ``html``)."""
    import click

    path = click.Path(dir_okay=False, writable=True)
    command = click.option("--html", "html", type=path, default=None, metavar="FILE", callback=_in_a_directory,
                           help="Also write a self-contained HTML report to FILE (atomically).")(command)
    command = click.option("--junit", "junit", type=path, default=None, metavar="FILE", callback=_in_a_directory,
                           help="Also write a JUnit XML report to FILE (atomically): one test case per checked item.")(command)
    return command


def _in_a_directory(ctx: object, param: object, value: str | None) -> str | None:
    """Refuse, before any work, a report file whose directory does not exist (click checks only existing paths)."""
    import click

    if value is not None and not os.path.isdir(os.path.dirname(os.path.abspath(os.path.expanduser(value)))):
        raise click.BadParameter(f"{value}: its directory does not exist")
    return value


def reports_wanted(junit: str | None, html: str | None) -> bool:
    """Whether a report is needed: a file was asked for, or annotations are (under GitHub Actions)."""
    return junit is not None or html is not None or annotating()


def annotating() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def write_reports(report: Report, junit: str | None, html: str | None) -> None:
    """Write the JUnit and HTML files asked for, then print the annotations under GitHub Actions."""
    from backends.atomic import atomic_write

    if junit is not None:
        from backends.reports.junit import render_junit

        print(f"junit report written to {atomic_write(junit, render_junit(report))}", file=sys.stderr)
    if html is not None:
        from backends.reports.html import render_html

        print(f"html report written to {atomic_write(html, render_html(report))}", file=sys.stderr)
    if annotating():
        from backends.reports.annotations import github_annotations

        for line in github_annotations(report):
            print(line, file=sys.stderr)
