"""Go-to targets: what ``--goto ITEM`` and the ``:`` line name, parsed in one place.

A target is a kind and a value, written ``KIND:VALUE`` on the command line
(``driftdeck WS --goto run:run-2026-1101``) or ``KIND VALUE`` on the ``:``
line (both forms are accepted in both places):

``run:ID``           pane 1, the run with this run id
``wal:RUN``          pane 3, the first WAL pair of run RUN
``line:N``           pane 3, record line N of the pair shown
``path:P``           the entry P in the pane shown if it lists paths (2, 4, 5), else pane 4
``manifest:M``       pane 5, manifest M (its path, or a unique path suffix such as ``golden/SHA256SUMS``)
``snap:A..B``        pane 4, baseline A against candidate B (``snap A B`` on the ``:`` line)

A value runs to the end of the text, so paths may hold spaces.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("run", "wal", "line", "path", "manifest", "snap")
"""Every kind of target, in the order help and completion list them."""

SYNTAX = "run:ID, wal:RUN, line:N, path:P, manifest:M, snap:A..B"
"""The forms, as error messages and help name them."""


class GotoError(ValueError):
    """A go-to target that cannot be parsed (the message says what is accepted)."""


@dataclass(frozen=True)
class GotoTarget:
    """Where to go.

    Attributes:
        kind: One of ``KINDS``.
        value: The run id, run, path, manifest or baseline snapshot; the line number as text.
        other: The candidate snapshot of a ``snap`` target, else ``None``.
    """

    kind: str
    value: str
    other: str | None = None

    @property
    def line(self) -> int:
        """The line number of a ``line`` target."""
        return int(self.value)

    def __str__(self) -> str:
        """The command-line form, which :func:`parse_goto` reads back to an equal target."""
        if self.kind == "snap":
            return f"snap:{self.value}..{self.other}"
        return f"{self.kind}:{self.value}"


def parse_goto(text: str) -> GotoTarget:
    """Parse ``KIND:VALUE`` or ``KIND VALUE`` (leading ``:`` and surrounding blanks ignored).

    Raises:
        GotoError: For an unknown kind, an empty value, a line that is not a
            positive number, or a ``snap`` without two names.
    """
    body = text.strip().removeprefix(":").lstrip()
    if not body:
        raise GotoError(f"nothing to go to; give one of {SYNTAX}")
    cut = min((i for i in (body.find(":"), body.find(" ")) if i >= 0), default=len(body))
    kind, separator, value = body[:cut], body[cut:cut + 1], body[cut + 1:]
    kind = kind.lower()
    if kind not in KINDS:
        raise GotoError(f"unknown target {body[:cut]!r}; give one of {SYNTAX}")
    if separator == " ":
        value = value.strip()
    if not value.strip():
        raise GotoError(f"{kind}: needs a value ({_form(kind)})")
    if kind == "line":
        if not value.isascii() or not value.isdigit() or int(value) < 1:
            raise GotoError(f"line: {value!r} is not a line number (a whole number from 1)")
        return GotoTarget("line", str(int(value)))
    if kind == "snap":
        return _snap(value, spaced=separator == " ")
    return GotoTarget(kind, value)


def _snap(value: str, *, spaced: bool) -> GotoTarget:
    if ".." in value:
        baseline, _, candidate = value.partition("..")
    elif spaced and " " in value:
        baseline, _, candidate = value.partition(" ")
    else:
        raise GotoError(f"snap: {value!r} names one snapshot; give two ({_form('snap')})")
    baseline, candidate = baseline.strip(), candidate.strip()
    if not baseline or not candidate:
        raise GotoError(f"snap: needs a baseline and a candidate ({_form('snap')})")
    return GotoTarget("snap", baseline, candidate)


def _form(kind: str) -> str:
    return {"run": "run:ID", "wal": "wal:RUN", "line": "line:N", "path": "path:P",
            "manifest": "manifest:M", "snap": "snap:A..B or snap A B"}[kind]


def complete(text: str, candidates: dict[str, list[str]]) -> str | None:
    """The completion of what is typed on the ``:`` line, or ``None``.

    A partial kind completes to the kind and a space (``ma`` -> ``manifest ``);
    after the kind, a value completes to the first candidate of that kind
    that starts with what is typed (``run run-2026`` -> ``run run-20261101-1325-d5a51a``).

    Args:
        text: The line as typed.
        candidates: Known values per kind (run ids, WAL runs, paths, manifests, snapshot names).
    """
    if not text or text != text.lstrip():
        return None
    head, space, rest = text.partition(" ")
    if not space:
        kinds = [k for k in KINDS if k.startswith(head.lower()) and k != head.lower()]
        return f"{kinds[0]} " if kinds else None
    kind = head.lower()
    if kind == "snap":
        first, gap, second = rest.partition(" ")
        names = candidates.get("snap", [])
        if not gap:
            match = next((n for n in names if n.startswith(first) and n != first), None)
            return None if match is None else f"{head} {match}"
        match = next((n for n in names if n.startswith(second) and n != second), None)
        return None if match is None else f"{head} {first} {match}"
    match = next((v for v in candidates.get(kind, []) if v.startswith(rest) and v != rest), None)
    return None if match is None else f"{head} {match}"
