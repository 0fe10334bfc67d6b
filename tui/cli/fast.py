"""A click-free path for the hottest local commands.

``driftdeck checksums verify`` over 20,000 small files takes about a tenth of
a second of real work; importing click (and what it imports) would add a
fifth to that. So ``main`` first offers the arguments to ``run_fast``: when
they name a command in ``FAST`` and use only its plain options, the command
runs from here; anything else (``--help``, an unknown or malformed option, a
wrong number of arguments, a value click would have to check) returns
``None`` and click parses the arguments as usual, with its own messages.

``FAST`` mirrors the click declarations; a test checks that every click
option of these commands is described here with the same names and arity, so
the two parsers cannot drift apart.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

FLAG, VALUE, MULTIPLE = "flag", "value", "multiple"


class Option:
    """One option of a fast command.

    Args:
        names: Every spelling (``--source``, ``-s``).
        dest: The keyword argument of the runner.
        kind: ``FLAG``, ``VALUE`` or ``MULTIPLE`` (a repeatable value).
        convert: Turns the text into the value; raising ``ValueError`` hands
            the arguments to click, which words the error.
    """

    __slots__ = ("names", "dest", "kind", "convert")

    def __init__(self, names: tuple[str, ...], dest: str, kind: str, convert: Callable[[str], object] | None = None) -> None:
        self.names = names
        self.dest = dest
        self.kind = kind
        self.convert = convert


class FastCommand:
    """A command the fast path may run.

    Args:
        runner: ``module:function`` called with keyword arguments; returns the exit code.
        positional: Name of the keyword receiving the positional arguments.
        count: How many positional arguments (``None``: any number, as a tuple).
        options: The options.
        defaults: Keyword arguments when their option is absent.
        click_only: Options left to click (their presence sends the command
            there, as any unknown option does): values click must check
            itself, such as a writable path.
    """

    __slots__ = ("runner", "positional", "count", "options", "defaults", "click_only")

    def __init__(
        self,
        runner: str,
        positional: tuple[str, ...],
        count: int | None,
        options: Sequence[Option],
        defaults: dict[str, object],
        click_only: tuple[str, ...] = (),
    ) -> None:
        self.runner = runner
        self.positional = positional
        self.count = count
        self.options = {name: option for option in options for name in option.names}
        self.defaults = defaults
        self.click_only = click_only


def _int_range(low: int, high: int) -> Callable[[str], int]:
    def convert(text: str) -> int:
        value = int(text)
        if not low <= value <= high:
            raise ValueError(text)
        return value

    return convert


def _non_negative(text: str) -> float:
    value = float(text)
    if not value >= 0:  # also refuses nan
        raise ValueError(text)
    return value


FAST: dict[tuple[str, str], FastCommand] = {
    ("checksums", "verify"): FastCommand(
        "tui.cli.checksums_verify:run_verify",
        ("manifests",),
        None,
        [
            Option(("--source", "-s"), "source", VALUE),
            Option(("--json",), "as_json", FLAG),
            Option(("--no-new",), "no_new", FLAG),
            Option(("--exclude",), "exclude", MULTIPLE),
            Option(("--top-only",), "top_only", FLAG),
            Option(("--workers",), "workers", VALUE, _int_range(1, 256)),
        ],
        {"source": ".", "as_json": False, "no_new": False, "exclude": (), "top_only": False, "workers": None},
    ),
    ("snapshots", "diff"): FastCommand(
        "tui.cli.snapshots_diff:run_diff",
        ("a", "b"),
        2,
        [
            Option(("--source", "-s"), "source", VALUE),
            Option(("--ignore-path",), "ignore_paths", MULTIPLE),
            Option(("--ignore-line",), "ignore_lines", MULTIPLE),
            Option(("--exclude-field",), "exclude_fields", MULTIPLE),
            Option(("--tolerance",), "tolerance", VALUE, _non_negative),
            Option(("--ignore-order",), "ignore_order", FLAG),
            Option(("--ignore-whitespace", "-w"), "ignore_whitespace", FLAG),
            Option(("--ignore-eol",), "ignore_eol", FLAG),
            Option(("--key",), "keys", MULTIPLE),
            Option(("--no-rules",), "no_rules", FLAG),
            Option(("--all",), "show_all", FLAG),
            Option(("--brief", "-q"), "brief", FLAG),
            Option(("--unified",), "unified", FLAG),
            Option(("--context", "-U"), "context", VALUE, _int_range(0, 1000)),
            Option(("--json",), "as_json", FLAG),
        ],
        {"source": ".", "ignore_paths": (), "ignore_lines": (), "exclude_fields": (), "tolerance": None,
         "ignore_order": None, "ignore_whitespace": None, "ignore_eol": None, "keys": (), "no_rules": False,
         "show_all": False, "brief": False, "unified": False, "context": 3, "as_json": False, "output": None},
        click_only=("output",),  # click checks the path is writable before anything runs
    ),
}

# --junit/--html (tui.cli.reports.report_options, on both commands) are left to click, which checks
# the paths are writable before anything runs; the runners take them as the keywords junit and html.
for _command in FAST.values():
    _command.click_only += ("junit", "html")


def parse(command: FastCommand, args: Sequence[str]) -> dict[str, object] | None:
    """Keyword arguments for ``command``'s runner, or ``None`` to let click parse ``args``."""
    values: dict[str, object] = dict(command.defaults)
    multiple: dict[str, list[object]] = {}
    positional: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            positional.extend(args[i:])
            break
        if not arg.startswith("-") or arg == "-":
            positional.append(arg)
            continue
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        option = command.options.get(name)
        if option is None:
            return None  # --help, an unknown option, -sVALUE, bundled flags: click's business
        if option.kind == FLAG:
            if eq:
                return None
            values[option.dest] = True
            continue
        if eq:
            text = inline
        elif i < len(args):
            text = args[i]
            i += 1
        else:
            return None
        try:
            value = option.convert(text) if option.convert is not None else text
        except ValueError:
            return None
        if option.kind == MULTIPLE:
            multiple.setdefault(option.dest, []).append(value)
        else:
            values[option.dest] = value
    if command.count is not None and len(positional) != command.count:
        return None
    for dest, items in multiple.items():
        values[dest] = tuple(items)
    if command.count is None:
        values[command.positional[0]] = tuple(positional)
    else:
        values.update(zip(command.positional, positional, strict=True))
    return values


def run_fast(args: Sequence[str]) -> int | None:
    """Run ``args`` when the fast path can; ``None`` when click must parse them.

    ``DRIFTDECK_NO_FAST_PATH=1`` turns the fast path off (tests compare both).
    """
    import os

    if len(args) < 2 or os.environ.get("DRIFTDECK_NO_FAST_PATH"):
        return None
    command = FAST.get((args[0], args[1]))
    if command is None:
        return None
    kwargs = parse(command, args[2:])
    if kwargs is None:
        return None
    module, _, function = command.runner.partition(":")
    __import__(module)  # importlib itself would cost every start half a millisecond
    runner: Callable[..., int] = getattr(sys.modules[module], function)
    return runner(**kwargs)
