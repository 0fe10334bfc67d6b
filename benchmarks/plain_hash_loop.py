"""A reference for ``checksums.py``: the least a Python program can do to check a plain manifest.

Reads ``SHA256SUMS`` in the current directory, forks one worker per extra
core, and in every process opens each of its share of the files relative to
its directory, reads it with one positional read, hashes it with ``hashlib``
and compares the hex digest with the listed one. Nothing else: no parsing
beyond slicing each line, no escapes, no categories, no unlisted files, no
report. Exits 1 if any file did not match.

``checksums.py`` times it beside ``sha256sum -c`` and ``driftdeck checksums
verify`` to show how much of a run is the floor every Python program pays
(interpreter start, one ``open``/``pread``/``close`` per file, SHA-256) and
how much is driftdeck's own work.
"""

from __future__ import annotations

import hashlib
import os
import sys


def check(rows: list[bytes]) -> int:
    """How many of ``rows`` (``<hex>  <name>`` lines) name a file whose SHA-256 differs."""
    buf = bytearray(1 << 20)
    view = memoryview(buf)
    iov = (buf,)
    dir_fds: dict[bytes, int] = {}
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
    bad = 0
    for row in rows:
        directory, _, name = row[66:].rpartition(b"/")
        dir_fd = dir_fds.get(directory)
        if dir_fd is None:
            dir_fd = dir_fds[directory] = os.open(directory or b".", os.O_RDONLY | os.O_DIRECTORY)
        fd = os.open(name, flags, dir_fd=dir_fd)
        try:
            n = os.preadv(fd, iov, 0)
        finally:
            os.close(fd)
        if hashlib.sha256(view[:n]).hexdigest().encode() != row[:64]:
            bad += 1
    return bad


def main() -> None:
    with open("SHA256SUMS", "rb") as manifest:
        rows = manifest.read().split(b"\n")
    if rows and not rows[-1]:
        rows.pop()
    processes = len(os.sched_getaffinity(0))
    children = []
    for part in range(1, processes):
        pid = os.fork()
        if pid == 0:
            os._exit(1 if check(rows[part::processes]) else 0)
        children.append(pid)
    bad = check(rows[0::processes])
    for pid in children:
        _, status = os.waitpid(pid, 0)
        bad += os.waitstatus_to_exitcode(status) != 0
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
