"""A click-free path for the hottest local commands.

``driftdeck checksums verify`` and ``snapshots diff`` on small trees do a
tenth of a second of real work or less; going through click adds 20 to 90
ms of wall-clock time (18 to 41 ms of CPU time) to each run, measured by
``benchmarks/startup.py`` on 200 and 20,000 files (a loaded 2-vCPU VM). So
``main`` first offers the arguments to ``run_fast``: when they name a
command in ``FAST`` and use only its plain options, the command runs from
here; anything else (``--help``, an unknown or malformed option, a wrong
number of arguments, a value click must check, such as a writable path)
returns ``None`` and click parses the arguments as usual, with its own
messages.

There is nothing here to keep in step with click: both parsers are built
from the command's one declaration, its ``tui.cli.options.Options`` class,
and both hand the runner an instance of it.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from tui.cli.options import ARGUMENT, FLAG, MULTIPLE, Options, Spec

FAST: dict[tuple[str, str], tuple[str, str, str]] = {
    ("checksums", "verify"): ("tui.cli.checksums_verify", "VerifyOptions", "run_verify"),
    ("snapshots", "diff"): ("tui.cli.snapshots_diff", "DiffOptions", "run_diff"),
}
"""``(group, command)``: the module declaring its options class and runner, the class, the runner."""


def parse(cls: type[Options], args: Sequence[str]) -> Options | None:
    """``args`` parsed into ``cls``, or ``None`` to let click parse them."""
    named: dict[str, Spec] = {}
    arguments: list[Spec] = []
    for spec in cls.SPECS:
        if spec.kind == ARGUMENT:
            arguments.append(spec)
        else:
            named.update(dict.fromkeys(spec.names, spec))
    values: dict[str, object] = {}
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
        found = named.get(name)
        if found is None or found.click_only:
            return None  # --help, an unknown option, -sVALUE, bundled flags, a path click checks: click's business
        spec = found
        if spec.kind == FLAG:
            if eq:
                return None
            values[spec.dest] = True
            continue
        if eq:
            text = inline
        elif i < len(args):
            text = args[i]
            i += 1
        else:
            return None
        try:
            value = spec.convert(text)
        except ValueError:
            return None
        if spec.kind == MULTIPLE:
            multiple.setdefault(spec.dest, []).append(value)
        else:
            values[spec.dest] = value
    for dest, items in multiple.items():
        values[dest] = tuple(items)
    if any(spec.nargs == -1 for spec in arguments):
        if len(arguments) > 1:
            return None  # click shares the positionals out
        values[arguments[0].dest] = tuple(positional)
    elif len(positional) == len(arguments):
        values.update(zip((spec.dest for spec in arguments), positional, strict=True))
    else:
        return None
    return cls(**values)


def run_fast(args: Sequence[str]) -> int | None:
    """Run ``args`` when the fast path can; ``None`` when click must parse them.

    ``DRIFTDECK_NO_FAST_PATH=1`` turns the fast path off (tests and
    ``benchmarks/startup.py`` compare both).
    """
    import os

    if len(args) < 2 or os.environ.get("DRIFTDECK_NO_FAST_PATH"):
        return None
    command = FAST.get((args[0], args[1]))
    if command is None:
        return None
    module_name, class_name, function = command
    __import__(module_name)  # importlib itself would cost every start half a millisecond
    module = sys.modules[module_name]
    options = parse(getattr(module, class_name), args[2:])
    if options is None:
        return None
    runner: Callable[[Options], int] = getattr(module, function)
    return runner(options)
