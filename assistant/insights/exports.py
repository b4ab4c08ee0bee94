"""Exports of the network's view: what a coordinator takes into a spreadsheet.

Every CSV export writes its rows with `csv_text`, which passes each cell through
`spreadsheet_safe`: a buyer's question that starts like a formula (`=HYPERLINK(...)`) opens in
Excel or LibreOffice as text, never as a formula (CSV injection, OWASP).

Example:
    >>> from assistant.insights.topics import Group
    >>> print(groups_csv([Group("Labels et écolabels", 1, ("exiger un label ?",), (4,))]), end="")
    sujet,questions,identifiants,exemples
    Labels et écolabels,1,4,exiger un label ?
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from assistant.insights.topics import Group

#: First characters that make a spreadsheet read a cell as a formula (and their full-width forms).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")


def spreadsheet_safe(value: object) -> object:
    """A cell that a spreadsheet shows as typed: text that would start a formula gets a leading '.

    >>> spreadsheet_safe('=HYPERLINK("http://pirate.example";"Voir")')
    '\\'=HYPERLINK("http://pirate.example";"Voir")'
    >>> spreadsheet_safe("  +33 1 23"), spreadsheet_safe("Labels"), spreadsheet_safe(-3)
    ("'  +33 1 23", 'Labels', -3)
    """
    if isinstance(value, str) and value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    """Rows as CSV text, every cell made `spreadsheet_safe` (the one writer of every CSV export)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows([spreadsheet_safe(cell) for cell in row] for row in rows)
    return out.getvalue()


def groups_csv(groups: Sequence[Group]) -> str:
    """The groups as CSV (subject, number of questions, ids, examples), for a spreadsheet."""
    return csv_text([["sujet", "questions", "identifiants", "exemples"],
                     *([g.label, g.size, " ".join(map(str, g.question_ids)), " | ".join(g.examples)] for g in groups)])
