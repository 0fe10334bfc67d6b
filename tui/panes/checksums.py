"""Pane 5, Checksums: which files drifted from their SHA-256 manifest, and how."""

from __future__ import annotations

import asyncio
from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Input, Label, ProgressBar, Static
from textual.widgets import OptionList
from textual.worker import Worker

from backends.checksums.models import OK, ChecksumEntry
from backends.errors import ForbiddenError, UnavailableError
from tui.export import export_path
from tui.errors import error_message
from tui.goto import GotoError, GotoTarget
from tui.panes.base import DeckPane
from tui.selection import Selection
from tui.state.checksums import CATEGORY_CYCLE, ChecksumsState, ManifestRun
from tui.units import counted, human_size
from tui.widgets.checksum_manifests import ManifestList
from tui.widgets.checksum_table import ChecksumTable

FLUSH_SECONDS = 0.1
"""How often streamed entries are merged into the view."""

class ChecksumsPane(DeckPane):
    """Manifests on the left with badges; the selected one's entries, live, on the right."""

    PANE_KEY = "5"
    PANE_ID = "checksums"
    PANE_TITLE = "Checksums"
    PANE_SUMMARY = "Which files drifted from their SHA-256 manifest?"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter"),
        Binding("n", "match(1)", "Next match", show=False),
        Binding("N", "match(-1)", "Prev match", show=False),
        Binding("e", "drift(1)", "Next drift"),
        Binding("E", "drift(-1)", "Prev drift", show=False),
        Binding("c", "cycle_category", "Category"),
        Binding("o", "toggle_ok", "OK", tooltip="Show ok"),
        Binding("r", "reverify", "Verify", tooltip="Re-verify"),
        Binding("R", "reload", "Reload all", show=False),
        Binding("x", "export", "Export"),
        Binding("m", "focus_manifests", "Manifests", show=False),
        Binding("t", "focus_table", "Entries", show=False),
        Binding("escape", "escape", "Cancel / clear", show=False),
    ]

    DEFAULT_CSS = """
    ChecksumsPane #ck-body { height: 1fr; }
    ChecksumsPane #ck-side { width: 46; }
    ChecksumsPane #ck-side .side-title { padding: 0 1; text-style: bold; }
    ChecksumsPane #ck-main { width: 1fr; }
    ChecksumsPane #ck-status { padding: 0 1; width: 1fr; }
    ChecksumsPane #ck-progress-row { height: 1; padding: 0 1; }
    ChecksumsPane #ck-progress { width: auto; }
    ChecksumsPane #ck-progress-label { width: auto; padding: 0 1; color: $text-muted; }
    ChecksumsPane #ck-header { height: 1; color: $text-muted; text-style: bold; background: $boost; }
    ChecksumsPane #ck-table { height: 1fr; }
    ChecksumsPane Input { dock: bottom; }
    """

    def __init__(self, *, build: bool = True) -> None:
        super().__init__(build=build)
        self.state = ChecksumsState()
        self._worker: Worker[None] | None = None
        self._flush_timer: Timer | None = None

    def compose_content(self) -> ComposeResult:
        with Horizontal(id="ck-body"):
            with Vertical(id="ck-side"):
                yield Label("Manifests", id="ck-side-title", classes="side-title")
                yield ManifestList(id="ck-manifests")
            with Vertical(id="ck-main"):
                yield Label("reading the source…", id="ck-status")
                with Horizontal(id="ck-progress-row"):
                    yield ProgressBar(id="ck-progress", show_eta=False)
                    yield Label("", id="ck-progress-label")
                table = ChecksumTable(id="ck-table")
                yield Static("", id="ck-header")
                yield table
        yield Input(placeholder="filter paths (prefix ! to invert), enter to keep, escape to clear", id="ck-filter")
        yield Input(placeholder="export report to (.md Markdown, .json JSON, .html HTML), enter to write, escape to cancel", id="ck-export")

    def content_mounted(self) -> None:
        self._flush_timer = self.set_interval(FLUSH_SECONDS, self._flush, pause=True)
        self.query_one("#ck-filter", Input).display = False
        self.query_one("#ck-export", Input).display = False

    def pane_shown(self) -> None:
        # Read only once the pane is first shown: at start-up this walk (3-12 s on
        # 100,000 runs) ran on a thread of the TUI's process and starved the Runs
        # pane's first screen and scan of the GIL.
        if not self.state.started:
            self.state.started = True
            self._load_manifests()

    def content_resized(self) -> None:
        self._draw_header()

    def main_widget(self) -> Widget:
        """The entries when there are some to show, else the manifests (an OK manifest hides all its entries)."""
        table = self.query_one(ChecksumTable)
        return table if table.row_count else self.query_one(ManifestList)

    # Loading and verifying -----------------------------------------------------

    @work(exclusive=True, group="ck-manifests", exit_on_error=False)
    async def _load_manifests(self) -> None:
        if not await self.require():
            return
        try:
            manifests = await self.source.list_manifests()
        except Exception as exc:  # shown where the pane said it was reading, not only as a toast
            self.query_one("#ck-status", Label).update(f"cannot list the manifests: {error_message(exc)}")
            raise
        self.state.set_manifests(manifests)
        self.query_one(ManifestList).set_manifests(manifests, {m: (r.counts, r.state) for m, r in self.state.runs.items()})
        count = len(manifests)
        self.query_one("#ck-side-title", Label).update(counted(count, "manifest"))
        if not manifests:
            self.query_one("#ck-status", Label).update("this source holds no checksum manifest")
            return
        self._start()

    def _start(self) -> None:
        """Run the queue unless a verification is already running it."""
        if self._worker is None or self._worker.is_finished:
            self._worker = self._verify_queue()
        if self._flush_timer is not None:
            self._flush_timer.resume()

    @work(exclusive=True, group="ck-verify", exit_on_error=False)
    async def _verify_queue(self) -> None:
        while self.state.queue:
            manifest = self.state.queue.pop(0)
            run = self.state.runs[manifest] = ManifestRun(manifest)
            self.state.dirty.add(manifest)
            try:
                async for item in self.source.verify_checksums(manifest):
                    run.add(item)
                    self.state.dirty.add(manifest)
            except asyncio.CancelledError:
                run.cancelled = True
                raise
            except Exception as exc:
                run.error = str(exc)
                self.report(exc)
                if isinstance(exc, UnavailableError):
                    break  # the rest waits for the source to come back (retry_after_outage)
            finally:
                run.running = False
                self.state.dirty.add(manifest)
        self.call_later(self._flush)

    def retry_after_outage(self) -> None:
        """List the manifests again and verify those the outage broke or kept waiting."""
        for manifest in [m for m, run in self.state.runs.items() if run.error is not None]:
            self.state.runs.pop(manifest)
        self.state.started = True
        self._load_manifests()

    def _cancel(self) -> bool:
        """Stop the running verification and empty the queue; whether anything was running."""
        self.state.queue.clear()
        if self._worker is not None and not self._worker.is_finished:
            self._worker.cancel()
            return True
        return False

    # Drawing ---------------------------------------------------------------------

    def _flush(self) -> None:
        dirty, self.state.dirty = self.state.dirty, set()
        manifests = self.query_one(ManifestList)
        for manifest in dirty:
            run = self.state.runs.get(manifest)
            if run is not None:
                manifests.update_manifest(manifest, run.counts, run.state)
        if self.state.current is None and self.state.manifests:
            self.state.current = self.state.manifests[0]
            dirty.add(self.state.current)
        if self.state.current in dirty:
            self._rebuild()
        else:
            self._update_status()
        if not any(r.running for r in self.state.runs.values()) and not self.state.queue and self._flush_timer is not None:
            self._flush_timer.pause()

    def _rebuild(self, *, keep: bool = True) -> None:
        table = self.query_one(ChecksumTable)
        current = table.current if keep else None
        view = self.state.visible_entries()
        if len(view) != self.state.shown_count or view != self.state.view or not keep:
            self.state.view = view
            self.state.shown_count = len(view)
            cursor = None
            table.prefix = f"{self.state.current.rsplit('/', 1)[0]}/" if self.state.current and "/" in self.state.current else ""
            if current is not None:
                cursor = next((i for i, e in enumerate(view) if e is current), None)
            table.set_rows(view, cursor=cursor if cursor is not None else (table.cursor if keep else 0))
            self._draw_header()
        self._update_status()

    def _draw_header(self) -> None:
        table = self.query_one(ChecksumTable)
        width = table.scrollable_content_region.width or table.size.width
        self.query_one("#ck-header", Static).update(table.header(width) if width else "")

    def _update_status(self) -> None:
        status = self.query_one("#ck-status", Label)
        bar = self.query_one("#ck-progress", ProgressBar)
        label = self.query_one("#ck-progress-label", Label)
        run = self.state.runs.get(self.state.current or "")
        if self.state.current is None:
            return
        if run is None:
            status.update(f"{self.state.current} · queued for verification")
            bar.update(total=None, progress=0)
            label.update("")
            return
        total = len(run.entries)
        scope = self.state.category or ("every category" if self.state.show_ok else "ok hidden")
        text = f"{run.manifest} · {run.state} · {len(self.state.view):,} of {total:,} entries · {scope}"
        if self.state.text:
            text += f" · filter {self.state.text!r}"
        if run.summary is not None and run.summary.problem is not None:
            text += f"\n⚠ {run.summary.problem.message}"
        elif not run.running and not self.state.view and total:
            hidden = run.counts.get(OK, 0)
            if run.summary is not None and not run.summary.drift and hidden:
                text += f"\nno drift: all {hidden:,} entries ok (o shows them)"
        if run.error:
            text += f"\n⚠ {run.error}"
        status.update(text)
        progress = run.progress
        if progress is not None:
            bar.update(total=max(1, progress.bytes_total), progress=progress.bytes_done if run.running else max(1, progress.bytes_total))
            label.update(
                f"{progress.files_done:,}/{progress.files_total:,} files · "
                f"{human_size(progress.bytes_done)} of {human_size(progress.bytes_total)}"
            )
        elif run.running:
            bar.update(total=None)
            label.update("starting…")
        else:
            bar.update(total=1, progress=1)
            label.update("nothing to hash")
        if run.cancelled:
            label.update("cancelled (r verifies again)")

    # Events ------------------------------------------------------------------------

    @on(OptionList.OptionHighlighted, "#ck-manifests")
    def _manifest_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        manifest = event.option.id
        if manifest is None or manifest == self.state.current:
            return
        self.state.choose(manifest)
        self._rebuild(keep=False)

    @on(OptionList.OptionSelected, "#ck-manifests")
    def _manifest_selected(self) -> None:
        self.query_one(ChecksumTable).focus()

    @on(ChecksumTable.Selected)
    def _open_entry(self, event: ChecksumTable.Selected) -> None:
        from tui.screens.checksum_detail import ChecksumDetailScreen

        if 0 <= event.index < len(self.state.view):
            self.app.push_screen(ChecksumDetailScreen(self.state.view[event.index], self.state.current or ""))

    @on(Input.Changed, "#ck-filter")
    def _text_changed(self, event: Input.Changed) -> None:
        self.state.text = event.value
        self._rebuild()

    @on(Input.Submitted, "#ck-filter")
    def _text_submitted(self) -> None:
        self.query_one("#ck-filter", Input).display = False
        self.query_one(ChecksumTable).focus()

    @on(Input.Submitted, "#ck-export")
    def _export_submitted(self, event: Input.Submitted) -> None:
        field = self.query_one("#ck-export", Input)
        field.display = False
        self.query_one(ChecksumTable).focus()
        if event.value.strip():
            self._export(event.value.strip())

    # Actions -----------------------------------------------------------------------

    def action_filter(self) -> None:
        field = self.query_one("#ck-filter", Input)
        field.display = True
        field.focus()

    def action_escape(self) -> None:
        """Close an open prompt; else cancel a running verification; else clear the filter."""
        for field_id in ("#ck-export", "#ck-filter"):
            field = self.query_one(field_id, Input)
            if field.display and field.has_focus:
                field.display = False
                if field_id == "#ck-filter" and field.value:
                    field.value = ""
                self.query_one(ChecksumTable).focus()
                return
        if self.back_to_origin():
            return
        if self._cancel():
            self.notify("verification cancelled", title=self.PANE_TITLE, timeout=3)
            return
        field = self.query_one("#ck-filter", Input)
        if field.value:
            field.value = ""
        field.display = False
        self.query_one(ChecksumTable).focus()

    def action_match(self, step: int) -> None:
        """Next/previous row of the filtered view, wrapping around."""
        table = self.query_one(ChecksumTable)
        if self.state.view:
            table.move_to((table.cursor + step) % len(self.state.view))

    def action_drift(self, step: int) -> None:
        """Next/previous drifting entry from the cursor; past the last one, the next manifest that drifts."""
        table = self.query_one(ChecksumTable)
        here = table.cursor if table.row_count else (-1 if step > 0 else 0)
        index = here + step
        while 0 <= index < len(self.state.view):
            if self.state.view[index].is_drift:
                table.move_to(index)
                table.focus()
                return
            index += step
        if self._drift_in_next_manifest(step):
            return
        for index in range(len(self.state.view)) if step > 0 else range(len(self.state.view) - 1, -1, -1):  # wrap in this one
            if self.state.view[index].is_drift:
                table.move_to(index)
                table.focus()
                return
        self.notify("no drift found yet (still verifying)" if self.state.busy else "no drift in any manifest", timeout=3)

    def _drift_in_next_manifest(self, step: int) -> bool:
        """Open the next (``step`` 1) or previous manifest, in list order, that has drift; whether there was one."""
        for manifest in self.state.drifting(step):
            self.query_one(ManifestList).highlighted = self.state.manifests.index(manifest)
            self.state.current = manifest
            self._rebuild(keep=False)
            drifts = [i for i, entry in enumerate(self.state.view) if entry.is_drift]
            if drifts:
                table = self.query_one(ChecksumTable)
                table.move_to(drifts[0] if step > 0 else drifts[-1])
                table.focus()
                self.notify(f"next drift is in {manifest}", timeout=3)
                return True
        return False

    def action_cycle_category(self) -> None:
        index = CATEGORY_CYCLE.index(self.state.category)
        self.state.category = CATEGORY_CYCLE[(index + 1) % len(CATEGORY_CYCLE)]
        self._rebuild(keep=False)

    def action_toggle_ok(self) -> None:
        self.state.show_ok = not self.state.show_ok
        self._rebuild()

    def action_reverify(self) -> None:
        """Verify the selected manifest again (now, ahead of the queue)."""
        manifest = self.state.current
        if manifest is None:
            return
        worker = self._worker
        current_run = self.state.runs.get(manifest)
        restart = worker is not None and not worker.is_finished and current_run is not None and current_run.running
        if restart and worker is not None:
            worker.cancel()
        self.state.queue = [manifest, *(m for m in self.state.queue if m != manifest)]
        self.state.runs.pop(manifest, None)
        self._rebuild(keep=False)
        if restart:
            self.call_after_refresh(self._start)
        else:
            self._start()

    def action_reload(self) -> None:
        """Forget every result, list the manifests again and verify them all."""
        self._cancel()
        self.state.runs.clear()
        self.state.current = None
        self.state.view = []
        self.state.shown_count = -1
        self.query_one(ChecksumTable).set_rows([], cursor=0)
        self.call_after_refresh(self._load_manifests)

    def action_focus_manifests(self) -> None:
        self.query_one(ManifestList).focus()

    def action_focus_table(self) -> None:
        self.query_one(ChecksumTable).focus()

    def action_export(self) -> None:
        run = self.state.runs.get(self.state.current or "")
        if run is None or run.summary is None:
            self.notify("nothing to export yet: the verification has not finished", timeout=4)
            return
        field = self.query_one("#ck-export", Input)
        if not field.value:
            stem = run.manifest.replace("/", "-").replace(".", "-")
            field.value = f"checksum-report-{stem}.md"
        field.display = True
        field.focus()

    @work(group="ck-export", exit_on_error=False)
    async def _export(self, target: str) -> None:
        from backends.atomic import atomic_write
        from backends.checksums.report import render_json, render_markdown

        run = self.state.runs.get(self.state.current or "")
        if run is None or run.summary is None:
            return
        try:
            path = export_path(self.source, target)
        except ForbiddenError as exc:
            self.notify(str(exc), severity="error", timeout=6)
            return
        entries = list(run.entries)
        kind = "JSON" if path.lower().endswith(".json") else "HTML" if path.lower().endswith((".html", ".htm")) else "Markdown"
        if kind == "HTML":
            from backends.reports.checksums import checksums_report
            from backends.reports.html import render_html

            data = render_html(checksums_report([(run.summary, sorted(entries, key=lambda e: (e.line is None, e.line or 0, e.path)))]))
        else:
            data = render_json(run.summary, entries) if kind == "JSON" else render_markdown(run.summary, entries)
        await asyncio.to_thread(atomic_write, path, data)
        self.notify(f"report written to {path} ({kind})", title=self.PANE_TITLE, timeout=5)

    # Selection, go-to and marks (the app's y, Y, :, O) ----------------------------------

    def selected_item(self) -> Selection | None:
        if self.query_one(ManifestList).has_focus and self.state.current is not None:
            return Selection("path", self.state.current, {"manifest": self.state.current}, path=self.state.current, title=f"manifest {self.state.current}")
        entry: ChecksumEntry | None = self.query_one(ChecksumTable).current
        if entry is None:
            return None
        detail = {"manifest": self.state.current, **entry._asdict()}
        if entry.category == "malformed":  # the path is the manifest's: open it at the bad line
            return Selection("path", entry.path, detail, path=entry.path, line=entry.line, title=f"malformed line {entry.line}")
        digest = entry.actual or entry.expected
        title = f"{entry.category} {entry.path}"
        if digest:
            return Selection("hash", digest, detail, path=entry.path, title=title)
        return Selection("path", entry.path, detail, path=entry.path, title=title)

    def goto_candidates(self) -> dict[str, list[str]]:
        run = self.state.runs.get(self.state.current or "")
        return {"manifest": list(self.state.manifests), "path": [e.path for e in (run.entries[:5000] if run else [])]}

    async def source_candidates(self) -> dict[str, list[str]]:
        return {"manifest": list(await self.source.list_manifests())}

    async def goto(self, target: GotoTarget) -> str:
        """``manifest:M``: that manifest (or the one whose path ends in M); ``path:P``: its entry for P."""
        if target.kind == "manifest":
            await self.wait_for(lambda: bool(self.state.manifests) or self.settled("ck-manifests"),
                                "the manifest list")
            wanted = target.value.strip("/")
            matches = [m for m in self.state.manifests if m == wanted] or [m for m in self.state.manifests if m.endswith("/" + wanted)]
            if len(matches) != 1:
                why = f"{len(matches)} manifests end with it" if matches else f"{len(self.state.manifests)} manifests, none of that path"
                raise GotoError(f"no manifest {wanted!r} ({why})")
            self.query_one(ManifestList).highlighted = self.state.manifests.index(matches[0])
            await self.wait_for(lambda: self.state.current == matches[0], "the manifest to be shown")
            self.query_one(ChecksumTable).focus()
            return f"manifest {matches[0]}"
        if target.kind != "path":
            return await super().goto(target)
        await self.wait_for(lambda: self.state.current is not None or self.settled("ck-manifests"),
                            "the manifest list")
        manifest = self.state.current
        if manifest is None:
            raise GotoError("this source holds no checksum manifest")
        wanted = target.value.strip("/")

        def entry() -> ChecksumEntry | None:
            run = self.state.runs.get(manifest)
            return None if run is None else next((e for e in run.entries if wanted in (e.path, e.name)), None)

        await self.wait_for(lambda: entry() is not None or (manifest in self.state.runs and not self.state.runs[manifest].running)
                            or manifest != self.state.current, f"the verification of {manifest}")
        found = entry()
        if found is None:
            raise GotoError(f"{wanted!r} is not an entry of {manifest}")
        if not self.state.visible(found):
            self.state.category, self.state.show_ok = None, True
            if self.state.text:
                field = self.query_one("#ck-filter", Input)
                with self.prevent(Input.Changed):
                    field.value = ""
                field.display = False
                self.state.text = ""
        self._rebuild(keep=False)
        table = self.query_one(ChecksumTable)
        table.move_to(self.state.view.index(found))
        table.focus()
        return f"{found.path} in {manifest} ({found.category})"
