"""User-supplied regular expressions, on a linear-time engine (RE2).

A pattern a client sends (``ignore_lines`` in snapshot rules, over HTTP or in
``driftdeck.yaml``) runs on every line of every compared file. On Python's
backtracking ``re``, ``(.+)+Z`` against a long line takes exponential time
while holding the GIL: measured, one such request froze every endpoint of
``driftdeck serve`` and it ignored SIGTERM. RE2 matches in time linear in
the input whatever the pattern (100,000 characters against ``(.+)+Z``: well
under a millisecond), and refuses what it cannot do in linear time
(backreferences, lookaround) at compile time, which we report as a bad
pattern.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import re2

MAX_PATTERN_CHARS = 1000
"""Longest pattern accepted (RE2's compiled size grows with it)."""


class PatternError(ValueError):
    """A pattern that is too long, invalid, or needs a feature RE2 does not have."""


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Any:
    """A compiled RE2 pattern (``search``, ``sub``, ``fullmatch`` as in ``re``).

    Raises:
        PatternError: Naming what is wrong with ``pattern``.
    """
    if len(pattern) > MAX_PATTERN_CHARS:
        raise PatternError(f"longer than {MAX_PATTERN_CHARS} characters")
    options = re2.Options()
    options.log_errors = False  # RE2 would write parse errors to stderr (tearing a TUI)
    try:
        return re2.compile(pattern, options)
    except re2.error as exc:
        reason = exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise PatternError(f"{reason} (patterns run on RE2: no backreferences or lookaround)") from None
