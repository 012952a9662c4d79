"""CSV that streams: rows from a cursor that lives as long as the response, formulas neutralised."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from typing import Any

from sqlalchemy import Engine, Executable

# A spreadsheet treats a cell starting with these as a formula (CSV injection, OWASP), and
# "|" as a DDE call in some of them. The test runs on each character's NFKC form, so the
# full-width and small forms East Asian locales read the same way (U+FF1D, U+FE66, U+FF0B)
# count too.
FORMULA_CHARS = "=+-@|"
FORMULA_STARTS = (*FORMULA_CHARS, "\t", "\r", "\n")
# A spreadsheet opened with another separator (";" in much of Europe, tab, "|") splits a cell
# there, so ";=1+1" becomes a cell "=1+1": a formula start after one of these counts too.
_AFTER_SEPARATOR = re.compile(r"""([,;|\t\r\n"'])(\s*)(?=[""" + re.escape(FORMULA_CHARS) + "])")


@lru_cache(maxsize=4096)
def _plain(char: str) -> str:
    # One character for one, so positions in the plain shadow are positions in the value.
    return unicodedata.normalize("NFKC", char)[:1] or char


def neutralise(value: object) -> object:
    """Prefix every formula start in a text cell (at its start or after a separator) with '."""
    if not isinstance(value, str):
        return value
    shadow = value if value.isascii() else "".join(_plain(char) for char in value)
    cuts = [match.end() for match in _AFTER_SEPARATOR.finditer(shadow)]
    for cut in reversed(cuts):
        value = value[:cut] + "'" + value[cut:]
        shadow = shadow[:cut] + "'" + shadow[cut:]
    return "'" + value if shadow.lstrip(" ").startswith(FORMULA_STARTS) else value


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


class StreamedRows:
    """Rows of a query on a connection of their own, open as long as the response reading them.

    A streamed response is read after the view has returned and its app context (with the
    request's session) is gone, so the rows cannot come from that session's cursor. This
    holds its own connection and server-side cursor (`yield_per` batches: flat memory) and
    gives the connection back when the rows run out or when close() is called: by the WSGI
    server once the response is sent or the client has gone (Response.call_on_close).
    The query runs in __init__, in the view, so a failure is an error page, not a cut body.
    """

    def __init__(
        self,
        engine: Engine,
        statement: Executable,
        shape: Callable[[Any], tuple[object, ...]],
        batch: int = 1000,
    ) -> None:
        self._shape = shape
        self._connection = engine.connect()
        try:
            self._result = self._connection.execution_options(yield_per=batch).execute(statement)
        except BaseException:
            self._connection.close()
            raise

    def __iter__(self) -> Iterator[tuple[object, ...]]:
        try:
            for row in self._result:
                yield self._shape(row)
        finally:
            self.close()

    @property
    def closed(self) -> bool:
        """True once the cursor and the connection are given back."""
        return self._connection.closed

    def close(self) -> None:
        """Give back the cursor and the connection (its transaction rolls back); idempotent."""
        if self._connection.closed:
            return
        try:
            self._result.close()
        finally:
            self._connection.close()
