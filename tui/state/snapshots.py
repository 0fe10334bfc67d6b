"""``SnapshotsState``: what pane 4 knows about the comparison it shows."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from backends.models import SnapshotInfo
from backends.snapshots.models import DiffProgress, DiffSummary, EntryContent, EntryDiff, SnapshotRules
from backends.units import counted


@dataclass
class SnapshotsState:
    """The pair compared, the entries streamed so far and the view options.

    Attributes:
        snapshots: Snapshots the source lists.
        baseline: Name of the baseline snapshot, once chosen.
        candidate: Name of the candidate snapshot, once chosen.
        rules: The rules the comparison runs with.
        entries: Entries merged into the tree.
        pending: Entries received since the last flush.
        summary: The comparison's summary, once it has finished.
        progress: The latest progress report.
        comparing: Whether a comparison is running.
        collapsed: Keys of the collapsed tree rows.
        show_unchanged: Whether unchanged entries are listed.
        text: The path filter (``!`` prefix inverts).
        view: ``unified`` or ``side``.
        structured: Whether JSON/YAML/JSONL entries show values rather than lines.
        content: The content diff on the right, once loaded.
        shown_key: What the right side shows (pair, path, mode, rules): a new key reloads.
    """

    snapshots: list[SnapshotInfo] = field(default_factory=list)
    baseline: str | None = None
    candidate: str | None = None
    rules: SnapshotRules = field(default_factory=SnapshotRules)
    entries: list[EntryDiff] = field(default_factory=list)
    pending: list[EntryDiff] = field(default_factory=list)
    summary: DiffSummary | None = None
    progress: DiffProgress | None = None
    comparing: bool = False
    collapsed: frozenset[str] = frozenset()
    show_unchanged: bool = False
    text: str = ""
    view: str = "unified"
    structured: bool = True
    content: EntryContent | None = None
    shown_key: tuple[object, ...] | None = None

    @property
    def pair(self) -> tuple[str, str] | None:
        """``(baseline, candidate)`` once both are chosen."""
        if self.baseline is None or self.candidate is None:
            return None
        return self.baseline, self.candidate

    def start(self) -> None:
        """Forget the last comparison: a new one is starting."""
        self.entries.clear()
        self.pending.clear()
        self.summary = None
        self.progress = None
        self.content = None
        self.shown_key = None
        self.comparing = True

    def add(self, item: object) -> None:
        """Take one item of the comparison stream."""
        if isinstance(item, EntryDiff):
            self.pending.append(item)
        elif isinstance(item, DiffProgress):
            self.progress = item
        elif isinstance(item, DiffSummary):
            self.summary = item

    def take_pending(self) -> bool:
        """Merge the pending entries; whether there were any."""
        if not self.pending:
            return False
        self.entries.extend(self.pending)
        self.pending = []
        return True

    def toggle_rules(self) -> bool:
        """Turn the rules off or on; whether they are now applied."""
        self.rules = replace(self.rules, apply=not self.rules.apply)
        return self.rules.apply

    @property
    def content_mode(self) -> str:
        """The mode asked of ``diff_entry`` for the current view options."""
        return "side" if self.view == "side" else ("auto" if self.structured else "unified")

    def content_key(self, entry: EntryDiff) -> tuple[object, ...]:
        """What identifies the right side's content for ``entry``."""
        return (self.baseline, self.candidate, entry.path, self.content_mode, self.rules.apply)

    def exported_entries(self) -> list[EntryDiff]:
        """Entries a report holds: the differences, and unchanged ones when they are shown."""
        return [e for e in self.entries if e.category != "unchanged" or self.show_unchanged]

    def status(self) -> str:
        """The toolbar's one-line status."""
        parts: list[str] = []
        summary = self.summary
        if summary is not None:
            parts.append(f"{summary.differences:,} differences")
            if summary.same_after_rules:
                parts.append(f"{summary.same_after_rules:,} same after rules")
            parts.append(f"{summary.categories.get('unchanged', 0):,} unchanged" + ("" if self.show_unchanged else " (hidden)"))
        else:
            parts.append(f"{len(self.entries):,} entries")
        parts.append("rules on" if self.rules.apply else "rules OFF")
        if self.text:
            parts.append(f"filter {self.text!r}")
        if self.comparing:
            progress = self.progress
            if progress is not None and progress.total:
                parts.append(f"{progress.phase} {progress.done:,}/{progress.total:,}… (escape cancels)")
            else:
                parts.append("comparing… (escape cancels)")
        elif summary is None and self.baseline is not None:
            parts.append("cancelled; R re-runs")
        return " · ".join(parts)

    def tree_title(self) -> str:
        """The title above the tree of differences."""
        if self.summary is None:
            return "Differences"
        groups = len(self.summary.groups)
        return f"{self.summary.differences:,} differences in {counted(groups, 'group')}"
