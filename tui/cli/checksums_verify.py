"""``driftdeck checksums verify`` without click: run a verification and print its report.

Its options are declared once, in ``VerifyOptions``; the click command in
``tui.cli.checksums`` and the fast path (``tui.cli.fast``) both parse them
into one and call ``run_verify``. A local source runs the engine in this process
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
from tui.cli.options import IntRange, argument, flag, multiple, value
from tui.cli.reports import ReportOptions

TYPE_CHECKING = False  # the models load after the workers fork (see run_verify); checkers read the names below
if TYPE_CHECKING:
    from backends.checksums.early import EarlyStart
    from backends.checksums.models import ChecksumEntry, ChecksumProgress, ChecksumSummary
    from backends.checksums.scope import Scope

    Item = ChecksumEntry | ChecksumProgress | ChecksumSummary


class VerifyOptions(ReportOptions):
    """The options of ``driftdeck checksums verify``."""

    manifests: tuple[str, ...] = argument(nargs=-1, metavar="[MANIFEST]...")
    source: str = value("--source", "-s", default=".", show_default=True, metavar="SOURCE", help="Workspace path (or URL).")
    as_json: bool = flag("--json", help="NDJSON: one object per entry, then a summary object per manifest.")
    no_new: bool = flag("--no-new", help="Do not look for unlisted files (no 'new' entries, no move detection).")
    exclude: tuple[str, ...] = multiple("--exclude", metavar="GLOB", help="Leave unlisted files matching GLOB out of 'new' (repeatable).")
    top_only: bool = flag("--top-only", help="Look for unlisted files next to the manifest only, not in subdirectories.")
    workers: int | None = value("--workers", type=IntRange(1, 256), help="Hashing parallelism (default: the cores).")


def run_verify(options: VerifyOptions) -> int:
    """Verify the manifests (default: every manifest the source holds) and print the report.

    Args:
        options: The command line (``VerifyOptions``): manifest paths are
            relative to the source root, or real paths.

    Returns:
        0 all ok, 1 drift, 2 a manifest missing or unreadable.
    """
    from tui.cli.reports import reports_wanted

    reports = (options.junit, options.html) if reports_wanted(options.junit, options.html) else None
    spec = local_root(options.source)
    if spec is None:
        return _report(options, None, None, reports)
    targets = _targets(spec, options.manifests)
    # The first manifest is read and its hashing workers forked before the
    # verifier and its models load: they hash meanwhile.
    from backends.checksums.early import start_early

    early = start_early(*targets[0], workers=options.workers, emit_ok=options.as_json or reports is not None)
    try:
        return _report(options, targets, early, reports)
    finally:
        if early is not None:
            early.close()  # unless the verification adopted the workers


def _report(
    options: VerifyOptions,
    targets: list[tuple[str, str]] | None,
    early: EarlyStart | None,
    reports: tuple[str | None, str | None] | None = None,
) -> int:
    """Verify (local ``targets``, else through the source) and print; the exit code.

    ``reports``: the JUnit and HTML files to write (ok entries are then kept too).
    """
    from backends.checksums.models import ChecksumEntry, ChecksumSummary
    from backends.checksums.scope import Scope

    scope = Scope(recursive=not options.top_only, exclude=options.exclude)
    as_json = options.as_json
    emit_ok = as_json or reports is not None
    include_new = not options.no_new
    if targets is None:
        runs = _remote(options.source, options.manifests, include_new=include_new, scope=scope, emit_ok=emit_ok)
    else:
        runs = _local(targets, include_new=include_new, scope=scope, emit_ok=emit_ok, workers=options.workers, early=early)
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
