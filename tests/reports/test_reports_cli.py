"""The CI outputs of the real commands: JSON against the shipped schemas, JUnit against the
JUnit schema, HTML in a real headless Chromium, GitHub annotations, redaction and read-only."""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path

import pytest
import xmlschema
from jsonschema import Draft202012Validator

from backends.reports.schemas import STREAMS, VERSIONS, load_schema, schema_id
from tests.cli.conftest import driftdeck_command
from tests.conftest import tree_fingerprint
from tui.cli.checksums_verify import VerifyOptions
from tui.cli.fast import parse
from tui.cli.snapshots_diff import DiffOptions

JUNIT_XSD = xmlschema.XMLSchema(str(Path(__file__).parent / "junit.xsd"))
SNAP_A, SNAP_B = "baseline-2026-11-01", "candidate-2026-11-08"
SECRET = "s3cr3t-TOKEN-7f2c"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from backends.demo import build_demo

    root = tmp_path_factory.mktemp("reports-cli") / "workspace"
    build_demo(root, seed=7)
    return root


def run(*args: str, cwd: Path | None = None, github: bool = False) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("DRIFTDECK_DEBUG", None)
    env.pop("GITHUB_ACTIONS", None)
    if github:
        env["GITHUB_ACTIONS"] = "true"
    return subprocess.run([*driftdeck_command(), *args], capture_output=True, text=True, timeout=120, cwd=cwd, env=env)


def wal_pairs(root: Path) -> list[str]:
    return sorted(str(p.parent.relative_to(root)) for p in root.glob("runs/*/wal/record.jsonl"))


def validate(name: str, stdout: str) -> list[dict]:
    """Every document (or NDJSON line) of ``stdout`` against the schema ``name``; the documents."""
    validator = Draft202012Validator(load_schema(name))
    if name in STREAMS:
        documents = [json.loads(line) for line in stdout.splitlines()]
        assert documents[0] == {"type": "header", "schema": schema_id(name)}
    else:
        documents = [json.loads(stdout)]
        assert documents[0]["schema"] == schema_id(name)
    for document in documents:
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(document)]
        assert not errors, errors[:5]
    return documents


def test_every_json_output_matches_its_schema(demo: Path, tmp_path: Path) -> None:
    seen = set()
    s = ("-s", str(demo))
    cases = [
        ("quarantine-list", ("quarantine", "list", "--state", "all", "--json", *s), {0}),
        ("quarantine-list", ("quarantine", "list", "--json", *s), {0}),
        ("checksums-verify", ("checksums", "verify", "--json", *s), {1}),
        ("checksums-update", ("checksums", "update", str(demo / "fixtures/golden"), "-o", str(tmp_path / "new.sha256"), "--json"), {1}),
        ("snapshots-diff", ("snapshots", "diff", SNAP_A, SNAP_B, "--json", "--all", *s), {1}),
        ("snapshots-diff", ("snapshots", "diff", SNAP_B, "candidate-2026-11-15", "--json", *s), {1}),
    ]
    runs = [json.loads(line) for line in run("quarantine", "list", "--json", *s).stdout.splitlines()[1:]]
    cases += [("quarantine-show", ("quarantine", "show", r["run_id"], "--json", *s), {0}) for r in runs]
    for pair in wal_pairs(demo):
        cases.append(("wal-diff", ("wal", "diff", f"{pair}/record.jsonl", f"{pair}/replay.jsonl", "--json", *s), {0, 1}))
        for side in ("record", "replay"):
            cases.append(("wal-validate", ("wal", "validate", f"{pair}/{side}.jsonl", "--json", *s), {0, 1}))
    for name, args, codes in cases:
        result = run(*args)
        assert result.returncode in codes, (args, result.stderr)
        validate(name, result.stdout)
        seen.add(name)
    # A live recording (real watcher), its --json summary, the recording's lines and its verification.
    watched = tmp_path / "watched"
    watched.mkdir()
    (watched / "a.txt").write_text("a")
    recording = tmp_path / "rec.jsonl"
    result = run("events", "record", str(watched), "-o", str(recording), "--duration", "0.5", "--json")
    assert result.returncode == 0, result.stderr
    validate("events-record", result.stdout)
    lines = [json.loads(line) for line in recording.read_text().splitlines()]
    assert lines[0]["schema"] == schema_id("events-recording") and len(lines) >= 2  # the header, the baseline
    recording_validator = Draft202012Validator(load_schema("events-recording"))
    for line in lines:
        recording_validator.validate(line)
    result = run("events", "verify", str(recording), "--json")
    assert result.returncode == 0, result.stderr
    validate("events-verify", result.stdout)
    seen |= {"events-record", "events-recording", "events-verify"}
    assert seen == set(VERSIONS)  # every schema checked against a real output


def junit(path: Path) -> ET.Element:
    JUNIT_XSD.validate(str(path))
    return ET.parse(path).getroot()


def test_checksums_junit_has_one_case_per_entry_with_expected_and_found(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "ck.xml"
    result = run("checksums", "verify", "fixtures/golden/SHA256SUMS", "-s", str(demo), "--junit", str(out), "--json")
    assert result.returncode == 1
    entries = [json.loads(line) for line in result.stdout.splitlines() if '"type":"entry"' in line]
    root = junit(out)
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(entries) == 18
    harmless = [e for e in entries if e["category"] in ("duplicate", "alias") and not e["conflict"] and e["actual"] == e["expected"]]
    drift = [e for e in entries if e["category"] != "ok" and e not in harmless]
    assert harmless  # a repeated listing that agrees is a passing case, as it is no drift
    assert int(root.get("failures")) + int(root.get("errors")) == len(drift)
    changed = next(e for e in entries if e["category"] == "changed")
    case = next(c for c in cases if c.get("name") == changed["path"])
    assert case.get("file") == "fixtures/golden/SHA256SUMS" and case.get("line") == str(changed["line"])
    failure = case.find("failure")
    assert failure is not None and changed["expected"] in failure.get("message") and changed["actual"] in failure.get("message")


def test_wal_junit_case_per_divergence_and_per_problem(demo: Path, tmp_path: Path) -> None:
    for pair in wal_pairs(demo):
        out = tmp_path / "wd.xml"
        result = run("wal", "diff", f"{pair}/record.jsonl", f"{pair}/replay.jsonl", "-s", str(demo), "--junit", str(out), "--json")
        body = json.loads(result.stdout)
        root = junit(out)
        cases = root.findall("testsuite/testcase")
        if body["summary"]["parity"]:
            assert len(cases) == 1 and root.get("failures") == "0"
            continue
        assert [c.get("line") for c in cases] == [str(d["record_line"] or d["replay_line"]) for d in body["divergences"]]
        for case, divergence in zip(cases, body["divergences"], strict=True):
            failure = case.find("failure")
            assert failure is not None and failure.get("type") == divergence["kind"]
            for change in divergence["changes"]:
                assert f"expected {change['expected']}, found {change['found']}" in failure.text
        for side in ("record", "replay"):
            out = tmp_path / "wv.xml"
            result = run("wal", "validate", f"{pair}/{side}.jsonl", "-s", str(demo), "--junit", str(out), "--json")
            problems = json.loads(result.stdout)["problems"]
            root = junit(out)
            assert int(root.get("failures")) == len(problems)
            assert [c.get("line") for c in root.findall("testsuite/testcase") if c.find("failure") is not None] == [str(p["line"]) for p in problems]


def test_snapshots_events_and_quarantine_junit(demo: Path, tmp_path: Path) -> None:
    out = tmp_path / "sd.xml"
    result = run("snapshots", "diff", SNAP_A, SNAP_B, "-s", str(demo), "--junit", str(out), "--json", "--all")
    entries = json.loads(result.stdout)["entries"]
    root = junit(out)
    assert len(root.findall("testsuite/testcase")) == len(entries)
    assert int(root.get("failures")) == sum(1 for e in entries if e["category"] != "unchanged" and not e["same_after_rules"])
    out = tmp_path / "ql.xml"
    result = run("quarantine", "list", "--state", "all", "-s", str(demo), "--junit", str(out), "--json")
    runs = [json.loads(line) for line in result.stdout.splitlines()[1:]]
    root = junit(out)
    assert len(root.findall("testsuite/testcase")) == len(runs)
    assert int(root.get("failures")) == sum(1 for r in runs if r["state"] in ("QUARANTINED", "FAILED"))
    assert int(root.get("errors")) == sum(1 for r in runs if r["problem"] is not None)
    recording = tmp_path / "bad.jsonl"
    header = {"format": "driftdeck-events", "version": 1, "path": "x", "started_wall_ns": 0,
              "filter": {"types": ["created", "deleted"], "include": [], "exclude": [], "gitignore": False, "debounce_ms": 0, "baseline": True}}
    records = [header, {"seq": 1, "type": "deleted", "path": "ghost", "is_dir": False, "mono_ns": 5, "wall_ns": 5},
               {"seq": 1, "type": "created", "path": "b", "is_dir": False, "mono_ns": 6, "wall_ns": 6}, "not json"]
    recording.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in records))
    out = tmp_path / "ev.xml"
    result = run("events", "verify", str(recording), "--junit", str(out), "--json")
    report = json.loads(result.stdout)
    root = junit(out)
    assert int(root.get("failures")) == report["violations"] >= 1  # seq 1 twice
    assert int(root.get("errors")) == report["malformed"] == 1
    lines = [c.get("line") for c in root.findall("testsuite/testcase")]
    problems = report["problems"]
    assert lines == [str(p["line"]) for p in (*problems["violations"], *problems["malformed"])]


def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the rows of an 8-bit RGB or RGBA PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind, body = data[pos + 4:pos + 8], data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and color in (2, 6)
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    rows, previous, at = [], bytearray(stride), 0
    for _ in range(height):
        kind, line = raw[at], bytearray(raw[at + 1:at + 1 + stride])
        at += 1 + stride
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        rows.append(bytes(line) if bpp == 3 else bytes(b for k, b in enumerate(line) if k % 4 != 3))
        previous = line
    return width, height, rows


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("no Chromium on this machine (.ci/run installs Debian's chromium; apt-get install -y chromium)")


def browse(page: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    home = page.parent / "chromium-home"  # a profile of its own: nothing from, nothing to the user's
    return subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run",
         f"--user-data-dir={home}", *args, page.as_uri()],
        capture_output=True, timeout=120, env={**os.environ, "HOME": str(home)},
    )


def test_html_reports_render_in_headless_chromium(demo: Path, tmp_path: Path) -> None:
    pair = next(p for p in wal_pairs(demo) if "1755" in p)
    wal_page, snap_page = tmp_path / "wal.html", tmp_path / "snap.html"
    run("wal", "diff", f"{pair}/record.jsonl", f"{pair}/replay.jsonl", "-s", str(demo), "--html", str(wal_page))
    run("snapshots", "diff", SNAP_B, "candidate-2026-11-15", "-s", str(demo), "--html", str(snap_page))
    dom = browse(wal_page, "--dump-dom").stdout.decode()
    assert '<span class="verdict bad" id="verdict">DIVERGED</span>' in dom
    assert "payload.status = <del>200</del>" in dom and "payload.status = <ins>503</ins>" in dom  # the changed words, side by side
    assert '"status": <del>200</del>' in dom and "line 233 (id 233, kind DecisionMade)" in dom
    dom = browse(snap_page, "--dump-dom").stdout.decode()
    assert "DIFFERENT" in dom and "rule.thresholds.max_amount_eur = <del>2500</del>.0" in dom
    shot = tmp_path / "wal.png"
    browse(wal_page, f"--screenshot={shot}", "--window-size=1200,900")
    width, height, rows = png_pixels(shot.read_bytes())
    assert (width, height) == (1200, 900)
    colours = {row[i:i + 3] for row in rows for i in range(0, len(row), 3)}
    assert bytes.fromhex("cf222e") in colours  # the red verdict badge is drawn
    assert bytes.fromhex("dafbe1") in colours and bytes.fromhex("ffebe9") in colours  # found / expected rows, side by side


def test_github_annotations_go_to_stderr_and_leave_json_clean(demo: Path) -> None:
    pair = next(p for p in wal_pairs(demo) if "1755" in p)
    args = ("wal", "diff", f"{pair}/record.jsonl", f"{pair}/replay.jsonl", "-s", str(demo), "--json")
    result = run(*args, github=True)
    json.loads(result.stdout)
    annotations = [line for line in result.stderr.splitlines() if line.startswith("::")]
    assert annotations[0] == (f"::error file={pair}/record.jsonl,line=37,title=driftdeck wal diff%3A changed::"
                              "line 37 (id 37, kind ExternalIOFinished): payload.status expected 200, found 503")
    assert len(annotations) == 3
    assert "::" not in run(*args).stderr  # only under GitHub Actions
    result = run("checksums", "verify", "fixtures/golden/SHA256SUMS", "-s", str(demo), github=True)
    assert any(line.startswith("::error file=fixtures/golden/SHA256SUMS,line=5,") for line in result.stderr.splitlines())


def test_redacted_fields_never_appear_in_clear_in_any_output(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    wal = root / "runs" / "r1" / "wal"
    wal.mkdir(parents=True)

    def event(n: int, status: int, secret: str) -> str:
        payload = {"status": status, "secret": secret, "authorization": f"Bearer {SECRET}", "note": f"n{n}"}
        return json.dumps({"v": 2, "id": n, "ts_ms": 1000 + n, "run_id": "r1", "kind": "Call", "payload": payload})

    (wal / "record.jsonl").write_text("\n".join(event(n, 200, SECRET) for n in range(1, 6)) + "\n")
    replay = [event(n, 503 if n == 3 else 200, SECRET + "-rotated" if n == 4 else SECRET) for n in range(1, 6)]
    replay.append('{"v": 2, "id": 6, "payload": {"secret": "' + SECRET + '", broken')
    (wal / "replay.jsonl").write_text("\n".join(replay) + "\n")
    out = tmp_path / "out"
    out.mkdir()
    before = tree_fingerprint(root)
    texts = []
    for command in (("wal", "diff", "runs/r1/wal/record.jsonl", "runs/r1/wal/replay.jsonl"), ("wal", "validate", "runs/r1/wal/replay.jsonl")):
        stem = command[1]
        result = run(*command, "-s", str(root), "--json", "--junit", str(out / f"{stem}.xml"), "--html", str(out / f"{stem}.html"), github=True)
        assert result.returncode == 1, result.stderr
        texts += [result.stdout, result.stderr, (out / f"{stem}.xml").read_text(), (out / f"{stem}.html").read_text()]
    assert all(SECRET not in text for text in texts)
    diff_html = texts[3]
    assert "payload.status = <del>200</del>" in diff_html and "sha256:" in diff_html  # the divergence is there, its secrets hashed
    assert 'payload.secret = &quot;sha256:<del>' in diff_html and 'payload.secret = &quot;sha256:<ins>' in diff_html  # both hashes marked
    assert tree_fingerprint(root) == before  # nothing written under the workspace
    assert sorted(p.name for p in out.iterdir()) == ["diff.html", "diff.xml", "validate.html", "validate.xml"]  # no temporary left


def test_reports_are_written_only_where_pointed(demo: Path, tmp_path: Path) -> None:
    before = tree_fingerprint(demo)
    out = tmp_path / "reports"
    out.mkdir()
    result = run("snapshots", "diff", SNAP_A, SNAP_B, "-s", str(demo), "--junit", str(out / "s.xml"), "--html", str(out / "s.html"))
    assert result.returncode == 1
    assert f"junit report written to {out / 's.xml'}" in result.stderr and f"html report written to {out / 's.html'}" in result.stderr
    result = run("checksums", "verify", "-s", str(demo), "--junit", str(tmp_path / "missing" / "c.xml"))
    assert result.returncode == 2 and "--junit" in result.stderr  # click refuses the path before anything runs
    assert tree_fingerprint(demo) == before
    assert sorted(p.name for p in out.iterdir()) == ["s.html", "s.xml"]
    assert not (tmp_path / "missing").exists()


def test_the_fast_path_leaves_the_report_options_to_click() -> None:
    for options, positional in ((DiffOptions, ["a", "b"]), (VerifyOptions, [])):
        assert parse(options, [*positional, "--json"]) is not None
        assert parse(options, [*positional, "--junit", "r.xml"]) is None
        assert parse(options, [*positional, "--html=r.html"]) is None


def test_schema_command_lists_and_prints_the_schemas() -> None:
    listed = run("schema")
    assert listed.returncode == 0
    assert [line.split()[0] for line in listed.stdout.splitlines()] == [schema_id(name) for name in VERSIONS]
    for name in VERSIONS:
        printed = run("schema", name)
        assert printed.returncode == 0 and json.loads(printed.stdout) == load_schema(name)
    assert json.loads(run("schema", "driftdeck/wal-diff/v1").stdout) == load_schema("wal-diff")
    unknown = run("schema", "wal-diff/v9")
    assert unknown.returncode == 2 and "no schema 'wal-diff/v9'" in unknown.stderr


def test_reports_over_http_equal_the_local_ones(demo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reports are built from the engines' streams, so a served workspace gives the same JUnit and HTML."""
    import re

    from backends.http.server import BackgroundServer, create_app
    from backends.local import LocalSource

    token = "reports-test-token"
    pair = next(p for p in wal_pairs(demo) if "1755" in p)
    commands = {
        "ck": ("checksums", "verify", "fixtures/golden/SHA256SUMS"),
        "wal": ("wal", "diff", f"{pair}/record.jsonl", f"{pair}/replay.jsonl"),
        "snap": ("snapshots", "diff", SNAP_B, "candidate-2026-11-15"),
    }
    monkeypatch.setenv("DRIFTDECK_TOKEN", token)  # the CLI's token for the served workspace
    with BackgroundServer(create_app(LocalSource(str(demo)), token=token)) as server:
        for name, command in commands.items():
            for where, spec in (("local", str(demo)), ("http", server.url)):
                result = run(*command, "-s", spec, "--junit", str(tmp_path / f"{name}-{where}.xml"), "--html", str(tmp_path / f"{name}-{where}.html"))
                assert result.returncode == 1, result.stderr
    for name in commands:
        local, remote = (re.sub(r' time="[0-9.]+"', "", (tmp_path / f"{name}-{w}.xml").read_text()) for w in ("local", "http"))
        assert remote == local and "<failure" in local
        assert (tmp_path / f"{name}-http.html").read_text() == (tmp_path / f"{name}-local.html").read_text()
