"""``Rooted``: a workspace directory, its layout, and paths confined to it.

The base of ``LocalSource``, kept free of asyncio and of every engine so that
a command-line run can open a workspace for one engine (``snapshots diff``,
say) and pay for nothing else.
"""

from __future__ import annotations

import os

from backends.errors import ForbiddenError, NotFoundError
from backends.layout import load_config
from backends.spec import local_root


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
        self._real_root = os.path.realpath(root)
        self.layout, self.config = load_config(root)

    def _resolve(self, path: str, *, follow: bool = True) -> str:
        """Absolute path of ``path`` under the root; refuse anything outside."""
        if "\x00" in path or path.startswith("/") or os.path.isabs(path):
            raise ForbiddenError(f"{path}: absolute paths are refused", path=path)
        joined = os.path.normpath(os.path.join(self.root, path))
        real = os.path.realpath(joined if follow else os.path.dirname(joined))
        if os.path.commonpath([real, self._real_root]) != self._real_root:
            raise ForbiddenError(f"{path}: resolves outside the source root", path=path)
        return joined
