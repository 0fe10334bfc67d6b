"""``ChecksumsState``: what pane 5 knows: the manifests, each one's verification so far, the view options."""

from __future__ import annotations

from dataclasses import dataclass, field

from backends.checksums.models import CATEGORIES, OK, ChecksumEntry, ChecksumProgress, ChecksumSummary
from backends.models import text_matches

CATEGORY_CYCLE: tuple[str | None, ...] = (None, *CATEGORIES)
"""``c`` cycles through: every category, then one category at a time."""


class ManifestRun:
    """What one verification of one manifest has produced so far (pane state, mutable)."""

    def __init__(self, manifest: str) -> None:
        self.manifest = manifest
        self.entries: list[ChecksumEntry] = []
        self.counts: dict[str, int] = {}
        self.progress: ChecksumProgress | None = None
        self.summary: ChecksumSummary | None = None
        self.running = True
        self.cancelled = False
        self.error: str | None = None

    def add(self, item: object) -> None:
        if isinstance(item, ChecksumEntry):
            self.entries.append(item)
            self.counts[item.category] = self.counts.get(item.category, 0) + 1
        elif isinstance(item, ChecksumProgress):
            self.progress = item
        elif isinstance(item, ChecksumSummary):
            self.summary = item
            self.counts = dict(item.counts)

    @property
    def state(self) -> str:
        """A word or two for the manifest list."""
        if self.error is not None:
            return "error"
        if self.running:
            p = self.progress
            if p is not None and p.bytes_total:
                return f"verifying {100 * p.bytes_done // max(1, p.bytes_total)}%"
            return "verifying…"
        if self.cancelled:
            return "cancelled"
        if self.summary is None:
            return "?"
        if self.summary.problem is not None:
            return self.summary.problem.kind.upper()
        return "DRIFT" if self.summary.drift else "OK"


def entry_order(entry: ChecksumEntry) -> tuple[bool, int, str]:
    """Manifest line order; unlisted (``new``) entries last, by path."""
    return (entry.line is None, entry.line or 0, entry.path)


@dataclass
class ChecksumsState:
    """The manifests of the source and their verifications, and what the entry table shows.

    Attributes:
        started: Whether loading has begun (the pane reads the source only once it is first shown).
        manifests: Manifest paths the source lists, in list order.
        runs: Verification of each manifest started so far.
        queue: Manifests waiting to be verified, next first.
        current: The manifest whose entries are shown.
        view: Its entries the table shows (filtered, in manifest line order).
        shown_count: How many entries the table was last given.
        dirty: Manifests whose verification changed since the last redraw.
        category: The one category shown, or ``None`` for all (but ok, unless ``show_ok``).
        show_ok: Whether ok entries are shown.
        text: Filter on path, name, reason and the other path (``!`` prefix inverts).
    """

    manifests: list[str] = field(default_factory=list)
    runs: dict[str, ManifestRun] = field(default_factory=dict)
    queue: list[str] = field(default_factory=list)
    current: str | None = None
    view: list[ChecksumEntry] = field(default_factory=list)
    shown_count: int = -1
    dirty: set[str] = field(default_factory=set)
    category: str | None = None
    show_ok: bool = False
    text: str = ""
    started: bool = False

    def visible(self, entry: ChecksumEntry) -> bool:
        """Whether ``entry`` is shown under the category, ok and text filters."""
        if self.category is not None:
            if entry.category != self.category:
                return False
        elif entry.category == OK and not self.show_ok:
            return False
        if self.text:
            return text_matches(self.text, (entry.path, entry.name or "", entry.reason or "", entry.other or ""))
        return True

    def visible_entries(self) -> list[ChecksumEntry]:
        """The current manifest's entries that are shown, in manifest line order."""
        run = self.runs.get(self.current or "")
        return sorted((e for e in run.entries if self.visible(e)), key=entry_order) if run is not None else []

    def set_manifests(self, manifests: list[str]) -> None:
        """A new listing: keep the verifications of manifests still listed, queue the others."""
        self.manifests = manifests
        self.runs = {m: r for m, r in self.runs.items() if m in manifests}
        self.queue = [m for m in manifests if m not in self.runs]

    def choose(self, manifest: str) -> None:
        """Show ``manifest``; if it is still waiting, verify it next."""
        self.current = manifest
        if manifest not in self.runs and manifest in self.queue:
            self.queue.remove(manifest)
            self.queue.insert(0, manifest)

    def drifting(self, step: int) -> list[str]:
        """Manifests with drift, in list order from the one after (``step`` 1) or before (-1) the current one."""
        if self.current not in self.manifests:
            return []
        start = self.manifests.index(self.current)
        order = [self.manifests[(start + step * offset) % len(self.manifests)] for offset in range(1, len(self.manifests))]
        return [m for m in order if (run := self.runs.get(m)) is not None and any(e.is_drift for e in run.entries)]

    @property
    def busy(self) -> bool:
        """Whether a verification is running or waiting."""
        return bool(self.queue) or any(run.running for run in self.runs.values())
