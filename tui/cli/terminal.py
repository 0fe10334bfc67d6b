"""Text from a workspace printed on a terminal: one line each, never a control sequence.

File contents, run ids and file names come from whoever wrote the workspace.
Printed as they are, an ESC in a WAL line drives the terminal, a newline in a
run id forges a row of the table, and a binary line rings the bell.
``printable`` escapes what is not printable the way Python writes it
(``\\x1b``, ``\\n``), and bytes of a name that is not UTF-8 as ``\\xNN``
(as ``snapshots diff`` shows paths): printed as they are, those would even
stop the command where stdout is strict UTF-8 (a UTF-8 locale, not C.UTF-8).
"""

from __future__ import annotations


def printable(text: str) -> str:
    """``text`` on one line: control characters and undecodable bytes escaped (printable text as it is)."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        if char.isprintable():
            out.append(char)
        elif "\udc80" <= char <= "\udcff":  # a byte of a name that is not UTF-8 (PEP 383)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        else:
            out.append(repr(char)[1:-1])
    return "".join(out)


def echo(text: str = "", *, err: bool = False) -> None:
    """``click.echo`` of ``printable(text)``: one line of workspace text."""
    import click  # not on the fast path of checksums verify, which prints through printable only

    click.echo(printable(text), err=err)
