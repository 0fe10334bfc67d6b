"""Theme files (YAML) and the loader that turns them into Textual themes.

Each ``*.yaml`` file in this package is one theme: ``name``, ``dark`` and the
colour slots of ``textual.theme.Theme`` (``primary``, ``secondary``,
``accent``, ``foreground``, ``background``, ``surface``, ``panel``, ``boost``,
``warning``, ``error``, ``success``), plus optional ``variables``.
"""

from __future__ import annotations

from dataclasses import fields
from importlib import resources

import yaml
from textual.theme import Theme

DEFAULT_THEME = "driftdeck-dark"

_ALLOWED = {f.name for f in fields(Theme)}


class ThemeFileError(ValueError):
    """A theme file is not a valid theme; the message names the file."""


def load_theme(name: str, text: str) -> Theme:
    """Build a ``Theme`` from the YAML text of the file ``name``."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ThemeFileError(f"{name}: invalid YAML: {exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or "primary" not in data:
        raise ThemeFileError(f"{name}: a theme needs at least `name` and `primary`")
    unknown = set(data) - _ALLOWED
    if unknown:
        raise ThemeFileError(f"{name}: unknown keys {sorted(unknown)}")
    return Theme(**data)


def bundled_themes() -> dict[str, Theme]:
    """Every theme shipped in this package, by name."""
    themes: dict[str, Theme] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".yaml"):
            theme = load_theme(entry.name, entry.read_text(encoding="utf-8"))
            themes[theme.name] = theme
    return themes
