"""``driftdeck checksums verify`` without click: run a verification and print its report.

The click command in ``tui.cli.checksums`` and the fast path (``tui.cli.fast``)
both call ``run_verify``. A local source runs the engine in this process
directly (no event loop, no source machinery it does not need), so start-up
stays short and hashing may use worker processes. Other sources go through
their ``DataSource``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator

from backends.errors import ForbiddenError, NotFoundError
from backends.spec import local_root
from backends.units import counted

TYPE_CHECKING = False  # the models load after the workers fork (see run_verify); checkers read the names below
if TYPE_CHECKING:
    from backends.checksums.early import EarlyStart
    from backends.checksums.models import ChecksumEntry, ChecksumProgress, ChecksumSummary
    from backends.checksums.scope import Scope

    Item = ChecksumEntry | ChecksumProgress | ChecksumSummary


def run_verify(
    manifests: tuple[str, ...],
    source: str = ".",
    as_json: bool = False,
    no_new: bool = False,
    exclude: tuple[str, ...] = (),
    top_only: bool = False,
    workers: int | None = None,
    junit: str | None = None,
    html: str | None = None,
) -> int:
    """Verify ``manifests`` (default: every manifest the source holds) and print the report.

    Args:
        manifests: Manifest paths, relative to the source root or real paths.
        source: Workspace path or URL.
        as_json: NDJSON (one object per entry, then a summary per manifest).
        no_new: Do not look for unlisted files.
        exclude: Globs of unlisted files left out of ``new``.
        top_only: Look for unlisted files next to the manifest only.
        workers: Hashing parallelism (default: the cores).
        junit: Also write a JUnit XML report here.
        html: Also write an HTML report here.

    Returns:
        0 all ok, 1 drift, 2 a manifest missing or unreadable.
    """
    from tui.cli.reports import reports_wanted

    reports = (junit, html) if reports_wanted(junit, html) else None
    spec = local_root(source)
    if spec is None:
        return _report(source, manifests, as_json, no_new, exclude, top_only, workers, None, None, reports)
    targets = _targets(spec, manifests)
    # The first manifest is read and its hashing workers forked before the
    # verifier and its models load: they hash meanwhile.
    from backends.checksums.early import start_early

    early = start_early(*targets[0], workers=workers, emit_ok=as_json or reports is not None)
    try:
        return _report(source, manifests, as_json, no_new, exclude, top_only, workers, targets, early, reports)
    finally:
        if early is not None:
            early.close()  # unless the verification adopted the workers


def _report(
    source: str,
    manifests: tuple[str, ...],
    as_json: bool,
    no_new: bool,
    exclude: tuple[str, ...],
    top_only: bool,
    workers: int | None,
    targets: list[tuple[str, str]] | None,
    early: EarlyStart | None,
    reports: tuple[str | None, str | None] | None = None,
) -> int:
    """Verify (local ``targets``, else through the source) and print; the exit code.

    ``reports``: the JUnit and HTML files to write (ok entries are then kept too).
    """
    from backends.checksums.models import ChecksumEntry, ChecksumSummary
    from backends.checksums.scope import Scope

    scope = Scope(recursive=not top_only, exclude=exclude)
    emit_ok = as_json or reports is not None
    if targets is None:
        runs = _remote(source, manifests, include_new=not no_new, scope=scope, emit_ok=emit_ok)
    else:
        runs = _local(targets, include_new=not no_new, scope=scope, emit_ok=emit_ok, workers=workers, early=early)
    done: list[tuple[ChecksumSummary, list[ChecksumEntry]]] = []
    code = 0
    if as_json:
        _print_header()
    for manifest_runs in runs:
        entries: list[ChecksumEntry] = []
        summary: ChecksumSummary | None = None
        for item in manifest_runs:
            if isinstance(item, ChecksumEntry):
                entries.append(item)
            elif isinstance(item, ChecksumSummary):
                summary = item
        assert summary is not None
        entries.sort(key=lambda e: (e.line is None, e.line or 0, e.path))
        if as_json:
            _print_json(summary, entries)
        else:
            _print_human(summary, entries)
        if summary.problem is not None:
            print(f"driftdeck: {summary.problem.message}", file=sys.stderr)
        if summary.problem is not None and summary.problem.is_input_error:
            code = 2
        elif summary.drift and code == 0:
            code = 1
        if reports is not None:
            done.append((summary, entries))
    if reports is not None:
        from backends.reports.checksums import checksums_report
        from tui.cli.reports import write_reports

        write_reports(checksums_report(done), *reports)
    return code



def _targets(spec: str, manifests: tuple[str, ...]) -> list[tuple[str, str]]:
    """``(source root, manifest relative to it)`` for each manifest to verify (default: all)."""
    root = os.path.abspath(os.path.expanduser(spec))
    if not os.path.isdir(root):
        raise NotFoundError(f"{spec}: no such directory", path=spec)
    if manifests:
        return [_locate(root, name) for name in manifests]
    targets = [(root, rel) for rel in _all_manifests(spec)]
    if not targets:
        raise NotFoundError(f"{spec}: holds no checksum manifest (give one as an argument)", path=spec)
    return targets


def _local(
    targets: list[tuple[str, str]],
    *,
    include_new: bool,
    scope: Scope,
    emit_ok: bool,
    workers: int | None,
    early: EarlyStart | None,
) -> Iterator[Iterable[Item]]:
    from backends.checksums.verify import verify_manifest

    for target_root, rel in targets:
        yield verify_manifest(
            target_root, rel, include_new=include_new, scope=scope, emit_ok=emit_ok, workers=workers, early=early
        )


def _all_manifests(spec: str) -> list[str]:
    import asyncio

    from backends.local import LocalSource

    return asyncio.run(LocalSource(spec).list_manifests())


def _locate(root: str, name: str) -> tuple[str, str]:
    """``(source root, manifest path relative to it)`` for a manifest argument.

    A path relative to the source root wins; otherwise a real path, which
    must lie under the root or, if outside it, opens its own directory as the
    source.
    """
    real_root = os.path.realpath(root)
    if not os.path.isabs(name):
        rel = os.path.normpath(name)
        if not rel.startswith("..") and os.path.lexists(os.path.join(root, rel)):
            return _inside(root, real_root, rel)
    path = os.path.abspath(os.path.expanduser(name))
    if not os.path.lexists(path) and not os.path.isabs(name):
        rel = os.path.normpath(name)
        if rel.startswith(".."):
            raise ForbiddenError(f"{name}: resolves outside the source root", path=name)
        return root, rel.replace(os.sep, "/")  # reported as a missing manifest
    real = os.path.realpath(path)
    if real == real_root or real.startswith(real_root.rstrip("/") + "/"):
        return _inside(root, real_root, os.path.relpath(real, real_root))
    return os.path.dirname(path), os.path.basename(path)


def _inside(root: str, real_root: str, rel: str) -> tuple[str, str]:
    real = os.path.realpath(os.path.join(root, rel))
    if not (real == real_root or real.startswith(real_root.rstrip("/") + "/")):
        raise ForbiddenError(f"{rel}: resolves outside the source root", path=rel)
    return root, rel.replace(os.sep, "/")


def _remote(
    spec: str, manifests: tuple[str, ...], *, include_new: bool, scope: Scope, emit_ok: bool
) -> Iterator[Iterable[Item]]:
    import asyncio

    from backends.checksums.models import MANIFEST_UNREADABLE, OK, ChecksumEntry, ChecksumSummary, ManifestProblem
    from backends.errors import ForbiddenError, UnreadableError
    from backends.source import open_source

    async def collect() -> list[list[Item]]:
        source = open_source(spec)
        try:
            names = list(manifests) or await source.list_manifests()
            out: list[list[Item]] = []
            for name in names:
                items: list[Item] = []
                try:
                    async for item in source.verify_checksums(name, include_new=include_new):
                        if not isinstance(item, ChecksumEntry) or emit_ok or item.category != OK:
                            items.append(item)
                except (ForbiddenError, UnreadableError) as exc:  # this manifest, as a local run reports it; the others go on
                    problem = ManifestProblem(MANIFEST_UNREADABLE, str(exc))
                    items = [ChecksumSummary(name, {}, True, 0, 0, 0.0, problem, False, None)]
                out.append(items)
            return out
        finally:
            await source.aclose()

    yield from asyncio.run(collect())


def one_line(text: str) -> str:
    """A name on one line: backslashes doubled, then control characters and undecodable bytes escaped."""
    from tui.cli.terminal import printable

    return printable(text.replace("\\", "\\\\"))


def _detail(entry: ChecksumEntry) -> str:
    parts = [f"line {entry.line}"] if entry.line is not None else []
    if entry.category == "changed":
        parts.append(f"expected {entry.expected}, got {entry.actual}")
    elif entry.category == "moved" and entry.other:
        parts.append(f"now at {one_line(entry.other)}")
    elif entry.reason:
        parts.append(one_line(entry.reason))
    return "; ".join(parts)


def _print_human(summary: ChecksumSummary, entries: list[ChecksumEntry]) -> None:
    from backends.checksums.models import CATEGORIES, OK

    shown = [e for e in entries if e.category != OK]
    for entry in shown:
        detail = _detail(entry)
        print(f"{entry.category:<10}  {one_line(entry.path)}" + (f"  ({detail})" if detail else ""))
    counts = ", ".join(f"{c} {summary.counts[c]:,}" for c in CATEGORIES if summary.counts.get(c))
    if summary.problem is not None:
        verdict = summary.problem.kind.upper()
    else:
        verdict = "DRIFT" if summary.drift else "OK"
    print(f"{summary.manifest}: {verdict}" + (f" ({counts})" if counts else "")
         + f"; {counted(summary.files_hashed, 'file')} ({summary.bytes_hashed:,} bytes) hashed in {summary.elapsed:.2f} s")


def _print_header() -> None:
    from backends.reports.schemas import schema_id

    sys.stdout.buffer.write(b'{"type":"header","schema":"' + schema_id("checksums-verify").encode() + b'"}\n')


def _print_json(summary: ChecksumSummary, entries: list[ChecksumEntry]) -> None:
    import orjson

    from tui.cli.json_output import dumps

    write = sys.stdout.buffer.write
    for entry in entries:
        body = entry.to_json()
        body["type"] = "entry"
        body["manifest"] = summary.manifest
        write(dumps(body, option=orjson.OPT_APPEND_NEWLINE))
    write(dumps(summary.to_json(), option=orjson.OPT_APPEND_NEWLINE))
    sys.stdout.flush()
