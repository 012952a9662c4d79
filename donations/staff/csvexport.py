"""CSV that streams: one line at a time, with cells that spreadsheets would run neutralised."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator

# A spreadsheet treats a cell starting with these as a formula (CSV injection, OWASP): the
# ASCII ones, and the full-width forms that East Asian locales read the same way.
FORMULA_CHARS = "=+-@\uff1d\uff0b\uff0d\uff20"
FORMULA_STARTS = (*FORMULA_CHARS, "\t", "\r", "\n")
# A spreadsheet opened with another separator (";" in much of Europe, tab, "|") splits a cell
# there, so ";=1+1" becomes a cell "=1+1": a formula start after one of these counts too.
_AFTER_SEPARATOR = re.compile(r"""([,;|\t\r\n"'])(\s*)(?=[""" + re.escape(FORMULA_CHARS) + "])")


def neutralise(value: object) -> object:
    """Prefix every formula start in a text cell (at its start or after a separator) with '."""
    if not isinstance(value, str):
        return value
    value = _AFTER_SEPARATOR.sub(r"\1\2'", value)
    return "'" + value if value.lstrip(" ").startswith(FORMULA_STARTS) else value


def csv_lines(header: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """Yield the header and each row as one CSV line, formula cells neutralised."""
    buffer = io.StringIO()
    # Every cell in quotes (OWASP): a separator inside a value stays inside it.
    writer = csv.writer(buffer, quoting=csv.QUOTE_ALL)
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
