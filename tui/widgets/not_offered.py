"""``NotOffered``: what the source does not offer, said calmly in place of (or above) what needs it."""

from __future__ import annotations

from textual.markup import escape
from textual.widget import Widget
from textual.widgets import Static


class NotOffered(Static):
    """A pane's placeholder (class ``-pane``: fills the pane) or a line at its top (``-line``).

    The placeholder stands in for a pane whose source lacks a capability the
    pane needs; the line says that an operation the source listed turned out
    not to be offered when it was asked (the rest of the pane keeps working).
    """

    DEFAULT_CSS = """
    NotOffered.-pane {
        height: 1fr;
        width: 1fr;
        padding: 2 4;
        color: $text-muted;
        background: $background;
    }
    NotOffered.-pane:focus {
        text-style: none;
    }
    NotOffered.-line {
        height: auto;
        max-height: 3;
        padding: 0 1;
        background: $panel;
        color: $text;
    }
    """

    can_focus = True

    @classmethod
    def placeholder(cls, text: str, *, id: str | None = None) -> "NotOffered":
        """A pane's placeholder: ``text``'s first line stands out, the rest (why, what is offered) is muted."""
        headline, _, rest = text.partition("\n")
        return cls(f"[bold $foreground]{escape(headline)}[/]\n{escape(rest)}", classes="-pane", id=id)


def show_not_offered_line(container: Widget, message: str, *, after: Widget | None = None) -> None:
    """Say in ``container`` that an operation is not offered (one line; the latest message if already there).

    Args:
        container: The pane or screen whose request the source refused.
        message: The error's one-line message.
        after: Put the line after this child (a screen's header); default: first.
    """
    text = f"⊘ not offered: {message}"
    for line in container.query_children(NotOffered):
        if line.has_class("-line"):
            line.update(text)
            return
    line = NotOffered(text, classes="-line", markup=False)
    line.can_focus = False
    if after is not None:
        container.mount(line, after=after)
    else:
        container.mount(line, before=0)
