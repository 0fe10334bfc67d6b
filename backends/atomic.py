"""Write a file atomically: a temporary file in the same directory, then ``os.replace``."""

from __future__ import annotations

import os
import tempfile

from backends.errors import UnreadableError


def atomic_write(path: str, data: bytes) -> str:
    """Replace ``path`` with ``data`` so readers see the old file or the new one, never half.

    The new file gets the usual mode for new files (``0o666`` minus the umask).

    Args:
        path: Destination; its directory must exist.
        data: The complete new content.

    Returns:
        The absolute path written.

    Raises:
        UnreadableError: When the directory cannot be written (the message names it).
    """
    path = os.path.abspath(os.path.expanduser(path))
    directory = os.path.dirname(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    except OSError as exc:
        raise UnreadableError(f"{path}: cannot write: {exc.strerror or exc}", path=path) from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
        return path
    except OSError as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise UnreadableError(f"{path}: cannot write: {exc.strerror or exc}", path=path) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
