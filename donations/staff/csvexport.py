"""CSV that streams: one line at a time, with cells that spreadsheets would run neutralised."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

# A spreadsheet treats a cell starting with these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> object:
    """Prefix a text cell that a spreadsheet would read as a formula with a single quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Yield the header and each row as one CSV line, formula cells neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for row in _with_header(header, rows):
        writer.writerow([neutralise(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def _with_header(
    header: Iterable[str], rows: Iterable[Iterable[object]]
) -> Iterator[Iterable[object]]:
    yield tuple(header)
    yield from rows
