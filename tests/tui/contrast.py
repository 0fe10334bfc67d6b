"""What colour each visible character has, read back from the app's SVG export, and WCAG contrast.

``App.export_screenshot`` writes every segment of the composed screen as SVG:
one ``<rect>`` per segment with a background and one ``<text>`` per run of
characters, whose class names a ``fill`` (reverse and dim already resolved by
Rich). Reading those back gives, for every cell a user sees, the exact
foreground/background pair the terminal draws, whatever widget or style
produced it, so a hard-coded colour anywhere shows up here.
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass

from rich.cells import cell_len

CHAR_WIDTH = 20 * 0.61
"""Width of one cell in Rich's SVG export (char height 20, aspect ratio 0.61)."""
LINE_HEIGHT = 20 * 1.22
"""Height of one line in Rich's SVG export."""
TEXT_BASELINE = 20
"""A text element's y is its line's top plus the char height."""
RECT_TOP = 1.5
"""A background rect's y is its line's top plus 1.5."""

WCAG_TEXT = 4.5
"""WCAG 2.x AA minimum contrast for normal text."""


@dataclass(frozen=True)
class Cell:
    """One character as drawn: where, what, and its two colours as ``#rrggbb``."""

    row: int
    column: int
    char: str
    fg: str
    bg: str
    line: str

    @property
    def ratio(self) -> float:
        return contrast_ratio(self.fg, self.bg)


def _channel(value: int) -> float:
    c = value / 255
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * _channel(r) + 0.7152 * _channel(g) + 0.0722 * _channel(b)


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours, 1 to 21."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def is_text(char: str) -> bool:
    """Whether a character carries information (not blank, not a box-drawing or block graphic).

    Borders, scrollbars and sparkline blocks are graphics, held to no text contrast.
    """
    if not char.strip() or char == "\xa0":
        return False
    code = ord(char)
    if 0x2500 <= code <= 0x259F or 0x2800 <= code <= 0x28FF:  # box drawing, block elements, braille
        return False
    return unicodedata.category(char)[0] != "Z"


def cells(svg: str) -> list[Cell]:
    """Every text character of an exported screen with its resolved colours."""
    fills = dict(re.findall(r"\.(terminal-\d+-r\d+) \{ fill: (#[0-9a-fA-F]{6})", svg))
    backgrounds: dict[tuple[int, int], str] = {}
    for fill, x, y, width in re.findall(
        r'<rect fill="(#[0-9a-fA-F]{6})" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="[\d.]+" shape-rendering="crispEdges"',
        svg,
    ):
        row = round((float(y) - RECT_TOP) / LINE_HEIGHT)
        first = round(float(x) / CHAR_WIDTH)
        for column in range(first, first + round(float(width) / CHAR_WIDTH)):
            backgrounds[(row, column)] = fill
    texts = re.findall(r'<text class="([^"]+)" x="([\d.]+)" y="([\d.]+)"[^>]*>(.*?)</text>', svg)
    lines: dict[int, list[tuple[int, str]]] = {}
    for _, x, y, text in texts:
        lines.setdefault(round((float(y) - TEXT_BASELINE) / LINE_HEIGHT), []).append(
            (round(float(x) / CHAR_WIDTH), html.unescape(text))
        )
    plain = {row: "".join(t for _, t in sorted(parts)).replace("\xa0", " ") for row, parts in lines.items()}
    found = []
    for name, x, y, text in texts:
        row = round((float(y) - TEXT_BASELINE) / LINE_HEIGHT)
        column = round(float(x) / CHAR_WIDTH)
        for char in html.unescape(text):
            if is_text(char):
                found.append(Cell(row, column, char, fills[name], backgrounds.get((row, column), "#000000"), plain[row]))
            column += cell_len(char)
    return found


def failures(svg: str, minimum: float = WCAG_TEXT) -> list[str]:
    """One line per run of text below ``minimum`` contrast: row, colours, ratio and the line's text."""
    seen: dict[tuple[int, str, str], list[str]] = {}
    for cell in cells(svg):
        if cell.ratio < minimum:
            seen.setdefault((cell.row, cell.fg, cell.bg), []).append(cell.char)
    return [
        f"row {row}: {fg} on {bg} = {contrast_ratio(fg, bg):.2f}:1 for {''.join(chars)!r}"
        for (row, fg, bg), chars in sorted(seen.items())
    ]
