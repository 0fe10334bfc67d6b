"""Rich styles for render code, written like CSS: ``"bold $text-error"`` in the current theme's colours.

Widgets that build ``rich.text.Text`` or ``Syntax`` in Python cannot use their
DEFAULT_CSS; a colour name there (``"red"``) ignores the theme and measured
3.7:1 red on the high-contrast white cursor. Every such style goes through
``theme_style`` so that all colours come from theme variables.
"""

from __future__ import annotations

from functools import lru_cache

from rich.style import Style
from rich.syntax import ANSISyntaxTheme, SyntaxTheme
from textual.app import App
from textual.color import Color, ColorParseError


def theme_style(app: App[object], spec: str) -> Style:
    """``spec`` with each ``$variable`` replaced by its colour in ``app``'s current theme.

    Args:
        app: The running app (its theme decides the colours).
        spec: A Rich style string whose colours are CSS variables, e.g. ``"bold $text-error"``.
    """
    return _parse(app.theme, spec, _colours(app))


def _colours(app: App[object]) -> tuple[tuple[str, str], ...]:
    return _colours_of(tuple(sorted(app.get_css_variables().items())))


@lru_cache(maxsize=8)
def _colours_of(variables: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    # Cached per set of variables: 20 of Textual's ~170 variables are not colours
    # ("auto 87%", "bold"), and each failed Color.parse computes a difflib
    # suggestion; parsing them all on every call cost 0.2 s of the first screen.
    table = dict(variables)
    background = Color.parse(table["background"])
    colours = {}
    for name, value in variables:
        try:
            colour = Color.parse(value)
        except ColorParseError:
            continue
        colours[name] = (background + colour).hex6
    return tuple(sorted(colours.items()))


@lru_cache(maxsize=256)
def _parse(theme: str, spec: str, colours: tuple[tuple[str, str], ...]) -> Style:
    table = dict(colours)
    words = [table.get(word[1:], "default") if word.startswith("$") else word for word in spec.split()]
    return Style.parse(" ".join(words))


def syntax_theme(app: App[object]) -> SyntaxTheme:
    """A Pygments-token theme for ``rich.syntax.Syntax`` drawn from the current theme's text colours.

    Rich's ``ansi_light`` drew JSON strings in #cb9000 (2.6:1 on the light background).
    """
    from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Token  # type: ignore[import-untyped]  # pygments ships no stubs; rich depends on it

    def style(spec: str) -> Style:
        return theme_style(app, spec)

    return ANSISyntaxTheme(
        {
            Token: style("$foreground"),
            Comment: style("italic $text-muted"),
            Keyword: style("$text-primary"),
            Keyword.Constant: style("$text-secondary"),
            Name: style("$foreground"),
            Name.Tag: style("$text-primary"),
            Name.Attribute: style("$text-primary"),
            String: style("$text-success"),
            Number: style("$text-accent"),
            Operator: style("$foreground"),
            Punctuation: style("$foreground"),
        }
    )
