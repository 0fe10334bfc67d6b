"""The manifest parser and writer: GNU/BSD forms, escaping, hostile input."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from backends.checksums.manifest import (
    MAX_LINE,
    MalformedLine,
    ManifestLine,
    escape_name,
    format_line,
    parse_manifest,
    parse_plain,
    unescape_name,
)

H = hashlib.sha256(b"x").hexdigest()


def parse(data: bytes) -> list[ManifestLine | MalformedLine]:
    return list(parse_manifest(io.BytesIO(data)))


def test_gnu_text_and_binary_lines() -> None:
    got = parse(f"{H}  a.txt\n{H} *b.bin\n".encode())
    assert got == [ManifestLine(1, "a.txt", H, False, "gnu"), ManifestLine(2, "b.bin", H, True, "gnu")]


def test_names_keep_spaces_and_uppercase_hex_is_lowered() -> None:
    got = parse(f"{H.upper()}   leading space.txt \n".encode())
    assert got == [ManifestLine(1, " leading space.txt ", H, False, "gnu")]


def test_single_space_form_is_accepted_but_not_mixed_with_two_spaces() -> None:
    got = parse(f"{H} one.txt\n{H}  two.txt\n".encode())
    assert got[0] == ManifestLine(1, "one.txt", H, False, "gnu")
    assert isinstance(got[1], MalformedLine) and got[1].line == 2
    got = parse(f"{H}  two.txt\n{H} one.txt\n".encode())
    assert isinstance(got[0], ManifestLine) and isinstance(got[1], MalformedLine)


def test_bsd_tag_lines_with_crlf_and_parentheses_in_names() -> None:
    got = parse(f"SHA256 (a (1).txt) = {H}\r\nSHA256(b) = {H.upper()}\r\n".encode())
    assert got == [ManifestLine(1, "a (1).txt", H, False, "bsd"), ManifestLine(2, "b", H, False, "bsd")]


def test_other_algorithms_and_wrong_lengths_are_malformed_with_line_numbers() -> None:
    sha1 = hashlib.sha1(b"x").hexdigest()
    md5 = hashlib.md5(b"x").hexdigest()
    data = f"SHA1 (a) = {sha1}\n{sha1}  b\n{md5}  c\n{H}  ok\nnot a line\n{H[:-1]}g  d\n".encode()
    got = parse(data)
    assert [type(g).__name__ for g in got] == ["MalformedLine", "MalformedLine", "MalformedLine", "ManifestLine", "MalformedLine", "MalformedLine"]
    assert "SHA1 line" in got[0].reason
    assert "SHA-1" in got[1].reason and "MD5" in got[2].reason
    assert got[3].name == "ok" and got[3].line == 4
    assert [g.line for g in got] == [1, 2, 3, 4, 5, 6]


def test_escaped_names_and_invalid_escapes() -> None:
    got = parse(b"\\" + f"{H}  a\\\\b\\nc\\rd\n".encode() + b"\\" + f"{H}  bad\\t\n".encode())
    assert got[0] == ManifestLine(1, "a\\b\nc\rd", H, False, "gnu")
    assert isinstance(got[1], MalformedLine) and "escape" in got[1].reason


def test_unescaped_backslash_is_literal_like_gnu() -> None:
    assert parse(f"{H}  a\\b\n".encode()) == [ManifestLine(1, "a\\b", H, False, "gnu")]


def test_bom_comments_blank_lines_and_missing_final_newline() -> None:
    got = parse(b"\xef\xbb\xbf" + f"{H}  a\n\n# comment\n   \n{H}  b".encode())
    assert [(g.line, g.name) for g in got] == [(1, "a"), (5, "b")]


def test_invalid_utf8_names_survive_as_surrogates() -> None:
    got = parse(H.encode() + b"  caf\xe9.txt\n")
    assert isinstance(got[0], ManifestLine)
    assert os.fsencode(got[0].name) == b"caf\xe9.txt"


def test_binary_garbage_gives_malformed_lines_and_never_raises() -> None:
    rng = __import__("random").Random(3)
    data = bytes(rng.getrandbits(8) for _ in range(20000))
    got = parse(data)
    assert got and all(isinstance(g, MalformedLine) for g in got)


def test_huge_line_is_reported_and_skipped_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "huge"
    with open(path, "wb") as out:
        out.write(f"{H}  first\n".encode())
        block = b"A" * (1 << 20)
        for _ in range(40):  # 40 MiB on one line (the 1 GB case costs only time)
            out.write(block)
        out.write(f"\n{H}  last\n".encode())
    with open(path, "rb") as stream:
        got = list(parse_manifest(stream))
    assert [type(g).__name__ for g in got] == ["ManifestLine", "MalformedLine", "ManifestLine"]
    assert got[1].line == 2 and "longer than" in got[1].reason and len(got[1].text) <= 120
    assert got[2] == ManifestLine(3, "last", H, False, "gnu")
    assert MAX_LINE < 40 << 20


def test_mixed_formats_in_one_file() -> None:
    got = parse(f"{H}  gnu.txt\nSHA256 (bsd.txt) = {H}\n{H} *bin.txt\n".encode())
    assert [(g.name, g.format) for g in got] == [("gnu.txt", "gnu"), ("bsd.txt", "bsd"), ("bin.txt", "gnu")]


def test_format_line_matches_sha256sum_output(tmp_path: Path) -> None:
    names = ["plain.txt", "with space.txt", "back\\slash", "new\nline", "car\rriage", "ünïcødé"]
    for name in names:
        (tmp_path / name).write_bytes(name.encode() * 3)
    real = subprocess.run(["sha256sum", "--", *names], cwd=tmp_path, capture_output=True, check=True).stdout
    ours = b"".join(format_line(hashlib.sha256(name.encode() * 3).hexdigest(), name) for name in names)
    assert ours == real


names_strategy = st.binary(min_size=1, max_size=60).filter(lambda b: b"\0" not in b)


@settings(max_examples=300, deadline=None)
@given(names_strategy)
def test_escape_unescape_round_trip(raw: bytes) -> None:
    assert unescape_name(escape_name(raw)) == raw


@settings(max_examples=300, deadline=None)
@given(names_strategy, st.booleans(), st.booleans())
def test_written_lines_parse_back_to_the_same_name(raw: bytes, binary: bool, upper: bool) -> None:
    digest = hashlib.sha256(raw).hexdigest()
    line = format_line(digest.upper() if upper else digest, os.fsdecode(raw), binary=binary)
    got = parse(line)
    assert len(got) == 1 and isinstance(got[0], ManifestLine), (line, got)
    assert os.fsencode(got[0].name) == raw and got[0].digest == digest and got[0].binary == binary


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    for item in parse(data):
        assert isinstance(item, (ManifestLine, MalformedLine))
        assert item.line >= 1


LINE = st.builds(
    lambda digest, marker, name: digest + b" " + marker + name + b"\n",
    st.sampled_from([H.encode(), H.upper().encode(), b"0" * 63 + b"g", b"ab" * 20]),
    st.sampled_from([b" ", b"*", b"x"]),
    st.binary(min_size=0, max_size=12),
)


@settings(max_examples=300, deadline=None)
@given(lines=st.lists(LINE, max_size=8), tail=st.sampled_from([b"", b"\r\n", b"\xef\xbb\xbf", b"\n"]))
def test_bulk_parse_agrees_with_the_line_parser_or_declines(lines: list[bytes], tail: bytes) -> None:
    """``parse_plain`` is only a shortcut: whenever it answers, the line parser says the same."""
    data = b"".join(lines) + tail
    plain = parse_plain(data)
    if plain is None:
        return
    names, digests = plain
    assert parse(data) == [ManifestLine(n, name, digest, False, "gnu") if not data.split(b"\n")[n - 1][65:66] == b"*"
                           else ManifestLine(n, name, digest, True, "gnu")
                           for n, (name, digest) in enumerate(zip(names, digests, strict=True), 1)]


def test_bulk_parse_takes_plain_gnu_output_and_declines_the_rest() -> None:
    assert parse_plain(f"{H}  a b.txt\n{H.upper()} *c\n".encode()) == (["a b.txt", "c"], [H, H])
    assert parse_plain(b"") is None  # empty: the line parser says so
    for odd in (f"\\{H}  a\\\\b\n", f"{H}  a\r\n", f"{H}  a", f"{H} a\n", "\ufeff" + f"{H}  a\n", f"SHA256 (a) = {H}\n"):
        assert parse_plain(odd.encode()) is None, odd
    assert parse_plain(f"{H}  \xff\n".encode("latin-1")) is None  # not UTF-8: the line parser decodes it
    huge = f"{H}  a\n{H}  {'é' * (MAX_LINE // 2)}\n".encode()  # over MAX_LINE bytes: malformed, by the line parser
    assert parse_plain(huge) is None
    assert [type(line).__name__ for line in parse(huge)] == ["ManifestLine", "MalformedLine"]


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200).map(lambda b: b.replace(b"\r", b"\n")))
def test_lines_are_counted_before_the_split_exactly_as_the_split_finds_them(data: bytes) -> None:
    """Workers size their shared memory from the count; the parse then reads the split lines."""
    from backends.checksums.early import Lines

    lines = Lines(data)
    assert lines.count == len(lines.rows)
    assert "\n".join(lines.rows).encode("utf-8", "surrogateescape") == data.removesuffix(b"\n")
