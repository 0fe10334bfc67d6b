"""Every command over the hostile workspace (``tests/hostile_workspace.py``).

Each command runs with a timeout and must end without a traceback or an
"internal error", with an exit code of its contract (0 clean, 1 differences,
2 input error; ``events verify`` adds 3 and 4), name the FIFO, locked file or
refused link it met by its path, and write nothing under the root (a tree
fingerprint, FIFOs and mode-000 entries included, is the same afterwards).

As root (CI) mode 000 stops nothing, so the commands run a second time as
``nobody``: in a forked child that drops its privileges and calls the CLI's
``main`` in process (``run_unprivileged``), because the interpreter may live
where ``nobody`` cannot execute it (under /root here).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from tests.cli.conftest import driftdeck_command
from tests.conftest import run_unprivileged, tree_fingerprint
from tests.hostile_workspace import HOSTILE_RUN, Hostile, build_hostile, restore_modes

TIMEOUT = 60
W = f"runs/{HOSTILE_RUN}/wal"
SNAPS = ("candidate-2026-11-15", "zz-hostile")
FIFO = "unreadable: a FIFO, not a regular file"
OUTSIDE = "resolves outside the source root"
BUG = re.compile(r"Traceback|internal error|^\S*(Error|Exception): ", re.MULTILINE)


def commands(out: str) -> list[tuple[tuple[str, ...], set[int], list[str]]]:
    """``(arguments, allowed exit codes, texts the output must contain)``; ``out`` is a directory outside the root."""
    cases: list[tuple[tuple[str, ...], set[int], list[str]]] = [
        (("quarantine", "list"), {0}, [f"runs/fifo-status/run_status.json: {FIFO}", "runs/deep-status/run_status.json:1: JSON nested deeper",
                                       "runs/empty-status/run_status.json:1: empty document", "runs/binary-status/run_status.json:2: invalid UTF-8",
                                       "runs/passwd-status/run_status.json: symlink leads outside the source root", "new\\nline",
                                       "runs/loop-a: symlink loop; not followed"]),
        (("quarantine", "list", "--state", "all", "--json"), {0}, ["runs/caf\\\\xe9-\\\\xff", "huge-record"]),
        (("quarantine", "list", "--reason", "HOSTILE_INPUT"), {0}, [HOSTILE_RUN]),
        (("quarantine", "show", HOSTILE_RUN), {0}, [f"runs/{HOSTILE_RUN}/run_record.jsonl: {FIFO}", f"quarantine/a-fifo.json: {FIFO}",
                                                    "b-deep.json:1: JSON nested deeper", "c-empty.json:1: empty document",
                                                    "g-passwd.json: symlink leads outside the source root", "i-loop.json: unreadable: symlink loop"]),
        (("quarantine", "show", HOSTILE_RUN, "--json"), {0}, [f"runs/{HOSTILE_RUN}/run_record.jsonl: {FIFO}"]),
        (("quarantine", "show", "fifo-status"), {0}, [f"runs/fifo-status/run_status.json: {FIFO}"]),
        (("quarantine", "show", "huge-record"), {0}, ["line longer than 1048576 bytes; skipped", "JSON nested deeper than 1024 levels"]),
        (("quarantine", "show", "passwd-status", "--json"), {0}, ["symlink leads outside the source root"]),
        (("quarantine", "show", "runs/outside"), {2}, [f"runs/outside: {OUTSIDE}"]),
        (("quarantine", "show", "runs/loop-a"), {0}, ["runs/loop-a: symlink loop; not followed"]),
        (("quarantine", "show", "../outside"), {2}, ["no such run"]),
        (("quarantine", "show", "/etc/passwd"), {2}, ["no such run"]),
        (("checksums", "verify"), {2}, [f"fixtures/fifo/SHA256SUMS: {FIFO}", "fixtures/hostile/data/fifo.bin  (line 2; not a regular file (FIFO))",
                                        f"fixtures/hostile/passwd.sha256: {OUTSIDE}", "fixtures/hostile/loop.sha256: unreadable: symlink loop",
                                        "fixtures/hostile/SHA256SUMS  (line 17; line of 5,242,882 bytes is longer than"]),
        (("checksums", "verify", "--json"), {2}, ["fixtures/hostile/data/caf\\\\xe9-\\\\xff"]),
        (("checksums", "verify", "fixtures/fifo/SHA256SUMS"), {2}, [f"fixtures/fifo/SHA256SUMS: {FIFO}"]),
        (("checksums", "verify", "fixtures/hostile/SHA256SUMS", "--json"), {1, 2}, ["data/fifo.bin"]),
        (("checksums", "verify", "fixtures/hostile/binary.sha256", "fixtures/hostile/deep.sha256", "fixtures/hostile/empty.sha256"), {1, 2}, ["no SHA-256 line"]),
        (("checksums", "verify", "fixtures/hostile/dir.sha256"), {2}, ["fixtures/hostile/dir.sha256: unreadable: is a directory"]),
        (("checksums", "verify", "fixtures/hostile/outside.sha256"), {2}, [f"fixtures/hostile/outside.sha256: {OUTSIDE}"]),
        (("checksums", "verify", "self/up/outside/secret.txt"), {2}, [f"self/up/outside/secret.txt: {OUTSIDE}"]),
        (("checksums", "update", "ROOT/fixtures/hostile", "--output", f"{out}/hostile.sha256"), {1}, ["skipped data/fifo.bin: not a regular file (FIFO)"]),
        (("checksums", "update", "ROOT", "--output", f"{out}/all.sha256", "--json"), {1}, ["not a regular file (FIFO)"]),
        (("wal", "validate", f"{W}/record.jsonl"), {1}, ["ts-backwards"]),
        (("wal", "validate", f"{W}/replay.jsonl"), {2}, [f"{W}/replay.jsonl: {FIFO}"]),
        (("wal", "validate", f"{W}/deep-record.jsonl", "--json"), {1}, ["depth limit exceeded"]),
        (("wal", "validate", f"{W}/empty-record.jsonl"), {1}, ["empty-file"]),
        (("wal", "validate", f"{W}/empty-replay.jsonl"), {1}, ["invalid-utf8"]),
        (("wal", "validate", f"{W}/bom-record.jsonl"), {1}, ["bom", "crlf"]),
        (("wal", "validate", f"{W}/passwd-record.jsonl"), {2}, [f"{W}/passwd-record.jsonl: {OUTSIDE}"]),
        (("wal", "validate", f"{W}/loop-record.jsonl"), {2}, [f"{W}/loop-record.jsonl: unreadable: symlink loop"]),
        (("wal", "validate", f"{W}/self"), {2}, [f"{W}/self: unreadable: is a directory"]),
        (("wal", "diff", f"{W}/record.jsonl", f"{W}/replay.jsonl"), {2}, [f"{W}/replay.jsonl: {FIFO}"]),
        (("wal", "diff", f"{W}/deep-record.jsonl", f"{W}/deep-replay.jsonl", "--json"), {1}, ["not-json"]),
        (("wal", "diff", f"{W}/empty-record.jsonl", f"{W}/empty-replay.jsonl"), {1}, ["extra in replay", "\\x00\\x01"]),
        (("wal", "diff", f"{W}/bom-record.jsonl", f"{W}/bom-replay.jsonl"), {0}, ["parity"]),
        (("wal", "diff", f"{W}/record.jsonl", f"{W}/record.jsonl"), {0}, ["parity"]),
        (("snapshots", "diff", *SNAPS), {1, 2}, ["notes/fifo.txt", "rules/velocity.yaml  [file -> other]", "notes/new\\nline", "notes/caf\\xe9-\\xff",
                                                 "validator/report.json:1: JSON nested deeper than 1024 levels"]),
        (("snapshots", "diff", *SNAPS, "--json", "--all"), {1, 2}, ["notes/fifo.txt"]),
        (("snapshots", "diff", *SNAPS, "--unified", "-o", f"{out}/report.md"), {1, 2}, ["notes/fifo.txt"]),
        (("snapshots", "diff", "zz-hostile", "zz-hostile"), {0, 2}, []),
        (("snapshots", "diff", "baseline-2026-11-01", "zz-hostile", "-q", "-w", "--ignore-order"), {1, 2}, ["notes/fifo.txt"]),
        (("snapshots", "diff", "self/up/outside", "zz-hostile"), {2}, ["self/up/outside: no such snapshot or directory"]),
        (("events", "verify", "runs/huge-record/run_record.jsonl"), {3}, ["runs/huge-record/run_record.jsonl:2: line longer than"]),
        (("events", "verify", f"runs/{HOSTILE_RUN}/run_record.jsonl"), {2}, [f"runs/{HOSTILE_RUN}/run_record.jsonl: {FIFO}"]),
        (("events", "verify", f"{W}/deep-record.jsonl", "--json"), {3}, ["depth limit exceeded"]),
        (("events", "verify", f"{W}/empty-replay.jsonl"), {3}, ["not UTF-8: byte 0x80"]),
        (("events", "verify", f"{W}/empty-record.jsonl"), {3}, ["empty file"]),
        (("events", "verify", "driftdeck.yaml"), {3}, []),
        (("events", "verify", f"{W}/loop-record.jsonl"), {2}, ["loop-record.jsonl: unreadable"]),
        (("events", "record", ".", "--output", f"{out}/rec.jsonl", "--duration", "1"), {0}, []),
    ]
    return [((*args, "--source", "ROOT") if args[:2] != ("checksums", "update") else args, codes, texts) for args, codes, texts in cases]


UNPRIVILEGED = [
    (("quarantine", "show", "locked-status"), {0}, ["runs/locked-status/run_status.json: unreadable: Permission denied"]),
    (("quarantine", "show", "locked-dir"), {0}, ["runs/locked-dir/run_status.json: unreadable: Permission denied",
                                                 "runs/locked-dir/run_record.jsonl: unreadable: Permission denied"]),
    (("quarantine", "show", HOSTILE_RUN), {0}, ["f-locked.json: unreadable: Permission denied"]),
    (("checksums", "verify", "fixtures/hostile/locked.sha256"), {2}, ["fixtures/hostile/locked.sha256: unreadable: Permission denied"]),
    (("checksums", "verify", "fixtures/hostile/SHA256SUMS"), {1}, ["fixtures/hostile/data/locked.bin  (line 3; Permission denied)"]),
    (("wal", "validate", f"{W}/locked-record.jsonl"), {2}, [f"{W}/locked-record.jsonl: unreadable: Permission denied"]),
    (("wal", "diff", f"{W}/locked-record.jsonl", f"{W}/locked-replay.jsonl"), {2}, [f"{W}/locked-record.jsonl: unreadable: Permission denied"]),
    (("snapshots", "diff", *SNAPS, "-q"), {2}, ["locked-dir  [cannot list directory: Permission denied]"]),
    (("events", "verify", f"{W}/locked-record.jsonl"), {2}, ["locked-record.jsonl: unreadable: Permission denied"]),
]


def check(args: tuple[str, ...], codes: set[int], texts: list[str], code: int, out: str, err: str) -> None:
    shown = f"driftdeck {' '.join(args)} -> {code}\n--- stdout\n{out[-3000:]}\n--- stderr\n{err[-3000:]}"
    # watchdog's own warning when it cannot watch a directory of mode 000 (the watcher is left alone by this sweep)
    err = "\n".join(line for line in err.splitlines() if "watchdog/observers/inotify.py" not in line and "add_callback(" not in line)
    assert not BUG.search(out) and not BUG.search(err), shown
    assert code in codes, shown
    if code == 2:
        assert any(line.startswith("driftdeck: ") for line in err.splitlines()), shown
    for text in texts:
        assert text in out or text in err, f"{text!r} not said\n{shown}"


@pytest.fixture
def hostile(unprivileged_tmp: Path):
    ws = build_hostile(unprivileged_tmp)
    (unprivileged_tmp / "out").mkdir(mode=0o777)
    (unprivileged_tmp / "out").chmod(0o777)
    yield ws
    restore_modes(ws)


def argv_for(ws: Hostile, args: tuple[str, ...]) -> list[str]:
    """``args`` with ``ROOT`` standing for the workspace root."""
    return [str(ws.root) + a[4:] if a.startswith("ROOT") else a for a in args]


def run(ws: Hostile, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    argv = argv_for(ws, args)
    env = {**os.environ, "NO_COLOR": "1", "PYTHONIOENCODING": "utf-8:strict"}  # stdout as under a UTF-8 locale (C.UTF-8 escapes)
    env.pop("DRIFTDECK_DEBUG", None)
    try:
        return subprocess.run([*driftdeck_command(), *argv], capture_output=True, text=True, errors="replace",
                              timeout=TIMEOUT, cwd=ws.base, env=env, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail(f"driftdeck {' '.join(args)} did not finish within {TIMEOUT} s (a FIFO waited on?)")


@pytest.mark.timeout(600)
def test_every_command_over_the_hostile_workspace(hostile: Hostile) -> None:
    before = tree_fingerprint(hostile.root)
    for args, codes, texts in commands(str(hostile.base / "out")):
        result = run(hostile, args)
        check(args, codes, texts, result.returncode, result.stdout, result.stderr)
    assert tree_fingerprint(hostile.root) == before


def _preimport() -> None:
    """Import every module a command may load lazily: ``nobody`` cannot read the interpreter's files here."""
    import concurrent.futures.process
    import encodings.idna
    import encodings.latin_1
    import encodings.utf_8_sig  # noqa: F401
    import concurrent.futures.thread  # noqa: F401
    import json  # noqa: F401
    import multiprocessing  # noqa: F401
    import shutil  # noqa: F401
    import uuid  # noqa: F401

    for package in ("backends", "tui.cli"):
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, f"{package}."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def _in_process(args: list[str], cwd: str, out_dir: str) -> tuple[int, str, str]:
    """Run ``driftdeck ARGS`` in this process (the unprivileged child): its exit code, stdout and stderr."""
    from tui.cli import main

    os.chdir(cwd)
    os.environ["NO_COLOR"] = "1"
    os.environ.pop("DRIFTDECK_DEBUG", None)
    stdout_fd, stdout_path = tempfile.mkstemp(dir=out_dir)
    stderr_fd, stderr_path = tempfile.mkstemp(dir=out_dir)
    os.dup2(stdout_fd, 1)  # worker processes and raw writes
    os.dup2(stderr_fd, 2)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", errors="backslashreplace", closefd=False)
    code = 0
    try:
        main(args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    with open(stdout_path, errors="replace") as out, open(stderr_path, errors="replace") as err:
        return code, out.read(), err.read()


@pytest.mark.timeout(900)
def test_every_command_over_the_hostile_workspace_unprivileged(hostile: Hostile) -> None:
    """The same commands where mode 000 really stops a reader (as ``nobody`` when root)."""
    _preimport()
    before = tree_fingerprint(hostile.root)
    out_dir = str(hostile.base / "out")
    for args, codes, texts in [*commands(out_dir), *(((*a, "--source", "ROOT"), c, t) for a, c, t in UNPRIVILEGED)]:
        argv = argv_for(hostile, args)
        code, out, err = run_unprivileged(_in_process, argv, str(hostile.base), out_dir, timeout=TIMEOUT)
        check(args, codes, texts, code, out, err)
    assert tree_fingerprint(hostile.root) == before


# -- driftdeck.yaml is a FIFO: every command that opens the workspace fails at once, in one line ------------------


@pytest.fixture
def config_fifo(tmp_path: Path):
    ws = build_hostile(tmp_path, config_fifo=True)
    yield ws
    restore_modes(ws)


@pytest.mark.parametrize(
    "args",
    [  # (checksums verify MANIFEST reads no config: the manifest alone says what to verify)
        ("quarantine", "list", "--source", "ROOT"),
        ("quarantine", "show", HOSTILE_RUN, "--source", "ROOT"),
        ("checksums", "verify", "--source", "ROOT"),
        ("wal", "validate", f"{W}/record.jsonl", "--source", "ROOT"),
        ("wal", "diff", f"{W}/bom-record.jsonl", f"{W}/bom-replay.jsonl", "--source", "ROOT"),
        ("snapshots", "diff", *SNAPS, "--source", "ROOT"),
        ("events", "record", "ROOT", "--output", "OUT", "--duration", "5"),
        ("serve", "ROOT", "--port", "0"),
        ("ROOT",),  # the TUI
    ],
)
def test_a_fifo_for_driftdeck_yaml_fails_every_command_in_one_line(config_fifo: Hostile, args: tuple[str, ...]) -> None:
    argv = tuple(str(config_fifo.base / "rec.jsonl") if a == "OUT" else a for a in args)
    before = tree_fingerprint(config_fifo.root)
    started = time.monotonic()
    result = run(config_fifo, argv)
    assert time.monotonic() - started < 10, "waited on the FIFO"
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stderr.splitlines() == ["driftdeck: driftdeck.yaml: cannot read: a FIFO, not a regular file"], result.stderr
    assert tree_fingerprint(config_fifo.root) == before


# -- serve: every route over the hostile workspace, and the commands through it ------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.timeout(300)
def test_serve_over_the_hostile_workspace(hostile: Hostile) -> None:
    before = tree_fingerprint(hostile.root)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    log = hostile.base / "out" / "serve.log"
    with open(log, "wb") as sink:
        server = subprocess.Popen([*driftdeck_command(), "serve", str(hostile.root), "--port", str(port)],
                                  stdout=sink, stderr=sink, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v1/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        routes = [
            "describe", "runs/stream", "runs?limit=5000", f"run?run={HOSTILE_RUN}", "run?run=fifo-status", "run?run=runs/caf%E9-%FF",
            f"run/events?run={HOSTILE_RUN}", "run/events?run=huge-record", f"artifact/preview?path=runs/{HOSTILE_RUN}/quarantine/a-fifo.json",
            f"artifact/preview?path=runs/{HOSTILE_RUN}/quarantine/b-deep.json", f"artifact/preview?path=runs/{HOSTILE_RUN}/quarantine/g-passwd.json",
            "files/list?path=.", "files/list?path=self", "files/list?path=up", "files/list?path=outside", "files/list?path=runs/%2e%2e",
            f"files/stat?path=runs/{HOSTILE_RUN}/run_record.jsonl", f"files/range?path=runs/{HOSTILE_RUN}/run_record.jsonl&offset=0&length=10",
            "files/range?path=passwd&offset=0&length=10", "files/range?path=self/up/outside/secret.txt&offset=0&length=10",
            "manifests", "checksums/verify?manifest=fixtures/hostile/SHA256SUMS", "checksums/verify?manifest=fixtures/fifo/SHA256SUMS",
            "checksums/verify?manifest=fixtures/hostile/passwd.sha256", "snapshots", "wal/pairs",
            f"wal/validate?path={W}/replay.jsonl", f"wal/validate?path={W}/record.jsonl", f"wal/index?path={W}/record.jsonl",
            f"wal/lines?path={W}/record.jsonl&start=0&count=3", f"wal/diff?record={W}/deep-record.jsonl&replay={W}/deep-replay.jsonl",
            "snapshots/diff?a=history/snapshots/candidate-2026-11-15&b=history/snapshots/zz-hostile",
            "snapshots/entry?a=history/snapshots/candidate-2026-11-15&b=history/snapshots/zz-hostile&path=notes/fifo.txt",
            "snapshots/entry?a=history/snapshots/candidate-2026-11-15&b=history/snapshots/zz-hostile&path=validator/report.json",
        ]
        for route in routes:
            response = httpx.get(f"{url}/api/v1/{route}", timeout=TIMEOUT)
            assert response.status_code < 500, (route, response.status_code, response.text[:500])
            assert str(hostile.root) not in response.text, (route, response.text[response.text.find(str(hostile.root)) - 300:][:600])
            assert str(hostile.outside) not in response.text, route  # nor where a link out of the root points
        for args, codes, texts in [
            (("quarantine", "list", "--state", "all", "--json"), {0}, ["runs/caf\\\\xe9-\\\\xff"]),
            (("quarantine", "show", HOSTILE_RUN), {0}, [f"runs/{HOSTILE_RUN}/run_record.jsonl: {FIFO}"]),
            (("checksums", "verify"), {2}, [f"fixtures/fifo/SHA256SUMS: {FIFO}", f"fixtures/hostile/passwd.sha256: {OUTSIDE}"]),
            (("wal", "validate", f"{W}/replay.jsonl"), {2}, [f"{W}/replay.jsonl: {FIFO}"]),
            (("snapshots", "diff", *SNAPS, "-q"), {1}, ["notes/fifo.txt"]),
        ]:
            result = run(hostile, (*args, "--source", url))
            check(args, codes, texts, result.returncode, result.stdout, result.stderr)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text and "Exception" not in text, text[-3000:]
    assert tree_fingerprint(hostile.root) == before


def test_the_hostile_workspace_holds_what_it_says(hostile: Hostile) -> None:
    import stat

    root = hostile.root
    assert {"run_status.json", "run_record.jsonl", "SHA256SUMS", "replay.jsonl", "fifo.txt"} <= {p.rsplit("/", 1)[-1] for p in hostile.fifos}
    for rel in hostile.fifos:
        assert stat.S_ISFIFO(os.lstat(root / rel).st_mode), rel
    for rel in hostile.locked:
        assert stat.S_IMODE(os.lstat(root / rel).st_mode) == 0, rel
    links = {name: os.readlink(root / name) for name in ("self", "up", "a", "b", "outside", "passwd")}
    assert links == {"self": ".", "up": "..", "a": "b", "b": "a", "outside": str(hostile.outside), "passwd": "/etc/passwd"}
    assert (root / "driftdeck.yaml").read_bytes().startswith(b"\xef\xbb\xbf") and b"\r\n" in (root / "driftdeck.yaml").read_bytes()
    assert max(len(line) for line in (root / W / "record.jsonl").read_bytes().splitlines()) > 5 << 20
    assert (root / "runs" / "deep-status" / "run_status.json").read_bytes().count(b"{") == 10_000
    names = set(os.listdir(os.fsencode(root / "runs")))
    assert {b"new\nline", b"back\\slash", b"%2e%2e", b"caf\xe9-\xff"} <= names
