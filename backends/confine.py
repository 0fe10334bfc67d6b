"""Confinement as a property of what is opened, not of the string asked for.

A path string checked after ``os.path.normpath`` can still lead outside the
root: the kernel follows a symlink *before* it applies a ``..`` that comes
after it (``self/self/../../..`` with ``self -> .`` climbs out), so a lexical
check proves nothing. Here:

* ``confined_path`` resolves a client path the way the kernel will
  (``os.path.realpath``, component by component) and refuses it unless the
  result is inside the root's real path. Callers open the *returned* path.
* ``open_regular`` opens a file for reading without following a final
  symlink, without blocking (``O_NONBLOCK``: a FIFO with no writer, a device
  or a terminal is never waited on), refuses anything that is not a regular
  file, and checks where the open descriptor really points
  (``/proc/self/fd``) so a directory swapped for a symlink between the check
  and the open is caught too.
"""

from __future__ import annotations

import errno
import os
import stat

from backends.errors import ForbiddenError, UnreadableError

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
"""Flags of every open for reading: no waiting (a FIFO without a writer opens at once), no controlling terminal."""
READ_FLAGS = OPEN_FLAGS | NOFOLLOW
"""The same, refusing a final symlink (for real paths from ``confined_path``)."""


OUTSIDE_TARGET = "(outside the source root)"
"""What is said of a symlink's target when it leads out of the root (where it points is nobody's business)."""


def shown_target(link: str, target: str, real_root: str) -> str:
    """``target`` (read from the symlink ``link``), or ``OUTSIDE_TARGET`` when the link resolves outside ``real_root``."""
    return target if inside(real_root, os.path.realpath(link)) else OUTSIDE_TARGET


class NotRegularError(OSError):
    """What was opened is a FIFO, socket, device or directory: it is never read."""


def open_read(path: str, flags: int = 0) -> int:
    """``os.open`` for reading that never waits and only ever returns a regular file.

    Args:
        path: The file.
        flags: Extra flags (``NOFOLLOW``).

    Returns:
        The descriptor, in blocking mode, owned by the caller.

    Raises:
        IsADirectoryError: For a directory.
        NotRegularError: For a FIFO, socket or device (``strerror`` says which).
        OSError: As ``os.open`` raises it.
    """
    fd = os.open(path, OPEN_FLAGS | flags)
    try:
        require_regular(os.fstat(fd).st_mode, path)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def inside(real_root: str, real: str) -> bool:
    """Whether the real path ``real`` is ``real_root`` or below it."""
    return real == real_root or real.startswith(real_root if real_root.endswith("/") else real_root + "/")


def confined_path(root: str, path: str, *, follow: bool = True, real_root: str | None = None) -> str:
    """The real absolute path of ``root/path``, refused unless it is inside the root.

    Args:
        root: The root directory.
        path: A path relative to it, as a client sent it.
        follow: Resolve a final symlink too; when ``False`` the last
            component is kept as it is (to stat or list the link itself).
        real_root: ``os.path.realpath(root)`` when the caller has it.

    Raises:
        ForbiddenError: For an absolute path, a NUL byte, or a path whose
            resolution leaves the root.
    """
    if "\x00" in path or os.path.isabs(path):
        raise ForbiddenError(f"{path}: absolute paths are refused", path=path)
    real_root = real_root or os.path.realpath(root)
    joined = os.path.join(root, path) if path else root
    head, name = os.path.split(joined.rstrip("/") or "/")
    if follow or name in ("", ".", ".."):
        real = resolved = os.path.realpath(joined)
    else:
        resolved = os.path.realpath(head)
        real = os.path.join(resolved, name)
    if not inside(real_root, real):
        raise ForbiddenError(f"{path}: resolves outside the source root", path=path)
    if ".." in path.split("/") and os.path.realpath(resolved) != resolved:
        # realpath gives up at a symlink loop and applies the rest lexically: ``a/../up/x`` with
        # ``a -> b -> a`` came back as ROOT/up/x, which the kernel resolves through ``up -> ..``
        # (a listing outside the root). A real path is its own real path; this one is not.
        # Only a ``..`` after the loop moves the rest; without one the kernel stops at the loop.
        raise ForbiddenError(f"{path}: resolves through a symlink loop", path=path)
    return real


def check_descriptor(fd: int, real_root: str, label: str) -> None:
    """Refuse an open descriptor whose real location is outside ``real_root`` (where ``/proc`` tells)."""
    try:
        where = os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return  # no /proc: the path was resolved and checked just before the open
    if where.startswith("/") and not inside(real_root, where):
        raise ForbiddenError(f"{label}: resolves outside the source root", path=label)


def require_regular(mode: int, path: str) -> None:
    """Raise unless ``mode`` (of an open descriptor's ``fstat``) is a regular file's.

    Raises:
        IsADirectoryError: For a directory.
        NotRegularError: For a FIFO, socket or device (``strerror`` says which).
    """
    if not stat.S_ISREG(mode):
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a directory", path)
        raise NotRegularError(errno.EINVAL, not_regular(mode), path)


def open_regular(real: str, real_root: str, label: str) -> int:
    """Open the real path ``real`` (from ``confined_path``) for reading; a regular file inside the root only.

    Returns:
        The descriptor (blocking mode), owned by the caller.

    Raises:
        FileNotFoundError: When it does not exist.
        UnreadableError: When it is not a regular file, or cannot be opened.
        ForbiddenError: When what was opened lies outside the root.
    """
    try:
        fd = open_read(real, NOFOLLOW)
    except FileNotFoundError:
        raise
    except OSError as exc:
        reason = "symlink loop" if exc.errno == errno.ELOOP else (exc.strerror or str(exc))
        raise UnreadableError(f"{label}: unreadable: {reason}", path=label) from None
    try:
        check_descriptor(fd, real_root, label)
    except BaseException:
        os.close(fd)
        raise
    return fd


def not_regular(mode: int) -> str:
    """Why a file of ``mode`` is not read, in words ("is a directory", "a FIFO, not a regular file")."""
    return "is a directory" if stat.S_ISDIR(mode) else f"{describe_mode(mode)}, not a regular file"


def describe_mode(mode: int) -> str:
    """What kind of file ``mode`` is, in words."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISLNK(mode):
        return "a symlink"
    return "a special file"
