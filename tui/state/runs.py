"""``RunsState``: what pane 1 knows: every run read so far, the filters, and the view they give."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from backends.models import RunQuery, RunSummary

ALL = ""
"""The "all states" / "all reasons" choice of the filters."""


def run_sort_key(run: RunSummary) -> tuple[float, str]:
    """Sort key by last update, ties broken by run directory."""
    return (run.sort_ts, run.key)


@dataclass
class RunsState:
    """Runs, filters and view of the Runs & Quarantine pane.

    Attributes:
        runs: Every run read so far.
        pending: Runs streamed in since the last merge.
        view: The runs the table shows (filtered and sorted); unreadable runs are always in it.
        reasons: Reason codes among the runs the state and text filters keep (the chart).
        known_reasons: Every reason code seen (the reason filter's choices).
        state_filter: The state shown (``ALL`` for every state).
        reason_filter: The reason code shown (``ALL`` for every reason).
        text: Filter on id, key, state and reason (``!`` prefix inverts).
        newest_first: Sort order.
        scanning: Whether the source is still being read.
        generation: Bumped by every reload: a scan of an older one is ignored.
        no_runs_hint: What the empty list says once a scan found nothing.
    """

    runs: list[RunSummary] = field(default_factory=list)
    pending: list[RunSummary] = field(default_factory=list)
    view: list[RunSummary] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    known_reasons: set[str] = field(default_factory=set)
    state_filter: str = "QUARANTINED"
    reason_filter: str = ALL
    text: str = ""
    newest_first: bool = True
    scanning: bool = False
    generation: int = 0
    no_runs_hint: str = "no runs"

    def reload(self) -> int:
        """Forget every run: a new scan starts; its generation."""
        self.runs.clear()
        self.pending.clear()
        self.known_reasons.clear()
        self.scanning = True
        self.generation += 1
        return self.generation

    def query(self, *, with_reason: bool = True) -> RunQuery:
        """The filters as a query (without the reason: what the chart counts)."""
        return RunQuery(
            states=frozenset({self.state_filter}) if self.state_filter else frozenset(),
            reason_codes=frozenset({self.reason_filter}) if (with_reason and self.reason_filter) else frozenset(),
            text=self.text,
        )

    def _kept(self, runs: list[RunSummary]) -> list[RunSummary]:
        """``runs`` the filters keep (and every unreadable one), counting their reasons into the chart."""
        query = self.query(with_reason=False)
        shown = [run for run in runs if query.matches(run)]
        self.reasons.update(run.reason_code for run in shown if run.reason_code)
        if self.reason_filter:
            shown = [run for run in shown if run.reason_code == self.reason_filter or run.state is None]
        return shown

    def refilter(self) -> None:
        """Recompute the view and the chart from every run read so far (a filter changed)."""
        self.reasons = Counter()
        self.view = self._kept(self.runs)
        self.sort()

    def merge(self) -> tuple[list[RunSummary], bool]:
        """Merge the pending runs: those the view gained, and whether new reason codes appeared."""
        new, self.pending = self.pending, []
        self.runs.extend(new)
        codes = {run.reason_code for run in new if run.reason_code} - self.known_reasons
        self.known_reasons |= codes
        shown = self._kept(new)
        self.view.extend(shown)
        return shown, bool(codes)

    def sort(self) -> None:
        """Sort the view by time, newest or oldest first."""
        self.view.sort(key=run_sort_key, reverse=self.newest_first)

    def cycle_state(self, states: tuple[str, ...], step: int) -> str:
        """The state filter ``step`` choices on (``ALL`` first), wrapping around."""
        options = [ALL, *states]
        return options[(options.index(self.state_filter) + step) % len(options)]

    def cycle_reason(self, step: int) -> str:
        """The reason filter ``step`` choices on among the known reasons (``ALL`` first), wrapping around."""
        options = [ALL, *sorted(self.known_reasons)]
        current = options.index(self.reason_filter) if self.reason_filter in options else 0
        return options[(current + step) % len(options)]

    def status(self) -> str:
        """The toolbar's one-line status (``no runs found`` once a scan found nothing)."""
        if not self.scanning and not self.runs:
            return "no runs found"
        # Unreadable runs are listed whatever the filters say; they are not counted as matching them.
        filtered = bool(self.state_filter or self.reason_filter)
        unreadable = sum(1 for run in self.view if run.state is None) if filtered else 0
        text = f"{len(self.view) - unreadable:,} of {len(self.runs):,} runs · {self.state_filter or 'all states'}"
        if unreadable:
            text += f" +{unreadable:,} unreadable"
        if self.reason_filter:
            text += f" · {self.reason_filter}"
        if self.text:
            text += f" · filter {self.text!r}"
        text += " · newest first" if self.newest_first else " · oldest first"
        if self.scanning:
            text += " · scanning…"
        return text
