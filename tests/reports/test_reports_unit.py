"""The report renderers and schemas, without the CLI: escaping, word marks, JUnit shape, schema versions."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from importlib import resources
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from backends.events.model import WatchFilter, WatchHeader
from backends.reports.annotations import escape_data, escape_property, github_annotations
from backends.reports.diffs import side_rows, text_diff, value_rows
from backends.reports.html import marked, render_html
from backends.reports.junit import render_junit
from backends.reports.model import ERROR, FAILED, PASSED, Case, Report, Suite
from backends.reports.schemas import VERSIONS, load_schema, schema_id
from backends.reports.text import xml_text
from backends.snapshots.textdiff import opcodes, side_by_side, unified

HERE = Path(__file__).parent
JUNIT_XSD = xmlschema.XMLSchema(str(HERE / "junit.xsd"))


def test_annotation_escaping_follows_the_runner_rules() -> None:
    assert escape_data("100% done\r\nnext") == "100%25 done%0D%0Anext"
    assert escape_property("a:b,c%d\ne") == "a%3Ab%2Cc%25d%0Ae"
    assert escape_data("a:b,c") == "a:b,c"  # only properties escape ':' and ','


def test_annotations_only_for_failing_cases_with_file_and_line() -> None:
    suite = Suite("s", (
        Case("ok", PASSED, file="f.txt", line=1),
        Case("no line", FAILED, "bad", file="f.txt"),
        Case("bad one", FAILED, "expected 1,\nfound 2", file="dir:x/a,b.jsonl", line=7, kind="changed"),
        Case("unreadable", ERROR, "permission denied", file="g", line=3),
    ))
    lines = github_annotations(Report("wal diff", "t", "DIVERGED", False, (suite,)))
    assert lines == [
        "::error file=dir%3Ax/a%2Cb.jsonl,line=7,title=driftdeck wal diff%3A changed::bad one: expected 1,%0Afound 2",
        "::error file=g,line=3,title=driftdeck wal diff%3A error::unreadable: permission denied",
    ]


def test_xml_text_escapes_what_xml_cannot_carry() -> None:
    name = "caf\udce9\x01\x7f-\ud800\ttab\nline"
    assert xml_text(name) == "caf\\xe9\\x01\\x7f-\\ud800\ttab\nline"


@given(st.text())
def test_any_text_makes_valid_junit(text: str) -> None:
    suite = Suite(text, (Case(text, FAILED, text, ((text, text),), text, 3, text), Case(text, PASSED)), facts=((text, text),), notes=(text,))
    document = render_junit(Report(text, text, "DRIFT", False, (suite,)))
    JUNIT_XSD.validate(document.decode())
    root = ET.fromstring(document)
    assert root.get("tests") == "2" and root.get("failures") == "1"


def test_the_junit_schema_is_not_vacuous() -> None:
    assert not JUNIT_XSD.is_valid('<testsuites><testsuite name="a"><testcase name="x"/></testsuite></testsuites>')  # tests= missing
    assert not JUNIT_XSD.is_valid('<testsuites><testsuite name="a" tests="1"><testcase/></testsuite></testsuites>')  # name missing
    assert not JUNIT_XSD.is_valid(
        '<testsuites><testsuite name="a" tests="1"><testcase name="x"><system-out/><failure/></testcase></testsuite></testsuites>'
    )  # failure after system-out


def test_marked_wraps_spans_and_escapes() -> None:
    assert marked('a<b> "x" & y', ((1, 4), (11, 12)), "del") == 'a<del>&lt;b&gt;</del> &quot;x&quot; &amp; <del>y</del>'
    assert marked("abc", ((2, 99), (1, 2)), "ins") == "ab<ins>c</ins>"  # clipped, out-of-order spans dropped


@given(st.lists(st.sampled_from(["alpha beta", "alpha gamma", "x", "y z", ""]), max_size=12),
       st.lists(st.sampled_from(["alpha beta", "alpha delta", "x", "y q", ""]), max_size=12))
def test_side_rows_from_unified_lines_equal_the_engines_side_by_side(a: list[str], b: list[str]) -> None:
    ops = opcodes(a, b)
    lines, _ = unified(a, b, ops, context=3)
    rows, _ = side_by_side(a, b, ops, context=3)
    assert side_rows(lines) == rows


def test_text_diff_pretty_prints_json_and_marks_the_changed_word() -> None:
    diff = text_diff("t", "record", "replay", '{"a":1,"payload":{"status":200}}', '{"a":1,"payload":{"status":503}}')
    changed = [row for row in diff.rows if row.tag == "!"]
    assert len(changed) == 1
    row = changed[0]
    assert row.left.strip() == '"status": 200' and row.left[slice(*row.left_spans[0])] == "200"
    assert row.right[slice(*row.right_spans[0])] == "503"


def test_value_rows_shift_the_word_marks_past_the_path() -> None:
    (row,) = value_rows([("rule.max", "2500.0", "1800.0")])
    assert row.left == "rule.max = 2500.0" and row.left[slice(*row.left_spans[0])] == "2500"  # words: "2500", ".", "0"
    assert row.right == "rule.max = 1800.0" and row.right[slice(*row.right_spans[0])] == "1800"


def test_html_is_self_contained_and_shows_the_marks() -> None:
    diff = text_diff("event", "record", "replay", '{"status":200}', '{"status":503}')
    suite = Suite("a -> b", (Case("line 3", FAILED, "status expected 200, found 503", (("k", "<v>"),), "a", 3, "changed", (diff,)),))
    page = render_html(Report("wal diff", "a -> b", "DIVERGED", False, (suite,))).decode()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page
    assert "<del>200</del>" in page and "<ins>503</ins>" in page and "&lt;v&gt;" in page
    for fetch in ("<script", "src=", "href=", "url(", "@import", "http://", "https://"):
        assert fetch not in page, fetch


def test_schemas_are_valid_draft_2020_12_and_name_themselves() -> None:
    for name in VERSIONS:
        schema = load_schema(name)
        Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert schema_id(name) in json.dumps(schema)  # the "schema" field's const


def test_a_published_schema_never_changes_without_a_new_version() -> None:
    """Every schema file ever published keeps its recorded hash; a change must be a new vN file (and a new record)."""
    recorded = json.loads((HERE / "schema_hashes.json").read_text())
    shipped = {}
    for path in resources.files("backends.reports").joinpath("schemas").iterdir():
        name, _, version = path.name.removesuffix(".json").rpartition(".v")
        shipped[f"driftdeck/{name}/v{version}"] = hashlib.sha256(path.read_bytes()).hexdigest()
    changed = sorted(key for key in recorded if key in shipped and shipped[key] != recorded[key])
    assert not changed, f"published schemas edited in place (add a new version instead): {changed}"
    assert set(recorded) <= set(shipped), "a published schema version was removed"
    unrecorded = sorted(set(shipped) - set(recorded))
    assert not unrecorded, f"record the hash of each new schema version in schema_hashes.json: {unrecorded}"
    assert {schema_id(name) for name in VERSIONS} <= set(recorded)


def test_the_recording_header_names_its_schema() -> None:
    header = WatchHeader("live", WatchFilter(), 0).to_json()
    assert header["schema"] == schema_id("events-recording")
    Draft202012Validator(load_schema("events-recording")).validate(header)


@pytest.mark.parametrize("status", [FAILED, ERROR])
def test_junit_failure_carries_the_details(status: str) -> None:
    case = Case("data/a.csv", status, "changed: expected sha256 aa, found bb", (("expected sha256", "aa"), ("found sha256", "bb")),
                "SHA256SUMS", 5, "changed")
    root = ET.fromstring(render_junit(Report("checksums verify", "SHA256SUMS", "DRIFT", False, (Suite("SHA256SUMS", (case,)),))))
    testcase = root.find("testsuite/testcase")
    assert testcase is not None and testcase.get("file") == "SHA256SUMS" and testcase.get("line") == "5"
    outcome = testcase.find("failure" if status == FAILED else "error")
    assert outcome is not None and outcome.get("type") == "changed"
    assert "expected sha256: aa" in (outcome.text or "") and "found sha256: bb" in (outcome.text or "")


@given(st.text())
def test_any_text_is_shown_as_text_in_html(text: str) -> None:
    """Names and values from the workspace are text in the page, never markup; the page is valid UTF-8."""
    from html.parser import HTMLParser

    class Collect(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.tags: list[str] = []
            self.text: list[str] = []

        def handle_starttag(self, tag: str, attrs: object) -> None:
            self.tags.append(tag)

        def handle_data(self, data: str) -> None:
            self.text.append(data)

    case = Case(text, FAILED, text, ((text, text),), text, 1, text, (text_diff(text, text, text, text, text + "x"),))
    page = render_html(Report(text, text, text, False, (Suite(text, (case,), facts=((text, text),)),))).decode("utf-8")
    parser = Collect()
    parser.feed(page)
    assert set(parser.tags) <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "span", "table", "tr",
                                "th", "td", "section", "dl", "dt", "dd", "details", "summary", "colgroup", "col", "del", "ins"}
    assert xml_text(text) in "".join(parser.text)
