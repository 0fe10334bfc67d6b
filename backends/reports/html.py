"""A ``Report`` as one self-contained HTML file: inline CSS, no script, nothing fetched.

A reviewer opens it from a CI artifact without the tool: the verdict and
counts first, then per checked thing a table of every item, then the
failing items with their details and side-by-side diffs, the changed words
marked (``<del>``/``<ins>``) from the engines' own word diff. A
Content-Security-Policy forbids every network fetch and script.
"""

from __future__ import annotations

import html

from backends.reports.model import ERROR, FAILED, PASSED, SKIPPED, Case, Report, SideDiff, Suite
from backends.reports.text import xml_text

_CSS = """
:root { color-scheme: light; --ok: #1a7f37; --bad: #cf222e; --err: #9a6700; --muted: #57606a; --line: #d0d7de; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1200px; padding: 1.5rem; color: #1f2328; }
h1 { font-size: 1.4rem; margin: 0 0 .3rem; } h2 { font-size: 1.15rem; margin: 2rem 0 .5rem; border-bottom: 1px solid var(--line); }
.verdict { display: inline-block; font-weight: 700; padding: .15rem .6rem; border-radius: 4px; color: #fff; }
.verdict.ok { background: var(--ok); } .verdict.bad { background: var(--bad); }
.muted { color: var(--muted); }
table { border-collapse: collapse; margin: .5rem 0; }
th, td { border: 1px solid var(--line); padding: .2rem .5rem; text-align: left; vertical-align: top; overflow-wrap: anywhere; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.status { font-weight: 700; text-transform: uppercase; font-size: .8rem; }
td.status, td.kind { white-space: nowrap; overflow-wrap: normal; }
.status.passed { color: var(--ok); } .status.failed { color: var(--bad); } .status.error { color: var(--err); } .status.skipped { color: var(--muted); }
code, .side td.t, .path { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, monospace; font-size: 12.5px; }
details { border: 1px solid var(--line); border-radius: 4px; margin: .6rem 0; padding: .3rem .6rem; }
summary { cursor: default; font-weight: 600; }
dl { display: grid; grid-template-columns: max-content auto; gap: .1rem 1rem; margin: .4rem 0; }
dt { color: var(--muted); } dd { margin: 0; font-family: ui-monospace, monospace; white-space: pre-wrap; word-break: break-all; }
.side { width: 100%; table-layout: fixed; }
.side col.ln { width: 4.5em; }
.side td { border: none; padding: 0 .4rem; white-space: pre-wrap; word-break: break-all; }
.side td.ln { color: var(--muted); text-align: right; user-select: none; }
.side tr.hunk td { background: #ddf4ff; color: var(--muted); }
.side tr.chg td.t.l, .side tr.del td.t.l { background: #ffebe9; }
.side tr.chg td.t.r, .side tr.add td.t.r { background: #dafbe1; }
.side tr.ign td.t { color: var(--muted); font-style: italic; }
del { background: #ff818266; text-decoration: none; font-weight: 700; }
ins { background: #4ac26b66; text-decoration: none; font-weight: 700; }
"""

_ROW_CLASS = {"@": "hunk", "!": "chg", "-": "del", "+": "add", "~": "ign", " ": "ctx"}


def _e(text: str) -> str:
    return html.escape(xml_text(text), quote=True)


def marked(text: str, spans: tuple[tuple[int, int], ...], tag: str) -> str:
    """``text`` escaped, with each ``(start, end)`` span wrapped in ``<tag>``."""
    out, at = [], 0
    for start, end in spans:
        start, end = max(start, at), min(end, len(text))
        if start >= end:
            continue
        out.append(_e(text[at:start]))
        out.append(f"<{tag}>{_e(text[start:end])}</{tag}>")
        at = end
    out.append(_e(text[at:]))
    return "".join(out)


def render_html(report: Report) -> bytes:
    """The report as a complete HTML document (UTF-8)."""
    verdict_class = "ok" if report.ok else "bad"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>driftdeck {_e(report.command)}: {_e(report.verdict)}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<header><h1>driftdeck {_e(report.command)}</h1>",
        f'<p class="path">{_e(report.title)}</p>',
        f'<p><span class="verdict {verdict_class}" id="verdict">{_e(report.verdict)}</span></p></header>',
        '<table class="totals" id="totals"><tr><th>checked</th><th>passed</th><th>failed</th><th>errors</th><th>skipped</th></tr>',
        f'<tr><td class="n">{report.total:,}</td><td class="n">{report.tally(PASSED):,}</td><td class="n">{report.tally(FAILED):,}</td>'
        f'<td class="n">{report.tally(ERROR):,}</td><td class="n">{report.tally(SKIPPED):,}</td></tr></table>',
    ]
    for index, suite in enumerate(report.suites):
        out.extend(_suite(suite, index))
    out.append("</body></html>")
    return ("\n".join(out) + "\n").encode("utf-8")


def _suite(suite: Suite, index: int) -> list[str]:
    out = [f'<section class="suite" id="suite-{index}"><h2 class="path">{_e(suite.name)}</h2>']
    if suite.counts:
        out.append('<table class="counts">' + "".join(
            f'<tr><th>{_e(label)}</th><td class="n">{count:,}</td></tr>' for label, count in suite.counts) + "</table>")
    if suite.facts:
        out.append("<dl>" + "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in suite.facts) + "</dl>")
    out.extend(f'<p class="muted note">{_e(note)}</p>' for note in suite.notes)
    if suite.cases:
        out.append('<table class="cases"><tr><th>status</th><th>item</th><th>kind</th><th>where</th><th>verdict</th></tr>')
        for case in suite.cases:
            out.append(
                f'<tr class="case {case.status}"><td class="status {case.status}">{case.status}</td>'
                f'<td class="path">{_e(case.name)}</td><td class="kind">{_e(case.kind)}</td><td class="path">{_e(_where(case))}</td>'
                f"<td>{_e(case.message)}</td></tr>"
            )
        out.append("</table>")
    shown = [case for case in suite.cases if case.failing and (case.details or case.diffs)]
    for case in shown:
        out.extend(_details(case))
    out.append("</section>")
    return out


def _where(case: Case) -> str:
    if case.file is None:
        return f"line {case.line}" if case.line is not None else ""
    return f"{case.file}:{case.line}" if case.line is not None else case.file


def _details(case: Case) -> list[str]:
    out = [f'<details open class="item"><summary><span class="status {case.status}">{case.status}</span> '
           f'<span class="path">{_e(case.name)}</span> — {_e(case.message)}</summary>']
    if case.details:
        out.append("<dl>" + "".join(f"<dt>{_e(label)}</dt><dd>{_e(value)}</dd>" for label, value in case.details) + "</dl>")
    for diff in case.diffs:
        out.extend(_side(diff))
    out.append("</details>")
    return out


def _side(diff: SideDiff) -> list[str]:
    out = [f'<p class="muted">{_e(diff.title)}</p>',
           '<table class="side"><colgroup><col class="ln"><col><col class="ln"><col></colgroup>',
           f'<tr><th colspan="2">{_e(diff.left)}</th><th colspan="2">{_e(diff.right)}</th></tr>']
    for row in diff.rows:
        css = _ROW_CLASS.get(row.tag, "ctx")
        if row.tag == "@":
            out.append(f'<tr class="{css}"><td colspan="4" class="t">{_e(row.left)}</td></tr>')
            continue
        old = "" if row.old is None else str(row.old)
        new = "" if row.new is None else str(row.new)
        out.append(
            f'<tr class="{css}"><td class="ln">{old}</td><td class="t l">{marked(row.left, row.left_spans, "del")}</td>'
            f'<td class="ln">{new}</td><td class="t r">{marked(row.right, row.right_spans, "ins")}</td></tr>'
        )
    out.append("</table>")
    if diff.truncated:
        out.append('<p class="muted">(cut short)</p>')
    return out
