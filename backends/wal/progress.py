"""``WalProgress``: how far a long WAL operation (index, validate, diff, search) is."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WalProgress:
    """Progress of one WAL operation.

    Attributes:
        phase: ``index``, ``validate``, ``diff`` or ``search``.
        lines: Lines read so far (both files together for a diff).
        bytes_done: Bytes read so far.
        bytes_total: Bytes to read in all (file sizes when the work started).
    """

    phase: str
    lines: int
    bytes_done: int
    bytes_total: int

    @property
    def fraction(self) -> float:
        """Share done, between 0 and 1."""
        return min(1.0, self.bytes_done / self.bytes_total) if self.bytes_total else 1.0

    def to_json(self) -> dict[str, Any]:
        return {"type": "progress", **asdict(self)}
