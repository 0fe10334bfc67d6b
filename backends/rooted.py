"""``Rooted``: a workspace directory (its ``DirStorage``), its layout, and paths confined to it.

The base of ``LocalSource``, kept free of asyncio and of every engine so that
a command-line run can open a workspace for one engine (``snapshots diff``,
say) and pay for nothing else.
"""

from __future__ import annotations

import os

from backends.errors import NotFoundError
from backends.layout import load_config
from backends.spec import local_root
from backends.storage.directory import DirStorage


class Rooted:
    """A workspace directory on the local filesystem.

    Args:
        spec: A directory path, or ``file://`` followed by one.

    Raises:
        NotFoundError: When the path does not exist or is not a directory.
        MalformedError: When its ``driftdeck.yaml`` is broken.
    """

    def __init__(self, spec: str) -> None:
        self.spec = spec
        path = local_root(spec) or spec
        root = os.path.abspath(os.path.expanduser(path))
        if not os.path.exists(root):
            raise NotFoundError(f"{path}: no such directory", path=path)
        if not os.path.isdir(root):
            raise NotFoundError(f"{path}: not a directory", path=path)
        self.root = root
        self.storage = DirStorage(root)
        self._real_root = self.storage.real_root
        self.layout, self.config = load_config(root)

    def _resolve(self, path: str, *, follow: bool = True) -> str:
        """The real absolute path of ``path`` under the root (open this, not the string); refuse anything outside.

        Raises:
            ForbiddenError: For an absolute path, or one that resolves outside the root.
        """
        return self.storage.resolve(path, follow=follow)

    def _open(self, path: str) -> int:
        """A read descriptor on the regular file ``path`` under the root (see ``confine.open_regular``).

        Raises:
            ForbiddenError: When it resolves outside the root.
            NotFoundError: When it does not exist.
            UnreadableError: When it is not a regular file or cannot be read.
        """
        return self.storage.open(path)
