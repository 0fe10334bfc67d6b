"""YAML loading that reports *where* a document is broken, as ``jsonread`` does for JSON.

PyYAML's safe constructors raise plain ``ValueError``, ``KeyError``, ``IndexError``
or ``AttributeError`` (not a ``YAMLError``) for a scalar that matches a type's
pattern but not its range, or whose explicit tag its text does not fit:
``2020-13-01`` (a timestamp with month 13), ``!!int abc``, ``!!bool x``,
``!!float``, ``!!timestamp x``. Those escaped every ``except yaml.YAMLError`` and
crashed a structured diff or the reading of ``driftdeck.yaml``. Here the
constructors of those tags raise ``ConstructorError`` at the scalar's line, and
every failure becomes a ``MalformedError`` naming the file and line.

Import this module lazily: importing ``yaml`` is slow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor

try:
    from yaml import CSafeLoader as _FastLoader
except ImportError:  # PyYAML built without libyaml
    from yaml import SafeLoader as _FastLoader  # type: ignore[assignment]

from backends.errors import MalformedError


class Loader(_FastLoader):
    """The safe loader (libyaml's when built), whose scalar constructors never raise a bare error."""


_Construct = Callable[[Loader, yaml.ScalarNode], Any]


def _checked(name: str, construct: _Construct) -> _Construct:
    def run(loader: Loader, node: yaml.ScalarNode) -> Any:
        try:
            return construct(loader, node)
        except (ValueError, LookupError, AttributeError) as exc:
            detail = f" ({exc})" if isinstance(exc, ValueError) else ""
            raise ConstructorError(None, None, f"{node.value!r} is not a valid {name}{detail}", node.start_mark) from None

    return run


for _name, _construct in (
    ("bool", SafeConstructor.construct_yaml_bool),
    ("int", SafeConstructor.construct_yaml_int),
    ("float", SafeConstructor.construct_yaml_float),
    ("timestamp", SafeConstructor.construct_yaml_timestamp),
):
    Loader.add_constructor(f"tag:yaml.org,2002:{_name}", _checked(_name, _construct))


def load_yaml(text: str, path: str, *, documents: bool = False) -> Any:
    """The value of the one YAML document in ``text`` (``documents``: the list of every document).

    Args:
        text: The decoded file.
        path: File name used in errors.
        documents: Read a stream of any number of documents.

    Raises:
        MalformedError: ``invalid YAML: …`` with the line of the problem when YAML gives one.
    """
    try:
        if documents:
            return list(yaml.load_all(text, Loader=Loader))
        return yaml.load(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark is not None else None
        raise MalformedError(path, line, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise MalformedError(path, None, f"invalid YAML: {exc}") from None
