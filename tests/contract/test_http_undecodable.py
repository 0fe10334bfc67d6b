"""File names that are not UTF-8, over HTTP: listed, opened and verified as a local source does.

Such a name is a Python string with surrogate escapes (PEP 383). The server
used to answer 500 (orjson refuses them) and cut every stream holding one:
a single Latin-1 run directory emptied the remote run list.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backends.demo import build_demo
from backends.http import wire
from backends.http.client import HttpSource
from backends.http.server import BackgroundServer, create_app
from backends.local import LocalSource
from backends.models import RunQuery
from tests.cli.conftest import driftdeck_command
from tests.conftest import write_run

NAME = b"caf\xe9"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    write_run(root, "plain")
    run = os.fsencode(root / "runs") + b"/" + NAME
    os.mkdir(run)
    with open(run + b"/run_status.json", "wb") as handle:
        handle.write(b'{"state": "QUARANTINED", "reason_code": "X"}')
    with open(run + b"/run_record.jsonl", "wb") as handle:
        handle.write(b'{"event_id": "e1", "kind": "K"}\n')
    data = root / "data"
    data.mkdir()
    with open(os.fsencode(data) + b"/" + NAME + b".txt", "wb") as handle:
        handle.write(b"latin-1 name\n")
    digest = hashlib.sha256(b"latin-1 name\n").hexdigest()
    (data / "SHA256SUMS").write_bytes(digest.encode() + b"  " + NAME + b".txt\n")
    (root / "m").mkdir()
    (root / "m" / "SHA256SUMS").symlink_to("/etc/passwd")  # listed, refused when verified
    return root


async def test_undecodable_names_cross_the_wire_and_open_the_same_files(workspace: Path) -> None:
    local = LocalSource(str(workspace))
    with BackgroundServer(create_app(LocalSource(str(workspace)))) as server:
        remote = HttpSource(server.url, retries=0)
        try:
            keys = {}
            for name, source in (("local", local), ("http", remote)):
                keys[name] = sorted([r.key async for batch in source.iter_runs(RunQuery()) for r in batch])
            assert keys["http"] == keys["local"] and os.fsdecode(b"runs/" + NAME) in keys["http"]
            key = os.fsdecode(b"runs/" + NAME)
            detail = await remote.get_run(key)
            assert detail.summary.key == key and detail.record_path == key + "/run_record.jsonl"
            assert [e.event_id for e in (await remote.run_events(key)).items] == ["e1"]
            names = [e.path for e in await remote.list_dir("data")]
            assert os.fsdecode(b"data/" + NAME + b".txt") in names
            assert await remote.read_range(os.fsdecode(b"data/" + NAME + b".txt"), 0, 100) == b"latin-1 name\n"
            assert await remote.list_manifests() == await local.list_manifests() == ["data/SHA256SUMS", "m/SHA256SUMS"]
            items = [i async for i in remote.verify_checksums("data/SHA256SUMS")]
            assert [(e.category, e.path) for e in items[:-1] if hasattr(e, "category")] == [("ok", os.fsdecode(b"data/" + NAME + b".txt"))]
        finally:
            await remote.aclose()


def test_checksums_verify_over_http_reports_a_refused_manifest_and_goes_on(workspace: Path) -> None:
    with BackgroundServer(create_app(LocalSource(str(workspace)))) as server:
        command = [*driftdeck_command(), "checksums", "verify", "--source", server.url]
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr  # the refused manifest is an input error, as locally
    assert "data/SHA256SUMS: OK (ok 1)" in result.stdout
    assert "m/SHA256SUMS: UNREADABLE" in result.stdout
    assert "driftdeck: m/SHA256SUMS: resolves outside the source root" in result.stderr


texts = st.text(max_size=12) | st.binary(max_size=12).map(os.fsdecode)
plain_json = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=15,
)


@given(plain_json)
def test_encode_json_round_trips_whatever_the_strings_hold(value: object) -> None:
    data = wire.encode_json(value)
    assert wire.decode_json(data) == value
    data.decode("utf-8")


def test_the_fallback_writes_models_as_orjson_does(tmp_path: Path) -> None:
    """``_plain`` (used only for strings orjson refuses) gives the same JSON as orjson with ``_default``."""
    import asyncio

    root = tmp_path / "demo"
    build_demo(root, seed=7)
    source = LocalSource(str(root))

    async def values() -> list[object]:
        runs = [r async for batch in source.iter_runs(RunQuery()) for r in batch]
        detail = await source.get_run(next(r.key for r in runs if r.state == "QUARANTINED"))
        checks = [i async for i in source.verify_checksums("fixtures/golden/SHA256SUMS")]
        snapshots = await source.list_snapshots()
        diff = [i async for i in source.diff_snapshots(snapshots[0].path, snapshots[-1].path)]
        return [runs, detail, checks, await source.list_wal_pairs(), snapshots, diff]

    for value in asyncio.run(values()):
        tagged = wire.tag(value)
        assert orjson.loads(orjson.dumps(wire._plain(tagged))) == orjson.loads(orjson.dumps(tagged, default=wire._default))
