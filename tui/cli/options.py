"""Command options declared once, without click.

A command's options are a subclass of ``Options`` whose class body declares
each option once: its attribute name is the destination, its annotation the
type the runner reads, and its value (``argument``, ``flag``, ``value`` or
``multiple``) every spelling, the default, the help text and how the text
is checked and converted. From that one declaration

* ``tui.cli.click_options`` builds the click parameters (``--help``, usage
  errors and click's checks of paths), and
* ``tui.cli.fast`` parses plain command lines without loading click;

both hand the runner one instance: a frozen record of the parsed values.

This module imports nothing, and the record is not a dataclass: the fast
path runs it before ``checksums verify`` forks its hashing workers, and
``import dataclasses`` (with ``inspect``, ``re`` and ``enum``, which nothing
else on that path loads before the fork) took 18 ms in a fresh interpreter
(best of 30 on a loaded 2-vCPU VM; ``re`` and ``enum`` alone 6 ms), a good
part of what skipping click saves.
"""

from __future__ import annotations

TYPE_CHECKING = False  # no typing import on the fast path
if TYPE_CHECKING:
    from typing import Any

FLAG, VALUE, MULTIPLE, ARGUMENT = "flag", "value", "multiple", "argument"
_REQUIRED = object()


class IntRange:
    """An integer from ``low`` to ``high`` (click: ``click.IntRange``)."""

    __slots__ = ("low", "high")
    click_only = False

    def __init__(self, low: int, high: int) -> None:
        self.low = low
        self.high = high

    def convert(self, text: str) -> int:
        """The value of ``text``; ``ValueError`` when it is not one (click then words the error)."""
        value = int(text)
        if not self.low <= value <= self.high:
            raise ValueError(text)
        return value

    def problem(self, value: object) -> str | None:
        return None  # click.IntRange checks the range itself


class AtLeast:
    """A float no less than ``low`` (click parses a float; the command then says ``must be >= low``)."""

    __slots__ = ("low",)
    click_only = False

    def __init__(self, low: float) -> None:
        self.low = low

    def convert(self, text: str) -> float:
        value = float(text)
        if self.problem(value) is not None:
            raise ValueError(text)
        return value

    def problem(self, value: object) -> str | None:
        """What is wrong with a parsed value, or ``None``."""
        if isinstance(value, float) and value < self.low:
            return f"must be >= {self.low:g}"
        return None


class WritableFile:
    """A file path click checks is writable, before anything runs; the fast path leaves it to click.

    Args:
        directory_must_exist: Also refuse a path whose directory does not exist
            (click checks only paths that exist).
    """

    __slots__ = ("directory_must_exist",)
    click_only = True

    def __init__(self, directory_must_exist: bool = False) -> None:
        self.directory_must_exist = directory_must_exist

    def convert(self, text: str) -> str:
        raise ValueError(text)  # never reached: click_only options send the command line to click

    def problem(self, value: object) -> str | None:
        return None


class Spec:
    """One option or argument of a command, as declared.

    Args:
        names: Every spelling (``--source``, ``-s``); empty for an argument.
        kind: ``FLAG``, ``VALUE``, ``MULTIPLE`` (a repeatable value) or ``ARGUMENT``.
        default: The value when absent.
        help: Help text (``--help``).
        metavar: The value's name in the help.
        type: ``None`` (text), ``IntRange``, ``AtLeast`` or ``WritableFile``.
        show_default: Show the default in the help.
        nargs: For an argument: 1, or -1 for any number (a tuple).
    """

    __slots__ = ("names", "kind", "default", "help", "metavar", "type", "show_default", "nargs", "dest")

    def __init__(self, names: tuple[str, ...], kind: str, default: object, help: str | None = None,
                 metavar: str | None = None, type: IntRange | AtLeast | WritableFile | None = None,
                 show_default: bool = False, nargs: int = 1) -> None:
        self.names = names
        self.kind = kind
        self.default = default
        self.help = help
        self.metavar = metavar
        self.type = type
        self.show_default = show_default
        self.nargs = nargs
        self.dest = ""  # the attribute name, set by Options.__init_subclass__

    @property
    def click_only(self) -> bool:
        """Whether only click may parse it (its presence sends the command line to click)."""
        return self.type is not None and self.type.click_only

    def convert(self, text: str) -> object:
        """The value of ``text`` for the fast path; ``ValueError`` hands the command line to click."""
        return text if self.type is None else self.type.convert(text)


def argument(*, nargs: int = 1, metavar: str | None = None) -> Any:
    """A positional argument; ``nargs=-1``: any number of them, as a tuple."""
    return Spec((), ARGUMENT, () if nargs == -1 else _REQUIRED, metavar=metavar, nargs=nargs)


def flag(*names: str, help: str, default: bool | None = False) -> Any:
    """An on/off option (``default=None``: absent means "as configured")."""
    return Spec(names, FLAG, default, help)


def value(*names: str, help: str, default: object = None, metavar: str | None = None,
          type: IntRange | AtLeast | WritableFile | None = None, show_default: bool = False) -> Any:
    """An option taking one value."""
    return Spec(names, VALUE, default, help, metavar, type, show_default)


def multiple(*names: str, help: str, metavar: str | None = None) -> Any:
    """A repeatable option taking one value each time (a tuple, empty when absent)."""
    return Spec(names, MULTIPLE, (), help, metavar)


class Options:
    """A command's options: subclasses declare them; instances are frozen records of the values.

    A subclass lists its own options first, then those it inherits (so the
    report options of ``tui.cli.reports.ReportOptions`` come last in the help).
    """

    SPECS: tuple[Spec, ...] = ()

    def __init_subclass__(cls) -> None:
        own = []
        for name, spec in vars(cls).items():
            if isinstance(spec, Spec):
                spec.dest = name
                own.append(spec)
        cls.SPECS = (*own, *cls.SPECS)

    def __init__(self, **values: object) -> None:
        for spec in self.SPECS:
            item = values.pop(spec.dest, spec.default)
            if item is _REQUIRED:
                raise TypeError(f"{type(self).__name__}: {spec.dest} is required")
            object.__setattr__(self, spec.dest, item)
        if values:
            raise TypeError(f"{type(self).__name__}: unknown options {', '.join(sorted(values))}")

    def __setattr__(self, name: str, item: object) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is frozen")

    def values(self) -> dict[str, object]:
        """Every option's value by its attribute name."""
        return {spec.dest: getattr(self, spec.dest) for spec in self.SPECS}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Options) and type(other) is type(self) and self.values() == other.values()

    def __hash__(self) -> int:
        return hash((type(self), tuple(self.values().items())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.values().items())})"
