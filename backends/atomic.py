"""Write a file atomically: a temporary file in the same directory, then ``os.replace``."""

from __future__ import annotations

import os
import tempfile

from backends.errors import UnreadableError


def _umask_from_proc() -> int | None:
    """The process umask as Linux reports it (``Umask:`` in ``/proc/self/status``), else ``None``."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _umask_at_import() -> int:
    # Setting the umask to read it is only safe while nothing else runs: at import, once.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_PROC_UMASK = _umask_from_proc()
_IMPORT_UMASK: int = _umask_at_import() if _PROC_UMASK is None else _PROC_UMASK


def current_umask() -> int:
    """The umask, read without changing it (``os.umask`` would, for every thread, for a moment).

    Where ``/proc/self/status`` has no ``Umask:`` line, the value read at import is used.
    """
    mask = _umask_from_proc()
    return _IMPORT_UMASK if mask is None else mask


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
        os.chmod(tmp, 0o666 & ~current_umask())
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
