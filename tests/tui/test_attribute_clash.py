"""No widget of ours assigns a private attribute that Textual itself uses.

A pane once kept its own ``self._running`` flag. Textual's ``MessagePump``
has one too (``check_idle`` reads it): once the pane set it to ``False``,
every ``set_timer``/``call_next`` callback of that pane waited for the next
key press, and the Snapshots pane showed the previous entry's diff for as long
as the user did not touch the keyboard. This test reads the source of every
``DOMNode`` subclass in ``tui`` and of every Textual class in its MRO and fails
on any underscore attribute both assign or define.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import textwrap

from textual.dom import DOMNode

import tui


def _assigned(cls: type) -> set[str]:
    """Names assigned as ``self.NAME = …`` (or augmented) in ``cls``'s own source."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return set()
    return {
        node.attr
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and isinstance(node.ctx, ast.Store)
    }


def _our_widget_classes() -> list[type]:
    classes = []
    for info in pkgutil.walk_packages(tui.__path__, "tui."):
        if info.name.endswith("__main__"):  # importing it runs the CLI
            continue
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if inspect.isclass(value) and issubclass(value, DOMNode) and value.__module__ == module.__name__:
                classes.append(value)
    return classes


def test_the_scan_sees_our_panes() -> None:
    names = {cls.__name__ for cls in _our_widget_classes()}
    assert {"SnapshotsPane", "WalPane", "LivePane", "RunsPane", "ChecksumsPane", "DriftdeckApp"} <= names


def test_no_private_attribute_shadows_textuals() -> None:
    clashes = []
    for cls in _our_widget_classes():
        ours = {name for name in _assigned(cls) if name.startswith("_") and not name.startswith("__")}
        theirs: set[str] = set()
        for base in cls.__mro__:
            if base.__module__.split(".")[0] == "textual":
                theirs |= _assigned(base) | set(vars(base))
        clashes += [f"{cls.__module__}.{cls.__name__}.{name}" for name in sorted(ours & theirs)]
    assert not clashes, f"private attributes that Textual also uses: {clashes}"


def test_the_check_catches_the_old_clash() -> None:
    from textual.message_pump import MessagePump

    assert "_running" in _assigned(MessagePump)
