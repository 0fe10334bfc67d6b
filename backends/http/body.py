"""Response bodies read within bounds: decoded size, line length and time.

``HttpSource`` never lets httpx decode or buffer a body: it reads the raw
bytes (``Response.aiter_raw``), undoes the content coding here a bounded
piece at a time (so a gzip bomb never expands past the cap in memory), and
splits lines itself, holding at most one unfinished line. Each bound ends in
a one-line typed error naming the URL:

* a JSON (or bytes) body larger than ``max_bytes`` once decoded -> ``MalformedError``;
* a stream line (NDJSON item, Server-Sent Events field) longer than ``max_line`` -> ``MalformedError``;
* a line that does not complete within ``deadline`` seconds of waiting
  once its first byte arrived (a byte drip) -> ``StalledError``.

Silence between lines is bounded by the client's read timeout (httpx), not here.
"""

from __future__ import annotations

import asyncio
import zlib
from typing import AsyncIterator, Iterator

import httpx

from backends import errors

PIECE = 1 << 16
"""Most bytes a decoder hands over at once, whatever one compressed byte expands to."""


def size_text(count: int) -> str:
    """``count`` bytes for a message: ``64 MiB``, ``512 KiB``, ``100 bytes``."""
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if count >= 1 << shift:
            value = count / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{count} bytes"


class Decoder:
    """Undoes a response's ``Content-Encoding`` (identity, gzip or deflate) in bounded pieces.

    Args:
        encoding: The ``Content-Encoding`` header (empty for none).
        where: The URL, for error messages.
    """

    def __init__(self, encoding: str, where: str) -> None:
        self.where = where
        self.encoding = encoding.strip().lower()
        self._raw_deflate = False
        if self.encoding in ("", "identity"):
            self._inflater = None
        elif self.encoding in ("gzip", "x-gzip"):
            self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif self.encoding == "deflate":
            self._inflater = zlib.decompressobj()
        else:
            raise errors.MalformedError(where, None, f"the server sent an unsupported Content-Encoding {encoding!r}")
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        """The decoded bytes of ``data``, at most ``PIECE`` bytes per piece."""
        inflater = self._inflater
        if inflater is None:
            if data:
                yield data
            return
        while True:
            try:
                out = inflater.decompress(data, PIECE)
            except zlib.error as exc:
                if self.encoding == "deflate" and not self._started and not self._raw_deflate:
                    # Some servers send raw deflate without the zlib wrapper.
                    self._raw_deflate = True
                    inflater = self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
                    continue
                raise errors.MalformedError(self.where, None, f"the server sent a corrupt {self.encoding} body ({exc})") from None
            self._started = True
            data = inflater.unconsumed_tail
            if out:
                yield out
            if inflater.eof or (not data and len(out) < PIECE):
                return

    def flush(self) -> Iterator[bytes]:
        """What the decoder still holds once the body ended."""
        if self._inflater is not None and not self._inflater.eof:
            yield from self.feed(b"")


class Body:
    """The decoded body of one streamed response.

    Args:
        response: A response opened with ``stream=True``; its body not read yet.
        where: The URL, for error messages.
    """

    def __init__(self, response: httpx.Response, where: str) -> None:
        self.where = where
        self._raw = response.aiter_raw()
        self._decoder = Decoder(response.headers.get("content-encoding", ""), where)

    async def read(self, max_bytes: int) -> bytes:
        """The whole body; ``MalformedError`` once it passes ``max_bytes`` decoded."""
        parts: list[bytes] = []
        total = 0
        async for raw in self._raw:
            for piece in self._decoder.feed(raw):
                total += len(piece)
                if total > max_bytes:
                    raise self._too_large(max_bytes)
                parts.append(piece)
        for piece in self._decoder.flush():
            total += len(piece)
            if total > max_bytes:
                raise self._too_large(max_bytes)
            parts.append(piece)
        return b"".join(parts)

    def _too_large(self, max_bytes: int) -> errors.MalformedError:
        return errors.MalformedError(self.where, None, f"the server sent a response larger than {size_text(max_bytes)} (decoded); refused")

    async def lines(self, max_line: int, deadline: float) -> AsyncIterator[bytes]:
        """Each line (``\\n`` or ``\\r\\n`` ended, without it), the last one even if unterminated.

        Args:
            max_line: Longest line accepted, in bytes.
            deadline: Seconds of waiting a line may take from its first byte to its end.
        """
        loop = asyncio.get_running_loop()
        pending = bytearray()  # the unfinished line
        waited = 0.0  # seconds spent waiting for the network since the unfinished line began
        raw = self._raw.__aiter__()
        while True:
            try:
                if pending:
                    begun = loop.time()
                    async with asyncio.timeout(max(0.0, deadline - waited)):
                        chunk = await raw.__anext__()
                    waited += loop.time() - begun
                else:
                    chunk = await raw.__anext__()
            except StopAsyncIteration:
                break
            except TimeoutError:
                raise errors.StalledError(
                    f"{self.where}: a line took more than {deadline:g} s (the server sends too slowly); gave up"
                ) from None
            for piece in self._decoder.feed(chunk):
                lines = self._split(pending, piece, max_line)
                if lines:
                    waited = 0.0
                    for line in lines:
                        yield line
        for piece in self._decoder.flush():
            for line in self._split(pending, piece, max_line):
                yield line
        if pending:
            yield bytes(pending)

    def _split(self, pending: bytearray, piece: bytes, max_line: int) -> list[bytes]:
        """The lines ``piece`` completes; what follows the last newline stays in ``pending``."""
        if b"\n" not in piece:
            pending += piece
            if len(pending) > max_line:
                raise self._too_long(max_line)
            return []
        lines = piece.split(b"\n")
        if pending:
            lines[0] = bytes(pending) + lines[0]
            pending.clear()
        pending += lines.pop()
        if max(map(len, lines)) > max_line + 1 or len(pending) > max_line:
            raise self._too_long(max_line)
        return [line[:-1] if line.endswith(b"\r") else line for line in lines]

    def _too_long(self, max_line: int) -> errors.MalformedError:
        return errors.MalformedError(self.where, None, f"the server sent a line longer than {size_text(max_line)}; refused")
