"""The one CSV writer for every export (the activity log download, ``manage.py export_members``).

A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a formula (and a leading tab
or carriage return is stripped before it looks), so a name someone typed as ``=cmd|' /C calc'!A0``
would run on the machine of whoever opens the file. Every text cell that starts with one of those
gets a leading apostrophe, which spreadsheets show as text and do not evaluate.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from typing import TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    """The cell as text, defused if a spreadsheet would run it; None is an empty cell."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Echo:
    """A file-like object for csv.writer that hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The header, then one line per row, every cell through ``safe_cell``: for streaming responses.

    Lines end in CRLF (RFC 4180), which also makes the writer quote a cell holding a lone CR or LF,
    so a name cannot break a row in two."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow([safe_cell(cell) for cell in header])
    for row in rows:
        yield writer.writerow([safe_cell(cell) for cell in row])


def write_csv(stream: TextIO, header: Iterable[str], rows: Iterable[Iterable]) -> None:
    """The same lines, written to ``stream`` (a command's standard output, say)."""
    for line in csv_lines(header, rows):
        stream.write(line)
