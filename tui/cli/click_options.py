"""Click parameters built from an ``Options`` declaration (``tui.cli.options``).

The only module that turns a declaration into click objects: ``click_command``
for a command whose function takes the options object (``options_from_click``
builds it from click's values), ``add_options`` for a
command that takes the values as keyword arguments (the report options of
commands without an options class).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import Any, TypeVar

import click

from tui.cli.options import ARGUMENT, FLAG, MULTIPLE, AtLeast, IntRange, Options, Spec, WritableFile

OptionsT = TypeVar("OptionsT", bound=Options)
F = TypeVar("F", bound=Callable[..., Any])


def add_options(cls: type[Options]) -> Callable[[F], F]:
    """A decorator adding ``cls``'s options to a click command function (keyword arguments, declaration order)."""

    def decorate(function: F) -> F:
        for spec in reversed(cls.SPECS):  # click lists the last decorator applied first
            function = _parameter(spec)(function)
        return function

    return decorate


def click_command(cls: type[OptionsT]) -> Callable[[Callable[[OptionsT], int]], Callable[..., int]]:
    """A decorator for a command function taking one ``cls``: it gets the click parameters of ``cls``.

    Values a declared type refuses after click parsed them (``AtLeast``) are
    a usage error naming the option, as click words its own.
    """

    def decorate(run: Callable[[OptionsT], int]) -> Callable[..., int]:
        @functools.wraps(run)  # the docstring is the command's help
        def command(**values: Any) -> int:
            return run(options_from_click(cls, values))

        return add_options(cls)(command)

    return decorate


def options_from_click(cls: type[OptionsT], values: dict[str, Any]) -> OptionsT:
    """The options object of the values click parsed; a value a declared type refuses is a usage error."""
    for spec in cls.SPECS:
        problem = None if spec.type is None else spec.type.problem(values[spec.dest])
        if problem is not None:
            raise click.BadParameter(problem, param_hint=spec.names[0])
    return cls(**values)


def _parameter(spec: Spec) -> Callable[[F], F]:
    if spec.kind == ARGUMENT:
        return click.argument(spec.dest, nargs=spec.nargs, metavar=spec.metavar)
    extra: dict[str, Any] = {}
    if spec.kind == FLAG:
        extra["is_flag"] = True
    elif spec.kind == MULTIPLE:
        extra["multiple"] = True
    if isinstance(spec.type, IntRange):
        extra["type"] = click.IntRange(spec.type.low, spec.type.high)
    elif isinstance(spec.type, AtLeast):
        extra["type"] = float
    elif isinstance(spec.type, WritableFile):
        extra["type"] = click.Path(dir_okay=False, writable=True)
        if spec.type.directory_must_exist:
            extra["callback"] = _in_a_directory
    return click.option(*spec.names, spec.dest, default=spec.default, show_default=spec.show_default,
                        metavar=spec.metavar, help=spec.help, **extra)


def _in_a_directory(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """Refuse, before any work, a file whose directory does not exist (click checks only existing paths)."""
    if value is not None and not os.path.isdir(os.path.dirname(os.path.abspath(os.path.expanduser(value)))):
        raise click.BadParameter(f"{value}: its directory does not exist")
    return value
