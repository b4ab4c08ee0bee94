"""Exports of the network's view: what a coordinator takes into a spreadsheet.

The topics CSV holds the same figures as `guichet topics --json` (`TopicQuality.as_dict`):
shares and ratios from 0 to 1 with a dot as decimal mark, times in seconds, an empty cell for
"no data".

Every CSV export writes its rows with `csv_text`, which passes each cell through
`spreadsheet_safe`: a buyer's question that starts like a formula (`=HYPERLINK(...)`) opens in
Excel or LibreOffice as text, never as a formula (CSV injection, OWASP).

Example:
    >>> from assistant.insights.quality import TopicQuality
    >>> topic = TopicQuality("Labels et écolabels", 1, (4,), ("exiger un label ?",), 1, 0.0, 0.0, 1, 0.25, 0,
    ...                      3600.0, 4.0, 1, (), 0.8125, False, ())
    >>> print(topics_csv([topic]).splitlines()[1])
    Labels et écolabels,1,4,exiger un label ?,non,0.8125,0.0,0.0,0.25,0,3600.0,4.0,1,,
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from assistant.insights.quality import TopicQuality

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


#: Header of the topics CSV: one column per figure of `TopicQuality`.
TOPIC_COLUMNS = ("sujet", "questions", "identifiants", "exemples", "a_approfondir", "score", "abstentions",
                 "reponses_partielles", "reecriture_moyenne", "brouillons_reecrits", "delai_median_s",
                 "note_moyenne", "avis", "sections_citees_par_les_brouillons_reecrits", "motifs")


def _cell(value: object) -> object:
    return "" if value is None else value


def _row(topic: TopicQuality) -> list[object]:
    return [topic.subject, topic.questions, " ".join(map(str, topic.question_ids)), " | ".join(topic.examples),
            "oui" if topic.to_deepen else "non", _cell(topic.score), _cell(topic.abstention_share),
            _cell(topic.partial_share), _cell(topic.edit_ratio_mean), topic.rewritten, _cell(topic.answer_p50_s),
            _cell(topic.rating_mean), topic.ratings,
            " | ".join(f"{section} ({n})" for section, n in topic.cited_sections), " | ".join(topic.reasons)]


def topics_csv(topics: Sequence[TopicQuality]) -> str:
    """The topics of a period and their quality as CSV, one row per topic."""
    return csv_text([TOPIC_COLUMNS, *(_row(topic) for topic in topics)])
