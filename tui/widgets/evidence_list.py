"""``EvidenceList``: every evidence reference of a run, missing ones first."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Iterable

from rich.segment import Segment

from backends.models import ArtifactInfo, EvidenceRef
from tui.widgets.virtual_list import VirtualList


@dataclass(frozen=True)
class EvidenceRow:
    """One evidence reference and the artifact(s) that cite it.

    Attributes:
        ref: The reference.
        artifacts: Names of the artifacts citing it, in artifact order.
    """

    ref: EvidenceRef
    artifacts: tuple[str, ...]

    @property
    def missing(self) -> bool:
        return self.ref.exists is False


def evidence_rows(artifacts: Iterable[ArtifactInfo]) -> list[EvidenceRow]:
    """One row per distinct reference (by locator and kind), missing first, then in citation order."""
    cited: dict[tuple[str, str], tuple[EvidenceRef, list[str]]] = {}
    for artifact in artifacts:
        for ref in artifact.evidence:
            _, names = cited.setdefault((ref.ref, ref.kind), (ref, []))
            if artifact.name not in names:
                names.append(artifact.name)
    rows = [EvidenceRow(ref, tuple(names)) for ref, names in cited.values()]
    return sorted(rows, key=lambda row: not row.missing)  # stable: citation order within each group


def missing_summary(rows: list[EvidenceRow]) -> str:
    """``2 of 4 evidence missing``, ``4 evidence, none missing`` or ``no evidence cited``."""
    if not rows:
        return "no evidence cited"
    missing = sum(1 for row in rows if row.missing)
    if missing:
        return f"{missing} of {len(rows)} evidence missing"
    return f"{len(rows)} evidence, none missing"


class EvidenceList(VirtualList):
    """Evidence of every artifact of a run: ✗ missing (first), ✓ present, · not checkable (a URL)."""

    COMPONENT_CLASSES: ClassVar[set[str]] = VirtualList.COMPONENT_CLASSES | {
        "evidence-list--missing",
        "evidence-list--present",
        "evidence-list--unknown",
        "evidence-list--note",
    }

    DEFAULT_CSS = """
    EvidenceList { height: 1fr; min-height: 3; }
    EvidenceList > .evidence-list--missing { color: $error; text-style: bold; }
    EvidenceList > .evidence-list--present { color: $success; }
    EvidenceList > .evidence-list--unknown { color: $text-muted; }
    EvidenceList > .evidence-list--note { color: $text-muted; }
    """

    show_artifacts = False
    """Name the citing artifacts on each row (set when a run has more than one)."""

    def render_row(self, index: int, row: EvidenceRow, width: int) -> list[Segment]:
        ref = row.ref
        if row.missing:
            mark, component = "✗ missing ", "evidence-list--missing"
        elif ref.exists:
            mark, component = "✓ ", "evidence-list--present"
        else:
            mark, component = "· ", "evidence-list--unknown"
        note_style = self.row_style("evidence-list--note")
        segments = [
            Segment(mark, self.row_style(component)),
            Segment(f"[{ref.kind}] ", note_style),
            Segment(ref.ref),
        ]
        if ref.note:
            segments.append(Segment(f" — {ref.note}", note_style))
        if self.show_artifacts:
            segments.append(Segment(f"  ({', '.join(row.artifacts)})", note_style))
        return segments
