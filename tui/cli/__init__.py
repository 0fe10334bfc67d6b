"""The ``driftdeck`` command line.

``main`` is the console-script entry point. It imports neither click nor any
engine by itself: the hottest local commands (``checksums verify``,
``snapshots diff``) are parsed by ``tui.cli.fast`` when their arguments are
plain, and everything else (help, usage errors, other commands) goes to the
click group in ``tui.cli.group``. Exit codes follow diff(1): 0 clean, 1
differences found, 2 usage or input error.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

# No ``typing`` import here: this module runs on every start.


def __getattr__(name: str) -> object:
    if name == "cli":  # the click group, for tests and embedding: loaded on first use
        from tui.cli.group import cli

        return cli
    raise AttributeError(name)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the CLI, turning known errors into exit 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    fast: list[bool] = []
    code = guarded(lambda: _run(args, fast))
    if argv is None and (fast or "obstore" in sys.modules):
        # obstore (0.12.0 and 0.12.1 alike) hands each async result to the event loop from a tokio thread;
        # one still inside that hand-off when the interpreter finalizes is killed with Rust frames on its
        # stack, and the process aborts (SIGABRT after complete output: 8 of 60 `quarantine list` runs on a
        # bucket). Everything of ours is closed by now, so the process ends without the teardown.
        _exit_now(code)
    sys.exit(code)


def _run(args: list[str], fast: list[bool]) -> int:
    from tui.cli.fast import run_fast

    code = run_fast(args)
    if code is not None:
        fast.append(True)
        return code
    import click

    from tui.cli.group import cli

    try:
        code = cli.main(args=args, prog_name="driftdeck", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        print("driftdeck: aborted", file=sys.stderr)
        return 2
    return code if isinstance(code, int) else 0


def guarded(run: Callable[[], int]) -> int:
    """Run a command; known errors become ``driftdeck: ...`` on stderr and exit 2.

    A bug is reported in one line (the traceback only with ``DRIFTDECK_DEBUG``).
    """
    from backends.errors import DriftdeckError

    try:
        return run()
    except DriftdeckError as exc:
        print(f"driftdeck: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away: say nothing more, and do not claim success
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # a bug: say what, once; show the traceback only on request
        if os.environ.get("DRIFTDECK_DEBUG"):
            raise
        print(f"driftdeck: internal error: {type(exc).__name__}: {exc} (set DRIFTDECK_DEBUG=1 for details)", file=sys.stderr)
        return 2


def _exit_now(code: int) -> None:
    """End a command without the interpreter's teardown.

    Tearing down the modules and objects a verification leaves costs several
    milliseconds, a measurable share of a 0.1 s command; and a bucket's client
    threads may still be returning into Python then (see ``main``). These
    commands hold nothing that needs it: their worker processes are reaped,
    their files closed and their temporary copies removed before they return.
    Output is flushed first; output that cannot be written is an error
    (exit 2), said in one line.
    """
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1  # the reader went away: not a success
    except OSError as exc:
        code = 2
        try:
            sys.stderr.write(f"driftdeck: cannot write the output: {exc.strerror or exc}\n")
        except OSError:
            pass
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(code)
