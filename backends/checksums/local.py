"""``ChecksumsService``: the checksum operations of a source, over its storage.

A directory (``DirStorage``) is verified by ``verify.verify_manifest`` with its
fast paths (fork pool or hashing threads, directory descriptors); any other
storage (a bucket) by ``storage_verify.verify_in_storage`` (concurrent
streamed GETs). Both decide entries with the same ``verdicts.Verdicts``.
"""

from __future__ import annotations

import threading
import time
from typing import AsyncIterator, Iterator

from backends.checksums.models import ChecksumEntry, ChecksumProgress, ChecksumSummary
from backends.checksums.scope import Scope
from backends.models import CAP_CHECKSUMS
from backends.storage.base import WalkStorage
from backends.storage.directory import DirStorage
from backends.threadstream import iterate_in_thread

HANDOVER_ITEMS = 512
HANDOVER_SECONDS = 0.05


class ChecksumsService:
    """Manifest verification over a storage.

    Args:
        storage: The directory, or a bucket prefix (any ``WalkStorage``).
    """

    CAPABILITIES: frozenset[str] = frozenset({CAP_CHECKSUMS})

    def __init__(self, storage: DirStorage | WalkStorage) -> None:
        self.storage = storage

    async def verify_checksums(
        self, manifest: str, *, include_new: bool = True, scope: Scope = Scope(), emit_ok: bool = True
    ) -> AsyncIterator[ChecksumEntry | ChecksumProgress | ChecksumSummary]:
        """Verify one manifest, streaming entries as files complete, progress, then the summary.

        Hashing runs on a producer thread (and its hashing threads); items
        cross to the event loop in batches so a 100,000-line manifest does not
        cost 100,000 loop wake-ups. Stop iterating to cancel.

        Args:
            manifest: Manifest path relative to the root.
            include_new: Report unlisted files (``new``) and detect moves.
            scope: Where unlisted files are looked for.
            emit_ok: Yield ``ok`` entries too (they are always counted).

        Raises:
            ForbiddenError: The manifest path leaves the source root.
        """
        from backends.checksums.verdicts import VerifyItem

        storage = self.storage
        if isinstance(storage, DirStorage):
            storage.resolve(manifest)  # another storage refuses such a path in the summary

        def verify(stop: threading.Event) -> Iterator[VerifyItem]:
            if isinstance(storage, DirStorage):
                from backends.checksums.verify import verify_manifest

                return verify_manifest(
                    storage.root, manifest, include_new=include_new, scope=scope, stop=stop, emit_ok=emit_ok, allow_fork=False
                )
            from backends.checksums.storage_verify import verify_in_storage

            return verify_in_storage(storage, manifest, include_new=include_new, scope=scope, stop=stop, emit_ok=emit_ok)

        def produce(stop: threading.Event) -> Iterator[list[VerifyItem]]:
            batch: list[VerifyItem] = []
            since = time.monotonic()
            for item in verify(stop):
                batch.append(item)
                if (
                    len(batch) >= HANDOVER_ITEMS
                    or not isinstance(item, ChecksumEntry)
                    or time.monotonic() - since >= HANDOVER_SECONDS
                ):
                    yield batch
                    batch = []
                    since = time.monotonic()
            if batch:
                yield batch

        async for batch in iterate_in_thread(produce, name="driftdeck-checksums"):
            for item in batch:
                yield item

