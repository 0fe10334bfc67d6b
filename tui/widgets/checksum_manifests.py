"""``ManifestList``: the manifests of a source, each with coloured per-category badges."""

from __future__ import annotations

from typing import ClassVar, Mapping

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option, OptionDoesNotExist

from backends.checksums.models import CATEGORIES

BADGE_STYLE = {
    "changed": "bold $text-error on $error-muted",
    "missing": "bold $text-error on $error-muted",
    "unreadable": "bold $text-warning on $warning-muted",
    "malformed": "bold $text-warning on $warning-muted",
    "duplicate": "$text-warning on $warning-muted",
    "moved": "bold $text-accent on $accent-muted",
    "new": "bold $text-primary on $primary-muted",
    "alias": "$text-muted on $boost",
    "ok": "$text-success on $success-muted",
}


def badges(counts: Mapping[str, int], state: str, width: int = 40) -> Content:
    """``state`` (``verifying 40%``, ``DRIFT`` …) then one badge per non-empty category.

    Badges are packed into lines of at most ``width`` cells, so a long row
    breaks between badges, never inside one.
    """
    lines: list[list[Content]] = [[Content.styled(f"  {state} ", "$text-muted")]]
    used = len(state) + 3
    for category in CATEGORIES:
        count = counts.get(category, 0)
        if not count:
            continue
        label = f" {count:,} {category} "
        if used + len(label) > width and used > 2:
            lines.append([Content("  ")])
            used = 2
        lines[-1].append(Content.styled(label, BADGE_STYLE[category]))
        lines[-1].append(Content(" "))
        used += len(label) + 1
    return Content("\n").join(Content("").join(parts) for parts in lines)


class ManifestList(OptionList):
    """One option per manifest: its path, then its verdict and category badges."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
        Binding("g", "first", "Top", show=False),
        Binding("G", "last", "Bottom", show=False),
    ]

    DEFAULT_CSS = """
    ManifestList { height: 1fr; }
    """

    def set_manifests(self, manifests: list[str], states: Mapping[str, tuple[Mapping[str, int], str]]) -> None:
        """Show ``manifests`` (keeping the highlight) with their counts and state."""
        highlighted = self.highlighted_option.id if self.highlighted_option is not None else None
        self.clear_options()
        self.add_options([Option(self._prompt(m, *states.get(m, ({}, "not verified"))), id=m) for m in manifests])
        if manifests:
            self.highlighted = manifests.index(highlighted) if highlighted in manifests else 0

    def update_manifest(self, manifest: str, counts: Mapping[str, int], state: str) -> None:
        """Redraw one manifest's badges."""
        try:
            self.replace_option_prompt(manifest, self._prompt(manifest, counts, state))
        except OptionDoesNotExist:  # the list was reloaded meanwhile
            return

    @staticmethod
    def _prompt(manifest: str, counts: Mapping[str, int], state: str) -> Content:
        return Content.assemble(Content.styled(manifest, "bold"), "\n", badges(counts, state))
