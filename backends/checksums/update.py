"""Write a SHA-256 manifest for a directory tree, the way ``sha256sum`` would.

Names are relative to the manifest's own directory (so ``sha256sum -c`` run
there, and ``driftdeck checksums verify``, find the files), sorted bytewise,
GNU-escaped, two spaces (text mode). The manifest is written atomically and
never lists itself.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from typing import Any

from backends.atomic import atomic_write
from backends.checksums.hashing import HashPool
from backends.checksums.manifest import format_line
from backends.checksums.scope import Scope, scan_scope
from backends.errors import NotFoundError


@dataclass(frozen=True, slots=True)
class UpdateResult:
    """What ``update_manifest`` wrote.

    Attributes:
        output: The manifest written.
        entries: Lines written.
        bytes_hashed: Bytes hashed.
        skipped: ``(path, reason)`` of files that could not be read (not listed).
    """

    output: str
    entries: int
    bytes_hashed: int
    skipped: tuple[tuple[str, str], ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "output": self.output,
            "entries": self.entries,
            "bytes_hashed": self.bytes_hashed,
            "skipped": [{"path": p, "reason": r} for p, r in self.skipped],
        }


def update_manifest(
    directory: str,
    output: str,
    *,
    scope: Scope = Scope(),
    workers: int | None = None,
    stop: threading.Event | None = None,
) -> UpdateResult:
    """Hash every file under ``directory`` and write ``output`` atomically.

    Args:
        directory: The tree to list.
        output: The manifest to write (replaced if it exists).
        scope: Which files to list (recursion, exclude globs).
        workers: Hashing parallelism.
        stop: Set to abandon; nothing is written then.

    Raises:
        NotFoundError: ``directory`` is not a directory, or ``output``'s directory does not exist.
        UnreadableError: ``output`` cannot be written.
    """
    directory = os.path.abspath(directory)
    output = os.path.abspath(output)
    if not os.path.isdir(directory):
        raise NotFoundError(f"{directory}: not a directory", path=directory)
    out_dir = os.path.dirname(output)
    if not os.path.isdir(out_dir):
        raise NotFoundError(f"{out_dir}: no such directory for the manifest", path=out_dir)
    skip = os.path.relpath(output, directory) if output.startswith(directory.rstrip("/") + "/") else ""
    skip_tmp = f".{os.path.basename(output)}."
    found, skipped = scan_scope(directory, scope, skip, stop)
    files = [rel for rel in found if not os.path.basename(rel).startswith(skip_tmp)]
    abs_paths = [os.path.join(directory, rel) for rel in files]
    digests: dict[int, str] = {}
    nbytes = 0
    # Symlinks may lead anywhere under the listed directory, not beyond it.
    pool = HashPool(abs_paths, os.path.realpath(directory), workers=workers, stop=stop)
    for batch in pool.results():
        for index, outcome in batch:
            if outcome.digest is None:
                skipped.append((files[index], outcome.reason or outcome.failure or "unreadable"))
            else:
                digests[index] = outcome.digest
                nbytes += outcome.size or 0
    if stop is not None and stop.is_set():
        return UpdateResult(output, 0, nbytes, tuple(skipped))
    names = {index: os.path.relpath(abs_paths[index], out_dir) for index in digests}
    order = sorted(digests, key=lambda index: os.fsencode(names[index]))
    atomic_write(output, b"".join(format_line(digests[index], names[index]) for index in order))
    return UpdateResult(output, len(order), nbytes, tuple(sorted(skipped)))
