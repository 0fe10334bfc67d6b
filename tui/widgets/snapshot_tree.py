"""``SnapshotTree``: the differences of a snapshot diff as a tree, group → directory → entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable, Sequence

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style

from backends.models import text_matches
from backends.snapshots.models import OTHER_GROUP, EntryDiff
from tui.widgets.virtual_list import VirtualList

ICONS: dict[str, tuple[str, str]] = {
    "added": ("+", "snapshot-tree--added"),
    "removed": ("-", "snapshot-tree--removed"),
    "changed": ("~", "snapshot-tree--changed"),
    "binary_changed": ("◆", "snapshot-tree--changed"),
    "type_changed": ("⇄", "snapshot-tree--type"),
    "symlink_changed": ("↪", "snapshot-tree--changed"),
    "renamed": ("→", "snapshot-tree--renamed"),
    "unreadable": ("⚠", "snapshot-tree--removed"),
    "unchanged": ("·", "snapshot-tree--muted"),
}
"""Icon and style of each category."""

SAME_ICON = "≈"


@dataclass(frozen=True, slots=True)
class TreeRow:
    """One row of the tree.

    Attributes:
        kind: ``group``, ``dir`` or ``entry``.
        key: ``group`` or ``group/dir`` for headers; the entry path for entries.
        depth: Indentation level.
        text: The label (a name, a directory, a group).
        differences: Differences below a header (after rules).
        same: Entries below a header that the rules make the same.
        collapsed: Whether a header is folded.
        entry: The entry of an entry row.
    """

    kind: str
    key: str
    depth: int
    text: str
    differences: int = 0
    same: int = 0
    collapsed: bool = False
    entry: EntryDiff | None = None


def build_rows(
    entries: Iterable[EntryDiff],
    *,
    group_order: Sequence[str] = (),
    collapsed: frozenset[str] = frozenset(),
    show_unchanged: bool = False,
    text: str = "",
) -> list[TreeRow]:
    """Arrange entries as tree rows: groups (in ``group_order``), directories, entries.

    Args:
        entries: The entries of the diff.
        group_order: Group labels in the order configured (others follow, ``other`` last).
        collapsed: Keys of folded headers.
        show_unchanged: Whether unchanged entries are listed.
        text: Filter over path, old path, category and group (``!`` inverts).
    """
    grouped: dict[str, dict[str, list[EntryDiff]]] = {}
    for entry in entries:
        if entry.category == "unchanged" and not show_unchanged:
            continue
        if text and not text_matches(text, (entry.path, entry.old_path or "", entry.category, entry.group)):
            continue
        folder = entry.path.rpartition("/")[0]
        grouped.setdefault(entry.group, {}).setdefault(folder, []).append(entry)
    order = {label: index for index, label in enumerate(group_order)}
    groups = sorted(grouped, key=lambda g: (g == OTHER_GROUP, order.get(g, len(order)), g))
    rows: list[TreeRow] = []
    for group in groups:
        folders = grouped[group]
        everything = [e for items in folders.values() for e in items]
        rows.append(TreeRow("group", group, 0, group, _differences(everything), _same(everything),
                            group in collapsed))
        if group in collapsed:
            continue
        for folder in sorted(folders):
            items = sorted(folders[folder], key=lambda e: e.path)
            depth = 1
            if folder:
                key = f"{group}/{folder}"
                rows.append(TreeRow("dir", key, 1, folder + "/", _differences(items), _same(items), key in collapsed))
                if key in collapsed:
                    continue
                depth = 2
            rows.extend(TreeRow("entry", e.path, depth, e.path.rpartition("/")[2], entry=e) for e in items)
    return rows


def _differences(entries: list[EntryDiff]) -> int:
    return sum(1 for e in entries if e.is_difference)


def _same(entries: list[EntryDiff]) -> int:
    return sum(1 for e in entries if e.same_after_rules and e.category != "unchanged")


class SnapshotTree(VirtualList):
    """Groups with counts, directories, and entries with category icons."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "snapshot-tree--group",
        "snapshot-tree--dir",
        "snapshot-tree--added",
        "snapshot-tree--removed",
        "snapshot-tree--changed",
        "snapshot-tree--type",
        "snapshot-tree--renamed",
        "snapshot-tree--muted",
    }

    DEFAULT_CSS = """
    SnapshotTree > .snapshot-tree--group { color: $accent; text-style: bold; }
    SnapshotTree > .snapshot-tree--dir { color: $text-muted; }
    SnapshotTree > .snapshot-tree--added { color: $success; text-style: bold; }
    SnapshotTree > .snapshot-tree--removed { color: $error; text-style: bold; }
    SnapshotTree > .snapshot-tree--changed { color: $warning; text-style: bold; }
    SnapshotTree > .snapshot-tree--type { color: $secondary; text-style: bold; }
    SnapshotTree > .snapshot-tree--renamed { color: $primary; text-style: bold; }
    SnapshotTree > .snapshot-tree--muted { color: $text-muted; }
    """

    def render_row(self, index: int, row: TreeRow, width: int) -> list[Segment]:
        indent = "  " * row.depth
        if row.kind != "entry":
            arrow = "▸" if row.collapsed else "▾"
            style: Style | None = self._style("snapshot-tree--group" if row.kind == "group" else "snapshot-tree--dir")
            counts = f"{row.differences:,}"
            if row.same:
                counts += f" · {row.same:,}≈"
            title = f"{indent}{arrow} {row.text}"
            room = max(1, width - len(counts) - 2)
            return [self.cell(title, room, style), Segment(" "), self.cell(counts, len(counts) + 1, style)]
        entry = row.entry
        assert entry is not None
        icon, component = ICONS.get(entry.category, ("?", "snapshot-tree--muted"))
        muted = self._style("snapshot-tree--muted")
        if entry.same_after_rules:
            icon, component = SAME_ICON, "snapshot-tree--muted"
        name = row.text
        extra = ""
        if entry.category == "renamed":
            extra = f" ← {entry.old_path} ({entry.similarity}%)"
        elif entry.category == "type_changed":
            extra = f" {entry.kind_a} → {entry.kind_b}"
        elif entry.category == "symlink_changed":
            extra = f" → {entry.target_b}"
        if entry.label:
            extra += f" [{entry.label}]"
        if entry.same_after_rules:
            extra += " same after rules"
        if entry.error:
            extra += f" {entry.error}"
        style = muted if entry.same_after_rules or entry.category == "unchanged" else None
        name_width = min(cell_len(name), max(1, width - len(indent) - 2))
        segments = [Segment(indent), self.cell(icon, 2, self._style(component)), self.cell(name, name_width, style, middle=True)]
        room = width - len(indent) - 2 - name_width
        if extra and room > 1:
            segments.append(self.cell(extra, room, muted))
        return segments

    def _style(self, component: str) -> Style:
        return self.row_style(component)
