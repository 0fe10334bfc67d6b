"""``DirStorage``: a directory as ``Storage``, confined to its root, with the directory's fast paths.

Every read goes through ``confine``: the path is resolved and must stay
inside the root, and what is opened must be a regular file (``O_NOFOLLOW``,
never waiting on a FIFO), so symlinks out of the root, ``..`` and FIFOs are
refused exactly as the engines refused them before this layer. Engines that
want more than the interface (a descriptor for ``os.pread`` or for a fork
pool) call :meth:`DirStorage.open` and :meth:`DirStorage.resolve`.
"""

from __future__ import annotations

import os
import stat as stat_module
from typing import Iterator

from backends.confine import confined_path, open_regular
from backends.errors import NotFoundError, UnreadableError, os_reason
from backends.storage.base import CHUNK, PAGE, Listing, Stat


class DirStorage:
    """A directory on this machine, read-only.

    Args:
        root: The directory (absolute, or relative to the working directory).
    """

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)
        self.real_root = os.path.realpath(self.root)
        self.label = self.root

    def __repr__(self) -> str:
        return f"DirStorage({self.root!r})"

    # Fast paths ----------------------------------------------------------------

    def resolve(self, path: str, *, follow: bool = True) -> str:
        """The real absolute path of ``path`` under the root (open this, not the string).

        Raises:
            ForbiddenError: For an absolute path, or one that resolves outside the root.
        """
        return confined_path(self.root, path, follow=follow, real_root=self.real_root)

    def open(self, path: str) -> int:
        """A read descriptor on the regular file ``path`` (the caller closes it).

        Raises:
            ForbiddenError: When it resolves outside the root.
            NotFoundError: When it does not exist.
            UnreadableError: When it is not a regular file (a FIFO, a directory, a symlink loop) or cannot be read.
        """
        try:
            return open_regular(self.resolve(path), self.real_root, path)
        except FileNotFoundError:
            raise NotFoundError(f"{path}: no such file", path=path) from None

    # Storage -------------------------------------------------------------------

    def list(self, path: str = "", *, after: str | None = None, limit: int = PAGE) -> Listing:
        rel = path.rstrip("/")
        where = self.resolve(rel or ".")
        try:
            with os.scandir(where) as it:
                found = sorted((e.name, e) for e in it if after is None or _join(rel, e.name) > after)
        except FileNotFoundError:
            raise NotFoundError(f"{path or '.'}: no such directory", path=path) from None
        except OSError as exc:
            raise UnreadableError(f"{path or '.'}: cannot list: {os_reason(exc)}", path=path) from None
        page = found[:max(1, limit)]
        dirs: list[str] = []
        files: list[Stat] = []
        for name, entry in page:
            child = _join(rel, name)
            if entry.is_dir(follow_symlinks=False):
                dirs.append(child)
                continue
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError as exc:
                raise UnreadableError(f"{child}: unreadable: {os_reason(exc)}", path=child) from None
            files.append(_stat(child, st))
        cursor = _join(rel, page[-1][0]) if len(found) > len(page) else None
        return Listing(tuple(dirs), tuple(files), cursor)

    def stat(self, path: str) -> Stat:
        rel = path.rstrip("/")
        try:
            st = os.stat(self.resolve(rel or "."))
        except FileNotFoundError:
            raise NotFoundError(f"{path}: no such file", path=path) from None
        except OSError as exc:
            raise UnreadableError(f"{path}: unreadable: {os_reason(exc)}", path=path) from None
        return _stat(rel, st)

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        fd = self.open(path)
        try:
            return os.pread(fd, max(0, length), max(0, offset))
        except OSError as exc:
            raise UnreadableError(f"{path}: unreadable: {os_reason(exc)}", path=path) from None
        finally:
            os.close(fd)

    def stream(self, path: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The file as it was when opened (its size then), by ``pread``; opened on the first ``next()``."""
        fd = self.open(path)
        try:
            size = os.fstat(fd).st_size
            position = 0
            step = max(1, chunk_size)
            while position < size:
                try:
                    block = os.pread(fd, min(step, size - position), position)
                except OSError as exc:
                    raise UnreadableError(f"{path}: unreadable: {os_reason(exc)}", path=path) from None
                if not block:  # truncated under us: what was there
                    return
                position += len(block)
                yield block
        finally:
            os.close(fd)


def _stat(rel: str, st: os.stat_result) -> Stat:
    mode = st.st_mode
    kind = ("dir" if stat_module.S_ISDIR(mode) else "file" if stat_module.S_ISREG(mode)
            else "symlink" if stat_module.S_ISLNK(mode) else "other")
    size = st.st_size if kind != "dir" else 0
    return Stat(rel, kind, size, st.st_mtime, f"{st.st_dev}:{st.st_ino}:{st.st_size}:{st.st_mtime_ns}")


def _join(base: str, name: str) -> str:
    return f"{base}/{name}" if base else name

