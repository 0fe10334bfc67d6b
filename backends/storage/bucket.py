"""``BucketStorage``: a bucket prefix as ``Storage``, on obstore's synchronous calls.

A listing is one delimiter listing (obstore follows the store's pages); a
stat is one HEAD; a range is one ranged GET; a stream is one GET read in
chunks as they arrive. Keys are checked like paths (no ``..``, no absolute
path, no NUL), so nothing outside the prefix is ever named. Store errors
become one-line typed errors (``store_error``).

``Stat.sha256`` stays ``None`` here. Measured with SeaweedFS 4.48 and
obstore 0.12: an object uploaded with ``checksum_algorithm="SHA256"`` keeps
its checksum (the filer's metadata holds ``x-seaweedfs-checksum-value``), but
obstore's ``head()`` returns only path, size, time, ETag and version, a GET's
``attributes`` only the content headers, and a presigned HEAD cannot carry
the ``x-amz-checksum-mode`` header the store wants signed (403). So no
store's SHA-256 can be read through obstore 0.12, and manifests are verified
by downloading (concurrent GETs).
"""

from __future__ import annotations

from typing import Any, Iterator

from backends.errors import AuthError, DriftdeckError, ForbiddenError, NotFoundError, UnavailableError, UnreadableError
from backends.storage.base import CHUNK, PAGE, Listing, Stat


def checked(path: str) -> str:
    """A root-relative POSIX path made safe to use as a key suffix (``""`` is the root).

    Raises:
        ForbiddenError: For an absolute path, a ``..`` segment or a NUL byte. A ``..`` between
            backslashes counts too: SeaweedFS reads ``a\\b`` as ``a/b`` (measured: a GET of
            ``ws/a\\f.txt`` returned ``ws/a/f.txt``), so ``..\\`` must not reach a store.
    """
    if "\x00" in path or path.startswith(("/", "\\")) or ".." in path.replace("\\", "/").split("/"):
        raise ForbiddenError(f"{path}: outside the source root", path=path)
    return "/".join(p for p in path.split("/") if p not in ("", "."))


def store_error(exc: Exception, what: str) -> DriftdeckError:
    """A one-line typed error for an obstore exception about ``what`` (a key or the bucket)."""
    from obstore import exceptions as obx

    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    text = str(exc)
    if isinstance(exc, (obx.NotFoundError, FileNotFoundError)) or "NoSuchBucket" in text:
        return NotFoundError(f"{what}: no such {'bucket' if 'NoSuchBucket' in text else 'object'}", path=what)
    if isinstance(exc, (obx.PermissionDeniedError, obx.UnauthenticatedError)) or any(
        code in text for code in ("SignatureDoesNotMatch", "InvalidAccessKeyId", "AccessDenied", "403 Forbidden")
    ):
        return AuthError(f"{what}: access refused by the object store (check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)", path=what)
    if any(word in text for word in ("error sending request", "Connection refused", "connect", "timed out", "dns error")):
        return UnavailableError(f"{what}: object store unreachable ({_short(first)})", path=what)
    return UnreadableError(f"{what}: object store error: {_short(first)}", path=what)


def _short(text: str) -> str:
    return text if len(text) <= 160 else text[:157] + "..."


class BucketStorage:
    """The objects under one prefix of a bucket, read-only.

    Args:
        store: An obstore store for the bucket.
        prefix: The prefix inside the bucket (no slashes at the ends; ``""`` for the whole bucket).
        label: How messages name the root (``s3://bucket/prefix``).
    """

    def __init__(self, store: Any, prefix: str, label: str) -> None:
        self.store = store
        self.prefix = prefix.strip("/")
        self.label = label

    def __repr__(self) -> str:
        return f"BucketStorage({self.label!r})"

    def key(self, path: str) -> str:
        """The object key of a root-relative path."""
        rel = checked(path)
        return f"{self.prefix}/{rel}" if self.prefix and rel else (rel or self.prefix)

    def rel(self, key: str) -> str:
        """The root-relative path of an object key under the prefix."""
        return key[len(self.prefix) + 1:] if self.prefix else key

    def name(self, rel: str) -> str:
        """How messages name ``rel`` when it is the whole workspace or a directory of it."""
        return f"{self.label.rstrip('/')}/{rel}" if rel else self.label

    def _meta_stat(self, meta: Any) -> Stat:
        return Stat(self.rel(meta["path"]), "file", meta["size"], meta["last_modified"].timestamp(), meta["e_tag"])

    # Storage -------------------------------------------------------------------

    def list(self, path: str = "", *, after: str | None = None, limit: int = PAGE) -> Listing:
        import obstore

        rel = checked(path)
        base = self.key(rel)
        try:
            result = obstore.list_with_delimiter(self.store, base + "/" if base else None)
        except Exception as exc:
            raise store_error(exc, self.name(rel)) from None
        dirs = [self.rel(p.rstrip("/")) for p in result["common_prefixes"]]
        files = [self._meta_stat(m) for m in result["objects"]]
        files = [f for f in files if f.path and f.path != rel]  # a "dir/" marker lists itself: not an entry
        entries = sorted([(d, d) for d in dirs] + [(f.path, f) for f in files], key=lambda pair: pair[0])
        if after is not None:
            entries = [pair for pair in entries if pair[0] > after]
        page = entries[:max(1, limit)]
        cursor = page[-1][0] if len(entries) > len(page) else None
        return Listing(tuple(p for p, item in page if isinstance(item, str)),
                       tuple(item for _, item in page if isinstance(item, Stat)), cursor)

    def walk(self, path: str = "") -> Iterator[Stat]:
        """Every object under the directory ``path``, at any depth, in key order (one recursive listing,
        1,000 keys a page). Empty ``dir/`` markers are not objects: ``list`` shows them as directories.

        Raises:
            DriftdeckError: When the store refuses or cannot be reached.
        """
        import obstore

        rel = checked(path)
        base = self.key(rel)
        try:
            for chunk in obstore.list(self.store, base + "/" if base else None, chunk_size=1000):
                for meta in chunk:
                    yield self._meta_stat(meta)
        except Exception as exc:
            raise store_error(exc, self.name(rel)) from None

    def stat(self, path: str) -> Stat:
        import obstore

        rel = checked(path)
        if rel:
            try:
                return self._meta_stat(obstore.head(self.store, self.key(rel)))
            except Exception as exc:
                error = store_error(exc, rel)
                if not isinstance(error, NotFoundError):
                    raise error from None
        parent, _, leaf = rel.rpartition("/")
        if not rel or leaf in {d.rsplit("/", 1)[-1] for d in self.list(parent, limit=1 << 30).dirs}:
            return Stat(rel, "dir", 0, 0.0, None)  # a bucket keeps no time for a "directory"
        raise NotFoundError(f"{path}: no such file", path=path)

    def read_range(self, path: str, offset: int, length: int) -> bytes:
        import obstore

        rel = checked(path)
        offset, length = max(0, offset), max(0, length)
        if length == 0:
            return b""
        try:
            # a bounded GET with an open-ended range would read to the end: ask for exactly the bytes wanted,
            # and read as much as the object holds (a range past the end is answered short, not refused)
            result = obstore.get(self.store, self.key(rel), options={"range": (offset, offset + length)})
            return bytes(result.bytes())
        except Exception as exc:
            error = store_error(exc, rel)
            if "range" in str(exc).lower() and not isinstance(error, NotFoundError):
                return b""  # wholly past the end of the object
            raise _vanished(error, rel) from None

    def stream(self, path: str, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The object in chunks of at least ``chunk_size`` bytes (the last may be shorter), as they arrive."""
        import obstore

        rel = checked(path)
        try:
            result = obstore.get(self.store, self.key(rel))
            for chunk in result.stream(min_chunk_size=max(1, chunk_size)):
                yield bytes(chunk)
        except DriftdeckError:
            raise
        except Exception as exc:
            raise _vanished(store_error(exc, rel), rel) from None

    def stream_from(self, path: str, offset: int, *, chunk_size: int = CHUNK) -> Iterator[bytes]:
        """The object from byte ``offset`` to its end, in chunks (one ranged GET)."""
        import obstore

        rel = checked(path)
        try:
            result = obstore.get(self.store, self.key(rel), options={"range": {"offset": max(0, offset)}})
            for chunk in result.stream(min_chunk_size=max(1, chunk_size)):
                yield bytes(chunk)
        except Exception as exc:
            raise _vanished(store_error(exc, rel), rel) from None


def _vanished(error: DriftdeckError, rel: str) -> DriftdeckError:
    """A missing object named as missing, in one line."""
    if isinstance(error, NotFoundError):
        return NotFoundError(f"{rel}: no such object (gone from the bucket)", path=rel)
    return error
