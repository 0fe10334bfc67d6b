"""``--json`` output over file names that are not UTF-8: valid JSON, the bytes written as ``\\xNN``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import orjson
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import write_run
from tui.cli.json_output import dumps, escape_undecodable

NAME = b"caf\xe9"
"""A Latin-1 file name: not UTF-8."""


@given(st.recursive(st.text() | st.binary().map(os.fsdecode) | st.integers(-(2**63), 2**63 - 1) | st.none(),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
                    max_leaves=12))
def test_dumps_is_orjson_where_orjson_can_and_valid_json_always(value: object) -> None:
    data = dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    data.decode("utf-8")  # valid UTF-8
    try:
        assert data == orjson.dumps(value, option=orjson.OPT_APPEND_NEWLINE)
    except orjson.JSONEncodeError:
        assert orjson.loads(data) is not None or data == b"null\n"


def test_undecodable_bytes_are_written_as_backslash_x() -> None:
    assert escape_undecodable(os.fsdecode(b"runs/" + NAME)) == "runs/caf\\xe9"
    assert escape_undecodable("plain") == "plain"


def test_every_json_command_prints_valid_json_for_undecodable_names(run_cli, tmp_path: Path) -> None:
    root = tmp_path / "ws"
    write_run(root, "plain")
    bad_run = os.fsencode(root / "runs") + b"/" + NAME
    os.mkdir(bad_run)
    with open(bad_run + b"/run_status.json", "wb") as handle:
        handle.write(b'{"state": "QUARANTINED"}')  # no run_id: the run is named after its directory
    data = root / "data"
    data.mkdir()
    (data / "a.txt").write_text("a\n")
    with open(os.fsencode(data) + b"/" + NAME + b".txt", "wb") as handle:
        handle.write(b"not listed\n")
    (data / "SHA256SUMS").write_text("87428fc522803d31065e7bce3cf03fe475096631e5e07bbd7a0fde60c4cf25c7  a.txt\n")
    wal = os.fsencode(root / "runs" / "plain") + b"/wal"
    os.mkdir(wal)
    with open(wal + b"/" + NAME + b".jsonl", "wb") as handle:
        handle.write(b'{"v": 2, "id": 1, "ts_ms": 1, "run_id": "plain", "kind": "k", "payload": {}}\n')
    wal_arg = os.fsdecode(b"runs/plain/wal/" + NAME + b".jsonl")
    ndjson = [("quarantine", "list", "--json"), ("checksums", "verify", "--json")]
    documents = [
        ("quarantine", "show", os.fsdecode(NAME), "--json"),
        ("wal", "validate", wal_arg, "--json"),
        ("wal", "diff", wal_arg, wal_arg, "--json"),
        ("events", "verify", wal_arg, "--json"),
    ]
    for command in ndjson + documents:
        result = run_cli(*command, "--source", str(root))
        assert "internal error" not in result.stderr and "Traceback" not in result.stderr, (command, result.stderr)
        assert result.returncode in (0, 1, 3, 4), (command, result.returncode, result.stderr)
        if command in ndjson:
            assert [json.loads(line) for line in result.stdout.splitlines()], command
        else:
            json.loads(result.stdout)
        assert r"caf\\xe9" in result.stdout, (command, result.stdout[:300])  # JSON for the text caf\xe9
