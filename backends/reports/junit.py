"""A ``Report`` as JUnit XML: one ``<testcase>`` per checked item, drift as ``<failure>``.

The shape is the one Jenkins, GitLab and GitHub test reporters read
(``testsuites > testsuite > testcase``, the Jenkins ``junit-10.xsd``
elements), plus ``file`` and ``line`` on a test case where the item has
them (GitLab and pytest's ``xunit1`` write the same attributes). Text that
XML 1.0 cannot carry (control characters, the surrogate escapes of
undecodable file names) is written as ``\\xNN`` / ``\\uXXXX``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from backends.reports.model import ERROR, FAILED, SKIPPED, Case, Report, Suite
from backends.reports.text import xml_text

def render_junit(report: Report) -> bytes:
    """The report as a JUnit XML document (UTF-8, with an XML declaration)."""
    root = ET.Element("testsuites", _totals(report.suites, report.command))
    for suite in report.suites:
        root.append(_suite(report, suite))
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _totals(suites: tuple[Suite, ...], name: str) -> dict[str, str]:
    cases = [case for suite in suites for case in suite.cases]
    return {
        "name": xml_text(name),
        "tests": str(len(cases)),
        "failures": str(sum(1 for c in cases if c.status == FAILED)),
        "errors": str(sum(1 for c in cases if c.status == ERROR)),
        "skipped": str(sum(1 for c in cases if c.status == SKIPPED)),
        "time": f"{sum(s.seconds for s in suites):.3f}",
    }


def _suite(report: Report, suite: Suite) -> ET.Element:
    element = ET.Element("testsuite", _totals((suite,), suite.name))
    facts = [*suite.facts, *((f"count.{label}", str(n)) for label, n in suite.counts)]
    if facts:
        properties = ET.SubElement(element, "properties")
        for label, value in facts:
            ET.SubElement(properties, "property", {"name": xml_text(label), "value": xml_text(value)})
    classname = xml_text(f"driftdeck.{report.command.replace(' ', '.')}")
    for case in suite.cases:
        element.append(_case(case, classname))
    if suite.notes:
        ET.SubElement(element, "system-out").text = xml_text("\n".join(suite.notes))
    return element


def _case(case: Case, classname: str) -> ET.Element:
    attributes = {"name": xml_text(case.name), "classname": classname, "time": "0"}
    if case.file is not None:
        attributes["file"] = xml_text(case.file)
    if case.line is not None:
        attributes["line"] = str(case.line)
    element = ET.Element("testcase", attributes)
    if case.status == SKIPPED:
        ET.SubElement(element, "skipped", {"message": xml_text(case.message)})
    elif case.status in (FAILED, ERROR):
        tag = "failure" if case.status == FAILED else "error"
        child = ET.SubElement(element, tag, {"message": xml_text(case.message), "type": xml_text(case.kind or tag)})
        child.text = xml_text(_body(case))
    return element


def _body(case: Case) -> str:
    """The failure's text: where, the details, then each diff as ``-``/``+`` lines."""
    lines = []
    if case.file is not None:
        lines.append(f"{case.file}:{case.line}" if case.line is not None else case.file)
    lines.append(case.message)
    lines += [f"{label}: {value}" for label, value in case.details]
    for diff in case.diffs:
        lines.append(f"--- {diff.left}")
        lines.append(f"+++ {diff.right}")
        for row in diff.rows:
            if row.tag == "@":
                lines.append(row.left or "@@")
            elif row.tag in (" ", "~"):
                lines.append(f" {row.left}")
            else:
                if row.tag in ("-", "!"):
                    lines.append(f"-{row.left}")
                if row.tag in ("+", "!"):
                    lines.append(f"+{row.right}")
        if diff.truncated:
            lines.append("(cut short)")
    return "\n".join(lines)
