"""``Offered``: what the source offers, as the panes read it, and the words for what it does not offer.

A source lists its capabilities in ``describe().capabilities`` (``backends.base``
derives them for a plugin from what it overrides). A pane that needs a
capability the source lacks shows a calm placeholder that names the source and
what is missing, hides the keys that need it, and go-tos to it say so; nothing
is asked of the source that it has said it does not offer.
"""

from __future__ import annotations

from dataclasses import dataclass

from backends.models import (
    CAP_CHECKSUMS,
    CAP_FILES,
    CAP_INVENTORY,
    CAP_RUNS,
    CAP_SNAPSHOTS,
    CAP_WAL,
    CAP_WATCH,
    SourceInfo,
)

PANE_NEEDS: dict[str, tuple[str, ...]] = {
    "runs": (CAP_RUNS,),
    "live": (CAP_WATCH,),
    "wal": (CAP_WAL,),
    "snapshots": (CAP_SNAPSHOTS, CAP_INVENTORY),
    "checksums": (CAP_CHECKSUMS, CAP_INVENTORY),
}
"""What each pane (by id) needs of the source to show anything at all.

The WAL pane also lists the source's pairs (``inventory``) but without that it
still compares two files the user names (``o``), so only ``wal`` is required;
pane 4 picks its snapshots and pane 5 its manifests from the inventory, so
they need it.
"""

WHAT: dict[str, str] = {
    CAP_RUNS: "Runs and quarantine records",
    CAP_WATCH: "Live events",
    CAP_WAL: "WAL record/replay comparisons",
    CAP_SNAPSHOTS: "Snapshot comparisons",
    CAP_CHECKSUMS: "Checksum verifications",
    CAP_INVENTORY: "Listings of manifests, snapshots and WAL pairs",
    CAP_FILES: "File listings and reads",
}
"""Each capability as the subject of "… are not offered by this source"."""


@dataclass(frozen=True)
class Offered:
    """The capabilities of one source, with its kind and spec for the messages.

    Attributes:
        info: What ``describe()`` answered.
    """

    info: SourceInfo

    def offers(self, *capabilities: str) -> bool:
        """Whether the source offers every one of ``capabilities``."""
        return set(capabilities) <= self.info.capabilities

    def lacking(self, *capabilities: str) -> tuple[str, ...]:
        """Those of ``capabilities`` the source does not offer, in the order given."""
        return tuple(cap for cap in capabilities if cap not in self.info.capabilities)

    @property
    def source_words(self) -> str:
        """``plugin: example://x``: the source's kind and spec, as the messages name it."""
        return f"{self.info.kind}: {self.info.spec}"

    def not_offered(self, *capabilities: str) -> str | None:
        """One line saying what of ``capabilities`` is not offered, or ``None`` when all are.

        ``"Live events are not offered by this source (plugin: example://x)"``.
        """
        lacking = self.lacking(*capabilities)
        if not lacking:
            return None
        return f"{WHAT.get(lacking[0], lacking[0])} are not offered by this source ({self.source_words})"

    def pane_not_offered(self, pane_id: str) -> str | None:
        """What pane ``pane_id`` lacks, in one line, or ``None`` when the source offers all it needs."""
        return self.not_offered(*PANE_NEEDS.get(pane_id, ()))

    def placeholder(self, pane_id: str, pane_key: str, offered_panes: list[str]) -> str | None:
        """The text a pane shows instead of its content, or ``None`` when it has what it needs.

        Args:
            pane_id: The pane's id (a key of ``PANE_NEEDS``).
            pane_key: The pane's number key, for the explanation.
            offered_panes: ``"1 Runs & Quarantine"``-style names of the panes this source does fill.
        """
        headline = self.pane_not_offered(pane_id)
        if headline is None:
            return None
        needs = ", ".join(repr(cap) for cap in self.lacking(*PANE_NEEDS[pane_id]))
        offers = ", ".join(sorted(self.info.capabilities)) or "nothing beyond describing itself"
        lines = [
            headline + ".",
            "",
            f"Pane {pane_key} needs the capability {needs}; this source offers: {offers}.",
        ]
        if offered_panes:
            lines.append(f"What it does offer is in: {', '.join(offered_panes)}.")
        return "\n".join(lines)
