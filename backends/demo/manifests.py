"""Demo checksum manifests under ``fixtures/``.

``fixtures/golden/SHA256SUMS`` (GNU format) shows every drift category, one
line each (see :data:`GOLDEN_LINES`); ``fixtures/bsd/SHA256SUMS`` is BSD tag
format with CRLF line ends, all ok; ``fixtures/release/artifact.tar.gz.sha256``
is a single-file manifest, ok; ``fixtures/empty/SHA256SUMS`` is empty.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import tarfile
from pathlib import Path
from typing import Any

MANIFESTS = (
    "fixtures/golden/SHA256SUMS",
    "fixtures/bsd/SHA256SUMS",
    "fixtures/release/artifact.tar.gz.sha256",
    "fixtures/empty/SHA256SUMS",
)

GOLDEN_LINES: tuple[tuple[str, str], ...] = (
    ("ok, alias of line 2", "./data/a.csv"),
    ("ok, alias of line 1", "data/a.csv"),
    ("ok", "data/b.csv"),
    ("ok, uppercase hex", "data/c.json"),
    ("changed", "data/ledger.csv"),
    ("ok, binary marker *", "data/blob.bin"),
    ("missing", "data/missing.csv"),
    ("unreadable: a directory", "data/partitions"),
    ("unreadable: dangling symlink", "data/latest.csv"),
    ("moved: same hash at data/archive/2026-11/new-name.csv", "data/old-name.csv"),
    ("ok, duplicate entry (first)", "data/dup.csv"),
    ("duplicate entry with a conflicting hash", "data/dup.csv"),
    ("ok, name with a space", "data/with space.csv"),
    ("ok, GNU-escaped backslash in name", "data/back\\slash.csv"),
    ("malformed: 40-hex sha1", "data/legacy-sha1.txt"),
    ("malformed: garbage", ""),
    ("ok", "README.md"),
)
"""(situation, listed name) of each line of ``fixtures/golden/SHA256SUMS``, in order."""

GOLDEN_UNLISTED = {"data/extra.csv": "new", "data/archive/2026-11/new-name.csv": "target of the move"}
"""Files in ``fixtures/golden/`` that the manifest does not list."""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _csv(rng: random.Random, rows: int) -> bytes:
    lines = ["txn_id,amount,currency,merchant,booked_at"]
    for n in range(rows):
        lines.append(f"txn-{rng.getrandbits(40):010x},{rng.uniform(1, 3000):.2f},"
                     f"{rng.choice(('EUR', 'GBP', 'USD'))},mch-{rng.randint(1000, 9999)},"
                     f"2026-10-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z")
    return ("\n".join(lines) + "\n").encode()


def _golden(root: Path, rng: random.Random) -> dict[str, Any]:
    folder = root / "fixtures" / "golden"
    files = {
        "data/a.csv": _csv(rng, 40),
        "data/b.csv": _csv(rng, 25),
        "data/c.json": b'{"partitions": 16, "schema": "ledger_entry/3.2"}\n',
        "data/ledger.csv": _csv(rng, 60),
        "data/blob.bin": rng.randbytes(3000),
        "data/dup.csv": _csv(rng, 5),
        "data/with space.csv": _csv(rng, 8),
        "data/back\\slash.csv": _csv(rng, 6),
        "README.md": b"# Golden fixtures\n\nFrozen inputs of the score-transactions pipeline.\n",
        "data/extra.csv": _csv(rng, 4),
        "data/archive/2026-11/new-name.csv": _csv(rng, 12),
    }
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / "data" / "partitions").mkdir()
    os.symlink("../staging/latest.csv", folder / "data" / "latest.csv")
    ledger_listed = _sha(files["data/ledger.csv"].replace(b"EUR", b"GBP", 1))
    digests = {
        "data/ledger.csv": ledger_listed,
        "data/missing.csv": _sha(b"txn_id,amount\n"),
        "data/partitions": _sha(b"partitions"),
        "data/latest.csv": _sha(b"latest"),
        "data/old-name.csv": _sha(files["data/archive/2026-11/new-name.csv"]),
    }
    lines = []
    dup_seen = False
    for situation, name in GOLDEN_LINES:
        if situation.startswith("malformed: garbage"):
            lines.append("this line is not a checksum entry")
            continue
        if situation.startswith("malformed: 40-hex"):
            lines.append(f"{hashlib.sha1(b'legacy').hexdigest()}  {name}")
            continue
        key = name.removeprefix("./")
        digest = digests.get(key) or _sha(files[key])
        if key == "data/dup.csv":
            digest = digest if not dup_seen else _sha(b"an older data/dup.csv")
            dup_seen = True
        if "uppercase" in situation:
            digest = digest.upper()
        if "\\" in name:
            lines.append("\\" + f"{digest}  {name.replace(chr(92), chr(92) * 2)}")
        elif "binary" in situation:
            lines.append(f"{digest} *{name}")
        else:
            lines.append(f"{digest}  {name}")
    (folder / "SHA256SUMS").write_bytes(("\n".join(lines) + "\n").encode())
    changed_line = 1 + next(i for i, (s, _) in enumerate(GOLDEN_LINES) if s == "changed")
    return {"golden_line": changed_line, "ledger_expected": ledger_listed,
            "ledger_actual": _sha(files["data/ledger.csv"])}


def _bsd(root: Path, rng: random.Random) -> None:
    folder = root / "fixtures" / "bsd"
    folder.mkdir(parents=True, exist_ok=True)
    entries = {"model.onnx": rng.randbytes(5000), "thresholds.yaml": b"review: 0.85\ndecline: 0.97\n",
               "vocab.txt": b"\n".join(f"token-{n}".encode() for n in range(200)) + b"\n"}
    lines = []
    for name, data in entries.items():
        (folder / name).write_bytes(data)
        lines.append(f"SHA256 ({name}) = {_sha(data)}\r\n")
    (folder / "SHA256SUMS").write_bytes("".join(lines).encode())


def _tar_gz(rng: random.Random) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name, data in (("artifact/VERSION", b"2026.11.1\n"), ("artifact/model.bin", rng.randbytes(4000))):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1793491200, 0o644
            info.uname = info.gname = "build"
            tar.addfile(info, io.BytesIO(data))
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0) as gz:
        gz.write(raw.getvalue())
    return packed.getvalue()


def write_manifests(root: Path, rng: random.Random) -> tuple[list[str], dict[str, Any]]:
    """Write every fixture and manifest.

    Args:
        root: Workspace root.
        rng: The manifests' random stream.

    Returns:
        The manifests' relative paths and facts other modules cite:
        ``golden_line`` (line of the changed entry), ``ledger_expected`` and
        ``ledger_actual`` (listed and real hash of ``data/ledger.csv``).
    """
    facts = _golden(root, rng)
    _bsd(root, rng)
    release = root / "fixtures" / "release"
    release.mkdir(parents=True, exist_ok=True)
    artifact = _tar_gz(rng)
    (release / "artifact.tar.gz").write_bytes(artifact)
    (release / "artifact.tar.gz.sha256").write_bytes(f"{_sha(artifact)}  artifact.tar.gz\n".encode())
    empty = root / "fixtures" / "empty"
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "SHA256SUMS").write_bytes(b"")
    (empty / "orphan.txt").write_bytes(b"listed nowhere: the manifest next to me is empty\n")
    return list(MANIFESTS), facts
