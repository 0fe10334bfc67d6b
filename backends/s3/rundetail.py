"""A run's details from a bucket, read through its storage: no local copy.

One recursive listing of the run's prefix gives the record's size, the
artifacts and the WAL files; the artifacts are fetched concurrently in memory
(bounded as for a directory) and parsed by the directory's parser
(``backends.runs.parse_artifact``); evidence refs are looked up with HEADs.
"""

from __future__ import annotations

import asyncio
import stat
from typing import Any

from backends.confine import not_regular
from backends.errors import ForbiddenError
from backends.layout import Layout
from backends.models import ArtifactInfo, Problem, RunDetail, RunSummary
from backends.runs import MAX_ARTIFACT_PARSE_BYTES, evidence_refs, parse_artifact
from backends.s3.keys import checked, glob_regex
from backends.storage.base import parents
from backends.storage.bucket_async import MARKER, BucketAio


async def run_detail(aio: BucketAio, layout: Layout, summary: RunSummary, status: dict[str, Any]) -> RunDetail:
    """The details of the run ``summary`` (found, its status parsed) in the bucket ``aio`` reads.

    Raises:
        DriftdeckError: When the store refuses or cannot be reached.
    """
    key = summary.key
    objects = {o.path[len(key) + 1:]: o for o in await aio.listing(key)}
    dirs = parents(objects)
    problems: list[Problem] = [summary.problem] if summary.problem else []
    record_rel = f"{key}/{layout.record}"
    record: str | None = None
    record_size = 0
    if layout.record in objects:
        record, record_size = record_rel, objects[layout.record].size
    elif layout.record in dirs:  # never paged, as a directory there is not
        problems.append(Problem(record_rel, None, f"unreadable: {not_regular(stat.S_IFDIR)}"))
    quarantine, wal = glob_regex(layout.quarantine), glob_regex(layout.wal)
    artifacts = await _artifacts(aio, [f"{key}/{rel}" for rel in objects if quarantine.match(rel)])
    problems.extend(a.problem for a in artifacts if a.problem is not None)
    wal_files = tuple(f"{key}/{rel}" for rel in objects if wal.match(rel))
    return RunDetail(summary, status, f"{key}/{layout.status}", record, record_size, tuple(artifacts), wal_files, tuple(problems))


async def _artifacts(aio: BucketAio, paths: list[str]) -> list[ArtifactInfo]:
    """Fetch and parse artifacts concurrently; their evidence refs looked up once each."""
    got = await asyncio.gather(*(aio.get_small(rel, MAX_ARTIFACT_PARSE_BYTES + 1) for rel in paths))
    refs = sorted({ref for item in got if isinstance(item, tuple) for ref in evidence_refs(*item)})
    answers = dict(zip(refs, await asyncio.gather(*(_exists(aio, ref) for ref in refs)), strict=True))
    artifacts = []
    for rel, item in zip(paths, got, strict=True):
        name = rel.rsplit("/", 1)[-1]
        if item is None or item == MARKER:  # gone since the listing
            reason = "vanished between listing and reading" if item is None else MARKER
            artifacts.append(ArtifactInfo(name, rel, 0, problem=Problem(rel, None, reason)))
        else:
            assert isinstance(item, tuple)
            artifacts.append(parse_artifact(rel, *item, answers.get))
    return artifacts


async def _exists(aio: BucketAio, ref: str) -> bool | None:
    """Whether an evidence ref names an object or a directory in the workspace; ``None`` for a URI or a
    path that would leave it (never looked at), as for a directory."""
    if "://" in ref:
        return None
    target = ref.split("#", 1)[0]
    if not target:
        return None
    try:
        checked(target)
    except ForbiddenError:
        return None
    if await aio.head(target) is not None:
        return True
    return await aio.is_marker(target)
