"""Exports of the network's view: what a coordinator takes into a spreadsheet.

Example:
    >>> from assistant.insights.topics import Group
    >>> print(groups_csv([Group("Labels et écolabels", 1, ("exiger un label ?",), (4,))]), end="")
    sujet,questions,identifiants,exemples
    Labels et écolabels,1,4,exiger un label ?
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from assistant.insights.topics import Group


def groups_csv(groups: Sequence[Group]) -> str:
    """The groups as CSV (subject, number of questions, ids, examples), for a spreadsheet."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["sujet", "questions", "identifiants", "exemples"])
    for group in groups:
        writer.writerow([group.label, group.size, " ".join(map(str, group.question_ids)),
                         " | ".join(group.examples)])
    return out.getvalue()
