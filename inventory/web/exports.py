"""CSV exports of the screens: one response builder, safe for spreadsheets.

A cell of text that starts like a formula (``=``, ``+``, ``-``, ``@``, a tab
or a carriage return) gets a leading quote, so a spreadsheet opening the file
shows it as text instead of running it. Numbers are written as they are: a
negative quantity is a number, not a formula.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence

from django.http import HttpResponse

# Characters a spreadsheet would read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> object:
    """A CSV cell a spreadsheet shows as text: text starting like a formula gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_response(filename: str, header: Sequence[str], rows: Iterable[Sequence]) -> HttpResponse:
    """An attachment named ``filename``: the header, then each row's cells made safe."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return response
