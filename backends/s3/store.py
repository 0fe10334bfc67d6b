"""Open an obstore ``S3Store`` from an ``s3://bucket/prefix`` spec and the standard AWS configuration.

Configuration comes from the environment exactly as AWS tools read it
(``AWS_ENDPOINT_URL``, ``AWS_REGION``, ``AWS_ACCESS_KEY_ID`` /
``AWS_SECRET_ACCESS_KEY`` / ``AWS_SESSION_TOKEN``); an ``http://`` endpoint
(MinIO, SeaweedFS) turns on ``allow_http`` and path-style requests.
"""

from __future__ import annotations

import os
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from backends.errors import SourceSpecError
from backends.storage.bucket import store_error

__all__ = ["open_store", "parse_spec", "store_error"]

if TYPE_CHECKING:
    from obstore.store import S3Store

RETRIES = 2
"""Retries of a failed request; obstore's default (10 retries over up to 3 minutes) made an unreachable endpoint hang a command."""

TIMEOUT = timedelta(seconds=5)


def parse_spec(spec: str) -> tuple[str, str]:
    """``(bucket, prefix)`` of ``s3://bucket/prefix`` (prefix without slashes at either end).

    Raises:
        SourceSpecError: When there is no bucket name.
    """
    rest = spec.partition("://")[2]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise SourceSpecError(f"{spec}: no bucket name (expected s3://bucket/prefix)")
    return bucket, prefix.strip("/")


def open_store(bucket: str) -> S3Store:
    """An ``S3Store`` for ``bucket`` configured from the environment.

    Raises:
        SourceSpecError: When obstore (the ``s3`` extra) is not installed.
    """
    try:
        from obstore.store import S3Store
    except ImportError:
        raise SourceSpecError("s3:// sources need obstore: pip install 'driftdeck[s3]'") from None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    config: dict[str, Any] = {}
    client: dict[str, Any] = {"connect_timeout": TIMEOUT, "timeout": timedelta(seconds=60)}
    if endpoint:
        config["endpoint"] = endpoint
        config["virtual_hosted_style_request"] = False  # MinIO and SeaweedFS serve path-style
        if endpoint.startswith("http://"):
            client["allow_http"] = True
    if not (os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")):
        config["region"] = "us-east-1"
    retry = {"max_retries": RETRIES, "retry_timeout": TIMEOUT * 2}
    return S3Store(bucket, config=config, client_options=client, retry_config=retry)  # type: ignore[arg-type]
