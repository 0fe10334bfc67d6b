"""``--junit FILE`` and ``--html FILE`` of the checking commands, and GitHub Actions annotations.

``ReportOptions`` declares both options once (``tui.cli.options``): the
options of ``checksums verify`` and ``snapshots diff`` extend it, and
``report_options`` adds them to the other checking commands.
``write_reports`` renders a ``backends.reports`` report to the files asked
for (each written atomically, only where the user points) and, under GitHub
Actions (``GITHUB_ACTIONS=true``), prints one ``::error`` annotation per
failing item that has a file and a line. The
annotations go to stderr, which the runner reads for workflow commands as
it reads stdout, so a ``--json`` output on stdout stays one clean document.

Neither click nor the renderers load unless asked: the fast path
(``tui.cli.fast``) imports ``ReportOptions`` (no click) and calls
``write_reports`` with no files outside CI.
"""

from __future__ import annotations

import os
import sys

from tui.cli.options import Options, WritableFile, value

TYPE_CHECKING = False  # the fast path keeps typing out of a command-line start
if TYPE_CHECKING:
    from typing import Callable, TypeVar

    from backends.reports.model import Report

    F = TypeVar("F", bound=Callable[..., object])


class ReportOptions(Options):
    """``--junit FILE`` and ``--html FILE``: the base of every checking command's options.

    Click checks both paths (writable, in a directory that exists) before
    anything runs, so the fast path leaves them to it.
    """

    junit: str | None = value("--junit", type=WritableFile(directory_must_exist=True), metavar="FILE",
                              help="Also write a JUnit XML report to FILE (atomically): one test case per checked item.")
    html: str | None = value("--html", type=WritableFile(directory_must_exist=True), metavar="FILE",
                             help="Also write a self-contained HTML report to FILE (atomically).")


def report_options(command: F) -> F:
    """Add ``--junit FILE`` and ``--html FILE`` to a click command taking keyword arguments (``junit``, ``html``)."""
    from tui.cli.click_options import add_options

    return add_options(ReportOptions)(command)


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
