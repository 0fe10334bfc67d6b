"""User-supplied regular expressions, under a hard time limit per match.

A pattern a client sends (``ignore_lines`` in snapshot rules over HTTP or in
``driftdeck.yaml``; watch include/exclude globs, translated to regexes) runs
on every line or path it is given. On Python's backtracking ``re``,
``(a|aa)+$`` against a few dozen characters runs for ages holding the GIL:
measured, one such request froze every endpoint of ``driftdeck serve`` and
it ignored SIGTERM.

Patterns run on the ``regex`` module instead: it recognises many
catastrophic shapes and fails them fast (``(.+)+Z`` over 40 ``a``: 0 ms), it
lets other threads run while it matches, and every call here carries a
``timeout``; a match that takes longer than ``MATCH_SECONDS`` is refused with
a one-line error naming the pattern, never a freeze.

Why not RE2 (linear time by construction): its Python binding is a pybind11
extension that releases the GIL; a daemon thread inside it when the
interpreter exits aborts the process ("terminate called without an active
exception", measured: 3 of 20 ``events record`` runs). ``regex`` is plain C.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import regex

from backends.errors import MalformedError

MAX_PATTERN_CHARS = 1000
"""Longest pattern accepted."""
MATCH_SECONDS = 0.25
"""Longest one match, search or substitution may take."""


class PatternError(ValueError):
    """A pattern that is too long or does not compile."""


class Pattern:
    """A compiled user pattern whose every call is time-limited (the ``re`` methods we use).

    Raises (from each method):
        MalformedError: When one call takes longer than ``MATCH_SECONDS``.
    """

    __slots__ = ("pattern", "_compiled")

    def __init__(self, pattern: str, compiled: Any) -> None:
        self.pattern = pattern
        self._compiled = compiled

    def _too_slow(self) -> MalformedError:
        return MalformedError(
            "pattern", None, f"{self.pattern!r} took longer than {MATCH_SECONDS:g} s on one input and was stopped; simplify it"
        )

    def match(self, text: str) -> Any:
        try:
            return self._compiled.match(text, timeout=MATCH_SECONDS)
        except TimeoutError:
            raise self._too_slow() from None

    def search(self, text: str) -> Any:
        try:
            return self._compiled.search(text, timeout=MATCH_SECONDS)
        except TimeoutError:
            raise self._too_slow() from None

    def fullmatch(self, text: str) -> Any:
        try:
            return self._compiled.fullmatch(text, timeout=MATCH_SECONDS)
        except TimeoutError:
            raise self._too_slow() from None

    def sub(self, replacement: str, text: str) -> str:
        try:
            return str(self._compiled.sub(replacement, text, timeout=MATCH_SECONDS))
        except TimeoutError:
            raise self._too_slow() from None


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Pattern:
    """A compiled, time-limited pattern (``re`` syntax).

    Raises:
        PatternError: Naming what is wrong with ``pattern``.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    try:
        return Pattern(pattern, regex.compile(pattern, regex.VERSION0))
    except regex.error as exc:
        raise PatternError(str(exc)) from None
